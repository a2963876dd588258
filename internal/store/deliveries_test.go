package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// ledgerDB returns a database with n active subscribers and one issue.
func ledgerDB(tb testing.TB, n int) (*DB, newsletter.Issue) {
	tb.Helper()
	ctx := context.Background()
	db := openTestDB(tb)
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("reader%d@example.com", i), Name: fmt.Sprintf("Reader %d", i)}
	}
	if _, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0); err != nil {
		tb.Fatal(err)
	}
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: t0, CreatedAt: t0})
	if err != nil {
		tb.Fatal(err)
	}
	return db, is
}

func counts(t *testing.T, db *DB, issueID int64) string {
	t.Helper()
	c, err := db.DeliveryCounts(context.Background(), issueID)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pending=%d sending=%d sent=%d deferred=%d failed=%d bounced=%d skipped=%d",
		c[newsletter.DeliveryPending], c[newsletter.DeliverySending], c[newsletter.DeliverySent],
		c[newsletter.DeliveryDeferred], c[newsletter.DeliveryFailed], c[newsletter.DeliveryBounced], c[newsletter.DeliverySkipped])
}

func TestEnqueueDeliveries(t *testing.T) {
	ctx := context.Background()
	db, is := ledgerDB(t, 10)
	if _, err := db.ApplyTransition(ctx, Transition{ID: 1, Status: newsletter.StatusUnsubscribed}, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "later@example.com", Status: newsletter.StatusPending}, t0); err != nil {
		t.Fatal(err)
	}

	n, err := db.EnqueueDeliveries(ctx, is.ID, t0)
	if err != nil || n != 9 {
		t.Fatalf("first enqueue = %d, %v; want 9 (active only)", n, err)
	}
	n, err = db.EnqueueDeliveries(ctx, is.ID, t0)
	if err != nil || n != 0 {
		t.Fatalf("second enqueue = %d, %v; want 0", n, err)
	}
	later, err := db.SubscriberByEmail(ctx, "later@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyTransition(ctx, Transition{ID: later.ID, Status: newsletter.StatusActive}, t0); err != nil {
		t.Fatal(err)
	}
	n, err = db.EnqueueDeliveries(ctx, is.ID, t0)
	if err != nil || n != 1 {
		t.Fatalf("enqueue after confirmation = %d, %v; want 1", n, err)
	}
	if got, want := counts(t, db, is.ID), "pending=10 sending=0 sent=0 deferred=0 failed=0 bounced=0 skipped=0"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}
	_, err = db.EnqueueDeliveries(ctx, 999, t0)
	errIs(t, err, newsletter.ErrNotFound)
}

