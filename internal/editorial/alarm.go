package editorial

import (
	"context"

	"newsletter/internal/newsletter"
)

// Reports is the part of the database an issue's complaint figures come from.
type Reports interface {
	IssueByID(ctx context.Context, id int64) (newsletter.Issue, error)
	// IssueCounts counts the issue's ledger by status, compacted rows included.
	IssueCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error)
	IssueBounces(ctx context.Context, issueID int64) (newsletter.IssueReports, error)
}

// IssueComplaints reads the reports that came back about an issue and its complaints
// against what was delivered: what the relays accepted, the bounces reported later included.
func IssueComplaints(ctx context.Context, r Reports, is newsletter.Issue) (Complaints, newsletter.IssueReports, error) {
	counts, err := r.IssueCounts(ctx, is.ID)
	if err != nil {
		return Complaints{}, newsletter.IssueReports{}, err
	}
	rep, err := r.IssueBounces(ctx, is.ID)
	if err != nil {
		return Complaints{}, rep, err
	}
	return Complaints{Week: is.Week, Complaints: rep.Complaints, Delivered: counts[newsletter.DeliverySent] + rep.HardInLedger}, rep, nil
}

// Alarm is called after a complaint about issueID was recorded. When that complaint took the
// issue past ComplaintAlarm it tells the editors (once per issue: only the crossing one
// does) and returns a line saying so; otherwise "". A nil notice (no editorial.editors_email)
// or a notice that fails is said in the line, not returned: the complaint is recorded either way.
func Alarm(ctx context.Context, r Reports, issueID int64, notice *Notice) (string, error) {
	is, err := r.IssueByID(ctx, issueID)
	if err != nil {
		return "", err
	}
	c, _, err := IssueComplaints(ctx, r, is)
	if err != nil || !c.Crossed() {
		return "", err
	}
	msg := c.Summary()
	if notice == nil {
		return msg + " (set editorial.editors_email to be told by mail)", nil
	}
	subject, body := c.Notice()
	if err := notice.Notify(ctx, subject, body); err != nil {
		return msg + " Could not tell the editors: " + err.Error(), nil
	}
	return msg + " Told the editors (" + notice.To + ").", nil
}
