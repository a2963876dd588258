package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"newsletter/internal/schedule"
	"newsletter/internal/store"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skip("tzdata:", err)
	}
	return loc
}

func TestNextAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		spec  string
		from  string // local wall clock
		wants []string
	}{
		{
			name: "Berlin spring forward: the 02:30 slot runs once, at 03:30",
			zone: "Europe/Berlin", spec: "30 2 * * *", from: "2026-03-28 12:00",
			wants: []string{"2026-03-29 03:30 CEST", "2026-03-30 02:30 CEST"},
		},
		{
			name: "Berlin fall back: the 02:30 slot runs once",
			zone: "Europe/Berlin", spec: "30 2 * * *", from: "2026-10-24 12:00",
			wants: []string{"2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"},
		},
		{
			name: "New York spring forward",
			zone: "America/New_York", spec: "30 2 * * *", from: "2026-03-07 12:00",
			wants: []string{"2026-03-08 03:30 EDT", "2026-03-09 02:30 EDT"},
		},
		{
			name: "New York fall back",
			zone: "America/New_York", spec: "30 1 * * *", from: "2026-10-31 12:00",
			wants: []string{"2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"},
		},
		{
			name: "weekly Monday 08:00 in Istanbul",
			zone: "Europe/Istanbul", spec: "0 8 * * MON", from: "2026-05-01 12:00",
			wants: []string{"2026-05-04 08:00 +03", "2026-05-11 08:00 +03"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := zone(t, tc.zone)
			s, err := schedule.Parse("0 12 * * FRI", tc.spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			at, err := time.ParseInLocation("2006-01-02 15:04", tc.from, loc)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.wants {
				at = s.Next(schedule.Send, at)
				if got := at.Format("2006-01-02 15:04 MST"); got != want {
					t.Fatalf("Next = %s, want %s", got, want)
				}
			}
		})
	}
}

func TestParseErrorsNameTheExpression(t *testing.T) {
	tests := []struct {
		name, build, send string
		kind              schedule.Kind
		spec, example     string
	}{
		{"bad send", "0 12 * * FRI", "0 8 * * MONDAYS", schedule.Send, "0 8 * * MONDAYS", "0 8 * * MON"},
		{"bad build", "61 * * * *", "0 8 * * MON", schedule.Build, "61 * * * *", "0 12 * * FRI"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schedule.Parse(tc.build, tc.send, time.UTC)
			var se *schedule.SpecError
			if !errors.As(err, &se) || se.Kind != tc.kind || se.Spec != tc.spec || se.Err == nil {
				t.Fatalf("Parse(%q, %q) = %v, want a SpecError for %s %q", tc.build, tc.send, err, tc.kind, tc.spec)
			}
			if want := fmt.Sprintf("schedule: %s %q: ", tc.kind, tc.spec); !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q, want it to start %q", err, want)
			}
			if want := fmt.Sprintf("%q is not a cron expression like %q: ", tc.spec, tc.example); !strings.HasPrefix(se.Reason(), want) {
				t.Fatalf("Reason() = %q, want it to start %q", se.Reason(), want)
			}
		})
	}
}

func TestLast(t *testing.T) {
	loc := zone(t, "Europe/Istanbul")
	s, _ := schedule.Parse("0 12 * * FRI", "0 8 * * MON", loc)
	now := time.Date(2026, 5, 6, 9, 0, 0, 0, loc) // Wednesday
	last, ok := s.Last(schedule.Send, now, 7*24*time.Hour)
	if !ok || !last.Equal(time.Date(2026, 5, 4, 8, 0, 0, 0, loc)) {
		t.Fatalf("Last = %v %v", last, ok)
	}
	if _, ok := s.Last(schedule.Send, now, 24*time.Hour); ok {
		t.Fatal("no send slot in the last day")
	}
	exact := time.Date(2026, 5, 4, 8, 0, 0, 0, loc)
	if last, _ := s.Last(schedule.Send, exact, time.Hour); !last.Equal(exact) {
		t.Fatalf("a slot at t counts: %v", last)
	}
}

