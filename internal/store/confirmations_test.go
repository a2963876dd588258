package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestConfirmationQueue follows two sign-ups through the queue: due in order, claimed by one
// process only, retried after a failure, re-queued with fresh tries, done, and gone with an
// erased subscriber.
func TestConfirmationQueue(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	ids := addSubscribers(t, db, "queue", 3)
	a, b, c := ids[0], ids[1], ids[2]
	due := func(at time.Time) string {
		t.Helper()
		qs, err := db.DueConfirmations(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(qs)
	}
	claim := func(id int64, now time.Time) bool {
		t.Helper()
		ok, err := db.ClaimConfirmation(ctx, id, now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if err := db.QueueConfirmation(ctx, b, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueConfirmation(ctx, a, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueConfirmation(ctx, c, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(time.Minute)
	if got, want := due(t0), "[]"; got != want {
		t.Fatalf("due before any: %s, want %s", got, want)
	}
	if got, want := due(now), fmt.Sprint([]QueuedConfirmation{{b, 0}, {a, 0}}); got != want {
		t.Fatalf("due: %s, want %s (oldest first, not the one due later)", got, want)
	}
	if qs, err := db.DueConfirmations(ctx, now, 1); err != nil || len(qs) != 1 || qs[0].SubscriberID != b {
		t.Fatalf("due with limit 1: %v %v", qs, err)
	}

	if !claim(b, now) {
		t.Fatal("first claim refused")
	}
	if claim(b, now) {
		t.Fatal("a claimed confirmation was claimed again")
	}
	if got, want := due(now), fmt.Sprint([]QueuedConfirmation{{a, 0}}); got != want {
		t.Fatalf("due after a claim: %s, want %s", got, want)
	}

	// A failed try comes back at its retry time with its count.
	retry := now.Add(10 * time.Minute)
	if err := db.ConfirmationFailed(ctx, b, 1, retry, "421 try later"); err != nil {
		t.Fatal(err)
	}
	if got, want := due(retry.Add(-time.Second)), fmt.Sprint([]QueuedConfirmation{{a, 0}}); got != want {
		t.Fatalf("due before the retry: %s, want %s", got, want)
	}
	if got, want := due(retry), fmt.Sprint([]QueuedConfirmation{{a, 0}, {b, 1}}); got != want {
		t.Fatalf("due at the retry: %s, want %s", got, want)
	}
	// Asking again (a second sign-up) starts the tries over.
	if err := db.QueueConfirmation(ctx, b, now); err != nil {
		t.Fatal(err)
	}
	if got, want := due(now), fmt.Sprint([]QueuedConfirmation{{a, 0}, {b, 0}}); got != want {
		t.Fatalf("due after queueing again: %s, want %s", got, want)
	}

	if err := db.ConfirmationDone(ctx, a); err != nil {
		t.Fatal(err)
	}
	if claim(a, now) {
		t.Fatal("a done confirmation was claimed")
	}
	if err := db.EraseSubscriber(ctx, b, hashOf(b), now); err != nil {
		t.Fatal(err)
	}
	if got, want := due(t0.Add(2*time.Hour)), fmt.Sprint([]QueuedConfirmation{{c, 0}}); got != want {
		t.Fatalf("due after done and erase: %s, want %s", got, want)
	}
}
