// Package weekly gathers the configured feeds into the store and builds the week's issue
// from the stories that have not gone out yet.
package weekly

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	texttemplate "text/template"
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
	// Edits returns the editors' actions on the week's draft, oldest first.
	Edits(ctx context.Context, week newsletter.Week) ([]newsletter.Edit, error)
	// StoriesByID loads the editors' manual picks.
	StoriesByID(ctx context.Context, ids []int64, exceptIssueID int64) ([]newsletter.Offer, error)
	// OfferedStories lists what the feeds offered since the window opened, for the inclusion report.
	OfferedStories(ctx context.Context, since time.Time, exceptIssueID int64) ([]newsletter.Offer, error)
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
	Subject    string // fixed subject; empty uses SubjectTemplate
	// SubjectTemplate derives the subject (text/template over SubjectData) unless an editor
	// set one; empty lets the renderer derive it.
	SubjectTemplate string
	Publication     string // the publication's name, for SubjectTemplate
	Now             func() time.Time
	Logger          *slog.Logger
}

// Builder runs the gather and build steps.
type Builder struct {
	store    Store
	fetcher  Fetcher
	renderer Renderer
	opt      Options
	subject  *texttemplate.Template // nil: no template
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
	b := &Builder{store: store, fetcher: fetcher, renderer: renderer, opt: opt}
	if opt.SubjectTemplate != "" {
		// A template that does not parse is reported by CheckSubjectTemplate at start; here
		// it falls back to the renderer's default rather than failing every build.
		b.subject, _ = texttemplate.New("subject").Option("missingkey=error").Parse(opt.SubjectTemplate)
	}
	return b
}

// SubjectData is the dot of the subject template.
type SubjectData struct {
	Publication string // "The Technerdo Weekly"
	TopStory    string // the lead story's title
	Week        string // "2026-W19"
	Count       int    // stories in the issue
}

// CheckSubjectTemplate parses and tries a subject template, so a bad one fails at start.
func CheckSubjectTemplate(tmpl string) error {
	t, err := texttemplate.New("subject").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return err
	}
	return t.Execute(io.Discard, SubjectData{Publication: "P", TopStory: "T", Week: "2026-W01", Count: 1})
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
	edits, err := b.store.Edits(ctx, week)
	if err != nil {
		return Build{}, err
	}
	shape := digest.Replay(edits)
	picks, err := b.store.StoriesByID(ctx, shape.Picks, existing.ID)
	if err != nil {
		return Build{}, err
	}
	stories, decisions := digest.SelectShaped(candidates, picks, b.opt.MaxStories, shape)
	if len(stories) == 0 {
		return Build{Window: window}, fmt.Errorf("issue %s: %w published between %s", week, ErrNoStories, window)
	}
	offers, err := b.store.OfferedStories(ctx, window.After, existing.ID)
	if err != nil {
		return Build{}, err
	}
	decisions = append(decisions, digest.Outside(offers, window, decisions, b.opt.Location)...)
	issue := newsletter.Issue{
		ID:             existing.ID,
		Week:           week,
		Subject:        b.subjectFor(shape, week, stories),
		Preheader:      shape.Preheader,
		WindowStart:    window.After,
		Cutoff:         window.Cutoff,
		Stories:        stories,
		Status:         newsletter.IssueDraft,
		CreatedAt:      now.UTC(),
		Intro:          shape.Intro,
		GroupBySection: shape.GroupBySection,
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

// subjectFor is the editor's subject, else the configured fixed one, else the template's.
func (b *Builder) subjectFor(sh digest.Shape, week newsletter.Week, stories []newsletter.Story) string {
	switch {
	case sh.Subject != "":
		return sh.Subject
	case b.opt.Subject != "":
		return b.opt.Subject
	case b.subject == nil:
		return ""
	}
	var buf strings.Builder
	err := b.subject.Execute(&buf, SubjectData{Publication: b.opt.Publication, TopStory: stories[0].Title, Week: week.String(), Count: len(stories)})
	if err != nil {
		b.opt.Logger.Warn("subject template failed; using the default subject", "issue", week.String(), "err", err)
		return ""
	}
	return buf.String()
}

// Stored returns the email frozen in a saved issue.
func Stored(is newsletter.Issue) render.Email {
	return render.Email{Subject: is.Subject, Preheader: is.Preheader, HTML: is.HTML, Text: is.Text}
}
