// Package daemon is what the schedule triggers in `newsletter serve`: the build slot gathers
// the feeds and refreshes the week's draft; the send slot skips a thin week, holds a draft
// nobody approved (and tells the editors), or sends the issue; between slots it resumes
// sends left unfinished by a crash or by deferred deliveries.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/schedule"
	"newsletter/internal/weekly"
)

// Builder gathers and builds issues (weekly.Builder).
type Builder interface {
	Gather(ctx context.Context, sources []string) []weekly.FeedReport
	Build(ctx context.Context, week newsletter.Week) (weekly.Build, error)
}

// Sender delivers one issue (delivery.Sender).
type Sender interface {
	Send(ctx context.Context, issue newsletter.Issue, email render.Email) (delivery.Report, error)
}

// Issues finds issues that still have deliveries to make.
type Issues interface {
	ListIssues(ctx context.Context) ([]newsletter.Issue, error)
	IssueByID(ctx context.Context, id int64) (newsletter.Issue, error)
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	// FreezeForSend moves a draft to sending, provided it is still approved when approval
	// is needed; false when an editor reopened it after the check.
	FreezeForSend(ctx context.Context, id int64, needApproval bool, now time.Time) (bool, error)
}

// Compactor folds the per-recipient ledger rows of issues sent before olderThan into
// per-issue totals and says what it folded.
type Compactor interface {
	Compact(ctx context.Context, olderThan time.Time) (newsletter.CompactResult, error)
}

// Notifier tells the editors something needs them (a held send).
type Notifier interface {
	Notify(ctx context.Context, subject, body string) error
}

