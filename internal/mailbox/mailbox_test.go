package mailbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/backend/memory"
	"github.com/emersion/go-imap/server"
)

// startServer runs an IMAP server on loopback whose INBOX holds the given unseen messages
// (beside one seen message the memory backend starts with), and returns its URL.
func startServer(t *testing.T, messages ...string) string {
	t.Helper()
	be := memory.New()
	u, err := be.Login(nil, "username", "password")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := u.GetMailbox("INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range messages {
		if err := inbox.CreateMessage(nil, time.Now(), bytes.NewBufferString(m)); err != nil {
			t.Fatal(err)
		}
	}
	srv := server.New(be)
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "imap://username:password@" + ln.Addr().String() + "/INBOX"
}

func message(subject string) string {
	return "From: mailer-daemon@example.org\r\nTo: bounces@example.org\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@example.org>\r\n\r\nbody of " + subject + "\r\n"
}

func TestPollHandsOverEachUnseenMessageOnce(t *testing.T) {
	ctx := context.Background()
	url := startServer(t, message("first"), message("second"))
	var got []string
	collect := func(_ context.Context, name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		got = append(got, string(b))
		return nil
	}
	// The handler fails on the first message: it stays unseen, nothing is lost.
	fail := errors.New("database is busy")
	n, err := Poll(ctx, Options{URL: url}, func(context.Context, string, io.Reader) error { return fail })
	if !errors.Is(err, fail) || n != 0 {
		t.Fatalf("failing handler: %d, %v", n, err)
	}
	n, err = Poll(ctx, Options{URL: url}, collect)
	if err != nil || n != 2 || len(got) != 2 || !strings.Contains(got[0], "body of first") || !strings.Contains(got[1], "body of second") {
		t.Fatalf("poll: %d, %v, got %q", n, err, got)
	}
	// Handled messages are flagged seen: the next poll hands nothing over.
	n, err = Poll(ctx, Options{URL: url}, collect)
	if err != nil || n != 0 || len(got) != 2 {
		t.Fatalf("second poll: %d, %v, %d messages", n, err, len(got))
	}
}

func TestBadURLs(t *testing.T) {
	for _, raw := range []string{"pop3://u:p@host/INBOX", "imaps:///INBOX", "imaps://host/INBOX", "::",
		"imap://bounces:secret@mail.example.org/INBOX", "imap://bounces:secret@192.0.2.7/INBOX"} {
		if err := Check(raw); err == nil {
			t.Errorf("Check(%q) = nil, want an error", raw)
		}
	}
	for _, raw := range []string{"imaps://bounces:secret@mail.example.org/Bounces", "imap://bounces:secret@localhost/INBOX",
		"imap://bounces:secret@127.0.0.1:1143/INBOX", "imap://bounces:secret@[::1]/INBOX"} {
		if err := Check(raw); err != nil {
			t.Errorf("Check(%q): %v", raw, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	url := strings.Replace(startServer(t), ":password@", ":wrong@", 1)
	if _, err := Poll(context.Background(), Options{URL: url}, nil); err == nil || !strings.Contains(err.Error(), "login as username") {
		t.Fatalf("wrong password: %v", err)
	}
}
