package weekly_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"newsletter/internal/feed"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/schedule"
	"newsletter/internal/store"
	"newsletter/internal/weekly"
)

type env struct {
	db      *store.DB
	builder *weekly.Builder
	feedURL string
	gets    *atomic.Int32
	now     *time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ist, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Skip("tzdata:", err)
	}
	body, err := os.ReadFile(filepath.Join("..", "..", "data", "sample-feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		const etag = `"sample-v1"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := render.New(render.Publication{Publication: newsletter.Publication{Name: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", PostalAddress: "Technerdo Media, Istanbul"}, TimeZone: ist}, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, ist)
	b := weekly.New(db, &feed.Fetcher{}, r, weekly.Options{
		Location: ist, MaxStories: 12, Lookback: 7 * 24 * time.Hour,
		Now: func() time.Time { return now },
	})
	return &env{db: db, builder: b, feedURL: srv.URL + "/feed.xml", gets: &gets, now: &now}
}

var w19 = newsletter.Week{Year: 2026, Num: 19}

func TestGatherUsesConditionalGETAndSurvivesBadFeeds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reports := e.builder.Gather(ctx, []string{e.feedURL, "testdata/does-not-exist.xml"})
	if reports[0].Err != nil || reports[0].New != 14 || reports[0].Items != 14 {
		t.Fatalf("first gather: %+v", reports[0])
	}
	if reports[1].Err == nil {
		t.Fatal("a missing feed file must be reported")
	}
	st, err := e.db.FeedState(ctx, "testdata/does-not-exist.xml")
	if err != nil || st.LastError == "" {
		t.Fatalf("the failure should be remembered: %+v %v", st, err)
	}
	again := e.builder.Gather(ctx, []string{e.feedURL})
	if !again[0].NotModified || again[0].New != 0 || again[0].Err != nil {
		t.Fatalf("second gather should be a 304: %+v", again[0])
	}
	if e.gets.Load() != 2 {
		t.Fatalf("%d requests, want 2", e.gets.Load())
	}
}

func TestBuildIsDeterministicAndWindowed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.builder.Gather(ctx, []string{e.feedURL})
	first, err := e.builder.Build(ctx, w19)
	if err != nil {
		t.Fatal(err)
	}
	// The sample feed has 8 stories in the week before Monday 2026-05-04 and one older.
	if n := len(first.Issue.Stories); n != 8 {
		t.Fatalf("%d stories, want 8", n)
	}
	for _, s := range first.Issue.Stories {
		if w := first.Window; !s.Published.After(w.After) || s.Published.After(w.Cutoff) {
			t.Fatalf("story %q (%v) outside the window %v", s.Title, s.Published, first.Window)
		}
	}
	// Rebuilding the draft later from the same inputs gives byte-identical output.
	*e.now = e.now.Add(36 * time.Hour)
	second, err := e.builder.Build(ctx, w19)
	if err != nil {
		t.Fatal(err)
	}
	if second.Email.HTML != first.Email.HTML || second.Email.Text != first.Email.Text || second.Email.Subject != first.Email.Subject {
		t.Fatal("rebuilding the same issue changed its output")
	}
	if second.Issue.ID != first.Issue.ID {
		t.Fatal("a rebuild must replace the draft, not add an issue")
	}
}

func TestStoriesGoOutOnceAndFrozenIssuesStay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.builder.Gather(ctx, []string{e.feedURL})
	built, err := e.builder.Build(ctx, w19)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetIssueStatus(ctx, built.Issue.ID, newsletter.IssueSent, *e.now); err != nil {
		t.Fatal(err)
	}
	// The frozen issue comes back exactly as stored.
	again, err := e.builder.Build(ctx, w19)
	if err != nil || !again.Frozen || again.Email.HTML != built.Email.HTML {
		t.Fatalf("frozen rebuild: frozen=%v err=%v", again.Frozen, err)
	}
	// Next week: the feed still offers last week's stories, but they went out already;
	// only the sample's five stories of the new week are in.
	*e.now = e.now.AddDate(0, 0, 7)
	next, err := e.builder.Build(ctx, newsletter.Week{Year: 2026, Num: 20})
	if err != nil || len(next.Issue.Stories) != 5 {
		t.Fatalf("week 20: %d stories, %v; want the 5 of its week", len(next.Issue.Stories), err)
	}
	for _, s := range next.Issue.Stories {
		if !s.Published.After(built.Issue.Cutoff) {
			t.Fatalf("week 20 carries %q from week 19's window", s.Title)
		}
	}
	*e.now = e.now.AddDate(0, 0, 7)
	_, err = e.builder.Build(ctx, newsletter.Week{Year: 2026, Num: 20})
	if err != nil {
		t.Fatalf("rebuilding week 20's draft a week later: %v", err)
	}
}

func TestGatherCountsRemovedCharacters(t *testing.T) {
	e := newEnv(t)
	body, err := os.ReadFile(filepath.Join("..", "..", "data", "sample-feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bell.xml")
	bell := strings.Replace(string(body), "<title>Technerdo</title>", "<title>Technerdo&#7;</title>", 1)
	if err := os.WriteFile(path, []byte(bell), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		source  string
		removed int
	}{
		{"a clean feed", e.feedURL, 0},
		{"a feed with a character XML forbids", path, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.builder.Gather(context.Background(), []string{tc.source})[0]
			if r.Err != nil || r.Removed != tc.removed || r.Title != "Technerdo" {
				t.Fatalf("report %+v, want %d removed and the title as it is", r, tc.removed)
			}
		})
	}
}

// The build and the runner mean the same by the grace period: zero is schedule.DefaultGrace
// for both, so an issue the build counts as missed is one the runner no longer sends.
func TestGraceAgreesWithTheRunner(t *testing.T) {
	ist, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Skip("tzdata:", err)
	}
	sched, err := schedule.Parse("0 12 * * FRI", "0 8 * * MON", ist)
	if err != nil {
		t.Fatal(err)
	}
	w19 := newsletter.Week{Year: 2026, Num: 19}
	slot := time.Date(2026, 5, 4, 8, 0, 0, 0, ist)
	tests := []struct {
		name   string
		grace  time.Duration
		late   time.Duration
		missed bool
	}{
		{"zero grace, 11h late: within the default", 0, 11 * time.Hour, false},
		{"zero grace, at the default's end", 0, schedule.DefaultGrace, false},
		{"zero grace, past the default", 0, schedule.DefaultGrace + time.Minute, true},
		{"2h grace, 1h late", 2 * time.Hour, time.Hour, false},
		{"2h grace, 3h late", 2 * time.Hour, 3 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := weekly.New(nil, nil, nil, weekly.Options{Location: ist, Grace: tt.grace,
				NextSend: func(t time.Time) time.Time { return sched.Next(schedule.Send, t) }})
			now := slot.Add(tt.late)
			if got := b.Missed(w19, now); got != tt.missed {
				t.Errorf("weekly: missed = %v, want %v", got, tt.missed)
			}
			if got := schedule.Missed(slot, now, tt.grace); got != tt.missed {
				t.Errorf("schedule: missed = %v, want %v", got, tt.missed)
			}
		})
	}
}
