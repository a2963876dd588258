package mailer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Outbox writes one .eml file per message into Dir instead of sending it: for previews, dry
// runs and setups without a relay. The file is named from the MessageID, sanitised to
// [A-Za-z0-9._@-] (other bytes become '_'), so sending the same MessageID again overwrites
// it. Writes are atomic: a temporary file in Dir is synced and renamed.
type Outbox struct {
	Dir    string
	Signer Signer // optional: sign each file as SMTP would sign the message (DKIM)
}

// Open creates Dir (mode 0o750) when missing.
func (o *Outbox) Open(ctx context.Context) (Sender, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mailer: outbox %s: %w", o.Dir, err)
	}
	if o.Dir == "" {
		return nil, errors.New("mailer: outbox: no directory")
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("mailer: outbox: %w", err)
	}
	return outboxSender{dir: o.Dir, signer: o.Signer}, nil
}

// String implements Transport.
func (o *Outbox) String() string { return "outbox " + o.Dir }

type outboxSender struct {
	dir    string
	signer Signer
}

// Send writes the message; the receipt holds the file path.
func (s outboxSender) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, &SendError{Err: err}
	}
	data, err := m.Render(s.signer)
	if err != nil {
		return Receipt{}, err
	}
	path := filepath.Join(s.dir, outboxName(m.MessageID))
	if err := writeFileAtomic(s.dir, path, data); err != nil {
		// A full disk or a permissions problem may clear up; nothing about the message is wrong.
		return Receipt{}, &SendError{Err: fmt.Errorf("outbox: %w", err)}
	}
	return Receipt{Reply: path}, nil
}

// Close implements Sender; there is nothing to release.
func (outboxSender) Close() error { return nil }

// outboxName maps a MessageID to a file name. A valid MessageID holds an '@' and the
// temporary files do not, so the two never meet.
func outboxName(messageID string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '_', r == '@', r == '-':
			return r
		}
		return '_'
	}, messageID) + ".eml"
}

// writeFileAtomic writes data to a temporary file in dir and renames it onto path, so a
// reader sees either the old file or the whole new one.
func writeFileAtomic(dir, path string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o640); err != nil {
		return err
	}
	// Sync before rename: otherwise a crash can leave a renamed but empty file.
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
