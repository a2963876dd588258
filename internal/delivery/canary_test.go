package delivery_test

import (
	"context"
	"strings"
	"testing"

	"newsletter/internal/delivery"
	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
)

func TestCanaryPassesThenSendsTheRest(t *testing.T) {
	f := setup(t, 20)
	srv := smtptest.Start(t)
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 2), func(o *delivery.Options) {
		o.Canary = delivery.Canary{Seeds: []string{"seed@inbox.example"}, Share: 0.2, MaxBounceRate: 0.02, MaxDeferRate: 0.1}
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Held != "" || !rep.Done || rep.Sent != 20 || !strings.Contains(rep.Canary, "1 seed(s) and 4 subscriber(s)") {
		t.Fatalf("report %+v", rep)
	}
	got := recipients(srv.Messages())
	if got["seed@inbox.example"] != 1 || len(got) != 21 {
		t.Fatalf("recipients %v: want the seed and 20 subscribers once each", got)
	}
	for to, n := range got {
		if n != 1 {
			t.Fatalf("%s got %d copies", to, n)
		}
	}
}

func TestCanaryHoldsTheIssueUntilReleased(t *testing.T) {
	f := setup(t, 20)
	srv := smtptest.Start(t)
	// The first subscribers (claimed first) bounce: the canary sees a 50% bounce rate.
	srv.FailRcpt(f.subs[0].Email, 550)
	srv.FailRcpt(f.subs[1].Email, 550)
	canary := delivery.Canary{Share: 0.2, MaxBounceRate: 0.02, MaxDeferRate: 0.1}
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) { o.Canary = canary })
	ctx := context.Background()
	rep, err := s.Send(ctx, f.issue, f.email)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Held, "2 of 4 bounced") || rep.Done {
		t.Fatalf("report %+v, want the issue held by its canary", rep)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Fatalf("%d messages left during a failed canary, want 2 (4 tried, 2 refused)", n)
	}
	if c := f.counts(t); c[newsletter.DeliveryPending] != 16 {
		t.Fatalf("ledger %v: the rest must wait, pending", c)
	}
	// Held: another Send (the daemon's resume, a manual run) sends nothing.
	rep, err = s.Send(ctx, f.issue, f.email)
	if err != nil || rep.Held == "" || rep.Sent != 0 || len(srv.Messages()) != 2 {
		t.Fatalf("second send of a held issue: %+v %v", rep, err)
	}
	// Released: the rest goes out, and the canary does not run again.
	if ok, err := f.db.ReleaseIssue(ctx, f.issue.ID); !ok || err != nil {
		t.Fatalf("release: %v %v", ok, err)
	}
	rep, err = s.Send(ctx, f.issue, f.email)
	if err != nil || rep.Held != "" || rep.Canary != "" || rep.Sent != 16 || !rep.Done {
		t.Fatalf("after release: %+v %v", rep, err)
	}
}
