package delivery_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
)

// progressFunc adapts a function to delivery.Progress.
type progressFunc func(newsletter.DeliveryStatus)

func (progressFunc) Start(int)                              {}
func (f progressFunc) Outcome(st newsletter.DeliveryStatus) { f(st) }

func assertOnce(t *testing.T, got map[string]int, subs []newsletter.Subscriber, except map[string]bool) {
	t.Helper()
	for _, s := range subs {
		if except[s.Email] {
			continue
		}
		if got[s.Email] != 1 {
			t.Errorf("%s got %d copies, want 1", s.Email, got[s.Email])
		}
	}
}

// TestResumeAfterSendBeforeRecord: the process died after the server accepted two messages
// but before their outcome was recorded. Those two are the in-doubt rows: resent by the
// default policy (two copies each), skipped by the other; everyone else gets exactly one.
func TestResumeAfterSendBeforeRecord(t *testing.T) {
	for _, policy := range []string{delivery.InDoubtResend, delivery.InDoubtSkip} {
		t.Run(policy, func(t *testing.T) {
			f := setup(t, 8)
			ctx := context.Background()
			srv := smtptest.Start(t)
			if err := f.db.SetIssueStatus(ctx, f.issue.ID, newsletter.IssueSending, sendTime); err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.EnqueueDeliveries(ctx, f.issue.ID, sendTime); err != nil {
				t.Fatal(err)
			}
			inFlight, err := f.db.ClaimDeliveries(ctx, f.issue.ID, 2, sendTime)
			if err != nil {
				t.Fatal(err)
			}
			s := f.senderWith(delivery.Single(smtpTransport(t, srv), 2), func(o *delivery.Options) { o.InDoubt = policy })
			conn, err := smtpTransport(t, srv).Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			doubt := map[string]bool{}
			for _, d := range inFlight {
				if _, err := conn.Send(ctx, s.Message(f.issue, f.email, d.Subscriber)); err != nil {
					t.Fatal(err)
				}
				doubt[d.Subscriber.Email] = true
			}
			conn.Close()
			f.issue.Status = newsletter.IssueSending

			rep, err := s.Send(ctx, f.issue, f.email)
			if err != nil || !rep.Done || rep.InDoubt != 2 {
				t.Fatalf("report %+v, %v; want done with 2 in doubt", rep, err)
			}
			got := recipients(srv.Messages())
			assertOnce(t, got, f.subs, doubt)
			want := 2
			if policy == delivery.InDoubtSkip {
				want = 1
			}
			for e := range doubt {
				if got[e] != want {
					t.Errorf("in-doubt %s got %d copies, want %d", e, got[e], want)
				}
			}
		})
	}
}

func TestTemporaryFailureThenSuccessWithinWait(t *testing.T) {
	f := setup(t, 4)
	srv := smtptest.Start(t)
	srv.FailData(451, 3) // the first three messages are refused for now
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
		o.Now = time.Now // real time: the retries come due while Send waits
		o.RetryBase = time.Millisecond
		o.Wait = time.Minute
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || !rep.Done || rep.Sent != 4 || rep.Deferred != 3 || rep.Retried != 3 {
		t.Fatalf("report %+v, %v; want 4 sent after 3 deferrals", rep, err)
	}
	assertOnce(t, recipients(srv.Messages()), f.subs, nil)
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	f := setup(t, 2)
	srv := smtptest.Start(t)
	srv.FailRcpt(f.subs[0].Email, 452)
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
		o.RetryBase = time.Millisecond
		o.MaxAttempts = 3
		o.Wait = time.Hour
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || rep.Failed != 1 || rep.Deferred != 2 || rep.Sent != 1 || !rep.Done {
		t.Fatalf("report %+v, %v; want 1 failed after 2 deferrals", rep, err)
	}
	if c := f.counts(t); c[newsletter.DeliveryFailed] != 1 {
		t.Fatalf("ledger %v", c)
	}
}

func TestHardBounceSuppressesAtLimit(t *testing.T) {
	f := setup(t, 3)
	srv := smtptest.Start(t)
	srv.FailRcpt(f.subs[1].Email, 550)
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) { o.BounceLimit = 2 })
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || rep.Bounced != 1 || rep.Sent != 2 || !rep.Done {
		t.Fatalf("report %+v, %v", rep, err)
	}
	sub, _ := f.db.SubscriberByID(context.Background(), f.subs[1].ID)
	if sub.Status != newsletter.StatusActive {
		t.Fatalf("one bounce of two allowed: subscriber is %s", sub.Status)
	}
	// The next issue bounces too: now they are suppressed.
	next, err := f.db.SaveIssue(context.Background(), newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 20}, Cutoff: sendTime.AddDate(0, 0, 7), CreatedAt: sendTime, Status: newsletter.IssueDraft})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), next, f.email); err != nil {
		t.Fatal(err)
	}
	sub, _ = f.db.SubscriberByID(context.Background(), f.subs[1].ID)
	if sub.Status != newsletter.StatusBounced {
		t.Fatalf("after two hard bounces: subscriber is %s, want bounced", sub.Status)
	}
}

