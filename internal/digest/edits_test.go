package digest

import (
	"slices"
	"strconv"
	"strings"
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
	// Picks the editor adds by hand are stored as published when added: newer than any candidate.
	fresh := []newsletter.Offer{{Story: story(9, "pick", 0)}, {Story: story(10, "pick-two", 0)}}
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
		{"bad edit ignored", []newsletter.Edit{edit(ActionMove, 3, "zero"), edit("explode", 1, ""), edit(ActionAdd, 9, "0")}, fresh, 3, []int64{1, 2, 3}, nil},
		{"pick after the pinned story", []newsletter.Edit{edit(ActionPin, 4, ""), edit(ActionAdd, 9, "")}, fresh, 3, []int64{4, 9, 1}, nil},
		{"pinned after the pick still leads", []newsletter.Edit{edit(ActionAdd, 9, ""), edit(ActionPin, 4, "")}, fresh, 3, []int64{4, 9, 1}, nil},
		{"picks in the order added", []newsletter.Edit{edit(ActionPin, 4, ""), edit(ActionAdd, 10, ""), edit(ActionAdd, 9, "")}, fresh, 4, []int64{4, 10, 9, 1}, nil},
		{"pick at a position", []newsletter.Edit{edit(ActionAdd, 9, "3")}, fresh, 3, []int64{1, 2, 9}, map[int64]string{3: "over the cap of 3 stories"}},
		{"pick at the lead, ahead of the pinned", []newsletter.Edit{edit(ActionPin, 4, ""), edit(ActionAdd, 9, "1")}, fresh, 3, []int64{9, 4, 1}, nil},
		{"pick past the end", []newsletter.Edit{edit(ActionAdd, 9, "50")}, fresh, 3, []int64{1, 2, 9}, nil},
		{"pick added again is placed anew", []newsletter.Edit{edit(ActionPin, 4, ""), edit(ActionAdd, 9, "3"), edit(ActionAdd, 9, "")}, fresh, 3, []int64{4, 9, 1}, nil},
		{"pick removed", []newsletter.Edit{edit(ActionAdd, 9, "2"), edit(ActionRemove, 9, "")}, nil, 3, []int64{1, 2, 3}, nil},
		{"pinned pick", []newsletter.Edit{edit(ActionAdd, 9, "2"), edit(ActionPin, 9, "")}, fresh, 3, []int64{1, 9, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As the builder does, offer only the picks the shape holds.
			sh := Replay(tt.edits)
			picks := slices.DeleteFunc(slices.Clone(tt.picks), func(o newsletter.Offer) bool { return !slices.Contains(sh.Picks, o.Story.ID) })
			got, decisions := SelectShaped(candidates, picks, tt.max, sh)
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

// With grouping on, the email shows the lead, then the others by section in order of first
// appearance, those without one last; the issue's story order must be that order.
func TestSelectShapedGroupedIsTheOrderSent(t *testing.T) {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var candidates []newsletter.Story
	for i, sec := range []string{"News", "", "Reviews", "news", "Reviews "} {
		candidates = append(candidates, newsletter.Story{ID: int64(i + 1), URL: "https://example.com/" + strconv.Itoa(i),
			Title: "story " + strconv.Itoa(i+1), Section: sec, Published: base.Add(-time.Duration(i) * time.Hour)})
	}
	grouped := Replay([]newsletter.Edit{{Action: ActionGroup, Value: "on"}})
	got, _ := SelectShaped(candidates, nil, 5, grouped)
	var ids []int64
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if want := []int64{1, 3, 5, 4, 2}; !slices.Equal(ids, want) {
		t.Errorf("grouped order %v, want %v", ids, want)
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

func TestCheckEdit(t *testing.T) {
	tests := []struct {
		name    string
		edit    newsletter.Edit
		wantErr string // empty: valid
	}{
		{"subject", newsletter.Edit{Action: ActionSubject, Value: "Hello"}, ""},
		{"subject with a line break", newsletter.Edit{Action: ActionPreheader, Value: "a\nb"}, "set-preheader: must not contain control characters"},
		{"intro too long", newsletter.Edit{Action: ActionIntro, Value: strings.Repeat("x", 20001)}, "set-intro: at most 20000 bytes"},
		{"pin", newsletter.Edit{Action: ActionPin, StoryID: 3}, ""},
		{"exclude without a story", newsletter.Edit{Action: ActionExclude}, "exclude: which story?"},
		{"add without a position", newsletter.Edit{Action: ActionAdd, StoryID: 3}, ""},
		{"add at a position", newsletter.Edit{Action: ActionAdd, StoryID: 3, Value: "2"}, ""},
		{"add at position zero", newsletter.Edit{Action: ActionAdd, StoryID: 3, Value: "0"}, `add: position "0": want 1 or more`},
		{"add without a story", newsletter.Edit{Action: ActionAdd, Value: "2"}, "add: which story?"},
		{"move", newsletter.Edit{Action: ActionMove, StoryID: 3, Value: "1"}, ""},
		{"move without a position", newsletter.Edit{Action: ActionMove, StoryID: 3}, `move: position "": want 1 or more`},
		{"move to a word", newsletter.Edit{Action: ActionMove, StoryID: 3, Value: "top"}, `move: position "top": want 1 or more`},
		{"move without a story", newsletter.Edit{Action: ActionMove, Value: "1"}, "move: which story?"},
		{"group", newsletter.Edit{Action: ActionGroup, Value: "on"}, ""},
		{"group maybe", newsletter.Edit{Action: ActionGroup, Value: "maybe"}, `group: want on or off, got "maybe"`},
		{"approve", newsletter.Edit{Action: ActionApprove}, ""},
		{"unknown", newsletter.Edit{Action: "delete"}, `unknown action "delete" (want one of set-subject, `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckEdit(tt.edit)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckEdit = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("CheckEdit = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
