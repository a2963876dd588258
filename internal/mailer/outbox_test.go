package mailer

import (
	"bytes"
	"context"
	"errors"
	netmail "net/mail"
	"os"
	"path/filepath"
	"testing"
)

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "outbox", "nested")
	var tr Transport = &Outbox{Dir: dir}
	if got := tr.String(); got != "outbox "+dir {
		t.Errorf("String = %q", got)
	}
	s, err := tr.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("outbox dir: %v, %v; want mode 0750", fi.Mode(), err)
	}

	m := sampleMessage()
	r, err := s.Send(ctx, m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := filepath.Join(dir, "2026-W19.42@news.example.org.eml")
	if r.Reply != want {
		t.Errorf("Reply = %q, want %q", r.Reply, want)
	}
	raw, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, render(t, m)) {
		t.Error("file differs from WriteTo output")
	}
	parsed, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the file: %v", err)
	}
	if got := parsed.Header.Get("Message-Id"); got != "<"+m.MessageID+">" {
		t.Errorf("Message-Id = %q", got)
	}

	// Same MessageID: overwritten in place, no temporary files left behind.
	m.Subject = "Second edition"
	if _, err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("outbox holds %q, want only %s", names, filepath.Base(want))
	}
	raw, _ = os.ReadFile(want)
	if parsed, err := netmail.ReadMessage(bytes.NewReader(raw)); err != nil || parsed.Header.Get("Subject") != "Second edition" {
		t.Errorf("overwritten file: subject %q, %v", parsed.Header.Get("Subject"), err)
	}
}

func TestOutboxFileName(t *testing.T) {
	tests := []struct{ id, want string }{
		{"2026-W19.42@news.example.org", "2026-W19.42@news.example.org.eml"},
		{"a/b@c", "a_b@c.eml"},
		{"../../etc/passwd@x", ".._.._etc_passwd@x.eml"},
		{"a+b=c$d@ex", "a_b_c_d@ex.eml"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := outboxName(tt.id); got != tt.want {
				t.Errorf("outboxName(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestOutboxRejects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := (&Outbox{Dir: dir}).Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := sampleMessage()
	bad.Subject = "x\r\nBcc: y@z"
	if _, err := s.Send(ctx, bad); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("invalid message: err = %v, want ErrInvalidMessage", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Send(cancelled, sampleMessage()); !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Errorf("cancelled: err = %v, want temporary context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("outbox holds %d files, want none", len(entries))
	}
	if _, err := (&Outbox{}).Open(ctx); err == nil {
		t.Error("Open with no Dir succeeded")
	}
}
