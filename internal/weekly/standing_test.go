package weekly_test

import (
	"context"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/weekly"
)

// Week 19's slot is Monday 4 May, 08:00 in Istanbul, with 12 hours' grace.
func TestOutlook(t *testing.T) {
	c := newCycle(t)
	ctx := context.Background()
	slot := c.at(5, 4, 8, 0)
	for _, tc := range []struct {
		name string
		now  time.Time
		want weekly.Standing
	}{
		{"before its slot", c.at(5, 1, 12, 0), weekly.StandingUpcoming},
		{"at its slot", slot, weekly.StandingDue},
		{"within the grace", c.at(5, 4, 19, 59), weekly.StandingDue},
		{"past the grace", c.at(5, 4, 20, 1), weekly.StandingMissed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := c.b.Outlook(ctx, w19, tc.now)
			if err != nil || o.Standing != tc.want || !o.SendAt.Equal(slot) {
				t.Fatalf("Outlook = %+v, %v; want standing %d, slot %s", o, err, tc.want, slot)
			}
		})
	}
	// A built issue's status wins over the clock once it is being sent or sent.
	c.publish(map[string]time.Time{"a": c.at(4, 28, 10, 0)})
	c.now = c.at(5, 1, 12, 0)
	built := c.gatherAndBuild(w19)
	late := c.at(5, 20, 9, 0)
	for _, st := range []struct {
		status newsletter.IssueStatus
		want   weekly.Standing
	}{
		{newsletter.IssueApproved, weekly.StandingMissed},
		{newsletter.IssueSending, weekly.StandingSending},
		{newsletter.IssueSent, weekly.StandingSent},
	} {
		if err := c.db.SetIssueStatus(ctx, built.Issue.ID, st.status, late); err != nil {
			t.Fatal(err)
		}
		o, err := c.b.Outlook(ctx, w19, late)
		if err != nil || o.Standing != st.want {
			t.Fatalf("%s: Outlook = %+v, %v; want standing %d", st.status, o, err, st.want)
		}
		if st.want == weekly.StandingSent && !o.SentAt.Equal(late) {
			t.Fatalf("sent at %s, want %s", o.SentAt, late)
		}
	}
}
