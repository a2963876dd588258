package digest

import (
	"slices"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestSelectShaped(t *testing.T) {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	story := func(id int64, title string, age int) newsletter.Story {
		return newsletter.Story{ID: id, URL: "https://example.com/" + title, Title: title, Published: base.Add(-time.Duration(age) * time.Hour)}
	}
	candidates := []newsletter.Story{story(1, "a", 1), story(2, "b", 2), story(3, "c", 3), story(4, "d", 4)}
	pick := newsletter.Offer{Story: story(9, "pick", 100)}
	sent := newsletter.Offer{Story: story(8, "old-pick", 100), IssueWeek: newsletter.Week{Year: 2026, Num: 17}}
	edit := func(action string, id int64, value string) newsletter.Edit {
		return newsletter.Edit{Editor: "ayse", Action: action, StoryID: id, Value: value}
	}
	tests := []struct {
		name    string
		edits   []newsletter.Edit
		picks   []newsletter.Offer
		max     int
		want    []int64
		reasons map[int64]string
	}{
		{"no edits", nil, nil, 3, []int64{1, 2, 3}, map[int64]string{4: "over the cap of 3 stories"}},
		{"pin an older story", []newsletter.Edit{edit(ActionPin, 4, "")}, nil, 3, []int64{4, 1, 2}, nil},
		{"pin then unpin", []newsletter.Edit{edit(ActionPin, 4, ""), edit(ActionUnpin, 4, "")}, nil, 3, []int64{1, 2, 3}, nil},
		{"exclude", []newsletter.Edit{edit(ActionExclude, 1, "")}, nil, 3, []int64{2, 3, 4}, map[int64]string{1: "excluded by ayse"}},
		{"exclude then include", []newsletter.Edit{edit(ActionExclude, 1, ""), edit(ActionInclude, 1, "")}, nil, 3, []int64{1, 2, 3}, nil},
		{"move to lead", []newsletter.Edit{edit(ActionMove, 3, "1")}, nil, 3, []int64{3, 1, 2}, nil},
		{"move past the end", []newsletter.Edit{edit(ActionMove, 1, "99")}, nil, 3, []int64{2, 3, 1}, nil},
		{"manual pick first", []newsletter.Edit{edit(ActionAdd, 9, "")}, []newsletter.Offer{pick}, 3, []int64{9, 1, 2}, nil},
		{"pick already sent", []newsletter.Edit{edit(ActionAdd, 8, "")}, []newsletter.Offer{sent}, 3, []int64{1, 2, 3}, map[int64]string{8: "manual pick already sent in issue 2026-W17"}},
		{"bad edit ignored", []newsletter.Edit{edit(ActionMove, 3, "zero"), edit("explode", 1, "")}, nil, 3, []int64{1, 2, 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, decisions := SelectShaped(candidates, tt.picks, tt.max, Replay(tt.edits))
			var ids []int64
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("picked %v, want %v", ids, tt.want)
			}
			for id, reason := range tt.reasons {
				i := slices.IndexFunc(decisions, func(d Decision) bool { return d.Story.ID == id })
				if i < 0 || decisions[i].Reason != reason {
					t.Errorf("story %d: decisions %+v, want reason %q", id, decisions, reason)
				}
			}
		})
	}
}

func TestOutside(t *testing.T) {
	w := Window{After: time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC), Cutoff: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
	offers := []newsletter.Offer{
		{Story: newsletter.Story{ID: 1, Published: w.After.Add(-time.Hour)}},
		{Story: newsletter.Story{ID: 2, Published: w.Cutoff.Add(time.Hour)}},
		{Story: newsletter.Story{ID: 3, Published: w.After.Add(time.Hour)}, IssueWeek: newsletter.Week{Year: 2026, Num: 18}},
		{Story: newsletter.Story{ID: 4, Published: w.After.Add(time.Hour)}},
	}
	got := Outside(offers, w, []Decision{{Story: newsletter.Story{ID: 4}, Included: true}}, time.UTC)
	want := []string{"too old", "too new", "already sent in issue 2026-W18"}
	if len(got) != len(want) {
		t.Fatalf("got %d decisions: %+v", len(got), got)
	}
	for i, d := range got {
		if len(d.Reason) < len(want[i]) || d.Reason[:len(want[i])] != want[i] {
			t.Errorf("story %d: reason %q, want %q…", d.Story.ID, d.Reason, want[i])
		}
	}
}
