package editorial

import (
	"context"
	"errors"
	"slices"

	"newsletter/internal/newsletter"
)

// StatusStore is the part of the database an issue's status comes from.
type StatusStore interface {
	Reports
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	ListIssues(ctx context.Context) ([]newsletter.Issue, error)
	IssueHold(ctx context.Context, issueID int64) (string, error)
	DeliveryBacklog(ctx context.Context, issueID int64) (int, error)
	CountSubscribers(ctx context.Context) (map[newsletter.SubscriberStatus]int, error)
}

// IssueStatus is what `newsletter status` shows of one week's issue.
type IssueStatus struct {
	Week  newsletter.Week
	Issue *newsletter.Issue // nil: not built yet
	Hold  string            // why sending is held, "" when it is not
	// Counts is the ledger by status; Left (for an issue not sent yet) is what is still to
	// send of the Active subscribers.
	Counts       map[newsletter.DeliveryStatus]int
	Left, Active int
	Reports      newsletter.IssueReports // the bounces and complaints that came back
	Complaints   Complaints
}

// Status gathers the status of week's issue alone when only is set, else of week's and the
// one before, after any other issue still being sent (say, a week sent late by hand).
func Status(ctx context.Context, s StatusStore, week newsletter.Week, only bool) ([]IssueStatus, error) {
	weeks := []newsletter.Week{week}
	if !only {
		weeks = []newsletter.Week{week.Prev(), week}
		list, err := s.ListIssues(ctx)
		if err != nil {
			return nil, err
		}
		for _, is := range list {
			if is.Status == newsletter.IssueSending && !slices.Contains(weeks, is.Week) {
				weeks = slices.Insert(weeks, 0, is.Week)
			}
		}
	}
	subs, err := s.CountSubscribers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]IssueStatus, len(weeks))
	for i, w := range weeks {
		st := &out[i]
		st.Week, st.Active = w, subs[newsletter.StatusActive]
		is, err := s.IssueByWeek(ctx, w)
		if errors.Is(err, newsletter.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		st.Issue = &is
		if st.Hold, err = s.IssueHold(ctx, is.ID); err != nil {
			return nil, err
		}
		if st.Counts, err = s.IssueCounts(ctx, is.ID); err != nil {
			return nil, err
		}
		if is.Status != newsletter.IssueSent {
			// The ledger is queued a chunk at a time as the send goes, so its rows alone
			// undercount what is left: count against every active subscriber.
			if st.Left, err = s.DeliveryBacklog(ctx, is.ID); err != nil {
				return nil, err
			}
		}
		if st.Complaints, st.Reports, err = IssueComplaints(ctx, s, is); err != nil {
			return nil, err
		}
	}
	return out, nil
}
