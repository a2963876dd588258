package delivery

import (
	"time"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

// PrepareBodyForTest and MessageWithBody expose the per-send fast path to the external tests.
func PrepareBodyForTest(e render.Email) *mailer.Body {
	b, _ := mailer.PrepareBody(e.Text, e.HTML, render.Placeholders()...)
	return b
}

func (s *Sender) MessageWithBody(issue newsletter.Issue, email render.Email, body *mailer.Body, sub newsletter.Subscriber) mailer.Message {
	return s.message(issue, email, body, sub)
}

// WithChunk returns a copy of s that queues n subscribers per ledger transaction.
func (s *Sender) WithChunk(n int) *Sender {
	c := *s
	c.chunk = n
	return &c
}

// WithRelayRest returns a copy of s whose failing relays first rest d.
func (s *Sender) WithRelayRest(d time.Duration) *Sender {
	c := *s
	c.relayRest = d
	return &c
}
