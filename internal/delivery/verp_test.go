package delivery_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"newsletter/internal/delivery"
	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
)

// TestVERPEnvelopeSender sends over SMTP with a per-recipient envelope sender and checks
// that each MAIL FROM carries a token naming the issue and the subscriber, while the
// headers stay those of a plain send; test copies keep the plain bounce address.
func TestVERPEnvelopeSender(t *testing.T) {
	f := setup(t, 3)
	srv := smtptest.Start(t)
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
		o.Identity.BounceAddress = "bounces@technerdo.com"
		o.EnvelopeFrom = func(is newsletter.Issue, sub newsletter.Subscriber) string {
			return "bounces+" + f.signer.MakeVERP(is.ID, sub.ID, sub.Email) + "@technerdo.com"
		}
	})
	if _, err := s.Send(context.Background(), f.issue, f.email); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	byAddr := map[string]newsletter.Subscriber{}
	for _, sub := range f.subs {
		byAddr[sub.Email] = sub
	}
	for _, m := range msgs {
		sub := byAddr[m.To[0]]
		local, domain, _ := strings.Cut(m.From, "@")
		tok, ok := strings.CutPrefix(local, "bounces+")
		if !ok || domain != "technerdo.com" {
			t.Fatalf("MAIL FROM %s, want bounces+TOKEN@technerdo.com", m.From)
		}
		if !f.signer.CheckVERP(tok, f.issue.ID, sub.ID, sub.Email) {
			t.Errorf("MAIL FROM %s: token does not name issue %d and subscriber %d", m.From, f.issue.ID, sub.ID)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if got := parsed.Header.Get("From"); got != `"The Technerdo Weekly" <weekly@technerdo.com>` {
			t.Errorf("From = %s", got)
		}
		if strings.Contains(string(m.Data[:bytes.Index(m.Data, []byte("\r\n\r\n"))]), tok) {
			t.Errorf("the VERP token leaked into the headers")
		}
	}

	res, err := s.SendTest(context.Background(), f.issue, f.email, []string{"editor@technerdo.com"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("test copy: %v %v", err, res)
	}
	msgs = srv.Messages()
	if got := msgs[len(msgs)-1].From; got != "bounces@technerdo.com" {
		t.Errorf("test copy MAIL FROM %s, want the plain bounce address", got)
	}
}

// TestSendTestCountsFailedCopies: a refused copy is named in its result and counted in the error.
func TestSendTestCountsFailedCopies(t *testing.T) {
	f := setup(t, 1)
	srv := smtptest.Start(t)
	srv.FailRcpt("bad@example.org", 550)
	s := f.sender(smtpTransport(t, srv), 1)
	res, err := s.SendTest(context.Background(), f.issue, f.email, []string{"editor@example.org", "bad@example.org"})
	if err == nil || err.Error() != "1 of 2 test copies failed" {
		t.Fatalf("err = %v, want 1 of 2 test copies failed", err)
	}
	if len(res) != 2 || res[0].Err != nil || res[1].Email != "bad@example.org" || res[1].Err == nil {
		t.Fatalf("results = %+v", res)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].To[0] != "editor@example.org" {
		t.Fatalf("received %+v, want the one good copy", got)
	}
}
