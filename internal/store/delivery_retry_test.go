package store

import (
	"context"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestBounceLimitSuppresses(t *testing.T) {
	ctx := context.Background()
	db, first := ledgerDB(t, 1)
	second, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 20}, Cutoff: t0.AddDate(0, 0, 7), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	bounce := func(issueID int64) {
		t.Helper()
		if _, err := db.EnqueueDeliveries(ctx, issueID, t0); err != nil {
			t.Fatal(err)
		}
		rows, err := db.ClaimDeliveries(ctx, issueID, 1, t0)
		if err != nil || len(rows) != 1 {
			t.Fatalf("claim = %v, %v", rows, err)
		}
		err = db.RecordDeliveries(ctx, []Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliveryBounced, Reply: "550 5.1.1 no such user", BounceLimit: 2}}, t0)
		if err != nil {
			t.Fatal(err)
		}
	}
	bounce(first.ID)
	if s, _ := db.SubscriberByID(ctx, 1); s.Status != newsletter.StatusActive {
		t.Fatalf("after one bounce of two allowed: %s", s.Status)
	}
	bounce(second.ID)
	if s, _ := db.SubscriberByID(ctx, 1); s.Status != newsletter.StatusBounced {
		t.Fatalf("after the second bounce: %s, want bounced", s.Status)
	}
}

func TestInFlightPolicies(t *testing.T) {
	ctx := context.Background()
	db, is := ledgerDB(t, 4)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	rows, err := db.ClaimDeliveries(ctx, is.ID, 2, t0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("claim = %v, %v", rows, err)
	}
	if !rows[0].FirstAttemptAt.Equal(t0) {
		t.Fatalf("FirstAttemptAt = %v, want %v", rows[0].FirstAttemptAt, t0)
	}
	n, err := db.SkipInFlight(ctx, is.ID, t0)
	if err != nil || n != 2 {
		t.Fatalf("SkipInFlight = %d, %v", n, err)
	}
	if got, want := counts(t, db, is.ID), "pending=2 sending=0 sent=0 deferred=0 failed=0 bounced=0 skipped=2"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}
	// A retried row keeps its first attempt time.
	rows, _ = db.ClaimDeliveries(ctx, is.ID, 1, t0)
	if err := db.RecordDeliveries(ctx, []Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliveryDeferred, RetryAt: t0}}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RequeueDue(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	again, err := db.ClaimDeliveries(ctx, is.ID, 2, later)
	if err != nil || len(again) != 2 {
		t.Fatalf("claim = %v, %v", again, err)
	}
	for _, d := range again {
		want := later
		if d.ID == rows[0].ID {
			want = t0
		}
		if !d.FirstAttemptAt.Equal(want) {
			t.Errorf("row %d FirstAttemptAt = %v, want %v", d.ID, d.FirstAttemptAt, want)
		}
	}
}

func TestDeliveryBacklog(t *testing.T) {
	ctx := context.Background()
	db, is := ledgerDB(t, 5)
	if n, err := db.DeliveryBacklog(ctx, is.ID); err != nil || n != 5 {
		t.Fatalf("backlog before enqueue = %d, %v; want 5", n, err)
	}
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.ClaimDeliveries(ctx, is.ID, 2, t0)
	if err := db.RecordDeliveries(ctx, []Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliverySent}}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetSubscriberStatus(ctx, 5, newsletter.StatusUnsubscribed, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeliveryBacklog(ctx, is.ID); err != nil || n != 3 {
		t.Fatalf("backlog = %d, %v; want 3 (one sent, one unsubscribed)", n, err)
	}
}