func TestConnectionDropsAreRetried(t *testing.T) {
	f := setup(t, 6)
	srv := smtptest.Start(t)
	srv.DropAfter(2)
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
		o.RetryBase = time.Millisecond
		o.Wait = time.Hour
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || !rep.Done || rep.Sent != 6 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	assertOnce(t, recipients(srv.Messages()), f.subs, nil)
	if srv.Connections() < 2 {
		t.Fatalf("%d connections: the dropped one should have been replaced", srv.Connections())
	}
}

func TestUnsubscribeDuringSend(t *testing.T) {
	f := setup(t, 6)
	srv := smtptest.Start(t)
	last := f.subs[5]
	var once sync.Once
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 1), func(o *delivery.Options) {
		o.Progress = progressFunc(func(newsletter.DeliveryStatus) {
			once.Do(func() {
				if _, err := f.db.ApplyTransition(context.Background(), store.Transition{ID: last.ID, Status: newsletter.StatusUnsubscribed}, sendTime); err != nil {
					t.Error(err)
				}
			})
		})
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || rep.Sent != 5 || !rep.Done {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if n := recipients(srv.Messages())[last.Email]; n != 0 {
		t.Fatalf("unsubscribed mid-send and still got %d", n)
	}
}

// TestStopFinishesInFlight cancels the run (SIGTERM) mid-send: what was handed to the
// server is recorded, nothing is left in flight, and the next run sends only the rest.
func TestStopFinishesInFlight(t *testing.T) {
	f := setup(t, 20)
	srv := smtptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	s := f.senderWith(delivery.Single(smtpTransport(t, srv), 3), func(o *delivery.Options) {
		o.Progress = progressFunc(func(newsletter.DeliveryStatus) {
			if n.Add(1) == 5 {
				cancel()
			}
		})
	})
	rep, err := s.Send(ctx, f.issue, f.email)
	if err != nil || rep.Done {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if c := f.counts(t); c[newsletter.DeliverySending] != 0 || c[newsletter.DeliverySent] != len(srv.Messages()) {
		t.Fatalf("ledger %v after stop, server has %d", c, len(srv.Messages()))
	}
	is, _ := f.db.IssueByID(context.Background(), f.issue.ID)
	rep, err = f.sender(smtpTransport(t, srv), 3).Send(context.Background(), is, f.email)
	if err != nil || !rep.Done || rep.InDoubt != 0 {
		t.Fatalf("resume %+v, %v", rep, err)
	}
	assertOnce(t, recipients(srv.Messages()), f.subs, nil)
}

func TestFailoverToHealthyRelay(t *testing.T) {
	f := setup(t, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	cfg, _ := mailer.ParseSMTPURL("smtp://" + down + "?tls=none")
	srv := smtptest.Start(t)
	relays := []delivery.Relay{
		{Transport: mailer.NewSMTP(cfg), Connections: 2, Weight: 5},
		{Transport: smtpTransport(t, srv), Connections: 1, Weight: 1},
	}
	s := f.senderWith(relays, func(o *delivery.Options) { o.Rate = 1000 })
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || !rep.Done || rep.Sent != 10 || rep.Unreachable != "" {
		t.Fatalf("report %+v, %v", rep, err)
	}
	assertOnce(t, recipients(srv.Messages()), f.subs, nil)
}

func TestBackoffGrowsAndStaysCapped(t *testing.T) {
	for _, tc := range []struct {
		name string
		base time.Duration
		want map[int]time.Duration // by attempts
	}{
		{"doubles up to an hour", time.Minute, map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 10: time.Hour}},
		// A cap below the first wait would cut it short: a long retry_backoff is kept.
		{"a first wait over the cap is not cut", 3 * time.Hour, map[int]time.Duration{1: 3 * time.Hour, 10: 3 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for attempts, want := range tc.want {
				for range 20 {
					if d := delivery.Backoff(attempts, tc.base); d < want/2 || d > want {
						t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", attempts, d, want/2, want)
					}
				}
			}
		})
	}
}

// TestNoReplyToDataIsInDoubt: the relay takes longer to answer the end of DATA than the
// relay URL's timeout=. Each message did arrive, so its row is in doubt and follows the
// in-doubt policy (skipped, or deferred to be resent), never a plain deferral.
func TestNoReplyToDataIsInDoubt(t *testing.T) {
	tests := []struct {
		policy string
		want   newsletter.DeliveryStatus
	}{
		{policy: delivery.InDoubtSkip, want: newsletter.DeliverySkipped},
		{policy: delivery.InDoubtResend, want: newsletter.DeliveryDeferred},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			f := setup(t, 2)
			srv := smtptest.Start(t)
			srv.Stall(time.Second)
			cfg, err := mailer.ParseSMTPURL("smtp://" + srv.Addr() + "?tls=none&timeout=300ms")
			if err != nil {
				t.Fatal(err)
			}
			s := f.senderWith(delivery.Single(mailer.NewSMTP(cfg), 2), func(o *delivery.Options) { o.InDoubt = tt.policy })
			rep, err := s.Send(context.Background(), f.issue, f.email)
			if err != nil || rep.Unanswered != 2 || rep.Sent != 0 {
				t.Fatalf("report %+v, %v; want 2 unanswered", rep, err)
			}
			if c := f.counts(t); c[tt.want] != 2 {
				t.Fatalf("ledger %v, want 2 %s", c, tt.want)
			}
		})
	}
}

