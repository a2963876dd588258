package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	l, err := db.LeaseHolder(ctx, "sender")
	if err != nil || l.Holder != "b" {
		t.Fatalf("holder %+v, %v", l, err)
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
	if _, err := db.LeaseHolder(ctx, "other"); !errors.Is(err, newsletter.ErrNotFound) {
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

func TestScheduleRunsOncePerSlot(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slot := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	id, ok, err := db.StartRun(ctx, "send", slot, "2026-W19", "a", slot)
	if err != nil || !ok {
		t.Fatalf("first start: %v %v", ok, err)
	}
	if _, ok, err := db.StartRun(ctx, "send", slot, "2026-W19", "b", slot.Add(time.Minute)); err != nil || ok {
		t.Fatalf("second start of the same slot: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := db.StartRun(ctx, "build", slot, "2026-W19", "a", slot); !ok {
		t.Fatal("another kind in the same slot is separate")
	}
	if err := db.FinishRun(ctx, id, "skipped", "2 new stories, need 3", slot.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	runs, err := db.RecentRuns(ctx, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	var send ScheduleRun
	for _, r := range runs {
		if r.Kind == "send" {
			send = r
		}
	}
	if send.Outcome != "skipped" || send.Detail == "" || send.FinishedAt.IsZero() || !send.ScheduledAt.Equal(slot) || send.Holder != "a" {
		t.Fatalf("send run %+v", send)
	}
}

func TestInterruptRunsLeftByAnotherHolder(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slot := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	gone, _, err := db.StartRun(ctx, "send", slot, "2026-W19", "dead-process", slot)
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := db.StartRun(ctx, "build", slot, "2026-W20", "me", slot)
	if err != nil {
		t.Fatal(err)
	}
	finished, _, err := db.StartRun(ctx, "send", slot.Add(-7*24*time.Hour), "2026-W18", "dead-process", slot)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, finished, "done", "issue 2026-W18: 5 sent", slot); err != nil {
		t.Fatal(err)
	}
	n, err := db.InterruptRuns(ctx, "me", "its process stopped", slot.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("InterruptRuns = %d, %v; want 1", n, err)
	}
	runs, err := db.RecentRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{gone: "interrupted", mine: "running", finished: "done"}
	for _, r := range runs {
		if r.Outcome != want[r.ID] {
			t.Errorf("run %d (%s %s by %s): %s, want %s", r.ID, r.Kind, r.Week, r.Holder, r.Outcome, want[r.ID])
		}
		if r.ID == gone && (r.Detail != "its process stopped" || r.FinishedAt.IsZero()) {
			t.Errorf("interrupted run %+v", r)
		}
	}
}

func TestCompactAndBackup(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	if _, err := db.SaveStories(ctx, []newsletter.Story{{GUID: "g", URL: "https://technerdo.com/a", Title: "A", Published: now.Add(-time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	stories, err := db.UnsentStories(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, WindowStart: now.Add(-7 * 24 * time.Hour), Cutoff: now, Stories: stories, Status: newsletter.IssueDraft, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: fmt.Sprintf("r%d@example.com", i), Status: newsletter.StatusActive}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.EnqueueDeliveries(ctx, is.ID, now); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimDeliveries(ctx, is.ID, 5, now)
	if err != nil {
		t.Fatal(err)
	}
	var outs []Outcome
	for i, d := range claimed {
		st := newsletter.DeliverySent
		if i == 0 {
			st = newsletter.DeliveryBounced
		}
		outs = append(outs, Outcome{DeliveryID: d.ID, Status: st})
	}
	if err := db.RecordDeliveries(ctx, outs, now); err != nil {
		t.Fatal(err)
	}

	// A backup taken now holds every row.
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Fatal("backup over an existing file must fail")
	}
	copyDB, err := Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if c, err := copyDB.DeliveryCounts(ctx, is.ID); err != nil || c[newsletter.DeliverySent] != 4 || c[newsletter.DeliveryBounced] != 1 {
		t.Fatalf("backup ledger %v %v", c, err)
	}

	// Not sent yet: compact leaves it alone.
	if res, err := db.Compact(ctx, now.AddDate(0, 0, 30)); err != nil || res.Issues != 0 {
		t.Fatalf("compact of an unsent issue: %+v %v", res, err)
	}
	if err := db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, now); err != nil {
		t.Fatal(err)
	}
	if res, err := db.Compact(ctx, now); err != nil || res.Issues != 0 {
		t.Fatalf("compact of a recent issue: %+v %v", res, err)
	}
	res, err := db.Compact(ctx, now.AddDate(0, 0, 30))
	if err != nil || res.Issues != 1 || res.Rows != 5 {
		t.Fatalf("compact: %+v %v", res, err)
	}
	totals, err := db.IssueTotals(ctx, is.ID)
	if err != nil || totals[newsletter.DeliverySent] != 4 || totals[newsletter.DeliveryBounced] != 1 {
		t.Fatalf("totals %v %v", totals, err)
	}
	if c, _ := db.DeliveryCounts(ctx, is.ID); c[newsletter.DeliverySent] != 0 {
		t.Fatalf("ledger rows left after compaction: %v", c)
	}
	// Who got a compacted issue is no longer known: resuming it must queue nobody, or every
	// subscriber would get it twice.
	if n, err := db.EnqueueDeliveries(ctx, is.ID, now); err != nil || n != 0 {
		t.Fatalf("enqueue of a compacted issue = %d, %v; want 0", n, err)
	}
	if n, last, err := db.EnqueueDeliveriesAfter(ctx, is.ID, 0, 10, now); err != nil || n != 0 || last != 0 {
		t.Fatalf("chunked enqueue of a compacted issue = %d, %d, %v; want 0, 0", n, last, err)
	}
	if n, err := db.DeliveryBacklog(ctx, is.ID); err != nil || n != 0 {
		t.Fatalf("backlog of a compacted issue = %d, %v; want 0", n, err)
	}
}
