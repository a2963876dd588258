// Package weekly gathers the configured feeds into the store and builds the week's issue
// from the stories that have not gone out yet.
package weekly

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"newsletter/internal/digest"
	"newsletter/internal/feed"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/schedule"
)

// Store is the part of the database the weekly job needs.
type Store interface {
	// FeedState is what the last fetch of source left: ErrNotFound before the first.
	FeedState(ctx context.Context, source string) (newsletter.FeedState, error)
	SaveFeedState(ctx context.Context, st newsletter.FeedState) error
	SaveStories(ctx context.Context, stories []newsletter.Story, now time.Time) (int, error)
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	// ListIssues returns every issue, newest week first, without stories.
	ListIssues(ctx context.Context) ([]newsletter.Issue, error)
	UnsentStories(ctx context.Context, upTo time.Time, exceptIssueID int64) ([]newsletter.Story, error)
	// DraftHolds maps each story another plain draft holds to that draft's week.
	DraftHolds(ctx context.Context, exceptIssueID int64) (map[int64]newsletter.Week, error)
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
	// Lookback bounds how old a story may be when a feed first offers it; it also opens
	// the first issue's window.
	Lookback time.Duration
	// NextSend returns the first send slot strictly after t; nil sends each issue at the
	// start of its week (Monday 00:00 in Location).
	NextSend func(t time.Time) time.Time
	// Grace is how late a send slot may still be honoured (zero means schedule.DefaultGrace,
	// as for the runner); a draft whose slot passed longer ago was missed: the scheduler will
	// not send it and its stories go to the next issue.
	Grace   time.Duration
	Subject string // fixed subject; empty uses SubjectTemplate
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
	opt.Location = cmp.Or(opt.Location, time.UTC)
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
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
	Removed     int // characters XML forbids, taken out so that the feed could be read
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
	st, err := b.store.FeedState(ctx, src)
	if err != nil && !errors.Is(err, newsletter.ErrNotFound) {
		rep.Err = err
		return rep
	}
	prev := feed.Validators{ETag: st.ETag, LastModified: st.LastModified}
	res, err := b.fetcher.Fetch(ctx, src, prev)
	now := b.opt.Now()
	if err != nil {
		rep.Err = err
		// The validators are kept, so that the next fetch may still be conditional.
		failed := newsletter.FeedState{URL: src, ETag: prev.ETag, LastModified: prev.LastModified, LastError: err.Error(), FetchedAt: now}
		if serr := b.store.SaveFeedState(ctx, failed); serr != nil {
			rep.Err = errors.Join(err, serr)
		}
		b.opt.Logger.Warn("feed failed", "feed", src, "err", err)
		return rep
	}
	rep.Title, rep.Items, rep.NotModified, rep.Removed = res.Title, len(res.Stories), res.NotModified, res.Removed
	for i := range res.Stories {
		// An undated item, or one dated in the future, is dated when it arrives; the store
		// keeps the date a story was first seen with, so a re-dated item keeps its place.
		if p := res.Stories[i].Published; p.IsZero() || p.After(now) {
			res.Stories[i].Published = now.UTC()
		}
	}
	if rep.New, err = b.store.SaveStories(ctx, res.Stories, now); err != nil {
		rep.Err = err
		return rep
	}
	if err := b.store.SaveFeedState(ctx, newsletter.FeedState{URL: src, ETag: res.Validators.ETag, LastModified: res.Validators.LastModified, FetchedAt: now}); err != nil {
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
// An issue that is already approved, sending or sent is returned as stored, byte for byte.
func (b *Builder) Build(ctx context.Context, week newsletter.Week) (Build, error) {
	return b.build(ctx, week, true)
}

// Compose is Build without saving: what a read-only view (an HTTP GET) may show.
func (b *Builder) Compose(ctx context.Context, week newsletter.Week) (Build, error) {
	return b.build(ctx, week, false)
}

func (b *Builder) build(ctx context.Context, week newsletter.Week, save bool) (Build, error) {
	existing, err := b.store.IssueByWeek(ctx, week)
	switch {
	case err == nil && existing.Status != newsletter.IssueDraft:
		return Build{Issue: existing, Email: Stored(existing), Window: digest.Window{After: existing.WindowStart, Cutoff: existing.Cutoff}, Frozen: true}, nil
	case err != nil && !errors.Is(err, newsletter.ErrNotFound):
		return Build{}, err
	}
	now := b.opt.Now()
	window, err := b.Window(ctx, week, now)
	if err != nil {
		return Build{}, err
	}
	offered, err := b.store.UnsentStories(ctx, window.Cutoff, existing.ID)
	if err != nil {
		return Build{}, err
	}
	holds, err := b.store.DraftHolds(ctx, existing.ID)
	if err != nil {
		return Build{}, err
	}
	// A story an earlier draft still waiting for its slot holds is that issue's: taking it
	// here could let both send it. A later draft's, or a missed one's, moves here on save.
	offered = slices.DeleteFunc(offered, func(s newsletter.Story) bool {
		w, held := holds[s.ID]
		return held && w.Before(week) && !b.Missed(w, now)
	})
	candidates, stale := splitStale(offered, window.Cutoff, b.opt.Lookback)
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
	for _, s := range stale {
		decisions = append(decisions, digest.Decision{Story: s, Reason: fmt.Sprintf("too old: published %s, more than %s before a feed first offered it",
			s.Published.In(b.opt.Location).Format("2006-01-02 15:04"), days(b.opt.Lookback))})
	}
	if len(stories) == 0 {
		return Build{Window: window, Decisions: decisions}, fmt.Errorf("issue %s: %w published between %s", week, ErrNoStories, window.In(b.opt.Location))
	}
	report := make([]newsletter.Verdict, 0, len(decisions))
	for _, d := range decisions {
		report = append(report, newsletter.Verdict{StoryID: d.Story.ID, Included: d.Included, Reason: d.Reason})
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
		Report:         report,
	}
	email, err := b.renderer.Issue(issue)
	if err != nil {
		return Build{}, fmt.Errorf("issue %s: %w", week, err)
	}
	for _, w := range email.Warnings {
		b.opt.Logger.Warn("issue warning", "issue", week.String(), "warning", w)
	}
	issue.Subject, issue.Preheader, issue.HTML, issue.Text = email.Subject, email.Preheader, email.HTML, email.Text
	built := Build{Issue: issue, Email: email, Window: window, Decisions: decisions}
	if save {
		if built.Issue, err = b.store.SaveIssue(ctx, issue); err != nil {
			return Build{}, err
		}
	}
	return built, nil
}

// splitStale separates the stories that were already older than lookback when a feed first
// offered them (measured from the cutoff for an issue built after its week).
func splitStale(stories []newsletter.Story, cutoff time.Time, lookback time.Duration) (fresh, stale []newsletter.Story) {
	for _, s := range stories {
		seen := s.FirstSeen
		if seen.IsZero() || cutoff.Before(seen) {
			seen = cutoff
		}
		if lookback > 0 && s.Published.Before(seen.Add(-lookback)) {
			stale = append(stale, s)
			continue
		}
		fresh = append(fresh, s)
	}
	return fresh, stale
}

func days(d time.Duration) string {
	if n := int(d / (24 * time.Hour)); n*24*int(time.Hour) == int(d) {
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// SendAt returns when week's issue is due to go out: the first send slot of its week.
func (b *Builder) SendAt(week newsletter.Week) time.Time {
	start := week.Start(b.opt.Location)
	if b.opt.NextSend == nil {
		return start
	}
	at := b.opt.NextSend(start.Add(-time.Second))
	if at.IsZero() || !at.Before(week.Next().Start(b.opt.Location)) {
		return start
	}
	return at
}

// Missed reports whether week's send slot passed more than the grace period ago, so the
// scheduler will not send it (nor retry it if it was held).
func (b *Builder) Missed(week newsletter.Week, now time.Time) bool {
	return schedule.Missed(b.SendAt(week), now, b.opt.Grace)
}

// Window computes the span of week's issue at now. It closes at the issue's send slot, or
// now when that is earlier, so a draft built ahead of its week grows on each rebuild, and an
// issue frozen early ends where it froze. It opens where the issue before it closed: an
// approved, sending or sent issue at its saved cutoff; a draft still waiting for its slot at
// that slot; a missed draft closes nothing. The first issue opens Lookback before it closes.
//
// Only the close bounds what the issue is offered: below it, every story no frozen issue
// decided is on offer (see UnsentStories), so a late arrival or a missed draft's stories go
// in the next issue built, whatever their dates.
func (b *Builder) Window(ctx context.Context, week newsletter.Week, now time.Time) (digest.Window, error) {
	cutoff := b.SendAt(week)
	if now.Before(cutoff) {
		cutoff = now
	}
	issues, err := b.store.ListIssues(ctx)
	if err != nil {
		return digest.Window{}, err
	}
	for _, is := range issues {
		if !is.Week.Before(week) {
			continue
		}
		switch {
		case is.Status != newsletter.IssueDraft:
			return digest.Window{After: is.Cutoff.UTC(), Cutoff: cutoff.UTC()}, nil
		case !b.Missed(is.Week, now):
			return digest.Window{After: b.SendAt(is.Week).UTC(), Cutoff: cutoff.UTC()}, nil
		}
	}
	return digest.Window{After: cutoff.Add(-b.opt.Lookback).UTC(), Cutoff: cutoff.UTC()}, nil
}

// Upcoming names the issue that goes out next: the one being sent, else the week of the
// next send slot.
func (b *Builder) Upcoming(ctx context.Context) (newsletter.Week, error) {
	issues, err := b.store.ListIssues(ctx)
	if err != nil {
		return newsletter.Week{}, err
	}
	for _, is := range issues {
		if is.Status == newsletter.IssueSending {
			return is.Week, nil
		}
	}
	now := b.opt.Now()
	next := newsletter.WeekOf(now.In(b.opt.Location))
	for range 3 {
		if b.SendAt(next).After(now) {
			return next, nil
		}
		next = next.Next()
	}
	return next, nil
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
