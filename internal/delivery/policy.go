package delivery

import (
	"cmp"
	"time"
)

// Policy is how a send paces itself, retries a temporary failure and gives up: delivery's
// defaults and rules in one place. The configuration supplies the values; a zero field
// takes DefaultPolicy's.
type Policy struct {
	Rate       float64 // messages per second across all relays and workers; 0 for no limit
	DomainRate float64 // messages per second to one recipient domain; 0 for no limit
	InDoubt    string  // InDoubtResend (default) or InDoubtSkip

	MaxAttempts int           // attempts before a temporary failure is given up
	Horizon     time.Duration // a row is given up this long after its first attempt
	// RetryBase is the first backoff, doubled on each further attempt (see Backoff).
	RetryBase time.Duration
	// Wait is how long Send keeps going for retries that come due, and for relays that are
	// down, before it returns with rows still deferred. 0 returns after one pass.
	Wait time.Duration
	// BounceLimit hard bounces (over all issues) suppress a subscriber.
	BounceLimit int
}

// DefaultPolicy is the policy of a send configured with nothing: no pacing, resend what a
// crash left in doubt, 8 attempts within 48 hours, backoff from 1 minute, one pass, and a
// single hard bounce suppresses.
func DefaultPolicy() Policy {
	return Policy{
		InDoubt:     InDoubtResend,
		MaxAttempts: 8,
		Horizon:     48 * time.Hour,
		RetryBase:   time.Minute,
		BounceLimit: 1,
	}
}

// withDefaults fills zero fields from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	p.InDoubt = cmp.Or(p.InDoubt, d.InDoubt)
	setDefault(&p.MaxAttempts, d.MaxAttempts)
	setDefault(&p.Horizon, d.Horizon)
	setDefault(&p.RetryBase, d.RetryBase)
	setDefault(&p.BounceLimit, d.BounceLimit)
	return p
}