// clock is a fake clock moved by the runner's Sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// jobs counts calls; it is the runner's own interface, so a small fake is fine here.
type jobs struct {
	mu     sync.Mutex
	builds []time.Time
	sends  []time.Time
	out    schedule.Outcome
	// send, when set, is what Send does after it is counted.
	send func(ctx context.Context) (schedule.Outcome, error)
}

func (j *jobs) Build(_ context.Context, s schedule.Slot) (schedule.Outcome, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.builds = append(j.builds, s.At)
	return schedule.Outcome{}, nil
}

func (j *jobs) Send(ctx context.Context, s schedule.Slot) (schedule.Outcome, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sends = append(j.sends, s.At)
	if j.send != nil {
		return j.send(ctx)
	}
	return j.out, nil
}

func (j *jobs) counts() (int, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.builds), len(j.sends)
}

type fixture struct {
	db    *store.DB
	clock *clock
	sched *schedule.Schedule
	loc   *time.Location
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	loc := zone(t, "Europe/Istanbul")
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := schedule.Parse("0 12 * * FRI", "0 8 * * MON", loc)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, clock: &clock{}, sched: s, loc: loc}
}

func (f *fixture) runner(j *jobs, holder string) *schedule.Runner {
	return schedule.NewRunner(f.sched, j, f.db, f.db, schedule.Options{
		Grace:  12 * time.Hour,
		Holder: holder,
		Now:    f.clock.Now,
		// Renewals wait for the job to end: the fake clock does not move on its own.
		Sleep: func(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() },
	})
}

func TestRunnerSendsOnceOnTime(t *testing.T) {
	f := newFixture(t)
	j := &jobs{}
	r := f.runner(j, "a")
	ctx := context.Background()
	monday := time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc)

	f.clock.Set(monday.Add(-time.Minute))
	next, err := r.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(monday) {
		t.Fatalf("next slot %v, want %v", next, monday)
	}
	if b, s := j.counts(); b != 1 || s != 0 { // the Friday build before it was due
		t.Fatalf("before Monday: %d builds, %d sends", b, s)
	}
	f.clock.Set(monday.Add(2 * time.Second))
	for range 3 {
		if _, err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if b, s := j.counts(); b != 1 || s != 1 {
		t.Fatalf("after Monday: %d builds, %d sends; want 1 and 1", b, s)
	}
	runs, _ := f.db.RecentRuns(ctx, 10)
	if runs[0].Kind != "send" || runs[0].Outcome != "done" {
		t.Fatalf("runs %+v", runs)
	}
}

func TestRunnerMissedRuns(t *testing.T) {
	monday := func(f *fixture) time.Time { return time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc) }
	t.Run("within the grace period the missed send goes out on start", func(t *testing.T) {
		f := newFixture(t)
		j := &jobs{}
		f.clock.Set(monday(f).Add(5 * time.Hour))
		if _, err := f.runner(j, "a").Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, s := j.counts(); s != 1 {
			t.Fatalf("%d sends, want 1", s)
		}
	})
	t.Run("past the grace period it is marked missed and not sent", func(t *testing.T) {
		f := newFixture(t)
		j := &jobs{}
		f.clock.Set(monday(f).Add(30 * time.Hour))
		if _, err := f.runner(j, "a").Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, s := j.counts(); s != 0 {
			t.Fatalf("%d sends of a stale issue", s)
		}
		runs, _ := f.db.RecentRuns(context.Background(), 10)
		var found bool
		for _, r := range runs {
			if r.Kind == "send" && r.Outcome == "missed" && r.Detail != "" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no missed run recorded: %+v", runs)
		}
	})
}