// TestEnqueueDeliveriesAfter queues the list a chunk at a time, in subscriber order, and
// ends up with the same rows as one EnqueueDeliveries: every active subscriber once.
func TestEnqueueDeliveriesAfter(t *testing.T) {
	ctx := context.Background()
	db, is := ledgerDB(t, 10)
	for _, id := range []int64{2, 7} {
		if _, err := db.ApplyTransition(ctx, Transition{ID: id, Status: newsletter.StatusUnsubscribed}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// Subscriber 5 already has a row (a resumed send): looked at, not added again.
	if _, _, err := db.EnqueueDeliveriesAfter(ctx, is.ID, 4, 1, t0); err != nil {
		t.Fatal(err)
	}
	type step struct {
		added int
		last  int64
	}
	var got []step
	after := int64(0)
	for range 10 {
		added, last, err := db.EnqueueDeliveriesAfter(ctx, is.ID, after, 3, t0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, step{added, last})
		if last == 0 {
			break
		}
		after = last
	}
	// Active: 1 3 4 5 6 8 9 10, three at a time; 5 was queued already.
	want := []step{{3, 4}, {2, 8}, {2, 10}, {0, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("chunks %v, want %v", got, want)
	}
	if got, want := counts(t, db, is.ID), "pending=8 sending=0 sent=0 deferred=0 failed=0 bounced=0 skipped=0"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}
	if n, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil || n != 0 {
		t.Fatalf("full enqueue after the chunks added %d, %v; want 0", n, err)
	}
	_, _, err := db.EnqueueDeliveriesAfter(ctx, 999, 0, 3, t0)
	errIs(t, err, newsletter.ErrNotFound)
}

func TestClaimAndRecord(t *testing.T) {
	ctx := context.Background()
	db, is := ledgerDB(t, 10)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	// Subscribers 2 and 3 leave after the issue was queued, before their turn.
	for _, id := range []int64{2, 3} {
		if _, err := db.ApplyTransition(ctx, Transition{ID: id, Status: newsletter.StatusUnsubscribed}, t0); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(time.Minute)
	got, err := db.ClaimDeliveries(ctx, is.ID, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	var subs []int64
	for _, d := range got {
		subs = append(subs, d.Subscriber.ID)
		if d.Status != newsletter.DeliverySending || d.Attempts != 1 || d.IssueID != is.ID || !d.UpdatedAt.Equal(now) ||
			d.Subscriber.Email == "" || d.Subscriber.Status != newsletter.StatusActive {
			t.Fatalf("claimed %+v", d)
		}
	}
	if fmt.Sprint(subs) != "[1 4 5]" {
		t.Fatalf("claimed subscribers %v, want [1 4 5] (2 and 3 skipped)", subs)
	}
	if got, want := counts(t, db, is.ID), "pending=5 sending=3 sent=0 deferred=0 failed=0 bounced=0 skipped=2"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}

	err = db.RecordDeliveries(ctx, []Outcome{
		{DeliveryID: got[0].ID, Status: newsletter.DeliverySent, Reply: "250 OK"},
		{DeliveryID: got[1].ID, Status: newsletter.DeliveryBounced, Reply: "550 no such user"},
		{DeliveryID: got[2].ID, Status: newsletter.DeliveryDeferred, Reply: "451 try later", RetryAt: now.Add(time.Minute)},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(t, db, is.ID), "pending=5 sending=0 sent=1 deferred=1 failed=0 bounced=1 skipped=2"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}
	bounced, err := db.SubscriberByID(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if bounced.Status != newsletter.StatusBounced || !bounced.UpdatedAt.Equal(now) {
		t.Fatalf("bounced subscriber: %+v", bounced)
	}
	var reply string
	if err := db.db.QueryRowContext(ctx, `SELECT reply FROM deliveries WHERE id = ?`, got[1].ID).Scan(&reply); err != nil || reply != "550 no such user" {
		t.Fatalf("reply %q, %v", reply, err)
	}

	// An unknown delivery fails the whole batch.
	err = db.RecordDeliveries(ctx, []Outcome{
		{DeliveryID: got[2].ID, Status: newsletter.DeliverySent},
		{DeliveryID: 999, Status: newsletter.DeliverySent},
	}, now)
	errIs(t, err, newsletter.ErrNotFound)
	if err := db.RecordDeliveries(ctx, []Outcome{{DeliveryID: got[0].ID, Status: "lost"}}, now); err == nil {
		t.Fatal("invalid status accepted")
	}
	if got, want := counts(t, db, is.ID), "pending=5 sending=0 sent=1 deferred=1 failed=0 bounced=1 skipped=2"; got != want {
		t.Fatalf("after failed record: counts %s, want %s", got, want)
	}

	// A crash leaves claimed rows in sending; ResetInFlight puts them back.
	if _, err := db.ClaimDeliveries(ctx, is.ID, 2, now); err != nil {
		t.Fatal(err)
	}
	n, err := db.ResetInFlight(ctx, is.ID)
	if err != nil || n != 2 {
		t.Fatalf("ResetInFlight = %d, %v; want 2", n, err)
	}
	if at, ok, err := db.NextRetry(ctx, is.ID); err != nil || !ok || !at.Equal(now.Add(time.Minute)) {
		t.Fatalf("NextRetry = %v, %v, %v; want %v", at, ok, err, now.Add(time.Minute))
	}
	if n, err := db.RequeueDue(ctx, is.ID, now); err != nil || n != 0 {
		t.Fatalf("RequeueDue before its time = %d, %v; want 0", n, err)
	}
	n, err = db.RequeueDue(ctx, is.ID, now.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("RequeueDue = %d, %v; want 1", n, err)
	}
	if _, ok, err := db.NextRetry(ctx, is.ID); err != nil || ok {
		t.Fatalf("NextRetry with nothing deferred = %v, %v", ok, err)
	}
	if got, want := counts(t, db, is.ID), "pending=6 sending=0 sent=1 deferred=0 failed=0 bounced=1 skipped=2"; got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}

	// The rest, in one claim larger than what is left; the retried row has its second attempt.
	rest, err := db.ClaimDeliveries(ctx, is.ID, 100, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 6 {
		t.Fatalf("claimed %d, want 6", len(rest))
	}
	attempts := map[int64]int{}
	for _, d := range rest {
		attempts[d.Subscriber.ID] = d.Attempts
	}
	if attempts[5] != 2 || attempts[6] != 2 || attempts[10] != 1 {
		t.Fatalf("attempts %v, want 2 for 5 and 6 (retried, reset), 1 for 10", attempts)
	}
	more, err := db.ClaimDeliveries(ctx, is.ID, 100, now)
	if err != nil || len(more) != 0 {
		t.Fatalf("claim on an empty queue = %v, %v", more, err)
	}
	if more, err := db.ClaimDeliveries(ctx, is.ID, 0, now); err != nil || more != nil {
		t.Fatalf("claim of 0 = %v, %v", more, err)
	}
}

func TestClaimIsExclusive(t *testing.T) {
	ctx := context.Background()
	const subscribers, workers = 2000, 4
	db, is := ledgerDB(t, subscribers)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Go(func() {
			for {
				batch, err := db.ClaimDeliveries(ctx, is.ID, 25, t0)
				if err != nil {
					errs <- err
					return
				}
				if len(batch) == 0 {
					return
				}
				outcomes := make([]Outcome, len(batch))
				mu.Lock()
				for i, d := range batch {
					seen[d.ID]++
					outcomes[i] = Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent}
				}
				mu.Unlock()
				if err := db.RecordDeliveries(ctx, outcomes, t0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != subscribers {
		t.Fatalf("claimed %d distinct rows, want %d", len(seen), subscribers)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times", id, n)
		}
	}
	if got, want := counts(t, db, is.ID), fmt.Sprintf("pending=0 sending=0 sent=%d deferred=0 failed=0 bounced=0 skipped=0", subscribers); got != want {
		t.Fatalf("counts %s, want %s", got, want)
	}
}

// requeue puts every row of the issue back to pending, for a benchmark that ran its queue dry.
func requeue(b *testing.B, db *DB, issueID int64) {
	b.Helper()
	if _, err := db.db.ExecContext(context.Background(), `UPDATE deliveries SET status = 'pending' WHERE issue_id = ?`, issueID); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkClaimRecord(b *testing.B) {
	ctx := context.Background()
	db, is := ledgerDB(b, 100_000)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		b.Fatal(err)
	}
	outcomes := make([]Outcome, 0, 100)
	for b.Loop() {
		batch, err := db.ClaimDeliveries(ctx, is.ID, 100, t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(batch) == 0 {
			// The queue ran dry: put it back so every iteration claims 100.
			b.StopTimer()
			requeue(b, db, is.ID)
			b.StartTimer()
			continue
		}
		outcomes = outcomes[:0]
		for _, d := range batch {
			outcomes = append(outcomes, Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent, Reply: "250 OK"})
		}
		if err := db.RecordDeliveries(ctx, outcomes, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordAndClaim is one group commit of a send: k workers' outcomes recorded and k
// rows claimed in one transaction (k = 1 when workers rarely overlap, up to the connections).
func BenchmarkRecordAndClaim(b *testing.B) {
	for _, k := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			ctx := context.Background()
			db, is := ledgerDB(b, 20_000)
			if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
				b.Fatal(err)
			}
			var outcomes []Outcome
			for b.Loop() {
				batch, err := db.RecordAndClaim(ctx, is.ID, outcomes, k, t0)
				if err != nil {
					b.Fatal(err)
				}
				if len(batch) == 0 {
					b.StopTimer()
					requeue(b, db, is.ID)
					outcomes = outcomes[:0]
					b.StartTimer()
					continue
				}
				outcomes = outcomes[:0]
				for _, d := range batch {
					outcomes = append(outcomes, Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent, Reply: "250 2.0.0 Ok: queued as 4Zx1"})
				}
			}
			b.ReportMetric(float64(b.N*k)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestLedgerWALStaysSmall runs a send's ledger traffic (record one outcome, claim the next
// row, thousands of times) and checks that the WAL file is reused rather than grown without
// end: every commit adds frames, and only a checkpoint that catches up before the next write
// lets SQLite start the WAL over. (Checkpoints that never caught up once grew a
// 1,000,000-subscriber send's WAL past 13 GB.)
func TestLedgerWALStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of transactions")
	}
	ctx := context.Background()
	const n = 6000
	db, is := ledgerDB(t, n)
	if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	var carry []Outcome
	for {
		rows, err := db.RecordAndClaim(ctx, is.ID, carry, 1, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		carry = []Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliverySent, Reply: "250 2.0.0 Ok: queued as 4ABCDEF"}}
	}
	if got := counts(t, db, is.ID); got != fmt.Sprintf("pending=0 sending=0 sent=%d deferred=0 failed=0 bounced=0 skipped=0", n) {
		t.Fatalf("ledger %s", got)
	}
	var path string
	if err := db.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Without restarts these 6,000 commits grow it to about 128 MiB; the writer's own
	// automatic checkpoint alone would stop it at about 40 MiB.
	if st.Size() > 64<<20 {
		t.Fatalf("WAL is %.1f MiB after %d ledger commits: it is not being started over", float64(st.Size())/(1<<20), n)
	}
	t.Logf("WAL %.1f MiB after %d ledger commits", float64(st.Size())/(1<<20), n)
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
	if c, err := db.IssueCounts(ctx, is.ID); err != nil || c[newsletter.DeliverySent] != 4 || c[newsletter.DeliveryBounced] != 1 {
		t.Fatalf("issue counts before compaction %v %v", c, err)
	}
	res, err := db.Compact(ctx, now.AddDate(0, 0, 30))
	if err != nil || res.Issues != 1 || res.Rows != 5 {
		t.Fatalf("compact: %+v %v", res, err)
	}
	totals, err := db.IssueCounts(ctx, is.ID)
	if err != nil || totals[newsletter.DeliverySent] != 4 || totals[newsletter.DeliveryBounced] != 1 {
		t.Fatalf("issue counts after compaction %v %v", totals, err)
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
	if _, err := db.ApplyTransition(ctx, Transition{ID: 5, Status: newsletter.StatusUnsubscribed}, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeliveryBacklog(ctx, is.ID); err != nil || n != 3 {
		t.Fatalf("backlog = %d, %v; want 3 (one sent, one unsubscribed)", n, err)
	}
}
