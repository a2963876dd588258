package store

import (
	"context"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// TestEdits: each week keeps its own log, oldest first, with times to the second.
func TestEdits(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	wk := newsletter.Week{Year: 2026, Num: 19}
	other := newsletter.Week{Year: 2026, Num: 20}
	story := saveStories(t, db, newsletter.Story{GUID: "g", URL: "https://technerdo.com/a", Title: "A", Published: t0})[0]

	for _, tc := range []struct {
		name string
		edit newsletter.Edit
	}{
		{"no week", newsletter.Edit{Action: "pin", At: t0}},
		{"no action", newsletter.Edit{Week: wk, At: t0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.AddEdit(ctx, tc.edit); err == nil {
				t.Fatal("AddEdit accepted an edit without week or action")
			}
		})
	}

	in := []newsletter.Edit{
		{Week: wk, Editor: "ana", Action: "set-subject", Value: "Hello", At: t0.Add(1500 * time.Millisecond)},
		{Week: other, Editor: "ben", Action: "approve", At: t0.Add(2 * time.Second)},
		{Week: wk, Editor: "ben", Action: "pin", StoryID: story.ID, Value: "1", At: t0.Add(3 * time.Second)},
	}
	var saved []newsletter.Edit
	for _, e := range in {
		got, err := db.AddEdit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Fatalf("AddEdit(%+v) returned no ID", e)
		}
		saved = append(saved, got)
	}
	if !saved[0].At.Equal(t0.Add(time.Second)) {
		t.Errorf("stored time %v, want it cut to the second: %v", saved[0].At, t0.Add(time.Second))
	}

	got, err := db.Edits(ctx, wk)
	if err != nil {
		t.Fatal(err)
	}
	want := []newsletter.Edit{saved[0], saved[2]}
	if len(got) != len(want) {
		t.Fatalf("Edits(%s) = %+v, want %+v", wk, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("edit %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if none, err := db.Edits(ctx, newsletter.Week{Year: 2025, Num: 1}); err != nil || len(none) != 0 {
		t.Fatalf("a week without edits: %+v, %v", none, err)
	}
}