func TestRunnerSkipAndHoldAreRecorded(t *testing.T) {
	f := newFixture(t)
	j := &jobs{out: schedule.Outcome{Status: "skipped", Detail: "1 new story; at least 3 needed"}}
	f.clock.Set(time.Date(2026, 5, 4, 8, 1, 0, 0, f.loc))
	if _, err := f.runner(j, "a").Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	runs, _ := f.db.RecentRuns(context.Background(), 1)
	if runs[0].Outcome != "skipped" || runs[0].Detail != j.out.Detail {
		t.Fatalf("run %+v", runs[0])
	}
}

func TestTwoRunnersOneSend(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 5, 4, 8, 0, 30, 0, f.loc))
	j := &jobs{}
	var wg sync.WaitGroup
	for i := range 4 {
		r := f.runner(j, string(rune('a'+i)))
		wg.Go(func() {
			for range 5 {
				if _, err := r.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// The Friday build prepared this send, whose slot has passed: it is recorded missed.
	if b, s := j.counts(); b != 0 || s != 1 {
		t.Fatalf("%d builds and %d sends across 4 runners, want 0 and 1", b, s)
	}
	if run := f.runOf(t, "build", time.Date(2026, 5, 1, 12, 0, 0, 0, f.loc)); run.Outcome != "missed" {
		t.Fatalf("the Friday build: %+v", run)
	}
}

func TestLeaseHeldElsewhereBlocks(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 5, 4, 8, 0, 30, 0, f.loc)
	f.clock.Set(now)
	if ok, err := f.db.AcquireLease(context.Background(), schedule.LeaseName, "manual-run", time.Minute, now); !ok || err != nil {
		t.Fatal("could not take the lease", err)
	}
	j := &jobs{}
	if _, err := f.runner(j, "daemon").Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, s := j.counts(); b+s != 0 {
		t.Fatalf("ran %d jobs while another process held the lease", b+s)
	}
	// Once the holder's lease expires, the slot is picked up (still within grace).
	f.clock.Set(now.Add(2 * time.Minute))
	if _, err := f.runner(j, "daemon").Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, s := j.counts(); s != 1 {
		t.Fatalf("%d sends after the lease expired, want 1", s)
	}
}

func TestHoldCancelsWhenTheLeaseIsLost(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	f.clock.Set(now)
	tick := make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			return nil
		}
	}
	held, release, err := schedule.Hold(context.Background(), f.db, "manual", f.clock.Now, sleep, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, _, err := schedule.Hold(context.Background(), f.db, "daemon", f.clock.Now, sleep, nil); !errors.Is(err, schedule.ErrLeaseHeld) {
		t.Fatalf("second holder: %v, want ErrLeaseHeld", err)
	}
	// The holder stalls past its expiry; another process takes the lease; the next renewal fails.
	f.clock.Set(now.Add(time.Minute))
	if ok, _ := f.db.AcquireLease(context.Background(), schedule.LeaseName, "daemon", 30*time.Second, f.clock.Now()); !ok {
		t.Fatal("expired lease not taken over")
	}
	tick <- struct{}{}
	select {
	case <-held.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("losing the lease did not cancel the holder's context")
	}
}

// runOf returns the recorded run of kind at slot.
func (f *fixture) runOf(t *testing.T, kind string, at time.Time) store.ScheduleRun {
	t.Helper()
	runs, err := f.db.RecentRuns(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Kind == kind && r.ScheduledAt.Equal(at) {
			return r
		}
	}
	t.Fatalf("no %s run at %v in %+v", kind, at, runs)
	return store.ScheduleRun{}
}

func TestRunnerRecordsAStoppedSendAsInterrupted(t *testing.T) {
	monday := func(f *fixture) time.Time { return time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc) }
	tests := []struct {
		name string
		// send runs inside the job; stop is what SIGTERM does: cancel the runner's context.
		send func(ctx context.Context, stop func()) (schedule.Outcome, error)
	}{
		{"the job returns the context's error", func(ctx context.Context, stop func()) (schedule.Outcome, error) {
			stop()
			return schedule.Outcome{}, fmt.Errorf("claim deliveries: %w", ctx.Err())
		}},
		{"the job says it was interrupted", func(ctx context.Context, stop func()) (schedule.Outcome, error) {
			stop()
			return schedule.Outcome{Status: schedule.Interrupted, Detail: "issue 2026-W19: 3 sent"}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.clock.Set(monday(f).Add(time.Minute))
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			j := &jobs{send: func(jobCtx context.Context) (schedule.Outcome, error) { return tt.send(jobCtx, stop) }}
			f.runner(j, "a").Tick(ctx)
			run := f.runOf(t, "send", monday(f))
			if run.Outcome != "interrupted" || !strings.Contains(run.Detail, "shut down") || run.FinishedAt.IsZero() {
				t.Errorf("run %+v, want interrupted by the shutdown", run)
			}
		})
	}
}

