package editorial_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"newsletter/internal/editorial"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
)

// reports is a fixed editorial.Reports: one issue, its ledger and its reports.
type reports struct {
	sent int
	rep  newsletter.IssueReports
}

func (r reports) IssueByID(_ context.Context, id int64) (newsletter.Issue, error) {
	return newsletter.Issue{ID: id, Week: newsletter.Week{Year: 2026, Num: 19}}, nil
}

func (r reports) IssueCounts(context.Context, int64) (map[newsletter.DeliveryStatus]int, error) {
	return map[newsletter.DeliveryStatus]int{newsletter.DeliverySent: r.sent, newsletter.DeliveryBounced: 3}, nil
}

func (r reports) IssueBounces(context.Context, int64) (newsletter.IssueReports, error) {
	return r.rep, nil
}

func TestAlarm(t *testing.T) {
	tests := []struct {
		name     string
		r        reports
		noNotice bool
		want     string // the line, "" for none
		mails    int
	}{
		{"under the line", reports{sent: 5000, rep: newsletter.IssueReports{Complaints: 5}}, false, "", 0},
		{"the crossing complaint", reports{sent: 1998, rep: newsletter.IssueReports{Complaints: 3, Hard: 2, HardInLedger: 2}}, false,
			"Issue 2026-W19: 3 complaint(s) of 2000 delivered messages (0.15%), over 0.1%. Told the editors (editors@example.org).", 1},
		{"past the line already", reports{sent: 2000, rep: newsletter.IssueReports{Complaints: 4}}, false, "", 0},
		{"crossing, no editors' address", reports{sent: 10, rep: newsletter.IssueReports{Complaints: 1}}, true,
			"Issue 2026-W19: 1 complaint(s) of 10 delivered messages (10.00%), over 0.1%. (set editorial.editors_email to be told by mail)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none")
			if err != nil {
				t.Fatal(err)
			}
			n := &editorial.Notice{Transport: mailer.NewSMTP(cfg), From: mailer.Address{Email: "weekly@example.org"},
				To: "editors@example.org", MessageIDDomain: "example.org", Now: func() time.Time { return time.Date(2026, 5, 5, 9, 0, 0, 0, time.UTC) }}
			if tt.noNotice {
				n = nil
			}
			got, err := editorial.Alarm(context.Background(), tt.r, 7, n)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("line %q\nwant %q", got, tt.want)
			}
			msgs := srv.Messages()
			if len(msgs) != tt.mails {
				t.Fatalf("%d mails to the editors, want %d", len(msgs), tt.mails)
			}
			if tt.mails > 0 && !strings.Contains(string(msgs[0].Data), "Complaints over 0.1%: issue 2026-W19") {
				t.Errorf("the notice lacks its subject:\n%s", msgs[0].Data)
			}
		})
	}
}
