package schedule_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"newsletter/internal/schedule"
)

func TestHoldWaiting(t *testing.T) {
	const ttl = schedule.LeaseTTL
	tests := []struct {
		name string
		// renew keeps the other holder's lease alive at every pause, as a live send does.
		renew    bool
		wantErr  error
		wantWait int
	}{
		{name: "a crashed holder's lease runs out and is taken", renew: false, wantErr: nil, wantWait: 1},
		{name: "a live holder keeps it: give up after the patience", renew: true, wantErr: schedule.ErrLeaseHeld, wantWait: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
			f.clock.Set(now)
			ctx := context.Background()
			if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "other", ttl, now); !ok || err != nil {
				t.Fatal("could not take the lease", err)
			}
			waited, waitedFor, pauses := 0, "", 0
			sleep := func(ctx context.Context, d time.Duration) error {
				pauses++
				f.clock.Set(f.clock.Now().Add(d))
				if tc.renew {
					if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "other", ttl, f.clock.Now()); !ok || err != nil {
						t.Fatal("other holder could not renew", err)
					}
				}
				return nil
			}
			held, release, err := schedule.HoldWaiting(ctx, f.db, "manual", schedule.WaitOptions{
				Now: f.clock.Now, Sleep: sleep, Waiting: func(holder string) { waited++; waitedFor = holder },
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if waited != tc.wantWait || waitedFor != "other" {
				t.Errorf("Waiting called %d times for %q, want %d for other", waited, waitedFor, tc.wantWait)
			}
			if h := (*schedule.LeaseHeldError)(nil); err != nil && (!errors.As(err, &h) || h.Holder != "other") {
				t.Errorf("err = %v, want the holder named", err)
			}
			if err != nil {
				if got := f.clock.Now().Sub(now); got < 3*ttl {
					t.Errorf("gave up after %s on the clock, want at least %s", got, 3*ttl)
				}
				return
			}
			defer release()
			if held.Err() != nil {
				t.Fatal("held context is already done")
			}
			if h, _, err := f.db.LeaseHolder(ctx, schedule.LeaseName); err != nil || h != "manual" {
				t.Fatalf("lease holder %q (%v), want manual", h, err)
			}
			if pauses < int(ttl/time.Second) {
				t.Errorf("took the lease after %d pauses, before the other's %s expired", pauses, ttl)
			}
		})
	}
}

func TestHoldWaitingStopsOnAFrozenClock(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	f.clock.Set(now)
	ctx := context.Background()
	if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "other", time.Minute, now); !ok || err != nil {
		t.Fatal("could not take the lease", err)
	}
	pauses := 0
	_, _, err := schedule.HoldWaiting(ctx, f.db, "manual", schedule.WaitOptions{
		Now:   f.clock.Now,
		Sleep: func(context.Context, time.Duration) error { pauses++; return nil },
	})
	if !errors.Is(err, schedule.ErrLeaseHeld) {
		t.Fatalf("err = %v, want ErrLeaseHeld", err)
	}
	if want := int(3 * schedule.LeaseTTL / time.Second); pauses != want {
		t.Errorf("%d pauses, want %d (one a second of three lease lifetimes)", pauses, want)
	}
}

// HoldWaiting waits three lease lifetimes for a live holder before it gives up.
func TestHoldWaitingPatience(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	f.clock.Set(now)
	ctx := context.Background()
	if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "other", schedule.LeaseTTL, now); !ok || err != nil {
		t.Fatal("could not take the lease", err)
	}
	_, _, err := schedule.HoldWaiting(ctx, f.db, "manual", schedule.WaitOptions{
		Now: f.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.clock.Set(f.clock.Now().Add(d))
			if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "other", schedule.LeaseTTL, f.clock.Now()); !ok || err != nil {
				t.Fatal("other holder could not renew", err)
			}
			return nil
		},
	})
	if !errors.Is(err, schedule.ErrLeaseHeld) {
		t.Fatalf("err = %v, want ErrLeaseHeld", err)
	}
	if got, want := f.clock.Now().Sub(now), 3*schedule.LeaseTTL; got < want || got > want+2*time.Second {
		t.Errorf("gave up after %s on the clock, want %s", got, want)
	}
}
