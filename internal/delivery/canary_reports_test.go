package delivery_test

import (
	"context"
	"strings"
	"testing"

	"newsletter/internal/delivery"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
)

// TestCanaryCountsComplaintsDuringItsWait holds an issue when a complaint about a canary
// message is recorded (as `bounces process` would) while the canary waits, and lets it go
// on when none is.
func TestCanaryCountsComplaintsDuringItsWait(t *testing.T) {
	for _, tc := range []struct {
		name      string
		complaint bool
		wantHeld  string
	}{
		{"no complaint", false, ""},
		{"one complaint", true, "1 of 4 complained (limit 0.1%)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, 20)
			srv := smtptest.Start(t)
			calls := 0
			s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
				o.Canary = delivery.Canary{Share: 0.2, MaxBounceRate: 0.02, MaxDeferRate: 0.1, MaxComplaintRate: 0.001}
				o.LateReports = func(ctx context.Context, issueID int64) (int, int, error) {
					calls++
					// Called once the wait is over: the report arrived during it.
					if tc.complaint {
						sub := f.subs[0] // claimed first, so one of the canary's recipients
						_, err := f.db.RecordBounce(ctx, store.BounceEvent{SubscriberID: sub.ID, IssueID: issueID,
							Kind: store.BounceComplaint, Reason: "feedback-type abuse", Source: "arf"},
							f.signer.Digest(sub.Email), store.BounceRules{}, f.clock.Now())
						if err != nil {
							return 0, 0, err
						}
					}
					r, err := f.db.IssueBounces(ctx, issueID)
					return r.Hard, r.Complaints, err
				}
			})
			rep, err := s.Send(context.Background(), f.issue, f.email)
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Fatalf("LateReports called %d times, want once after the wait", calls)
			}
			if !strings.Contains(rep.Held, tc.wantHeld) || (tc.wantHeld == "") != (rep.Held == "") {
				t.Fatalf("Held %q, want %q", rep.Held, tc.wantHeld)
			}
			if tc.complaint && (rep.Done || len(srv.Messages()) != 4) {
				t.Fatalf("a held issue went on: done %v, %d messages", rep.Done, len(srv.Messages()))
			}
			if !tc.complaint && (!rep.Done || rep.Sent != 20) {
				t.Fatalf("report %+v, want all 20 sent", rep)
			}
			if !strings.Contains(rep.Canary, "during the wait 0 late bounce(s)") {
				t.Errorf("Canary %q does not say what came back during the wait", rep.Canary)
			}
		})
	}
}
