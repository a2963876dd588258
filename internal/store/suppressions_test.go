package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"newsletter/internal/newsletter"
)

// TestSuppressionList: hashes go on with a reason (the latest wins), are found, counted and
// listed, and come off together; a subscriber's own suppression is read from its row.
func TestSuppressionList(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	h1, h2, h3 := []byte("hash-1"), []byte("hash-2"), []byte("hash-3")
	for _, s := range []struct {
		hash   []byte
		reason string
	}{{h1, SuppressManual}, {h2, SuppressManual}, {h3, SuppressComplained}, {h1, SuppressBounced}} {
		if err := db.Suppress(ctx, s.hash, s.reason, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		hash []byte
		want string
	}{
		{"reason replaced", h1, SuppressBounced},
		{"manual", h2, SuppressManual},
		{"complained", h3, SuppressComplained},
		{"not on the list", []byte("hash-4"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := db.Suppression(ctx, tc.hash); err != nil || got != tc.want {
				t.Fatalf("Suppression(%s) = %q, %v; want %q", tc.hash, got, err, tc.want)
			}
		})
	}
	set, err := db.SuppressionSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(set), "map[hash-1:bounced hash-2:manual hash-3:complained]"; got != want {
		t.Fatalf("SuppressionSet = %s, want %s", got, want)
	}
	if got, err := db.SuppressionCounts(ctx); err != nil || fmt.Sprint(got) != "map[bounced:1 complained:1 manual:1]" {
		t.Fatalf("SuppressionCounts = %v, %v", got, err)
	}

	if err := db.RemoveSuppressions(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveSuppressions(ctx, [][]byte{h1, h3, []byte("hash-4")}); err != nil {
		t.Fatal(err)
	}
	if set, err := db.SuppressionSet(ctx); err != nil || fmt.Sprint(set) != "map[hash-2:manual]" {
		t.Fatalf("after removing: %v, %v", set, err)
	}

	// A subscriber that left is suppressed on its own row as well as by hash.
	id := addSubscribers(t, db, "left", 1)[0]
	if got, err := db.SubscriberSuppression(ctx, id); err != nil || got != "" {
		t.Fatalf("active subscriber: %q, %v; want none", got, err)
	}
	if _, err := db.ApplyTransition(ctx, leave(id), t0); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SubscriberSuppression(ctx, id); err != nil || got != SuppressUnsubscribed {
		t.Fatalf("after leaving: %q, %v; want %q", got, err, SuppressUnsubscribed)
	}
	if _, err := db.SubscriberSuppression(ctx, id+100); !errors.Is(err, newsletter.ErrNotFound) {
		t.Fatalf("unknown subscriber: %v, want ErrNotFound", err)
	}
}
