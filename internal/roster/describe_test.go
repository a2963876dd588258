package roster_test

import (
	"testing"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

func TestBounceOutcomeDescribe(t *testing.T) {
	ada := newsletter.Subscriber{ID: 7, Email: "ada@example.com"}
	rules := roster.BounceRules{BounceRules: store.BounceRules{SoftWindow: 720 * time.Hour}}
	for _, tc := range []struct {
		name string
		rep  bounce.Report
		out  roster.BounceOutcome
		week string
		want string
	}{
		{"irrelevant", bounce.Report{Kind: bounce.Irrelevant}, roster.BounceOutcome{Skipped: "not a bounce or complaint"}, "",
			"irrelevant: not a bounce or complaint"},
		{"nobody found", bounce.Report{Kind: bounce.Hard, Status: "5.1.1"}, roster.BounceOutcome{Skipped: "VERP token is forged"}, "",
			"hard bounce 5.1.1: VERP token is forged"},
		{"known already", bounce.Report{Kind: bounce.Soft}, roster.BounceOutcome{Subscriber: ada, By: "verp", IssueID: 3, Skipped: "already recorded"}, "2026-W19",
			"soft bounce for ada@example.com (by verp, issue 2026-W19): already recorded; nothing changed"},
		{"hard bounce suppresses", bounce.Report{Kind: bounce.Hard, Status: "5.1.1"},
			roster.BounceOutcome{Subscriber: ada, By: "verp", IssueID: 3, Recorded: true,
				Result: store.BounceResult{Hard: 1, Limit: 1, Suppressed: store.SuppressBounced, Status: newsletter.StatusBounced}}, "2026-W19",
			"hard bounce 5.1.1 for ada@example.com (by verp, issue 2026-W19): suppressed (bounced), status bounced"},
		{"complaint", bounce.Report{Kind: bounce.Complaint},
			roster.BounceOutcome{Subscriber: ada, By: "list-unsubscribe", Recorded: true,
				Result: store.BounceResult{Suppressed: store.SuppressComplained, Status: newsletter.StatusUnsubscribed}}, "",
			"complaint for ada@example.com (by list-unsubscribe): suppressed (complained), status unsubscribed"},
		{"mailto unsubscribe", bounce.Report{Kind: bounce.Unsubscribe},
			roster.BounceOutcome{Subscriber: ada, By: "list-unsubscribe", Recorded: true, Result: store.BounceResult{Suppressed: store.SuppressUnsubscribed}}, "",
			"mailto unsubscribe for ada@example.com (by list-unsubscribe): unsubscribed"},
		{"hard bounce under the limit", bounce.Report{Kind: bounce.Hard, Status: "5.2.1"},
			roster.BounceOutcome{Subscriber: ada, By: "message-id", Recorded: true, Result: store.BounceResult{Hard: 1, Limit: 2}}, "",
			"hard bounce 5.2.1 for ada@example.com (by message-id): 1 of 2 hard bounces (delivery.bounce_limit)"},
		{"soft bounce counted", bounce.Report{Kind: bounce.Soft, Status: "4.2.2"},
			roster.BounceOutcome{Subscriber: ada, By: "verp", Recorded: true, Result: store.BounceResult{Soft: 1, Limit: 2}}, "",
			"soft bounce 4.2.2 for ada@example.com (by verp): 1 of 2 soft bounces within 720h0m0s (bounces.soft_limit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.out.Describe(tc.rep, tc.week, rules); got != tc.want {
				t.Fatalf("Describe =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