// A run whose process died stays "running" in the database; the next process to take the
// lease marks it interrupted (its send is resumed by the resume path) and does not run the
// slot again.
func TestRunnerMarksADeadHoldersRunInterrupted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	monday := time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc)
	if _, _, err := f.db.StartRun(ctx, "send", monday, "2026-W19", "crashed", monday); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.db.AcquireLease(ctx, schedule.LeaseName, "crashed", 30*time.Second, monday); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// While the dead holder's lease lasts nobody touches its run.
	f.clock.Set(monday.Add(10 * time.Second))
	j := &jobs{}
	if _, err := f.runner(j, "b").Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if run := f.runOf(t, "send", monday); run.Outcome != "running" {
		t.Fatalf("run of a holder whose lease is live: %s", run.Outcome)
	}
	f.clock.Set(monday.Add(5 * time.Minute))
	if _, err := f.runner(j, "b").Tick(ctx); err != nil {
		t.Fatal(err)
	}
	run := f.runOf(t, "send", monday)
	if run.Outcome != "interrupted" || run.FinishedAt.IsZero() || !strings.Contains(run.Detail, "resumed") {
		t.Errorf("the dead holder's run: %+v, want interrupted", run)
	}
	if _, s := j.counts(); s != 0 {
		t.Errorf("the slot ran again (%d sends); the resume path finishes it", s)
	}
}

func TestRunnerMissedBuildForAWeekAlreadyPast(t *testing.T) {
	friday := func(f *fixture) time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, f.loc) }
	tests := []struct {
		name   string
		now    time.Duration // after the Friday build slot
		builds int
		want   string
	}{
		{"late, before its send slot: built", 2*24*time.Hour + 19*time.Hour, 1, "done"},  // Monday 07:00
		{"after its send slot: missed", 2*24*time.Hour + 21*time.Hour, 0, "missed"},      // Monday 09:00
		{"days after its send slot: missed", 5*24*time.Hour + 21*time.Hour, 0, "missed"}, // Thursday 09:00
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.clock.Set(friday(f).Add(tt.now))
			j := &jobs{}
			if _, err := f.runner(j, "a").Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if b, _ := j.counts(); b != tt.builds {
				t.Errorf("%d builds, want %d", b, tt.builds)
			}
			run := f.runOf(t, "build", friday(f))
			if run.Outcome != tt.want || (tt.want == "missed" && !strings.Contains(run.Detail, "send slot")) {
				t.Errorf("build run %+v, want %s", run, tt.want)
			}
		})
	}
}

// heldUntil is a send job that is held (nothing sent) until ready is set, then sends; sent
// counts the sends that went out.
type heldUntil struct {
	mu    sync.Mutex
	ready bool
	tries int
	sent  int
}

func (h *heldUntil) Build(context.Context, schedule.Slot) (schedule.Outcome, error) {
	return schedule.Outcome{}, nil
}

