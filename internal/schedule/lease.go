package schedule

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// WaitOptions say how HoldWaiting waits for a lease another process holds.
type WaitOptions struct {
	Now func() time.Time
	// Sleep waits between attempts; tests replace it to move a fake clock. Renewal once
	// the lease is held uses real timers.
	Sleep func(ctx context.Context, d time.Duration) error
	// Waiting is called once, with the holder's name, when the first attempt finds the lease held.
	Waiting func(holder string)
	Logger  *slog.Logger
}

const (
	// waitPoll is the pause between HoldWaiting's attempts.
	waitPoll = time.Second
	// patience is how long HoldWaiting waits: a holder that crashed frees the lease within
	// LeaseTTL, so three of them tell a crash from a live send.
	patience = 3 * LeaseTTL
)

// HoldWaiting is Hold that waits, on the injected clock, for a lease another process holds.
// It gives up with ErrLeaseHeld once patience has passed on that clock, or after one attempt
// a second of it, so that a clock that does not move cannot make it wait forever.
func HoldWaiting(ctx context.Context, leases Leases, holder string, o WaitOptions) (context.Context, func(), error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepFor
	}
	deadline := o.Now().Add(patience)
	attempts := int(patience / waitPoll)
	for i := 0; ; i++ {
		held, release, err := Hold(ctx, leases, holder, o.Now, nil, o.Logger)
		if !errors.Is(err, ErrLeaseHeld) {
			return held, release, err
		}
		if i >= attempts || o.Now().After(deadline) {
			return nil, nil, err
		}
		if h := (*LeaseHeldError)(nil); i == 0 && o.Waiting != nil && errors.As(err, &h) {
			o.Waiting(h.Holder)
		}
		if err := o.Sleep(ctx, waitPoll); err != nil {
			return nil, nil, err
		}
	}
}
