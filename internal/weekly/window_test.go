package weekly_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter/internal/feed"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/store"
	"newsletter/internal/weekly"
)

// cycle is a builder on the default schedule (send Monday 08:00, 12 h grace) in Istanbul,
// over a feed file the test rewrites, with a clock the test moves.
type cycle struct {
	t    *testing.T
	db   *store.DB
	b    *weekly.Builder
	feed string
	now  time.Time
	loc  *time.Location
}

func newCycle(t *testing.T) *cycle {
	t.Helper()
	ist, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Skip("tzdata:", err)
	}
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := render.New(render.Publication{Publication: newsletter.Publication{Name: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", PostalAddress: "Technerdo Media, Istanbul"}, TimeZone: ist}, "")
	if err != nil {
		t.Fatal(err)
	}
	c := &cycle{t: t, db: db, feed: filepath.Join(dir, "feed.xml"), loc: ist}
	mondays := func(after time.Time) time.Time {
		d := time.Date(after.In(ist).Year(), after.In(ist).Month(), after.In(ist).Day(), 8, 0, 0, 0, ist)
		for d.Weekday() != time.Monday || !d.After(after) {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	c.b = weekly.New(db, &feed.Fetcher{}, r, weekly.Options{
		Location: ist, MaxStories: 12, Lookback: 7 * 24 * time.Hour, Grace: 12 * time.Hour,
		NextSend: mondays,
		Now:      func() time.Time { return c.now },
	})
	return c
}

// at is a wall-clock time in Istanbul.
func (c *cycle) at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, c.loc)
}

// publish rewrites the feed with items named by title; a zero date leaves pubDate out.
func (c *cycle) publish(items map[string]time.Time) {
	c.t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://technerdo.com/</link>`)
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, title := range keys {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://technerdo.com/%s/</link>`, title, strings.ReplaceAll(title, " ", "-"))
		if d := items[title]; !d.IsZero() {
			fmt.Fprintf(&b, `<pubDate>%s</pubDate>`, d.Format(time.RFC1123Z))
		}
		b.WriteString(`<description>x</description></item>`)
	}
	b.WriteString(`</channel></rss>`)
	if err := os.WriteFile(c.feed, []byte(b.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cycle) gatherAndBuild(week newsletter.Week) weekly.Build {
	c.t.Helper()
	ctx := context.Background()
	if r := c.b.Gather(ctx, []string{c.feed}); r[0].Err != nil {
		c.t.Fatal(r[0].Err)
	}
	built, err := c.b.Build(ctx, week)
	if err != nil {
		c.t.Fatalf("build %s at %s: %v", week, c.now.In(c.loc).Format(time.RFC1123), err)
	}
	return built
}

func storyTitles(stories []newsletter.Story) string {
	var t []string
	for _, s := range stories {
		t = append(t, s.Title)
	}
	slices.Sort(t)
	return strings.Join(t, ", ")
}

var w20 = newsletter.Week{Year: 2026, Num: 20}

func TestDraftBuiltAheadOfItsWeek(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	items := map[string]time.Time{"mon": c.at(4, 27, 10, 0), "wed": c.at(4, 29, 10, 0), "fri": c.at(5, 1, 11, 0)}
	c.publish(items)
	c.now = c.at(5, 1, 12, 0) // the Friday build for Monday 2026-05-04 (week 19)
	fri := c.gatherAndBuild(w19)
	if got := storyTitles(fri.Issue.Stories); got != "fri, mon, wed" {
		t.Fatalf("Friday draft: %s", got)
	}
	// An editor pins a story; a minute later the draft is still whole, and rebuilding keeps the pin.
	if _, err := c.db.AddEdit(ctx, newsletter.Edit{Week: w19, Editor: "ed", Action: "pin", StoryID: fri.Issue.Stories[2].ID, At: c.now}); err != nil {
		t.Fatal(err)
	}
	c.now = c.now.Add(time.Minute)
	again := c.gatherAndBuild(w19)
	if got := storyTitles(again.Issue.Stories); got != "fri, mon, wed" || again.Issue.Stories[0].ID != fri.Issue.Stories[2].ID {
		t.Fatalf("a minute later: %s, lead #%d", got, again.Issue.Stories[0].ID)
	}
	// Stories published over the weekend join at each rebuild until the Monday send.
	items["sat"], items["sun late"] = c.at(5, 2, 9, 0), c.at(5, 3, 23, 50)
	items["mon early"] = c.at(5, 4, 7, 55)
	c.publish(items)
	c.now = c.at(5, 4, 8, 0)
	mon := c.gatherAndBuild(w19)
	if got := storyTitles(mon.Issue.Stories); got != "fri, mon, mon early, sat, sun late, wed" {
		t.Fatalf("Monday's issue: %s", got)
	}
	if !mon.Window.Cutoff.Equal(c.at(5, 4, 8, 0)) {
		t.Fatalf("Monday's issue closes at %v, want its send slot", mon.Window.Cutoff)
	}
}

func TestWindowsChainAcrossEarlyFreezesAndLateArrivals(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	items := map[string]time.Time{"a": c.at(4, 28, 10, 0), "b": c.at(4, 30, 10, 0)}
	c.publish(items)
	c.now = c.at(5, 1, 12, 0)
	fri := c.gatherAndBuild(w19)
	// Approved on Friday: the issue ends there; Saturday's story belongs to the next one.
	if err := c.db.ApproveIssue(ctx, fri.Issue.ID, "ed", c.now); err != nil {
		t.Fatal(err)
	}
	items["sat"] = c.at(5, 2, 9, 0)
	// A story dated Thursday that the feed only shows on Saturday: issue 19 never saw it.
	items["late thursday"] = c.at(4, 30, 18, 0)
	c.publish(items)
	c.now = c.at(5, 2, 12, 0)
	if r := c.b.Gather(ctx, []string{c.feed}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if err := c.db.SetIssueStatus(ctx, fri.Issue.ID, newsletter.IssueSent, c.at(5, 4, 8, 0)); err != nil {
		t.Fatal(err)
	}
	c.now = c.at(5, 8, 12, 0) // the next Friday build
	next := c.gatherAndBuild(w20)
	if got := storyTitles(next.Issue.Stories); got != "late thursday, sat" {
		t.Fatalf("week 20: %s", got)
	}
	if !next.Window.After.Equal(fri.Issue.Cutoff) {
		t.Fatalf("week 20 opens at %v, want week 19's cutoff %v", next.Window.After, fri.Issue.Cutoff)
	}
}

func TestMissedDraftPassesItsStoriesOn(t *testing.T) {
	c := newCycle(t)
	c.publish(map[string]time.Time{"a": c.at(4, 28, 10, 0), "b": c.at(4, 30, 10, 0)})
	c.now = c.at(5, 1, 12, 0)
	c.gatherAndBuild(w19) // never approved, never sent
	if c.b.Missed(w19, c.at(5, 4, 19, 59)) || !c.b.Missed(w19, c.at(5, 4, 20, 1)) {
		t.Fatal("week 19 should be missed 12 hours after its Monday 08:00 slot, not before")
	}
	c.now = c.at(5, 8, 12, 0)
	next := c.gatherAndBuild(w20)
	if got := storyTitles(next.Issue.Stories); got != "a, b" {
		t.Fatalf("week 20 after a missed week 19: %s", got)
	}
}

func TestOddDatesAreDatedWhenFirstSeen(t *testing.T) {
	c := newCycle(t)
	c.now = c.at(5, 1, 12, 0)
	c.publish(map[string]time.Time{"undated": {}, "future": c.at(6, 1, 0, 0), "dated": c.at(4, 30, 9, 0)})
	built := c.gatherAndBuild(w19)
	if got := storyTitles(built.Issue.Stories); got != "dated, future, undated" {
		t.Fatalf("stories: %s", got)
	}
	for _, s := range built.Issue.Stories {
		if s.Title != "dated" && !s.Published.Equal(c.now) {
			t.Fatalf("%s dated %v, want when first seen (%v)", s.Title, s.Published, c.now)
		}
	}
	// Re-dated later, it keeps the date it was first seen with.
	c.now = c.now.Add(time.Hour)
	c.publish(map[string]time.Time{"undated": c.at(5, 1, 12, 30), "dated": c.at(5, 1, 12, 40)})
	again := c.gatherAndBuild(w19)
	for _, s := range again.Issue.Stories {
		if s.Title == "dated" && !s.Published.Equal(c.at(4, 30, 9, 0)) {
			t.Fatalf("re-dated story moved to %v", s.Published)
		}
	}
}

func TestUpcomingIsTheIssueThatGoesOutNext(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	c.publish(map[string]time.Time{"a": c.at(4, 28, 10, 0)})
	for _, tc := range []struct {
		name string
		now  time.Time
		want newsletter.Week
	}{
		{"Friday before", c.at(5, 1, 12, 0), w19},
		{"Monday before the send", c.at(5, 4, 7, 59), w19},
		{"Monday after the send slot", c.at(5, 4, 8, 1), w20},
		{"Sunday", c.at(5, 10, 23, 0), w20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.now = tc.now
			got, err := c.b.Upcoming(ctx)
			if err != nil || got != tc.want {
				t.Fatalf("Upcoming = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	// An issue being sent is the one that goes out next, whatever the clock says.
	c.now = c.at(5, 1, 12, 0)
	built := c.gatherAndBuild(w19)
	if err := c.db.SetIssueStatus(ctx, built.Issue.ID, newsletter.IssueSending, c.now); err != nil {
		t.Fatal(err)
	}
	c.now = c.at(5, 6, 12, 0)
	if got, err := c.b.Upcoming(ctx); err != nil || got != w19 {
		t.Fatalf("while sending: %s, %v", got, err)
	}
	_, err := c.b.Build(ctx, w20)
	if !errors.Is(err, weekly.ErrNoStories) {
		t.Fatalf("week 20 while 19 is sending: %v, want no stories (19 holds them)", err)
	}
	// The window is said as people read it, not as a Go struct.
	if msg := err.Error(); strings.ContainsAny(msg, "{}") || !strings.Contains(msg, " – ") {
		t.Errorf("error %q does not give the window as dates", msg)
	}
}

func TestLaterDraftLeavesAnEarlierDraftsStoriesAlone(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	c.publish(map[string]time.Time{"a": c.at(4, 28, 10, 0)})
	c.now = c.at(5, 1, 12, 0)
	c.gatherAndBuild(w19)
	// Monday 08:30: week 19's slot has passed but it is not sent yet (within the grace
	// period). A story dated Sunday shows up only now: both windows could take it.
	c.publish(map[string]time.Time{"a": c.at(4, 28, 10, 0), "sunday, late": c.at(5, 3, 20, 0)})
	c.now = c.at(5, 4, 8, 30)
	w19draft := c.gatherAndBuild(w19)
	if got := storyTitles(w19draft.Issue.Stories); got != "a, sunday, late" {
		t.Fatalf("week 19: %s", got)
	}
	c.now = c.at(5, 4, 9, 0)
	if _, err := c.b.Build(ctx, w20); !errors.Is(err, weekly.ErrNoStories) {
		t.Fatalf("week 20 while week 19 still holds its stories: %v, want no stories", err)
	}
	if is, err := c.db.IssueByWeek(ctx, w19); err != nil || storyTitles(is.Stories) != "a, sunday, late" {
		t.Fatalf("week 19 after week 20's build: %v, %v", storyTitles(is.Stories), err)
	}
}

var w21 = newsletter.Week{Year: 2026, Num: 21}

// TestApprovingTheNextIssueLosesNoStoryOfAHeldOne: week 19 is held at its slot (nobody
// approved it) and, within the grace period, an editor approves week 20, which leaves week
// 19's stories to it. Once week 19 is missed, they go in week 21.
func TestApprovingTheNextIssueLosesNoStoryOfAHeldOne(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	items := map[string]time.Time{"a": c.at(4, 28, 10, 0), "b": c.at(4, 30, 10, 0)}
	c.publish(items)
	c.now = c.at(5, 1, 12, 0)
	c.gatherAndBuild(w19)
	items["c"] = c.at(5, 4, 8, 30)
	c.publish(items)
	c.now = c.at(5, 4, 9, 0) // week 19 held at 08:00, still within grace
	w20draft := c.gatherAndBuild(w20)
	if got := storyTitles(w20draft.Issue.Stories); got != "c" {
		t.Fatalf("week 20 while week 19 is held: %s", got)
	}
	if err := c.db.ApproveIssue(ctx, w20draft.Issue.ID, "ed", c.now); err != nil {
		t.Fatal(err)
	}
	if err := c.db.SetIssueStatus(ctx, w20draft.Issue.ID, newsletter.IssueSent, c.at(5, 11, 8, 0)); err != nil {
		t.Fatal(err)
	}
	c.now = c.at(5, 15, 12, 0)
	next := c.gatherAndBuild(w21)
	if got := storyTitles(next.Issue.Stories); got != "a, b" {
		t.Fatalf("week 21 after week 19 was missed: %s, want its stories a, b", got)
	}
}

// TestAStoryGatheredJustAfterAFreezeGoesNext: a story dated before the freeze but first
// gathered in the same second, after the freezing build, belongs to the next issue.
func TestAStoryGatheredJustAfterAFreezeGoesNext(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	items := map[string]time.Time{"a": c.at(4, 28, 10, 0)}
	c.publish(items)
	c.now = c.at(5, 1, 12, 0)
	built := c.gatherAndBuild(w19)
	if err := c.db.ApproveIssue(ctx, built.Issue.ID, "ed", c.now); err != nil {
		t.Fatal(err)
	}
	items["late"] = c.at(4, 29, 10, 0)
	c.publish(items)
	if r := c.b.Gather(ctx, []string{c.feed}); r[0].Err != nil || r[0].New != 1 { // the same second as the build
		t.Fatalf("gather: %+v", r[0])
	}
	if err := c.db.SetIssueStatus(ctx, built.Issue.ID, newsletter.IssueSent, c.at(5, 4, 8, 0)); err != nil {
		t.Fatal(err)
	}
	c.now = c.at(5, 8, 12, 0)
	next := c.gatherAndBuild(w20)
	if got := storyTitles(next.Issue.Stories); got != "late" {
		t.Fatalf("week 20: %s, want the late story", got)
	}
}
