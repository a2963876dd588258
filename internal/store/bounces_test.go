package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// sentLedger returns a database whose n subscribers were each sent one issue.
func sentLedger(t *testing.T, n int) (*DB, newsletter.Issue) {
	t.Helper()
	ctx := context.Background()
	db, is := ledgerDB(t, n)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimDeliveries(ctx, is.ID, n, t0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Outcome
	for _, d := range claimed {
		out = append(out, Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent, Reply: "250 OK"})
	}
	if err := db.RecordDeliveries(ctx, out, t0); err != nil {
		t.Fatal(err)
	}
	return db, is
}

func hashOf(id int64) []byte { return []byte(fmt.Sprintf("hash-of-%d", id)) }

func TestRecordBounce(t *testing.T) {
	ctx := context.Background()
	rules := BounceRules{HardLimit: 2, SoftLimit: 2, SoftWindow: 7 * 24 * time.Hour}
	reported := t0.Add(2 * time.Hour)
	now := t0.Add(3 * time.Hour)
	type step struct {
		ev         BounceEvent
		wantStatus newsletter.SubscriberStatus
		wantSupp   string // suppression reason of the address afterwards
		wantEvent  string // last consent event
		wantDup    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"hard bounces up to the limit", []step{
			{ev: BounceEvent{SubscriberID: 1, IssueID: 1, Kind: BounceHard, Status: "5.1.1", Reason: "550 user unknown", Source: "dsn", ReportedAt: reported},
				wantStatus: newsletter.StatusActive, wantEvent: "hard-bounce"},
			{ev: BounceEvent{SubscriberID: 1, IssueID: 1, Kind: BounceHard, Status: "5.1.1", Reason: "550 user unknown", Source: "dsn", ReportedAt: reported},
				wantStatus: newsletter.StatusActive, wantEvent: "hard-bounce", wantDup: true},
			{ev: BounceEvent{SubscriberID: 1, Kind: BounceHard, Status: "5.2.1", Reason: "550 disabled", Source: "dsn", ReportedAt: reported.Add(time.Hour)},
				wantStatus: newsletter.StatusBounced, wantSupp: SuppressBounced, wantEvent: "bounced"},
		}},
		// Undated, it is dated when read, so the two runs give it two dates.
		{"an undated report fed twice counts once, by its own Message-ID", []step{
			{ev: BounceEvent{SubscriberID: 6, Kind: BounceSoft, Status: "4.2.2", Source: "dsn", ReportID: "r1@mx.example", ReportedAt: reported},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce"},
			{ev: BounceEvent{SubscriberID: 6, Kind: BounceSoft, Status: "4.2.2", Source: "dsn", ReportID: "r1@mx.example", ReportedAt: reported.Add(time.Hour)},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce", wantDup: true},
		}},
		{"soft bounces within the window", []step{
			{ev: BounceEvent{SubscriberID: 2, IssueID: 1, Kind: BounceSoft, Status: "4.2.2", Reason: "452 mailbox full", Source: "dsn", ReportedAt: reported},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce"},
			{ev: BounceEvent{SubscriberID: 2, IssueID: 1, Kind: BounceSoft, Status: "4.2.2", Reason: "452 mailbox full", Source: "dsn", ReportedAt: reported.Add(time.Hour)},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce", wantDup: true},
			{ev: BounceEvent{SubscriberID: 2, Kind: BounceSoft, Status: "4.4.7", Reason: "expired", Source: "dsn", ReportedAt: reported.Add(2 * time.Hour)},
				wantStatus: newsletter.StatusBounced, wantSupp: SuppressBounced, wantEvent: "bounced"},
		}},
		{"soft bounces outside the window do not add up", []step{
			{ev: BounceEvent{SubscriberID: 3, Kind: BounceSoft, Status: "4.2.2", Source: "dsn", ReportedAt: now.Add(-30 * 24 * time.Hour)},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce"},
			{ev: BounceEvent{SubscriberID: 3, Kind: BounceSoft, Status: "4.2.2", Source: "dsn", ReportedAt: reported},
				wantStatus: newsletter.StatusActive, wantEvent: "soft-bounce"},
		}},
		{"a complaint suppresses at once", []step{
			{ev: BounceEvent{SubscriberID: 4, IssueID: 1, Kind: BounceComplaint, Reason: "feedback-type abuse", Source: "arf", ReportedAt: reported},
				wantStatus: newsletter.StatusUnsubscribed, wantSupp: SuppressComplained, wantEvent: "complained"},
			{ev: BounceEvent{SubscriberID: 4, IssueID: 1, Kind: BounceHard, Status: "5.1.1", Source: "dsn", ReportedAt: reported},
				wantStatus: newsletter.StatusUnsubscribed, wantSupp: SuppressComplained, wantEvent: "hard-bounce"},
		}},
	}
	db, is := sentLedger(t, 6)
	if is.ID != 1 {
		t.Fatalf("issue id %d, want 1", is.ID)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, st := range tt.steps {
				id := st.ev.SubscriberID
				res, err := db.RecordBounce(ctx, st.ev, hashOf(id), rules, now)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if res.Duplicate != st.wantDup {
					t.Errorf("step %d: Duplicate = %v", i, res.Duplicate)
				}
				sub, err := db.SubscriberByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if sub.Status != st.wantStatus {
					t.Errorf("step %d: status %s, want %s", i, sub.Status, st.wantStatus)
				}
				supp, err := db.Suppression(ctx, hashOf(id))
				if err != nil {
					t.Fatal(err)
				}
				if supp != st.wantSupp {
					t.Errorf("step %d: suppression %q, want %q", i, supp, st.wantSupp)
				}
				log, err := db.ConsentLog(ctx, id)
				if err != nil || len(log) == 0 {
					t.Fatalf("step %d: consent log %v, %v", i, log, err)
				}
				last := log[len(log)-1]
				if last.Event != st.wantEvent || last.Source != st.ev.Source || !last.At.Equal(st.ev.ReportedAt.Truncate(time.Second)) && !st.wantDup {
					t.Errorf("step %d: last consent event %+v, want %s from %s at %v", i, last, st.wantEvent, st.ev.Source, st.ev.ReportedAt)
				}
				if st.ev.Status != "" && !st.wantDup && last.Detail[:len(st.ev.Status)] != st.ev.Status {
					t.Errorf("step %d: detail %q does not start with the status", i, last.Detail)
				}
			}
		})
	}

	// A hard bounce with an issue turned the delivery row to bounced, once.
	st, err := db.DeliveryStatus(ctx, is.ID, 1)
	if err != nil || st != newsletter.DeliveryBounced {
		t.Errorf("delivery of issue 1 to subscriber 1: %s, %v; want bounced", st, err)
	}
	got, err := db.IssueBounces(ctx, is.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != (newsletter.IssueReports{Hard: 2, Soft: 1, Complaints: 1, HardInLedger: 2}) {
		t.Errorf("IssueBounces = %v", got)
	}
	totals, err := db.BounceCounts(ctx)
	if err != nil || fmt.Sprint(totals) != "map[complaint:1 hard:3 soft:5]" {
		t.Errorf("BounceCounts = %v, %v", totals, err)
	}
	if _, err := db.DeliveryStatus(ctx, is.ID, 99); !errors.Is(err, newsletter.ErrNotFound) {
		t.Errorf("DeliveryStatus of no row: %v, want ErrNotFound", err)
	}
	if _, err := db.RecordBounce(ctx, BounceEvent{SubscriberID: 99, Kind: BounceHard, Source: "dsn"}, hashOf(99), rules, now); !errors.Is(err, newsletter.ErrNotFound) {
		t.Errorf("RecordBounce for no subscriber: %v, want ErrNotFound", err)
	}
	if _, err := db.RecordBounce(ctx, BounceEvent{SubscriberID: 5, Kind: "bogus"}, hashOf(5), rules, now); err == nil {
		t.Error("RecordBounce accepted kind bogus")
	}
}

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
