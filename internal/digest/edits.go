package digest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

// The editor actions on a draft, as recorded in newsletter.Edit.Action.
const (
	ActionSubject   = "set-subject"   // Value: the subject line; empty returns to the template
	ActionPreheader = "set-preheader" // Value: the inbox preview text; empty returns to the default
	ActionIntro     = "set-intro"     // Value: the editor's note, Markdown
	ActionPin       = "pin"           // StoryID: always in, first
	ActionUnpin     = "unpin"         // StoryID
	ActionExclude   = "exclude"       // StoryID: never in this issue
	ActionInclude   = "include"       // StoryID: undo an exclusion
	ActionMove      = "move"          // StoryID to position Value (1 = lead)
	ActionAdd       = "add"           // StoryID: a manual pick, stored as a story first; Value: its 1-based position, empty for after the pinned stories
	ActionRemove    = "remove"        // StoryID: drop a manual pick
	ActionGroup     = "group"         // Value "on" or "off": group by section
	ActionApprove   = "approve"       // freezes the issue (recorded for the log; the store holds the state)
	ActionUnapprove = "unapprove"     // reopens an approved issue as a draft (recorded for the log)
)

// Actions lists every action, for help texts and validation.
var Actions = []string{ActionSubject, ActionPreheader, ActionIntro, ActionPin, ActionUnpin, ActionExclude,
	ActionInclude, ActionMove, ActionAdd, ActionRemove, ActionGroup, ActionApprove, ActionUnapprove}

// CheckEdit reports what is wrong with an edit before it is recorded.
func CheckEdit(e newsletter.Edit) error {
	switch e.Action {
	case ActionSubject, ActionPreheader:
		if err := newsletter.CheckSubject(e.Value); err != nil {
			return fmt.Errorf("%s: %w", e.Action, err)
		}
	case ActionIntro:
		if len(e.Value) > 20000 {
			return fmt.Errorf("%s: at most 20000 bytes", e.Action)
		}
	case ActionPin, ActionUnpin, ActionExclude, ActionInclude, ActionRemove, ActionAdd, ActionMove:
		if e.StoryID <= 0 {
			return fmt.Errorf("%s: which story?", e.Action)
		}
		// A move needs a position; an add may leave it empty.
		positioned := e.Action == ActionMove || e.Action == ActionAdd && e.Value != ""
		if n, err := strconv.Atoi(e.Value); positioned && (err != nil || n < 1) {
			return fmt.Errorf("%s: position %q: want 1 or more", e.Action, e.Value)
		}
	case ActionGroup:
		if e.Value != "on" && e.Value != "off" {
			return fmt.Errorf("%s: want on or off, got %q", e.Action, e.Value)
		}
	case ActionApprove, ActionUnapprove:
	default:
		return fmt.Errorf("unknown action %q (want one of %s)", e.Action, strings.Join(Actions, ", "))
	}
	return nil
}

// Shape is a draft's editorial state: the replay of its edits, applied on every rebuild.
type Shape struct {
	Subject, Preheader, Intro string
	GroupBySection            bool
	Pinned                    map[int64]bool
	Excluded                  map[int64]string // story → the editor who excluded it
	Picks                     []int64          // manual picks, in the order they were added
	PickAt                    map[int64]int    // a pick's 1-based position; absent: after the pinned stories
	Moves                     []Move           // applied in order after selection
}

// Move puts a story at a 1-based position.
type Move struct {
	StoryID  int64
	Position int
}

// Replay folds a week's edits, oldest first, into its Shape. Edits that do not check out
// are skipped, so a bad row can never break a build.
func Replay(edits []newsletter.Edit) Shape {
	sh := Shape{Pinned: map[int64]bool{}, Excluded: map[int64]string{}, PickAt: map[int64]int{}}
	for _, e := range edits {
		if CheckEdit(e) != nil {
			continue
		}
		switch e.Action {
		case ActionSubject:
			sh.Subject = strings.TrimSpace(e.Value)
		case ActionPreheader:
			sh.Preheader = strings.TrimSpace(e.Value)
		case ActionIntro:
			sh.Intro = strings.TrimSpace(e.Value)
		case ActionPin:
			sh.Pinned[e.StoryID] = true
		case ActionUnpin:
			delete(sh.Pinned, e.StoryID)
		case ActionExclude:
			sh.Excluded[e.StoryID] = e.Editor
		case ActionInclude:
			delete(sh.Excluded, e.StoryID)
		case ActionMove:
			n, _ := strconv.Atoi(e.Value)
			sh.Moves = append(sh.Moves, Move{StoryID: e.StoryID, Position: n})
		case ActionAdd:
			// Adding a pick again places it anew.
			sh.Picks = append(slices.DeleteFunc(sh.Picks, func(id int64) bool { return id == e.StoryID }), e.StoryID)
			delete(sh.PickAt, e.StoryID)
			if n, _ := strconv.Atoi(e.Value); n > 0 {
				sh.PickAt[e.StoryID] = n
			}
		case ActionRemove:
			sh.Picks = slices.DeleteFunc(sh.Picks, func(id int64) bool { return id == e.StoryID })
			delete(sh.PickAt, e.StoryID)
		case ActionGroup:
			sh.GroupBySection = e.Value == "on"
		}
	}
	return sh
}

