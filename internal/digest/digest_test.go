package digest

import (
	"strings"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestSelect(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 4, d, 9, 0, 0, 0, time.UTC) }
	stories := []newsletter.Story{
		{URL: "https://a.example/old", Title: "Old news", Published: day(27)},
		{URL: "https://a.example/new", Title: "New news", Published: day(30)},
		{URL: "https://a.example/pick", Title: "Editor pick", Published: day(20), Pinned: true},
		{URL: "https://b.example/syndicated", Title: "new NEWS!", Published: day(29)},
		{URL: "https://a.example/new", Title: "New news (copy)", Published: day(28)},
		{URL: "https://a.example/mid", Title: "Middle", Published: day(28)},
	}
	picked, decisions := Select(stories, 3)
	var got []string
	for _, s := range picked {
		got = append(got, s.URL)
	}
	want := "https://a.example/pick https://a.example/new https://a.example/mid"
	if strings.Join(got, " ") != want {
		t.Fatalf("picked %v, want %s", got, want)
	}
	if len(decisions) != len(stories) {
		t.Fatalf("%d decisions for %d stories", len(decisions), len(stories))
	}
	reasons := map[string]string{}
	for _, d := range decisions {
		if !d.Included {
			reasons[d.Story.Title] = d.Reason
		}
	}
	for title, wantReason := range map[string]string{
		"new NEWS!":       "same headline as https://a.example/new",
		"New news (copy)": "duplicate of https://a.example/new",
		"Old news":        "over the cap of 3 stories",
	} {
		if reasons[title] != wantReason {
			t.Errorf("reason for %q = %q, want %q", title, reasons[title], wantReason)
		}
	}
	// Input order must not matter.
	rev := append([]newsletter.Story(nil), stories...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	picked2, _ := Select(rev, 3)
	for i := range picked {
		if picked[i].URL != picked2[i].URL {
			t.Fatalf("order depends on input order: %v vs %v", picked, picked2)
		}
	}
}
