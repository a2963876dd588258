package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrTooLarge is given to Skip for an mbox message over the size cap, which is passed
// over without being kept in memory.
var ErrTooLarge = errors.New("mailbox: message too large")

// Skip is told about a message ReadPath could not hand over; the others still are.
type Skip func(name string, err error)

// ReadPath hands each message stored at path to handle: every message of a Maildir
// directory (new/ then cur/, in name order, which is delivery order for the usual
// time-based names; files are left where they are), of an mbox file (messages named
// path#1, path#2...), or the file itself when it holds one message. maxBytes caps an mbox
// message (0: 10 MiB). An error of handle, or one reading path itself, stops it.
func ReadPath(ctx context.Context, path string, maxBytes int64, handle Handle, skip Skip) error {
	if maxBytes <= 0 {
		maxBytes = 10 << 20
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	if st.IsDir() {
		return readMaildir(ctx, path, handle, skip)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if head, _ := br.Peek(5); string(head) == "From " {
		return readMbox(ctx, path, br, maxBytes, handle, skip)
	}
	return handle(ctx, path, br)
}

func readMaildir(ctx context.Context, dir string, handle Handle, skip Skip) error {
	var files []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub)) // sorted by name
		if err != nil {
			return fmt.Errorf("mailbox: %s is a directory but not a Maildir (no readable %s/): %w", dir, sub, err)
		}
		for _, en := range entries {
			if en.Type().IsRegular() && !strings.HasPrefix(en.Name(), ".") {
				files = append(files, filepath.Join(dir, sub, en.Name()))
			}
		}
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			skip(name, err)
			continue
		}
		err = handle(ctx, name, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readMbox splits an mbox file at its From_ lines (a From_ line starts a message only
// after a blank line) and unescapes mboxrd's ">From " lines.
func readMbox(ctx context.Context, name string, r *bufio.Reader, maxBytes int64, handle Handle, skip Skip) error {
	n := 0
	var buf []byte
	tooLarge, started := false, false
	flush := func() error {
		if !started {
			return nil
		}
		label := fmt.Sprintf("%s#%d", name, n)
		if tooLarge {
			skip(label, fmt.Errorf("%w: over %d bytes", ErrTooLarge, maxBytes))
			return nil
		}
		return handle(ctx, label, bytes.NewReader(buf))
	}
	atLineStart, prevBlank := true, true
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			switch {
			case atLineStart && prevBlank && bytes.HasPrefix(line, []byte("From ")):
				if err := flush(); err != nil {
					return err
				}
				n++
				started, tooLarge, buf = true, false, buf[:0]
			case started && !tooLarge:
				if atLineStart && isEscapedFrom(line) {
					line = line[1:]
				}
				if int64(len(buf)+len(line)) > maxBytes {
					tooLarge, buf = true, nil
				} else {
					buf = append(buf, line...)
				}
			}
			full := line[len(line)-1] == '\n'
			prevBlank = atLineStart && full && len(bytes.TrimRight(line, "\r\n")) == 0
			atLineStart = full
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("mailbox: %s: %w", name, err)
		}
	}
	return flush()
}

// isEscapedFrom reports a ">From ", ">>From "... line of mboxrd.
func isEscapedFrom(line []byte) bool {
	rest := bytes.TrimLeft(line, ">")
	return len(rest) < len(line) && bytes.HasPrefix(rest, []byte("From "))
}
