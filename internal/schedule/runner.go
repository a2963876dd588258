package schedule

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Outcome is what a job reports for its slot.
type Outcome struct {
	Status string // done, skipped (too few stories), held (see Held), interrupted (stopped before it finished)
	Detail string
}

// Held is the outcome of a send slot that sent nothing because it cannot send yet (the issue
// waits for an editor's approval): the runner tries the slot again on every check until its
// grace period ends, and records it missed after that.
const Held = "held"

// Interrupted is the outcome of a slot whose process was stopped (SIGTERM, a lost lease) or
// died before the job finished; an unfinished send is continued by the resume path.
const Interrupted = "interrupted"

// Jobs are the two things the schedule triggers.
type Jobs interface {
	Build(ctx context.Context, slot Slot) (Outcome, error)
	Send(ctx context.Context, slot Slot) (Outcome, error)
}

// Resumer is implemented by Jobs that can continue work outside any slot: an issue left
// sending by a crash, or deferred deliveries that came due. Tick calls it under the lease.
type Resumer interface {
	Resume(ctx context.Context) error
}

// Runs records each handled slot once; StartRun returns false when the slot is taken.
// InterruptRuns marks the runs still "running" under another holder interrupted: called
// under the lease, when no other process can be handling a slot.
type Runs interface {
	StartRun(ctx context.Context, kind string, scheduledAt time.Time, week, holder string, now time.Time) (int64, bool, error)
	FinishRun(ctx context.Context, id int64, outcome, detail string, now time.Time) error
	InterruptRuns(ctx context.Context, holder, detail string, now time.Time) (int, error)
	// RetryRun takes a run recorded Held back for holder (running again) and returns its id
	// and detail; false when the slot is not held. At most one caller gets it back.
	RetryRun(ctx context.Context, kind string, scheduledAt time.Time, holder string, now time.Time) (int64, string, bool, error)
}

// Leases lets one process at a time handle slots.
type Leases interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	LeaseHolder(ctx context.Context, name string) (holder string, expires time.Time, err error)
}

// LeaseName is the lease that guards sending; `newsletter run` takes the same one.
const LeaseName = "sender"

// LeaseTTL is the sender lease's lifetime, for the daemon and the manual commands alike: a
// crashed holder blocks the others this long, and the renewal every third of it leaves two
// spare renewals for a holder whose write waits out the store's busy timeout.
const LeaseTTL = 30 * time.Second

// Options configure a Runner.
type Options struct {
	// Grace is how late a send slot may still go out: a slot missed while the process was
	// down, or held (see Held) and retried on every check, is recorded missed after it.
	// Zero means DefaultGrace.
	Grace time.Duration
	Week  func(Slot) string
	Now   func() time.Time
	// Sleep waits for d or until ctx is done; tests replace it to move a fake clock.
	Sleep  func(ctx context.Context, d time.Duration) error
	Holder string
	Logger *slog.Logger
}

// Runner triggers the jobs at their slots.
type Runner struct {
	sched  *Schedule
	jobs   Jobs
	runs   Runs
	leases Leases
	opt    Options
}

// NewRunner returns a Runner with defaults filled in: DefaultGrace, time.Now, a new Holder.
func NewRunner(sched *Schedule, jobs Jobs, runs Runs, leases Leases, opt Options) *Runner {
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepFor
	}
	if opt.Holder == "" {
		opt.Holder = Holder()
	}
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
	if opt.Week == nil {
		opt.Week = func(Slot) string { return "" }
	}
	return &Runner{sched: sched, jobs: jobs, runs: runs, leases: leases, opt: opt}
}

// Holder names this process for leases: host, pid and a random suffix.
func Holder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// lookback is how far back a start looks for a slot it missed: one weekly cycle.
const lookback = 7 * 24 * time.Hour

// poll is the longest sleep between checks: a held slot is retried this often.
const poll = time.Minute

// Run handles due slots until ctx is cancelled. It returns nil on cancellation.
func (r *Runner) Run(ctx context.Context) error {
	for {
		next, err := r.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			r.opt.Logger.Error("schedule tick failed", "err", err)
		}
		wait := min(poll, max(next.Sub(r.opt.Now()), time.Second))
		if err := r.opt.Sleep(ctx, wait); err != nil {
			return nil
		}
	}
}

