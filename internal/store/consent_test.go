package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"newsletter/internal/newsletter"
)

// leave is the transition of a one-click unsubscribe.
func leave(id int64) Transition {
	return Transition{
		ID: id, Status: newsletter.StatusUnsubscribed,
		Event: ConsentEvent{Event: "left", Source: "web"},
		Hash:  fmt.Appendf(nil, "hash-of-subscriber-%d", id), Suppress: SuppressUnsubscribed,
	}
}

// openAt opens the database at path and closes it when the test ends.
func openAt(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// addSubscribers imports n active subscribers and returns their ids.
func addSubscribers(tb testing.TB, db *DB, prefix string, n int) []int64 {
	tb.Helper()
	ctx := context.Background()
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("%s%d@example.com", prefix, i)}
	}
	if _, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0); err != nil {
		tb.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		s, err := db.SubscriberByEmail(ctx, r.Email)
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = s.ID
	}
	return ids
}

// checkLeft fails unless each subscriber is unsubscribed, suppressed, and logged as having
// left exactly once; it reads through a handle of its own, opened after the writers closed.
func checkLeft(t *testing.T, path string, ids []int64) {
	t.Helper()
	ctx := context.Background()
	db := openAt(t, path)
	for _, id := range ids {
		s, err := db.SubscriberByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		reason, err := db.SubscriberSuppression(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		listed, err := db.Suppression(ctx, leave(id).Hash)
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.ConsentLog(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, ev := range events {
			if ev.Event == "left" {
				left++
			}
		}
		if s.Status != newsletter.StatusUnsubscribed || reason != SuppressUnsubscribed || listed != SuppressUnsubscribed || left != 1 {
			t.Fatalf("subscriber %d: status %s, suppressed %q, on the list as %q, %d 'left' events; want unsubscribed and recorded once",
				id, s.Status, reason, listed, left)
		}
	}
}

// TestTransitionBurstBesideAnotherWriter unsubscribes 200 subscribers at once while a second
// handle on the same file (as `newsletter send` in another process) claims and records its
// ledger: nothing may fail or wait out the busy timeout, and every change must be there
// when the database is opened again.
func TestTransitionBurstBesideAnotherWriter(t *testing.T) {
	ctx := context.Background()
	const burst = 200
	path := filepath.Join(t.TempDir(), "burst.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "leaving", burst)
	addSubscribers(t, db, "staying", 1000)
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: t0, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	sender := openAt(t, path)

	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, burst)
	changed := make([]bool, burst)
	for i, id := range ids {
		wg.Go(func() {
			<-start
			changed[i], errs[i] = db.ApplyTransition(ctx, leave(id), t0)
		})
	}
	var sendErr error
	var recorded int
	wg.Go(func() {
		<-start
		// One row at a time, recording each before the next claim, as a sender's worker does.
		var outcomes []Outcome
		for {
			rows, err := sender.RecordAndClaim(ctx, is.ID, outcomes, 1, t0)
			if err != nil {
				sendErr = err
				return
			}
			recorded += len(outcomes)
			if len(rows) == 0 {
				return
			}
			outcomes = []Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliverySent}}
		}
	})
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil || !changed[i] {
			t.Errorf("unsubscribe %d: changed %v, %v", ids[i], changed[i], err)
		}
	}
	if sendErr != nil {
		t.Fatalf("the other writer: %v", sendErr)
	}
	c, err := sender.DeliveryCounts(ctx, is.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c[newsletter.DeliveryPending] != 0 || c[newsletter.DeliverySending] != 0 || c[newsletter.DeliverySent] != recorded ||
		c[newsletter.DeliverySent]+c[newsletter.DeliverySkipped] != burst+1000 {
		t.Fatalf("ledger %v after %d recorded outcomes, want every row sent or skipped", c, recorded)
	}
	if err := sender.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeft(t, path, ids)
}

// TestApplyTransition: each transition commits on its own, with its own outcome; one whose
// subscriber is gone or that breaks a constraint halfway writes nothing.
func TestApplyTransition(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "apply.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 5)
	bogus := leave(ids[4])
	bogus.Suppress = "bogus" // passes the UPDATE, then fails the suppressions CHECK
	tests := []struct {
		name    string
		t       Transition
		changed bool
		err     error // nil, or a sentinel the error wraps
		fails   bool
	}{
		{"first", leave(ids[0]), true, nil, false},
		{"gone", leave(99999), false, newsletter.ErrNotFound, true},
		{"second", leave(ids[1]), true, nil, false},
		{"again", leave(ids[0]), false, nil, false},
		{"constraint", bogus, false, nil, true},
		{"third", leave(ids[2]), true, nil, false},
		{"status only", Transition{ID: ids[3], Status: newsletter.StatusBounced}, true, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed, err := db.ApplyTransition(ctx, tc.t, t0)
			if changed != tc.changed || (err != nil) != tc.fails || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("changed %v, error %v; want %v, failure %v (%v)", changed, err, tc.changed, tc.fails, tc.err)
			}
		})
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkLeft(t, path, ids[:3])
	db = openAt(t, path)
	s, err := db.SubscriberByID(ctx, ids[4])
	if err != nil {
		t.Fatal(err)
	}
	reason, err := db.SubscriberSuppression(ctx, ids[4])
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != newsletter.StatusActive || reason != "" {
		t.Fatalf("the failed transition left status %s, suppressed %q", s.Status, reason)
	}
	if s, err := db.SubscriberByID(ctx, ids[3]); err != nil || s.Status != newsletter.StatusBounced {
		t.Fatalf("status-only transition: %+v, %v", s, err)
	}
}

// TestTransitionCancelled: a caller that has gone changes nothing.
func TestTransitionCancelled(t *testing.T) {
	db := openTestDB(t)
	ids := addSubscribers(t, db, "reader", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.ApplyTransition(ctx, leave(ids[0]), t0); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if s, err := db.SubscriberByID(context.Background(), ids[0]); err != nil || s.Status != newsletter.StatusActive {
		t.Fatalf("after a cancelled unsubscribe: %+v, %v", s, err)
	}
}

// TestTransitionVisibleAtOnce: a change ApplyTransition has returned is what another
// handle on the file (another process) reads next.
func TestTransitionVisibleAtOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "visible.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 20)
	other := openAt(t, path)
	for _, id := range ids {
		if _, err := db.ApplyTransition(ctx, leave(id), t0); err != nil {
			t.Fatal(err)
		}
		if s, err := other.SubscriberByID(ctx, id); err != nil || s.Status != newsletter.StatusUnsubscribed {
			t.Fatalf("the other handle right after the change: %+v, %v", s, err)
		}
	}
}