// Options configure Jobs.
type Options struct {
	Feeds           []string
	Location        *time.Location
	MinStories      int
	RequireApproval bool
	// NextSend returns the send slot after t: a build slot prepares that slot's week.
	NextSend func(t time.Time) time.Time
	Notifier Notifier                // optional
	Observe  func(r delivery.Report) // optional, e.g. metrics; per delivery, see delivery.Options.Progress
	// Compactor and KeepLedger fold the ledger of issues sent longer ago than KeepLedger;
	// optional (zero KeepLedger keeps every row).
	Compactor  Compactor
	KeepLedger time.Duration
	// RefreshEvery is how often, between slots, the coming issue's draft is rebuilt from
	// the feeds so that editors see new stories until they approve it; 0 never.
	RefreshEvery time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Jobs implements schedule.Jobs and schedule.Resumer.
type Jobs struct {
	builder Builder
	sender  Sender
	issues  Issues
	opt     Options

	lastRefresh time.Time // of the draft, in this process
}

// The runner finds Resume by a type assertion; schedule.NewRunner checks the rest.
var _ schedule.Resumer = (*Jobs)(nil)

// New returns Jobs.
func New(builder Builder, sender Sender, issues Issues, opt Options) *Jobs {
	opt.Location = cmp.Or(opt.Location, time.UTC)
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Observe == nil {
		opt.Observe = func(delivery.Report) {}
	}
	return &Jobs{builder: builder, sender: sender, issues: issues, opt: opt}
}

// Week names the issue a slot works on: a send slot sends the week it falls in; a build
// slot prepares the week of the next send.
func (j *Jobs) Week(slot schedule.Slot) newsletter.Week {
	at := slot.At
	if slot.Kind == schedule.Build && j.opt.NextSend != nil {
		if next := j.opt.NextSend(slot.At); !next.IsZero() {
			at = next
		}
	}
	return newsletter.WeekOf(at.In(j.opt.Location))
}

// Build gathers the feeds and builds or refreshes the week's draft.
func (j *Jobs) Build(ctx context.Context, slot schedule.Slot) (schedule.Outcome, error) {
	week := j.Week(slot)
	failed := j.gather(ctx)
	built, err := j.builder.Build(ctx, week)
	switch {
	case errors.Is(err, weekly.ErrNoStories):
		return schedule.Outcome{Status: "done", Detail: fmt.Sprintf("no stories for %s yet%s", week, failed)}, nil
	case err != nil:
		return schedule.Outcome{}, err
	case built.Frozen:
		return schedule.Outcome{Status: "done", Detail: fmt.Sprintf("issue %s is already %s; left as it is%s", week, built.Issue.Status, failed)}, nil
	}
	return schedule.Outcome{Status: "done", Detail: fmt.Sprintf("draft %s built with %d stories%s", week, len(built.Issue.Stories), failed)}, nil
}

// Send refreshes the week's issue and sends it, unless the week is too thin or the draft
// waits for an editor's approval (held: the runner tries the slot again until slot.Until).
// A retry neither gathers the feeds again nor tells the editors again, and while the draft
// still waits it does not rebuild it either: it runs on every check of the scheduler.
func (j *Jobs) Send(ctx context.Context, slot schedule.Slot) (schedule.Outcome, error) {
	week := j.Week(slot)
	var failed string
	if slot.Retry {
		is, err := j.issues.IssueByWeek(ctx, week)
		if err != nil && !errors.Is(err, newsletter.ErrNotFound) {
			return schedule.Outcome{}, err
		}
		if ok, reason := editorial.Ready(is, j.opt.RequireApproval); err == nil && !ok && is.Status == newsletter.IssueDraft {
			return schedule.Outcome{Status: schedule.Held, Detail: reason}, nil
		}
	} else {
		failed = j.gather(ctx)
	}
	built, err := j.builder.Build(ctx, week)
	if errors.Is(err, weekly.ErrNoStories) {
		return schedule.Outcome{Status: "skipped", Detail: fmt.Sprintf("no new stories for %s (%s)%s", week, built.Window.In(j.opt.Location), failed)}, nil
	}
	if err != nil {
		return schedule.Outcome{}, err
	}
	is := built.Issue
	if is.Status == newsletter.IssueDraft && len(is.Stories) < j.opt.MinStories {
		return schedule.Outcome{Status: "skipped", Detail: fmt.Sprintf("%d new stories for %s; schedule.min_stories is %d", len(is.Stories), week, j.opt.MinStories)}, nil
	}
	if ok, reason := editorial.Ready(is, j.opt.RequireApproval); !ok {
		if is.Status == newsletter.IssueSent {
			return schedule.Outcome{Status: "done", Detail: reason}, nil
		}
		if !slot.Retry {
			j.opt.Logger.Warn("send held", "issue", week.String(), "reason", reason)
			j.notify(ctx, "Held: issue "+week.String()+" needs approval", heldNotice(week, reason, slot.Until, j.opt.Location))
		}
		return schedule.Outcome{Status: schedule.Held, Detail: reason}, nil
	}
	if is.Status == newsletter.IssueDraft || is.Status == newsletter.IssueApproved {
		// The check above and the freeze are apart: an editor may reopen the issue between them.
		ok, err := j.issues.FreezeForSend(ctx, is.ID, j.opt.RequireApproval, j.opt.Now())
		if err != nil {
			return schedule.Outcome{}, err
		}
		if !ok {
			return schedule.Outcome{Status: schedule.Held, Detail: "an editor reopened the issue just before its send"}, nil
		}
		// Send what was frozen: an approval between the build above and the freeze rebuilt it.
		if is, err = j.issues.IssueByID(ctx, is.ID); err != nil {
			return schedule.Outcome{}, err
		}
		built.Email = weekly.Stored(is)
	}
	rep, err := j.sender.Send(ctx, is, built.Email)
	j.opt.Observe(rep)
	if err != nil {
		return schedule.Outcome{}, err
	}
	if !rep.Done && ctx.Err() != nil {
		// Stopped mid-send (shutdown or a lost lease): not done; Resume continues it.
		return schedule.Outcome{Status: schedule.Interrupted, Detail: summary(week, rep)}, nil
	}
	if rep.Held != "" {
		j.notify(ctx, "Held: issue "+week.String(), fmt.Sprintf("Issue %s is held: %s.\n\n%s.\nRelease it with `newsletter send --issue %s --release`.\n", week, rep.Held, summary(week, rep), week))
		// The send has started and its canary went out: the slot's work is done, and the rest
		// is the resume path's once the hold is released, not a slot to retry or call missed.
		return schedule.Outcome{Status: "done", Detail: fmt.Sprintf("%s; held: %s (release: newsletter send --issue %s --release)", summary(week, rep), rep.Held, week)}, nil
	}
	return schedule.Outcome{Status: "done", Detail: summary(week, rep) + failed}, nil
}

// heldNotice tells the editors that a send waits for their approval, and until when the
// scheduler keeps trying it (until is zero when it does not).
func heldNotice(week newsletter.Week, reason string, until time.Time, loc *time.Location) string {
	head := fmt.Sprintf("The scheduled send of %s was held: %s.\n\n", week, reason)
	if until.IsZero() {
		return head + fmt.Sprintf("The scheduler does not try this slot again. Approve it on the preview page or with `newsletter draft approve --week %s`, then send it with `newsletter send --issue %s`; or leave it, and its stories go in the next issue.\n", week, week)
	}
	return head + fmt.Sprintf("The scheduler tries it again every minute until %s (schedule.grace). Approve it before then, on the preview page or with `newsletter draft approve --week %s`, and it goes out at once.\n\n"+
		"After that the slot is missed: send it by hand with `newsletter send --issue %s`, or leave it, and its stories go in the next issue.\n", until.In(loc).Format("Mon 2006-01-02 15:04 MST"), week, week)
}

// Resume continues every issue still sending: after a crash, or when deferred deliveries
// come due. Sent issues are left alone.
func (j *Jobs) Resume(ctx context.Context) error {
	list, err := j.issues.ListIssues(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, summary := range list {
		if summary.Status != newsletter.IssueSending || ctx.Err() != nil {
			continue
		}
		is, err := j.issues.IssueByID(ctx, summary.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep, err := j.sender.Send(ctx, is, weekly.Stored(is))
		j.opt.Observe(rep)
		if err != nil {
			errs = append(errs, fmt.Errorf("resume %s: %w", is.Week, err))
			continue
		}
		if rep.Sent+rep.Bounced+rep.Failed > 0 {
			j.opt.Logger.Info("resumed send", "issue", is.Week.String(), "sent", rep.Sent, "bounced", rep.Bounced, "deferred", rep.Deferred, "done", rep.Done)
		}
	}
	if err := j.refresh(ctx); err != nil {
		errs = append(errs, err)
	}
	if j.opt.Compactor != nil && j.opt.KeepLedger > 0 {
		res, err := j.opt.Compactor.Compact(ctx, j.opt.Now().Add(-j.opt.KeepLedger))
		if err != nil {
			errs = append(errs, err)
		} else if res.Issues > 0 {
			j.opt.Logger.Info("ledger compacted", "issues", res.Issues, "rows", res.Rows)
		}
	}
	return errors.Join(errs...)
}

// refresh rebuilds the draft of the next send's week every RefreshEvery, once its build
// slot has made it: new stories join until an editor approves (a frozen issue is left as is).
func (j *Jobs) refresh(ctx context.Context) error {
	now := j.opt.Now()
	if j.opt.RefreshEvery <= 0 || j.opt.NextSend == nil || now.Sub(j.lastRefresh) < j.opt.RefreshEvery {
		return nil
	}
	j.lastRefresh = now
	next := j.opt.NextSend(now)
	if next.IsZero() {
		return nil
	}
	week := newsletter.WeekOf(next.In(j.opt.Location))
	is, err := j.issues.IssueByWeek(ctx, week)
	if errors.Is(err, newsletter.ErrNotFound) || (err == nil && is.Status != newsletter.IssueDraft) {
		return nil
	}
	if err != nil {
		return err
	}
	j.gather(ctx)
	built, err := j.builder.Build(ctx, week)
	if err != nil && !errors.Is(err, weekly.ErrNoStories) {
		return err
	}
	j.opt.Logger.Info("draft refreshed", "issue", week.String(), "stories", len(built.Issue.Stories))
	return nil
}

// notify tells the editors, when an address is configured; a failure is logged, not fatal.
func (j *Jobs) notify(ctx context.Context, subject, body string) {
	if j.opt.Notifier == nil {
		return
	}
	if err := j.opt.Notifier.Notify(ctx, subject, body); err != nil {
		j.opt.Logger.Error("could not tell the editors", "subject", subject, "err", err)
	}
}

func (j *Jobs) gather(ctx context.Context) string {
	n := 0
	reports := j.builder.Gather(ctx, j.opt.Feeds)
	for _, r := range reports {
		if r.Err != nil {
			n++
			j.opt.Logger.Warn("feed failed", "feed", r.Source, "err", r.Err)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d of %d feeds failed", n, len(reports))
}

func summary(week newsletter.Week, r delivery.Report) string {
	s := fmt.Sprintf("issue %s: %d sent, %d bounced, %d deferred, %d failed", week, r.Sent, r.Bounced, r.Deferred, r.Failed)
	if r.InDoubt > 0 {
		s += fmt.Sprintf(", %d in doubt after a crash", r.InDoubt)
	}
	switch {
	case r.Unreachable != "":
		s += "; no relay could be reached (" + r.Unreachable + "): the send goes on when one answers"
	case !r.Done:
		s += "; deferred deliveries are retried as they come due"
	}
	return s
}