// Tick handles, under one hold of the sender lease, every slot that is due and not yet
// recorded (at most the latest of each kind within the last week) and then the Resumer's
// work, and returns the time of the next slot.
func (r *Runner) Tick(ctx context.Context) (time.Time, error) {
	now := r.opt.Now()
	next := r.sched.Next(Build, now)
	if s := r.sched.Next(Send, now); !s.IsZero() && (next.IsZero() || s.Before(next)) {
		next = s
	}
	held, release, err := Hold(ctx, r.leases, r.opt.Holder, r.opt.Now, r.opt.Sleep, r.opt.Logger)
	if errors.Is(err, ErrLeaseHeld) {
		r.opt.Logger.Debug("another process holds the sender lease")
		return next, nil
	}
	if err != nil {
		return next, err
	}
	defer release()
	// Under the lease no other process is handling a slot: runs still "running" under another
	// holder died with their process.
	n, err := r.runs.InterruptRuns(ctx, r.opt.Holder,
		"its process stopped before the slot finished (crash or kill); an unfinished send is resumed", r.opt.Now())
	if n > 0 {
		r.opt.Logger.Warn("runs left running by a process that is gone marked interrupted", "runs", n)
	}
	if err != nil {
		return next, err
	}
	var errs []error
	for _, k := range []Kind{Build, Send} {
		if at, ok := r.sched.Last(k, now, lookback); ok && held.Err() == nil {
			errs = append(errs, r.handle(ctx, held, Slot{Kind: k, At: at}))
		}
	}
	if rj, ok := r.jobs.(Resumer); ok && held.Err() == nil {
		errs = append(errs, rj.Resume(held))
	}
	return next, errors.Join(errs...)
}

// handle runs slot's job with jobCtx, the context of the lease, and records its outcome.
func (r *Runner) handle(ctx, jobCtx context.Context, slot Slot) error {
	now := r.opt.Now()
	week := r.opt.Week(slot)
	if slot.Kind == Send {
		slot.Until = slot.At.Add(r.opt.Grace)
	}
	id, fresh, err := r.runs.StartRun(ctx, string(slot.Kind), slot.At, week, r.opt.Holder, now)
	if err != nil {
		return err
	}
	var heldFor string // the detail of the held run taken back
	if !fresh {
		// A slot already handled runs again only when it was held: then it is tried on every
		// check until its grace period ends. RetryRun hands it to one runner only.
		if slot.Kind != Send {
			return nil
		}
		if id, heldFor, slot.Retry, err = r.runs.RetryRun(ctx, string(slot.Kind), slot.At, r.opt.Holder, now); err != nil || !slot.Retry {
			return err
		}
	}
	log := r.opt.Logger.With("kind", slot.Kind, "slot", slot.At.Format(time.RFC3339), "week", week)
	local := func(t time.Time) string { return t.In(r.sched.loc).Format("Mon 2006-01-02 15:04 MST") }
	if slot.Kind == Send && Missed(slot.At, now, r.opt.Grace) {
		detail := fmt.Sprintf("the process was not running at %s; %s late is past the %s grace period, so the issue was not sent",
			local(slot.At), now.Sub(slot.At).Round(time.Minute), r.opt.Grace)
		if slot.Retry {
			reason, _, _ := strings.Cut(heldFor, retryNote)
			detail = fmt.Sprintf("the slot of %s was still held when the %s grace period ended at %s, so the issue was not sent; it was held because %s",
				local(slot.At), r.opt.Grace, local(slot.Until), reason)
		}
		log.Warn("send missed", "detail", detail)
		return r.runs.FinishRun(ctx, id, "missed", detail, now)
	}
	// A build prepares the next send's issue; once that send slot has passed, building it
	// days late would only rebuild a week that is gone.
	if send := r.sched.Next(Send, slot.At); slot.Kind == Build && !send.IsZero() && !send.After(now) {
		detail := fmt.Sprintf("the process was not running at %s; the send slot it prepared (%s) has passed too, so it was not built",
			local(slot.At), local(send))
		log.Warn("build missed", "detail", detail)
		return r.runs.FinishRun(ctx, id, "missed", detail, now)
	}

	job := r.jobs.Build
	if slot.Kind == Send {
		job = r.jobs.Send
	}
	if slot.Retry {
		log.Debug("held slot tried again")
	} else {
		log.Info("slot started")
	}
	out, jobErr := job(jobCtx, slot)
	finish := context.WithoutCancel(ctx)
	if jobCtx.Err() != nil && (jobErr != nil || out.Status == Interrupted) {
		// Stopped by shutdown or by losing the lease, not failed: say so, and let the
		// resume path finish what the job left.
		detail := "stopped before it finished: the sender lease was lost"
		if ctx.Err() != nil {
			detail = "stopped before it finished: the process was shut down"
		}
		if out.Detail != "" {
			detail += ": " + out.Detail
		} else if jobErr != nil {
			detail += ": " + jobErr.Error()
		}
		log.Warn("slot interrupted", "detail", detail)
		return r.runs.FinishRun(finish, id, Interrupted, detail, r.opt.Now())
	}
	if jobErr != nil {
		log.Error("slot failed", "err", jobErr)
		return errors.Join(jobErr, r.runs.FinishRun(finish, id, "failed", jobErr.Error(), r.opt.Now()))
	}
	out.Status = cmp.Or(out.Status, "done")
	if out.Status == Held && slot.Kind == Send {
		out.Detail += retryNote + local(slot.Until) + " (schedule.grace)"
		if slot.Retry {
			log.Debug("slot still held", "detail", out.Detail)
			return r.runs.FinishRun(finish, id, out.Status, out.Detail, r.opt.Now())
		}
	}
	log.Info("slot finished", "outcome", out.Status, "detail", out.Detail)
	return r.runs.FinishRun(finish, id, out.Status, out.Detail, r.opt.Now())
}

