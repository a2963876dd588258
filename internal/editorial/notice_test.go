package editorial_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"newsletter/internal/editorial"
	"newsletter/internal/mailer"
	"newsletter/internal/smtptest"
)

func TestNoticeMailsTheEditors(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	n := &editorial.Notice{
		Transport:       mailer.NewSMTP(cfg),
		From:            mailer.Address{Name: "The Weekly", Email: "weekly@example.org"},
		To:              "editors@example.org",
		MessageIDDomain: "example.org",
		Now:             func() time.Time { return now },
	}
	if err := n.Notify(context.Background(), "Held: issue 2026-W19", "Approve it.\n"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if got := msgs[0].To; len(got) != 1 || got[0] != "editors@example.org" {
		t.Errorf("RCPT TO %v, want editors@example.org", got)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ header, want string }{
		{"Subject", "Held: issue 2026-W19"},
		{"Auto-Submitted", "auto-generated"},
		{"Message-Id", "<notice." + "1777881600000000000" + "@example.org>"},
	} {
		if got := m.Header.Get(tc.header); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.header, got, tc.want)
		}
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date = %v (%v), want %v", d, err, now)
	}
	var body bytes.Buffer
	body.ReadFrom(m.Body)
	if !strings.Contains(body.String(), "Approve it.") {
		t.Errorf("body %q lacks the notice", body.String())
	}
}

func TestNoticeNamesAnUnreachableRelay(t *testing.T) {
	cfg, err := mailer.ParseSMTPURL("smtp://127.0.0.1:1?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	n := &editorial.Notice{Transport: mailer.NewSMTP(cfg), To: "editors@example.org", MessageIDDomain: "example.org",
		Now: time.Now}
	if err := n.Notify(context.Background(), "s", "b"); err == nil || !strings.Contains(err.Error(), "editorial: notice") {
		t.Fatalf("err = %v, want an editorial: notice error", err)
	}
}
