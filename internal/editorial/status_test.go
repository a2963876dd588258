package editorial_test

import (
	"context"
	"testing"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
)

// statusStore is a fixed editorial.StatusStore: issues by week, one held, each with the same ledger.
type statusStore struct {
	reports
	issues map[newsletter.Week]newsletter.Issue
	held   int64
}

func (s statusStore) IssueByWeek(_ context.Context, w newsletter.Week) (newsletter.Issue, error) {
	if is, ok := s.issues[w]; ok {
		return is, nil
	}
	return newsletter.Issue{}, newsletter.ErrNotFound
}

func (s statusStore) ListIssues(context.Context) ([]newsletter.Issue, error) {
	var out []newsletter.Issue
	for _, is := range s.issues {
		out = append(out, is)
	}
	return out, nil
}

func (s statusStore) IssueHold(_ context.Context, id int64) (string, error) {
	if id == s.held {
		return "canary bounced", nil
	}
	return "", nil
}

func (s statusStore) DeliveryBacklog(context.Context, int64) (int, error) { return 40, nil }

func (s statusStore) CountSubscribers(context.Context) (map[newsletter.SubscriberStatus]int, error) {
	return map[newsletter.SubscriberStatus]int{newsletter.StatusActive: 100, newsletter.StatusUnsubscribed: 7}, nil
}

func TestStatus(t *testing.T) {
	w := func(n int) newsletter.Week { return newsletter.Week{Year: 2026, Num: n} }
	s := statusStore{
		reports: reports{sent: 1000, rep: newsletter.IssueReports{Hard: 2, HardInLedger: 2, Complaints: 3}},
		issues: map[newsletter.Week]newsletter.Issue{
			w(15): {ID: 15, Week: w(15), Status: newsletter.IssueSending},
			w(19): {ID: 19, Week: w(19), Status: newsletter.IssueSent},
			w(20): {ID: 20, Week: w(20), Status: newsletter.IssueDraft},
		},
		held: 20,
	}
	tests := []struct {
		name  string
		week  newsletter.Week
		only  bool
		weeks []newsletter.Week
	}{
		{"the week, the one before and one still sending", w(20), false, []newsletter.Week{w(15), w(19), w(20)}},
		{"a week not built yet", w(21), false, []newsletter.Week{w(15), w(20), w(21)}},
		{"only the week asked for", w(19), true, []newsletter.Week{w(19)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := editorial.Status(context.Background(), s, tt.week, tt.only)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.weeks) {
				t.Fatalf("%d issues, want %v", len(got), tt.weeks)
			}
			for i, st := range got {
				if st.Week != tt.weeks[i] || st.Active != 100 {
					t.Errorf("issue %d: week %s, active %d; want %s, 100", i, st.Week, st.Active, tt.weeks[i])
				}
				is, ok := s.issues[st.Week]
				if !ok {
					if st.Issue != nil {
						t.Errorf("%s: an issue not built has %+v", st.Week, st.Issue)
					}
					continue
				}
				wantLeft, wantHold := 40, ""
				if is.Status == newsletter.IssueSent {
					wantLeft = 0
				}
				if is.ID == s.held {
					wantHold = "canary bounced"
				}
				if st.Issue == nil || st.Issue.ID != is.ID || st.Hold != wantHold || st.Left != wantLeft ||
					st.Counts[newsletter.DeliverySent] != 1000 || st.Reports != s.rep ||
					st.Complaints != (editorial.Complaints{Week: st.Week, Complaints: 3, Delivered: 1002}) {
					t.Errorf("%s: %+v; want hold %q, %d left, 1000 sent, the reports and 3 complaints of 1002 delivered", st.Week, st, wantHold, wantLeft)
				}
			}
		})
	}
}