// dyingRelay is a relay that serves one connection through a TCP proxy in front of srv and
// then is gone: its listener closes after the first accept, so reconnecting is refused.
func dyingRelay(t *testing.T, srv *smtptest.Server) mailer.Transport {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		client, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			client.Close()
			return
		}
		t.Cleanup(func() { client.Close(); server.Close() })
		go func() { io.Copy(server, client); server.Close() }()
		io.Copy(client, server)
		client.Close()
	}()
	cfg, err := mailer.ParseSMTPURL("smtp://" + ln.Addr().String() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	return mailer.NewSMTP(cfg)
}

// TestFailoverOfInFlight: of two relays, one dies after two messages with a third in
// flight. That row is due again at once (the stopped test clock has not moved, so a
// backoff would leave it deferred past the run's deadline) and goes out through the
// healthy relay; everyone gets exactly one copy.
func TestFailoverOfInFlight(t *testing.T) {
	f := setup(t, 10)
	dying, healthy := smtptest.Start(t), smtptest.Start(t)
	dying.DropAfter(2)
	// The healthy relay holds its first message until the other has failed, so that the
	// dying one surely gets a third row.
	release := healthy.PauseAfter(0)
	relays := []delivery.Relay{
		{Transport: dyingRelay(t, dying), Connections: 1, Weight: 1},
		{Transport: smtpTransport(t, healthy), Connections: 1, Weight: 1},
	}
	s := f.senderWith(relays, func(o *delivery.Options) {
		o.Progress = progressFunc(func(st newsletter.DeliveryStatus) {
			if st != newsletter.DeliverySent {
				release()
			}
		})
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || !rep.Done || rep.Sent != 10 || rep.FailedOver != 1 || rep.Retried != 1 {
		t.Fatalf("report %+v, %v; want 10 sent, 1 failed over and retried within the run", rep, err)
	}
	if n := len(dying.Messages()); n != 2 {
		t.Errorf("dying relay accepted %d, want 2", n)
	}
	got := recipients(dying.Messages())
	for e, n := range recipients(healthy.Messages()) {
		got[e] += n
	}
	assertOnce(t, got, f.subs, nil)
}

// relayWatch records what a delivery.RelayWatcher hears.
type relayWatch struct {
	mu    sync.Mutex
	downs []string
	until []time.Time
}

func (*relayWatch) Start(int)                         {}
func (*relayWatch) Outcome(newsletter.DeliveryStatus) {}
func (w *relayWatch) RelayDown(relay string, err error, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.downs = append(w.downs, relay+": "+err.Error())
	w.until = append(w.until, until)
}

// TestUnreachableRelayIsSaidOnce: a relay on a closed port is announced at once, once,
// with the time until which the send keeps trying (the run's deadline), however many
// workers retry it and however many rests it takes; the log has one warning, not one per try.
func TestUnreachableRelayIsSaidOnce(t *testing.T) {
	f := setup(t, 3)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cfg, err := mailer.ParseSMTPURL("smtp://" + closed + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	watch := &relayWatch{}
	const wait = 200 * time.Millisecond
	s := f.senderWith(delivery.Single(mailer.NewSMTP(cfg), 3), func(o *delivery.Options) {
		o.Progress = watch
		o.Wait = wait // the test clock stands still: the rests (5 ms, doubled) run past it
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	rep, err := s.Send(context.Background(), f.issue, f.email)
	if err != nil || rep.Unreachable == "" || rep.Sent != 0 {
		t.Fatalf("report %+v, %v; want the relay unreachable", rep, err)
	}
	if len(watch.downs) != 1 || !strings.Contains(watch.downs[0], closed) || !strings.Contains(watch.downs[0], "refused") {
		t.Fatalf("RelayDown calls %q, want one naming %s and the refusal", watch.downs, closed)
	}
	if !watch.until[0].Equal(sendTime.Add(wait)) {
		t.Errorf("retry until %v, want the run's deadline %v", watch.until[0], sendTime.Add(wait))
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs.String())
	}
	if n, err := f.db.DeliveryBacklog(context.Background(), f.issue.ID); err != nil || n != 3 {
		t.Errorf("backlog %d, %v: all 3 should still be owed, no attempt spent", n, err)
	}
}
