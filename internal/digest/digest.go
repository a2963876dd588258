// Package digest decides which stories make up a week's issue: the time window an issue
// covers, and the pick, de-duplication and order of its stories. Pure functions, no I/O.
package digest

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"newsletter/internal/newsletter"
)

// Window is the span an issue covers: stories published after After and up to Cutoff.
type Window struct {
	After  time.Time // exclusive
	Cutoff time.Time // inclusive
}

// In is the window for people in loc: "2026-04-27 00:00 – 2026-05-04 00:00 (Europe/Istanbul)".
func (w Window) In(loc *time.Location) string {
	return fmt.Sprintf("%s – %s (%s)", w.After.In(loc).Format("2006-01-02 15:04"), w.Cutoff.In(loc).Format("2006-01-02 15:04"), loc)
}

// Decision says whether one offered story made the issue, and why not.
type Decision struct {
	Story    newsletter.Story
	Included bool
	Reason   string // empty when included
}

// Select orders the candidate stories (pinned first, then newest; ties by URL so the order
// is stable), drops duplicates (same URL, or the same headline from another feed) and
// caps the issue at max stories. It returns the pick and a decision for every candidate.
func Select(candidates []newsletter.Story, max int) ([]newsletter.Story, []Decision) {
	sorted := append([]newsletter.Story(nil), candidates...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Pinned != b.Pinned {
			return a.Pinned
		}
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.URL < b.URL
	})
	var picked []newsletter.Story
	decisions := make([]Decision, 0, len(sorted))
	seenURL := map[string]string{}
	seenTitle := map[string]string{}
	for _, s := range sorted {
		key := titleKey(s.Title)
		switch {
		case seenURL[s.URL] != "":
			decisions = append(decisions, Decision{Story: s, Reason: "duplicate of " + seenURL[s.URL]})
		case key != "" && seenTitle[key] != "":
			decisions = append(decisions, Decision{Story: s, Reason: "same headline as " + seenTitle[key]})
		case len(picked) >= max:
			decisions = append(decisions, Decision{Story: s, Reason: fmt.Sprintf("over the cap of %d stories", max)})
		default:
			picked = append(picked, s)
			seenURL[s.URL] = s.URL
			if key != "" {
				seenTitle[key] = s.URL
			}
			decisions = append(decisions, Decision{Story: s, Included: true})
		}
	}
	return picked, decisions
}

// titleKey reduces a headline to lower-case letters and digits, so that the same story
// syndicated with different punctuation or spacing is recognised.
func titleKey(title string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, title)
}
