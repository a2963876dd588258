package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func story(n int, published time.Time) newsletter.Story {
	return newsletter.Story{
		GUID:        fmt.Sprintf("guid-%d", n),
		URL:         fmt.Sprintf("https://example.com/posts/%d", n),
		Title:       fmt.Sprintf("Story %d", n),
		Summary:     "A summary.",
		ContentHTML: "<p>Body</p>",
		Author:      "Ada",
		Section:     "Science",
		Categories:  []string{"Science", "Maths, applied"},
		ImageURL:    "https://example.com/img.png",
		ImageAlt:    "A picture",
		ReadMinutes: 4,
		Published:   published,
		FeedURL:     "https://example.com/feed.xml",
	}
}

func TestSaveStoriesDedupes(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	first := []newsletter.Story{story(1, t0), story(2, t0), story(1, t0)} // the repeat is skipped
	n, err := db.SaveStories(ctx, first, t0)
	if err != nil || n != 2 {
		t.Fatalf("SaveStories = %d, %v; want 2", n, err)
	}

	sameGUID := story(3, t0)
	sameGUID.GUID = "guid-1" // another URL, same GUID
	sameURL := story(4, t0)
	sameURL.URL = "https://example.com/posts/2" // another GUID, same URL (another feed)
	sameURL.FeedURL = "https://other.example/feed"
	noGUID := story(5, t0)
	noGUID.GUID = ""
	n, err = db.SaveStories(ctx, []newsletter.Story{sameGUID, sameURL, noGUID, story(6, t0)}, t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("second SaveStories = %d, %v; want 2 (5 and 6)", n, err)
	}

	got, err := db.UnsentStories(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("stored %d stories, want 4", len(got))
	}
	for _, s := range got {
		if s.ID == 0 {
			t.Fatalf("story without ID: %+v", s)
		}
		if s.GUID == "guid-5" || (s.URL == "https://example.com/posts/5" && s.GUID != s.URL) {
			t.Fatalf("empty GUID did not fall back to the URL: %+v", s)
		}
		if s.URL == "https://example.com/posts/1" {
			want := story(1, t0)
			want.ID, want.FirstSeen = s.ID, t0
			if !reflect.DeepEqual(s, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", s, want)
			}
		}
	}

	if _, err := db.SaveStories(ctx, []newsletter.Story{{Title: "no url"}}, t0); err == nil {
		t.Fatal("story without URL accepted")
	}
}

func TestUnsentStories(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	upTo := t0.Add(7 * 24 * time.Hour)

	in := []newsletter.Story{
		story(1, t0),                     // reported out by another issue
		story(2, t0.Add(time.Second)),    // on offer
		story(3, upTo),                   // on the inclusive bound: in
		story(4, upTo.Add(time.Second)),  // after: out
		story(5, t0.Add(48*time.Hour)),   // pinned, older: first
		story(6, t0.Add(72*time.Hour)),   // goes into another issue
		story(7, t0.Add(96*time.Hour)),   // goes into the issue being rebuilt
		story(8, t0.AddDate(0, 0, -100)), // long before any window, and never decided: on offer
	}
	in[4].Pinned = true
	if _, err := db.SaveStories(ctx, in, t0); err != nil {
		t.Fatal(err)
	}
	all, err := db.UnsentStories(ctx, upTo, 0)
	if err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]newsletter.Story{}
	for _, s := range all {
		byTitle[s.Title] = s
	}
	if want := "[Story 5 Story 3 Story 7 Story 6 Story 2 Story 1 Story 8]"; titles(all) != want {
		t.Fatalf("offered: %s, want %s", titles(all), want)
	}

	other, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 18}, Cutoff: t0,
		Stories: []newsletter.Story{byTitle["Story 6"]},
		Report:  []newsletter.Verdict{{StoryID: byTitle["Story 6"].ID, Included: true}, {StoryID: byTitle["Story 1"].ID, Reason: "over the cap of 1 stories"}}})
	if err != nil {
		t.Fatal(err)
	}
	// A plain draft decides nothing: its stories and its report's stay on offer.
	if got, err := db.UnsentStories(ctx, upTo, 0); err != nil || titles(got) != titles(all) {
		t.Fatalf("with a draft holding Story 6: %s, %v; want %s", titles(got), err, titles(all))
	}
	if err := db.ApproveIssue(ctx, other.ID, "ed", t0); err != nil {
		t.Fatal(err)
	}
	this, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: upTo,
		Stories: []newsletter.Story{byTitle["Story 7"]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetIssueStatus(ctx, this.ID, newsletter.IssueSending, t0); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		except int64
		want   string
	}{
		{"none excepted", 0, "[Story 5 Story 3 Story 2 Story 8]"},
		{"rebuilding this issue", this.ID, "[Story 5 Story 3 Story 7 Story 2 Story 8]"},
		{"rebuilding the other", other.ID, "[Story 5 Story 3 Story 6 Story 2 Story 1 Story 8]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.UnsentStories(ctx, upTo, tc.except)
			if err != nil {
				t.Fatal(err)
			}
			if titles(got) != tc.want {
				t.Fatalf("got %s, want %s", titles(got), tc.want)
			}
		})
	}
}

func titles(stories []newsletter.Story) string {
	out := make([]string, len(stories))
	for i, s := range stories {
		out[i] = s.Title
	}
	return fmt.Sprint(out)
}