// retryNote ends a held run's detail, before the time its retries stop.
const retryNote = "; tried again on every check until "

// ErrLeaseHeld means another process holds the sender lease; a *LeaseHeldError names it.
var ErrLeaseHeld = errors.New("another process is sending (it holds the sender lease)")

// LeaseHeldError is ErrLeaseHeld with the holder's name ("another process" when unknown).
type LeaseHeldError struct{ Holder string }

func (e *LeaseHeldError) Error() string        { return e.Holder + " is sending (it holds the sender lease)" }
func (e *LeaseHeldError) Is(target error) bool { return target == ErrLeaseHeld }

// heldBy is the LeaseHeldError naming the lease's holder.
func heldBy(ctx context.Context, leases Leases) error {
	if h, _, err := leases.LeaseHolder(ctx, LeaseName); err == nil {
		return &LeaseHeldError{Holder: h}
	}
	return &LeaseHeldError{Holder: "another process"}
}

// Hold takes the sender lease for holder and renews it every LeaseTTL/3 until release is called.
// The returned context is cancelled when the lease is lost (renewal failed or was refused),
// so a send stops claiming before another process can take over. sleep may be nil.
func Hold(ctx context.Context, leases Leases, holder string, now func() time.Time,
	sleep func(context.Context, time.Duration) error, logger *slog.Logger) (context.Context, func(), error) {
	if sleep == nil {
		sleep = sleepFor
	}
	ok, err := leases.AcquireLease(ctx, LeaseName, holder, LeaseTTL, now())
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, heldBy(ctx, leases)
	}
	held, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sleep(held, LeaseTTL/3) == nil {
			ok, err := leases.AcquireLease(held, LeaseName, holder, LeaseTTL, now())
			if held.Err() != nil {
				return
			}
			if err != nil || !ok {
				if logger != nil {
					logger.Error("lost the sender lease; stopping", "err", err)
				}
				cancel()
				return
			}
		}
	}()
	release := func() {
		cancel()
		<-done
		leases.ReleaseLease(context.WithoutCancel(ctx), LeaseName, holder)
	}
	return held, release, nil
}

func sleepFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
