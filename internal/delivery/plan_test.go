package delivery_test

import (
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
)

func TestPlan(t *testing.T) {
	out := &mailer.Outbox{Dir: t.TempDir()}
	relay := func(rate float64) delivery.Relay {
		return delivery.Relay{Transport: out, Connections: 2, Rate: rate, Weight: 1}
	}
	for _, tc := range []struct {
		name     string
		relays   []delivery.Relay
		rate     float64
		backlog  int
		limit    float64
		duration time.Duration
	}{
		{"nothing limits it", []delivery.Relay{relay(0)}, 0, 100, 0, 0},
		{"the overall rate", []delivery.Relay{relay(0)}, 10, 100, 10, 10 * time.Second},
		{"the relays' rates add up", []delivery.Relay{relay(5), relay(15)}, 0, 100, 20, 5 * time.Second},
		{"the lower of relays and rate", []delivery.Relay{relay(5), relay(15)}, 4, 100, 4, 25 * time.Second},
		{"one relay without a rate leaves it to the overall rate", []delivery.Relay{relay(5), relay(0)}, 50, 100, 50, 2 * time.Second},
		{"a relay without a rate first leaves it open", []delivery.Relay{relay(0), relay(5)}, 0, 100, 0, 0},
		{"nothing to send", []delivery.Relay{relay(5)}, 0, 0, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := delivery.New(nil, tc.relays, delivery.Options{Policy: delivery.Policy{Rate: tc.rate, DomainRate: 1}})
			p := s.Plan(tc.backlog)
			if p.Limit != tc.limit || p.Duration != tc.duration {
				t.Fatalf("limit %g, duration %s; want %g, %s", p.Limit, p.Duration, tc.limit, tc.duration)
			}
			if p.Backlog != tc.backlog || p.Rate != tc.rate || p.DomainRate != 1 || len(p.Relays) != len(tc.relays) {
				t.Errorf("plan %+v does not carry the send's figures", p)
			}
		})
	}
}
