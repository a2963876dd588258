package roster_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// sentIssue adds n subscribers (s0@example.com...) and records issue 2026-W20 as sent to each.
func sentIssue(t *testing.T, f *fixture, n int) (newsletter.Issue, []newsletter.Subscriber) {
	t.Helper()
	ctx := context.Background()
	var subs []newsletter.Subscriber
	for i := range n {
		s, _, err := f.svc.Add(ctx, roster.AddRequest{Email: fmt.Sprintf("s%d@example.com", i), Source: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	is, err := f.db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 20}, Cutoff: t0, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.db.ClaimDeliveries(ctx, is.ID, n, t0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Outcome
	for _, d := range claimed {
		out = append(out, store.Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent})
	}
	if err := f.db.RecordDeliveries(ctx, out, t0); err != nil {
		t.Fatal(err)
	}
	return is, subs
}

func TestApplyReport(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	is, subs := sentIssue(t, f, 8)
	other, _ := token.NewSigner(bytes.Repeat([]byte("o"), 32))
	rules := roster.BounceRules{MessageIDDomain: "news.example.org",
		BounceRules: store.BounceRules{HardLimit: 1, SoftLimit: 3, SoftWindow: 30 * 24 * time.Hour}}
	mid := func(s newsletter.Subscriber) string {
		return fmt.Sprintf("2026-W20.%d.%d@news.example.org", is.ID, s.ID)
	}
	reported := t0.Add(26 * time.Hour)
	tests := []struct {
		name       string
		rep        bounce.Report
		who        int // index into subs of the subscriber affected; -1 for none
		by         string
		skipped    string // part of Skipped when nothing is recorded
		wantStatus newsletter.SubscriberStatus
		wantSupp   string
	}{
		{"hard by VERP", bounce.Report{Kind: bounce.Hard, Format: "dsn", VERPToken: f.sg.MakeVERP(is.ID, subs[0].ID, subs[0].Email), Status: "5.1.1", Reason: "550 user unknown", Date: reported},
			0, roster.ByVERP, "", newsletter.StatusBounced, store.SuppressBounced},
		{"forged VERP token", bounce.Report{Kind: bounce.Hard, Format: "dsn", VERPToken: other.MakeVERP(is.ID, subs[1].ID, subs[1].Email), MessageID: mid(subs[1]), FinalRecipient: subs[1].Email, Status: "5.1.1"},
			-1, "", "forged", "", ""},
		{"malformed VERP token", bounce.Report{Kind: bounce.Hard, Format: "dsn", VERPToken: "zz!", FinalRecipient: subs[1].Email, Status: "5.1.1"},
			-1, "", "malformed", "", ""},
		{"hard by Message-ID", bounce.Report{Kind: bounce.Hard, Format: "dsn", MessageID: mid(subs[2]), Status: "5.2.1", Reason: "disabled"},
			2, roster.ByMessageID, "", newsletter.StatusBounced, store.SuppressBounced},
		{"Message-ID with a per-install part", bounce.Report{Kind: bounce.Hard, Format: "dsn", MessageID: fmt.Sprintf("2026-W20.%d.%d.x7q@news.example.org", is.ID, subs[3].ID), Status: "5.1.1"},
			3, roster.ByMessageID, "", newsletter.StatusBounced, store.SuppressBounced},
		{"Message-ID naming the wrong week", bounce.Report{Kind: bounce.Hard, Format: "dsn", MessageID: fmt.Sprintf("2026-W21.%d.%d@news.example.org", is.ID, subs[4].ID), Status: "5.1.1"},
			-1, "", "no VERP token", "", ""},
		{"Message-ID of another domain", bounce.Report{Kind: bounce.Hard, Format: "dsn", MessageID: fmt.Sprintf("2026-W20.%d.%d@elsewhere.example", is.ID, subs[4].ID), Status: "5.1.1"},
			-1, "", "no VERP token", "", ""},
		{"complaint by List-Unsubscribe token", bounce.Report{Kind: bounce.Complaint, Format: "arf", UnsubscribeToken: f.sg.Make(token.Unsubscribe, subs[4].ID, subs[4].Email), FinalRecipient: "redacted@yahoo.example", Reason: "feedback-type abuse", Date: reported},
			4, roster.ByUnsubscribe, "", newsletter.StatusUnsubscribed, store.SuppressComplained},
		{"forged List-Unsubscribe token", bounce.Report{Kind: bounce.Complaint, Format: "arf", UnsubscribeToken: other.Make(token.Unsubscribe, subs[5].ID, subs[5].Email)},
			-1, "", "no VERP token", "", ""},
		{"soft by Final-Recipient, under the limit", bounce.Report{Kind: bounce.Soft, Format: "dsn", FinalRecipient: "S5@Example.com", Status: "4.2.2", Reason: "mailbox full", Date: reported},
			5, roster.ByFinalRecipient, "", newsletter.StatusActive, ""},
		{"recipient not on the list", bounce.Report{Kind: bounce.Hard, Format: "dsn", FinalRecipient: "stranger@example.com", Status: "5.1.1"},
			-1, "", "stranger@example.com is not on the list", "", ""},
		{"irrelevant", bounce.Report{Kind: bounce.Irrelevant, Reason: "not a bounce or complaint", FinalRecipient: subs[6].Email},
			-1, "", "not a bounce", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.listState(t, 8)
			out, err := f.svc.ApplyReport(ctx, tt.rep, rules)
			if err != nil {
				t.Fatal(err)
			}
			if tt.who < 0 {
				if out.Recorded || !strings.Contains(out.Skipped, tt.skipped) {
					t.Fatalf("outcome %+v, want nothing recorded because %q", out, tt.skipped)
				}
				if after := f.listState(t, 8); after != before {
					t.Fatalf("the list changed:\n%s\nto\n%s", before, after)
				}
				return
			}
			sub := subs[tt.who]
			if !out.Recorded || out.By != tt.by || out.Subscriber.ID != sub.ID {
				t.Fatalf("outcome %+v, want subscriber %d found by %s", out, sub.ID, tt.by)
			}
			if got := f.status(t, sub.Email); got != tt.wantStatus {
				t.Errorf("status %s, want %s", got, tt.wantStatus)
			}
			if got, _ := f.db.Suppression(ctx, f.sg.Digest(sub.Email)); got != tt.wantSupp {
				t.Errorf("suppression %q, want %q", got, tt.wantSupp)
			}
			log, _ := f.db.ConsentLog(ctx, sub.ID)
			last := log[len(log)-1]
			if last.Source != tt.rep.Format || !strings.Contains(last.Detail, tt.rep.Reason) || (!tt.rep.Date.IsZero() && !last.At.Equal(tt.rep.Date)) {
				t.Errorf("consent event %+v, want source %s, reason %q, at %v", last, tt.rep.Format, tt.rep.Reason, tt.rep.Date)
			}
		})
	}

	// With VERP on, only signed tokens name a subscriber: a forged complaint that guesses a
	// Message-ID or names a recipient changes nothing, a signed one still counts.
	signed := rules
	signed.SignedOnly = true
	before := f.listState(t, 8)
	for _, forged := range []bounce.Report{
		{Kind: bounce.Complaint, Format: "arf", MessageID: mid(subs[6])},
		{Kind: bounce.Hard, Format: "dsn", FinalRecipient: subs[6].Email, Status: "5.1.1"},
	} {
		if out, err := f.svc.ApplyReport(ctx, forged, signed); err != nil || out.Recorded || !strings.Contains(out.Skipped, "no signed token") {
			t.Fatalf("unsigned report with SignedOnly: %+v %v", out, err)
		}
	}
	if after := f.listState(t, 8); after != before {
		t.Fatalf("unsigned reports changed the list:\n%s\nto\n%s", before, after)
	}
	out, err := f.svc.ApplyReport(ctx, bounce.Report{Kind: bounce.Complaint, Format: "arf", Date: reported,
		UnsubscribeToken: f.sg.Make(token.Unsubscribe, subs[7].ID, subs[7].Email)}, signed)
	if err != nil || !out.Recorded || out.By != roster.ByUnsubscribe {
		t.Fatalf("signed complaint with SignedOnly: %+v %v", out, err)
	}

	// The same report again counts once.
	out, err = f.svc.ApplyReport(ctx, tests[0].rep, rules)
	if err != nil || out.Recorded || out.Skipped != "already recorded" {
		t.Fatalf("repeat: %+v %v", out, err)
	}
	// A complaint keeps the address out of an import, --resubscribe included.
	rep, err := f.svc.Import(ctx, strings.NewReader("email\ns4@example.com\ns0@example.com\n"), roster.ImportOptions{Resubscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Suppressed != 1 || f.status(t, "s4@example.com") != newsletter.StatusUnsubscribed || f.status(t, "s0@example.com") != newsletter.StatusActive {
		t.Fatalf("import --resubscribe: %+v; s4 %s, s0 %s", rep, f.status(t, "s4@example.com"), f.status(t, "s0@example.com"))
	}
}

// listState is the status, suppression and consent log length of sentIssue's first n subscribers.
func (f *fixture) listState(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for i := range n {
		s, err := f.db.SubscriberByEmail(ctx, fmt.Sprintf("s%d@example.com", i))
		if err != nil {
			t.Fatal(err)
		}
		supp, _ := f.db.SubscriberSuppression(ctx, s.ID)
		log, _ := f.db.ConsentLog(ctx, s.ID)
		fmt.Fprintf(&b, "%s %s %q %d\n", s.Email, s.Status, supp, len(log))
	}
	return b.String()
}

func TestMailtoUnsubscribe(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	_, subs := sentIssue(t, f, 3)
	other, _ := token.NewSigner(bytes.Repeat([]byte("o"), 32))
	rules := roster.BounceRules{BounceRules: store.BounceRules{HardLimit: 1, SoftLimit: 1, SoftWindow: time.Hour}}
	if err := f.svc.Suppress(ctx, subs[2].Email, store.SuppressComplained, "cli"); err != nil {
		t.Fatal(err)
	}
	reported := t0.Add(time.Hour)
	mailto := func(tok string) bounce.Report {
		return bounce.Report{Kind: bounce.Unsubscribe, Format: bounce.FormatMailto, UnsubscribeToken: tok, Reason: "mailto unsubscribe", Date: reported}
	}
	tests := []struct {
		name     string
		rep      bounce.Report
		recorded bool
		skipped  string
	}{
		{"forged token", mailto(other.Make(token.Unsubscribe, subs[0].ID, subs[0].Email)), false, "forged"},
		{"malformed token", mailto("not-a-token"), false, "malformed"},
		{"another subscriber's token", mailto(f.sg.Make(token.Unsubscribe, subs[1].ID, subs[0].Email)), false, "forged"},
		{"good token", mailto(f.sg.Make(token.Unsubscribe, subs[0].ID, subs[0].Email)), true, ""},
		{"again", mailto(f.sg.Make(token.Unsubscribe, subs[0].ID, subs[0].Email)), false, "not subscribed"},
		{"a complaint keeps its reason", mailto(f.sg.Make(token.Unsubscribe, subs[2].ID, subs[2].Email)), false, "not subscribed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.listState(t, 3)
			out, err := f.svc.ApplyReport(ctx, tt.rep, rules)
			if err != nil {
				t.Fatal(err)
			}
			if out.Recorded != tt.recorded || !strings.Contains(out.Skipped, tt.skipped) {
				t.Fatalf("outcome %+v, want recorded %v, skipped %q", out, tt.recorded, tt.skipped)
			}
			if !tt.recorded && f.listState(t, 3) != before {
				t.Fatalf("the list changed:\n%s\nto\n%s", before, f.listState(t, 3))
			}
		})
	}
	if got := f.status(t, subs[0].Email); got != newsletter.StatusUnsubscribed {
		t.Fatalf("status %s, want unsubscribed", got)
	}
	if r, _ := f.db.Suppression(ctx, f.sg.Digest(subs[0].Email)); r != store.SuppressUnsubscribed {
		t.Fatalf("suppression %q", r)
	}
	if r, _ := f.db.Suppression(ctx, f.sg.Digest(subs[2].Email)); r != store.SuppressComplained {
		t.Fatalf("complaint's suppression became %q", r)
	}
	log, _ := f.db.ConsentLog(ctx, subs[0].ID)
	last := log[len(log)-1]
	if last.Event != "left" || last.Source != "mailto" || !last.At.Equal(reported) || last.Detail != "mailto unsubscribe" {
		t.Fatalf("consent event %+v", last)
	}
}
