package digest

import (
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
	ActionAdd       = "add"           // StoryID: a manual pick, stored as a story first
	ActionRemove    = "remove"        // StoryID: drop a manual pick
	ActionGroup     = "group"         // Value "on" or "off": group by section
	ActionApprove   = "approve"       // freezes the issue (recorded for the log; the store holds the state)
)

// Actions lists every action, for help texts and validation.
var Actions = []string{ActionSubject, ActionPreheader, ActionIntro, ActionPin, ActionUnpin, ActionExclude,
	ActionInclude, ActionMove, ActionAdd, ActionRemove, ActionGroup, ActionApprove}

// CheckEdit reports what is wrong with an edit before it is recorded.
func CheckEdit(e newsletter.Edit) error {
	switch e.Action {
	case ActionSubject, ActionPreheader:
		if strings.ContainsAny(e.Value, "\r\n") {
			return fmt.Errorf("%s: must be one line", e.Action)
		}
		if len([]rune(e.Value)) > 200 {
			return fmt.Errorf("%s: at most 200 characters", e.Action)
		}
	case ActionIntro:
		if len(e.Value) > 20000 {
			return fmt.Errorf("%s: at most 20000 bytes", e.Action)
		}
	case ActionPin, ActionUnpin, ActionExclude, ActionInclude, ActionAdd, ActionRemove:
		if e.StoryID <= 0 {
			return fmt.Errorf("%s: which story?", e.Action)
		}
	case ActionMove:
		if e.StoryID <= 0 {
			return fmt.Errorf("%s: which story?", e.Action)
		}
		if n, err := strconv.Atoi(e.Value); err != nil || n < 1 {
			return fmt.Errorf("%s: position %q: want 1 or more", e.Action, e.Value)
		}
	case ActionGroup:
		if e.Value != "on" && e.Value != "off" {
			return fmt.Errorf("%s: want on or off, got %q", e.Action, e.Value)
		}
	case ActionApprove:
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
	sh := Shape{Pinned: map[int64]bool{}, Excluded: map[int64]string{}}
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
			if !slices.Contains(sh.Picks, e.StoryID) {
				sh.Picks = append(sh.Picks, e.StoryID)
			}
		case ActionRemove:
			sh.Picks = slices.DeleteFunc(sh.Picks, func(id int64) bool { return id == e.StoryID })
		case ActionGroup:
			sh.GroupBySection = e.Value == "on"
		}
	}
	return sh
}

// SelectShaped is Select with the editors' shape applied: excluded stories are left out,
// pinned stories and manual picks (offered in picks) come first and count towards the cap,
// and the editors' moves reorder the result. Picks that already went out in another issue
// are reported, not included.
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
	picked, selected := Select(pool, max)
	for _, m := range sh.Moves {
		i := slices.IndexFunc(picked, func(s newsletter.Story) bool { return s.ID == m.StoryID })
		if i < 0 {
			continue
		}
		s := picked[i]
		picked = slices.Delete(picked, i, i+1)
		picked = slices.Insert(picked, min(m.Position-1, len(picked)), s)
	}
	return picked, append(selected, decisions...)
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
