package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestLease(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	ttl := 30 * time.Second
	steps := []struct {
		name   string
		holder string
		at     time.Time
		want   bool
	}{
		{"free lease is taken", "a", t0, true},
		{"held lease refuses another", "b", t0.Add(10 * time.Second), false},
		{"holder renews", "a", t0.Add(20 * time.Second), true},
		{"renewal extended it", "b", t0.Add(40 * time.Second), false},
		{"expired lease is taken over", "b", t0.Add(51 * time.Second), true},
		{"old holder cannot renew", "a", t0.Add(52 * time.Second), false},
	}
	for _, s := range steps {
		got, err := db.AcquireLease(ctx, "sender", s.holder, ttl, s.at)
		if err != nil || got != s.want {
			t.Fatalf("%s: AcquireLease = %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	if h, exp, err := db.LeaseHolder(ctx, "sender"); err != nil || h != "b" || exp.IsZero() {
		t.Fatalf("holder %q until %s, %v", h, exp, err)
	}
	if err := db.ReleaseLease(ctx, "sender", "a"); err != nil { // not a's: no effect
		t.Fatal(err)
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "c", ttl, t0.Add(53*time.Second)); ok {
		t.Fatal("release by a non-holder freed the lease")
	}
	if err := db.ReleaseLease(ctx, "sender", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireLease(ctx, "sender", "c", ttl, t0.Add(54*time.Second)); !ok {
		t.Fatal("released lease not available")
	}
	if _, _, err := db.LeaseHolder(ctx, "other"); !errors.Is(err, newsletter.ErrNotFound) {
		t.Fatalf("unknown lease: %v", err)
	}
}

func TestLeaseContention(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	wins := make(chan bool, 8)
	for i := range 8 {
		go func() {
			ok, err := db.AcquireLease(ctx, "sender", fmt.Sprint("holder-", i), time.Minute, now)
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	n := 0
	for range 8 {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d holders got the lease, want exactly 1", n)
	}
}
