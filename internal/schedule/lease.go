package schedule

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// WaitOptions say how HoldWaiting waits for a lease another process holds.
type WaitOptions struct {
	// TTL is the lease's lifetime without renewal (renewed every TTL/3); zero means LeaseTTL.
	TTL time.Duration
	// Patience is how long to wait before giving up with ErrLeaseHeld: a holder that
	// crashed frees the lease within TTL, so a few TTLs tell a crash from a live send.
	// Zero means three TTLs.
	Patience time.Duration
	Now      func() time.Time
	// Sleep waits between attempts; tests replace it to move a fake clock. Renewal once
	// the lease is held uses real timers.
	Sleep func(ctx context.Context, d time.Duration) error
	// Waiting is called once, when the first attempt finds the lease held.
	Waiting func()
	Logger  *slog.Logger
}

// waitPoll is the pause between HoldWaiting's attempts.
const waitPoll = time.Second

// HoldWaiting is Hold that waits, on the injected clock, for a lease another process holds.
// It gives up with ErrLeaseHeld once Patience has passed on that clock, or after one attempt
// a second of Patience, so that a clock that does not move cannot make it wait forever.
func HoldWaiting(ctx context.Context, leases Leases, holder string, o WaitOptions) (context.Context, func(), error) {
	if o.TTL <= 0 {
		o.TTL = LeaseTTL
	}
	if o.Patience <= 0 {
		o.Patience = 3 * o.TTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepFor
	}
	deadline := o.Now().Add(o.Patience)
	attempts := int(o.Patience / waitPoll)
	for i := 0; ; i++ {
		held, release, err := Hold(ctx, leases, holder, o.TTL, o.Now, nil, o.Logger)
		if !errors.Is(err, ErrLeaseHeld) {
			return held, release, err
		}
		if i >= attempts || o.Now().After(deadline) {
			return nil, nil, err
		}
		if i == 0 && o.Waiting != nil {
			o.Waiting()
		}
		if err := o.Sleep(ctx, waitPoll); err != nil {
			return nil, nil, err
		}
	}
}