// SelectShaped is Select with the editors' shape applied: excluded stories are left out,
// pinned stories and manual picks (offered in picks) are always in and count towards the
// cap. Pinned stories lead; each pick goes where the editor put it, or after the pinned
// stories (and the picks placed there before it); then the editors' moves reorder the
// result. When the editors group by section, the stories after the lead are grouped as the
// email shows them, so the order returned is the order sent. Picks that already went out
// in another issue are reported, not included.
func SelectShaped(candidates []newsletter.Story, picks []newsletter.Offer, max int, sh Shape) ([]newsletter.Story, []Decision) {
	var decisions []Decision
	var pool []newsletter.Story
	seen := map[int64]bool{}
	for _, p := range picks {
		s := p.Story
		seen[s.ID] = true
		switch {
		case !p.IssueWeek.IsZero():
			decisions = append(decisions, Decision{Story: s, Reason: "manual pick already sent in issue " + p.IssueWeek.String()})
		case sh.Excluded[s.ID] != "":
			decisions = append(decisions, Decision{Story: s, Reason: "excluded by " + sh.Excluded[s.ID]})
		default:
			// Marked pinned only so that Select keeps it under the cap; placed below.
			s.Pinned = true
			pool = append(pool, s)
		}
	}
	for _, s := range candidates {
		if seen[s.ID] && s.ID != 0 {
			continue
		}
		if by, ok := sh.Excluded[s.ID]; ok && s.ID != 0 {
			decisions = append(decisions, Decision{Story: s, Reason: "excluded by " + by})
			continue
		}
		if sh.Pinned[s.ID] {
			s.Pinned = true
		}
		pool = append(pool, s)
	}
	selected, report := Select(pool, max)
	picked := placePicks(selected, sh)
	for _, m := range sh.Moves {
		i := slices.IndexFunc(picked, func(s newsletter.Story) bool { return s.ID == m.StoryID })
		if i < 0 {
			continue
		}
		s := picked[i]
		picked = slices.Delete(picked, i, i+1)
		picked = slices.Insert(picked, min(m.Position-1, len(picked)), s)
	}
	if sh.GroupBySection {
		picked = groupBySection(picked)
	}
	return picked, append(report, decisions...)
}

// placePicks takes the manual picks out of Select's order (where they lead, as pinned
// stories) and puts them back where the editors placed them.
func placePicks(selected []newsletter.Story, sh Shape) []newsletter.Story {
	byID := map[int64]newsletter.Story{}
	var rest []newsletter.Story
	for _, s := range selected {
		if slices.Contains(sh.Picks, s.ID) {
			s.Pinned = sh.Pinned[s.ID]
			byID[s.ID] = s
			continue
		}
		rest = append(rest, s)
	}
	// Select sorts pinned stories first, so they are a prefix of rest.
	after := 0
	for after < len(rest) && rest[after].Pinned {
		after++
	}
	var out []newsletter.Story
	out = append(out, rest[:after]...)
	for _, id := range sh.Picks {
		if s, ok := byID[id]; ok && sh.PickAt[id] == 0 {
			out = append(out, s)
		}
	}
	out = append(out, rest[after:]...)
	for _, id := range sh.Picks {
		if s, ok := byID[id]; ok && sh.PickAt[id] > 0 {
			out = slices.Insert(out, min(sh.PickAt[id]-1, len(out)), s)
		}
	}
	return out
}

// groupBySection keeps the lead and groups the others by section in order of first
// appearance, those without one last: the order in which the email shows them.
func groupBySection(stories []newsletter.Story) []newsletter.Story {
	if len(stories) < 2 {
		return stories
	}
	key := func(s newsletter.Story) string { return strings.ToLower(strings.Join(strings.Fields(s.Section), " ")) }
	rank := map[string]int{"": len(stories)} // after every section
	for _, s := range stories[1:] {
		if _, ok := rank[key(s)]; !ok {
			rank[key(s)] = len(rank)
		}
	}
	out := slices.Clone(stories)
	slices.SortStableFunc(out[1:], func(a, b newsletter.Story) int { return cmp.Compare(rank[key(a)], rank[key(b)]) })
	return out
}

// Outside reports the offered stories that were never candidates for the issue, and why:
// published before its window opened, after its cutoff, or already in another issue.
// Stories already decided (by ID in decided) are left out.
func Outside(offers []newsletter.Offer, w Window, decided []Decision, loc *time.Location) []Decision {
	known := map[int64]bool{}
	for _, d := range decided {
		known[d.Story.ID] = true
	}
	var out []Decision
	for _, o := range offers {
		s := o.Story
		if known[s.ID] {
			continue
		}
		var reason string
		switch {
		case !o.IssueWeek.IsZero():
			reason = "already sent in issue " + o.IssueWeek.String()
		case !s.Published.After(w.After):
			reason = "too old: published " + s.Published.In(loc).Format("2006-01-02 15:04") + ", before this issue's window"
		case s.Published.After(w.Cutoff):
			reason = "too new: published after this issue's cutoff; goes in the next issue"
		default:
			reason = "not a candidate"
		}
		out = append(out, Decision{Story: s, Reason: reason})
	}
	return out
}