func (h *heldUntil) Send(_ context.Context, s schedule.Slot) (schedule.Outcome, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tries++
	if !h.ready {
		return schedule.Outcome{Status: schedule.Held, Detail: "issue 2026-W19 waits for approval"}, nil
	}
	h.sent++
	return schedule.Outcome{Status: "done", Detail: fmt.Sprintf("sent (retry %v)", s.Retry)}, nil
}

func (h *heldUntil) set(ready bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready = ready
}

func (h *heldUntil) counts() (tries, sent int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tries, h.sent
}

func (f *fixture) heldRunner(j schedule.Jobs, holder string) *schedule.Runner {
	return schedule.NewRunner(f.sched, j, f.db, f.db, schedule.Options{
		Grace:  12 * time.Hour,
		Holder: holder,
		Now:    f.clock.Now,
		Sleep:  func(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() },
	})
}

func TestRunnerRetriesAHeldSend(t *testing.T) {
	ctx := context.Background()
	monday := func(f *fixture) time.Time { return time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc) }
	tick := func(t *testing.T, r *schedule.Runner) {
		t.Helper()
		if _, err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("an approval within the grace period goes out at the next check, once", func(t *testing.T) {
		f := newFixture(t)
		j := &heldUntil{}
		r := f.heldRunner(j, "a")
		f.clock.Set(monday(f))
		tick(t, r)
		run := f.runOf(t, "send", monday(f))
		if run.Outcome != "held" || !strings.Contains(run.Detail, "waits for approval") || !strings.Contains(run.Detail, "until Mon 2026-05-04 20:00 +03") {
			t.Fatalf("first try: %+v", run)
		}
		f.clock.Set(monday(f).Add(time.Minute))
		tick(t, r)
		if tries, sent := j.counts(); tries != 2 || sent != 0 {
			t.Fatalf("a minute later: %d tries, %d sent; want 2 and 0", tries, sent)
		}
		j.set(true) // approved at 10:00
		f.clock.Set(monday(f).Add(2 * time.Hour))
		for range 3 {
			tick(t, r)
		}
		if tries, sent := j.counts(); tries != 3 || sent != 1 {
			t.Fatalf("after the approval: %d tries, %d sent; want 3 and 1", tries, sent)
		}
		if run := f.runOf(t, "send", monday(f)); run.Outcome != "done" || run.Detail != "sent (retry true)" || run.FinishedAt.IsZero() {
			t.Fatalf("run after the approval: %+v", run)
		}
	})
	t.Run("still held when the grace period ends: missed, with the reason", func(t *testing.T) {
		f := newFixture(t)
		j := &heldUntil{}
		r := f.heldRunner(j, "a")
		f.clock.Set(monday(f))
		tick(t, r)
		f.clock.Set(monday(f).Add(12 * time.Hour)) // the grace period's last moment: tried
		tick(t, r)
		f.clock.Set(monday(f).Add(12*time.Hour + time.Minute))
		j.set(true) // approved too late: the runner no longer sends
		tick(t, r)
		tick(t, r)
		if tries, sent := j.counts(); tries != 2 || sent != 0 {
			t.Fatalf("%d tries, %d sent; want 2 and 0", tries, sent)
		}
		run := f.runOf(t, "send", monday(f))
		for _, want := range []string{"still held when the 12h0m0s grace period ended at Mon 2026-05-04 20:00 +03", "held because issue 2026-W19 waits for approval"} {
			if run.Outcome != "missed" || !strings.Contains(run.Detail, want) {
				t.Fatalf("run %+v, want missed saying %q", run, want)
			}
		}
		if strings.Contains(run.Detail, "tried again") {
			t.Fatalf("a missed run still promises a retry: %q", run.Detail)
		}
	})
	t.Run("two runners on one database send a retried slot once", func(t *testing.T) {
		f := newFixture(t)
		j := &heldUntil{}
		f.clock.Set(monday(f).Add(time.Second))
		tick(t, f.heldRunner(j, "a"))
		j.set(true)
		f.clock.Set(monday(f).Add(time.Hour))
		var wg sync.WaitGroup
		for i := range 4 {
			r := f.heldRunner(j, string(rune('a'+i)))
			wg.Go(func() {
				for range 5 {
					if _, err := r.Tick(ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if _, sent := j.counts(); sent != 1 {
			t.Fatalf("%d sends across 4 runners, want 1", sent)
		}
	})
}

// A zero grace period in the options is DefaultGrace, as for the weekly build.
func TestRunnerZeroGraceIsTheDefault(t *testing.T) {
	monday := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		late  time.Duration
		sends int
		want  string
	}{
		{"within the default", schedule.DefaultGrace - time.Hour, 1, "done"},
		{"past the default", schedule.DefaultGrace + time.Hour, 0, "missed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			monday := monday.In(f.loc).Add(-3 * time.Hour) // 08:00 in Istanbul
			f.clock.Set(monday.Add(tt.late))
			j := &jobs{}
			r := schedule.NewRunner(f.sched, j, f.db, f.db, schedule.Options{Holder: "a", Now: f.clock.Now,
				Sleep: func(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() }})
			if _, err := r.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, s := j.counts(); s != tt.sends {
				t.Errorf("%d sends, want %d", s, tt.sends)
			}
			if run := f.runOf(t, "send", monday); run.Outcome != tt.want {
				t.Errorf("run %+v, want %s", run, tt.want)
			}
		})
	}
}

// resumingJobs is jobs with a Resumer that counts its calls.
type resumingJobs struct {
	*jobs
	resumes atomic.Int32
}

func (r *resumingJobs) Resume(context.Context) error {
	r.resumes.Add(1)
	return nil
}

// A send whose process loses the sender lease mid-slot is stopped through its context,
// recorded interrupted with the lost lease as the reason, and the tick does no more work
// (no resume) without the lease.
func TestRunnerStopsASendWhenTheLeaseIsLost(t *testing.T) {
	f := newFixture(t)
	monday := time.Date(2026, 5, 4, 8, 0, 0, 0, f.loc)
	f.clock.Set(monday.Add(time.Minute))
	renew := make(chan struct{})
	j := &resumingJobs{jobs: &jobs{}}
	j.send = func(ctx context.Context) (schedule.Outcome, error) {
		// The holder stalls past its lease; another process takes it; the next renewal fails.
		f.clock.Set(monday.Add(5 * time.Minute))
		if ok, err := f.db.AcquireLease(context.Background(), schedule.LeaseName, "manual", schedule.LeaseTTL, f.clock.Now()); !ok || err != nil {
			t.Errorf("expired lease not taken over: %v %v", ok, err)
		}
		renew <- struct{}{}
		select {
		case <-ctx.Done():
			return schedule.Outcome{}, ctx.Err()
		case <-time.After(10 * time.Second):
			t.Error("losing the lease did not cancel the send's context")
			return schedule.Outcome{}, nil
		}
	}
	r := schedule.NewRunner(f.sched, j, f.db, f.db, schedule.Options{
		Grace: 12 * time.Hour, Holder: "daemon", Now: f.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-renew:
				return nil
			}
		},
	})
	if _, err := r.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	run := f.runOf(t, "send", monday)
	if run.Outcome != "interrupted" || !strings.Contains(run.Detail, "the sender lease was lost") {
		t.Errorf("run %+v, want interrupted by the lost lease", run)
	}
	if n := j.resumes.Load(); n != 0 {
		t.Errorf("Resume called %d times after the lease was lost", n)
	}
	if holder, _, err := f.db.LeaseHolder(context.Background(), schedule.LeaseName); err != nil || holder != "manual" {
		t.Errorf("lease held by %q, %v: want it left with its new holder", holder, err)
	}
}
