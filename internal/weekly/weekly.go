// Package weekly gathers the configured feeds into the store and builds the week's issue
// from the stories that have not gone out yet.
package weekly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"newsletter/internal/digest"
	"newsletter/internal/feed"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

// Store is the part of the database the weekly job needs.
type Store interface {
	FeedValidators(ctx context.Context, source string) (feed.Validators, error)
	SaveFeedResult(ctx context.Context, source string, v feed.Validators, fetchErr error, now time.Time) error
	SaveStories(ctx context.Context, stories []newsletter.Story, now time.Time) (int, error)
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	PreviousIssue(ctx context.Context, before time.Time) (newsletter.Issue, error)
	UnsentStories(ctx context.Context, after, upTo time.Time, exceptIssueID int64) ([]newsletter.Story, error)
	SaveIssue(ctx context.Context, is newsletter.Issue) (newsletter.Issue, error)
}

// Fetcher reads one feed source.
type Fetcher interface {
	Fetch(ctx context.Context, source string, prev feed.Validators) (feed.Result, error)
}

// Renderer turns an issue into its shared email.
type Renderer interface {
	Issue(issue newsletter.Issue) (render.Email, error)
}

// Options configure a Builder.
type Options struct {
	Location   *time.Location
	MaxStories int
	Lookback   time.Duration
	Subject    string // fixed subject; empty lets the renderer derive one
	Now        func() time.Time
	Logger     *slog.Logger
}

// Builder runs the gather and build steps.
type Builder struct {
	store    Store
	fetcher  Fetcher
	renderer Renderer
	opt      Options
}

// New returns a Builder.
func New(store Store, fetcher Fetcher, renderer Renderer, opt Options) *Builder {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Builder{store: store, fetcher: fetcher, renderer: renderer, opt: opt}
}

// FeedReport says what gathering one source did.
type FeedReport struct {
	Source      string
	Title       string
	Items       int // stories in the feed
	New         int // stories not seen before
	NotModified bool
	Err         error
}

// gatherParallelism bounds concurrent fetches: enough to hide latency, few enough to be polite.
const gatherParallelism = 4

// Gather fetches every source (a few at a time) and stores new stories. One failing source
// never stops the others; its error is in its report and remembered in the store.
func (b *Builder) Gather(ctx context.Context, sources []string) []FeedReport {
	reports := make([]FeedReport, len(sources))
	sem := make(chan struct{}, gatherParallelism)
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			reports[i] = b.gatherOne(ctx, src)
		})
	}
	wg.Wait()
	return reports
}

func (b *Builder) gatherOne(ctx context.Context, src string) FeedReport {
	rep := FeedReport{Source: src}
	prev, err := b.store.FeedValidators(ctx, src)
	if err != nil && !errors.Is(err, newsletter.ErrNotFound) {
		rep.Err = err
		return rep
	}
	res, err := b.fetcher.Fetch(ctx, src, prev)
	now := b.opt.Now()
	if err != nil {
		rep.Err = err
		if serr := b.store.SaveFeedResult(ctx, src, prev, err, now); serr != nil {
			rep.Err = errors.Join(err, serr)
		}
		b.opt.Logger.Warn("feed failed", "feed", src, "err", err)
		return rep
	}
	rep.Title, rep.Items, rep.NotModified = res.Title, len(res.Stories), res.NotModified
	if rep.New, err = b.store.SaveStories(ctx, res.Stories, now); err != nil {
		rep.Err = err
		return rep
	}
	if err := b.store.SaveFeedResult(ctx, src, res.Validators, nil, now); err != nil {
		rep.Err = err
	}
	b.opt.Logger.Info("feed gathered", "feed", src, "items", rep.Items, "new", rep.New, "not_modified", rep.NotModified)
	return rep
}

// ErrNoStories means the week's window holds no story that has not gone out already.
var ErrNoStories = errors.New("no new stories")

// Build is a built (or already frozen) issue with its shared email.
type Build struct {
	Issue     newsletter.Issue
	Email     render.Email
	Window    digest.Window
	Decisions []digest.Decision // every candidate and why it is in or out; empty for a frozen issue
	Frozen    bool              // the issue was already sending or sent: returned as stored
}

// Build builds (or rebuilds, while it is a draft) the issue named by week and saves it.
// An issue that is already sending or sent is returned as stored, byte for byte.
func (b *Builder) Build(ctx context.Context, week newsletter.Week) (Build, error) {
	existing, err := b.store.IssueByWeek(ctx, week)
	switch {
	case err == nil && existing.Status != newsletter.IssueDraft:
		return Build{Issue: existing, Email: Stored(existing), Window: digest.Window{After: existing.WindowStart, Cutoff: existing.Cutoff}, Frozen: true}, nil
	case err != nil && !errors.Is(err, newsletter.ErrNotFound):
		return Build{}, err
	}
	now := b.opt.Now()
	var prevCutoff time.Time
	cutoff := digest.WindowFor(week, b.opt.Location, now, time.Time{}, b.opt.Lookback).Cutoff
	prev, err := b.store.PreviousIssue(ctx, cutoff)
	switch {
	case err == nil:
		prevCutoff = prev.Cutoff
	case !errors.Is(err, newsletter.ErrNotFound):
		return Build{}, err
	}
	window := digest.WindowFor(week, b.opt.Location, now, prevCutoff, b.opt.Lookback)
	candidates, err := b.store.UnsentStories(ctx, window.After, window.Cutoff, existing.ID)
	if err != nil {
		return Build{}, err
	}
	if len(candidates) == 0 {
		return Build{Window: window}, fmt.Errorf("issue %s: %w published between %s", week, ErrNoStories, window)
	}
	stories, decisions := digest.Select(candidates, b.opt.MaxStories)
	issue := newsletter.Issue{
		ID:          existing.ID,
		Week:        week,
		Subject:     b.opt.Subject,
		WindowStart: window.After,
		Cutoff:      window.Cutoff,
		Stories:     stories,
		Status:      newsletter.IssueDraft,
		CreatedAt:   now.UTC(),
	}
	email, err := b.renderer.Issue(issue)
	if err != nil {
		return Build{}, fmt.Errorf("issue %s: %w", week, err)
	}
	for _, w := range email.Warnings {
		b.opt.Logger.Warn("issue warning", "issue", week.String(), "warning", w)
	}
	issue.Subject, issue.Preheader, issue.HTML, issue.Text = email.Subject, email.Preheader, email.HTML, email.Text
	saved, err := b.store.SaveIssue(ctx, issue)
	if err != nil {
		return Build{}, err
	}
	return Build{Issue: saved, Email: email, Window: window, Decisions: decisions}, nil
}

// Stored returns the email frozen in a saved issue.
func Stored(is newsletter.Issue) render.Email {
	return render.Email{Subject: is.Subject, Preheader: is.Preheader, HTML: is.HTML, Text: is.Text}
}
