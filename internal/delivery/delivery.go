// Package delivery sends one saved issue to every subscriber in its delivery ledger, each
// exactly once as far as SMTP allows: a worker claims a ledger row, sends, and records the
// outcome before it claims the next, so a crash leaves at most one row per connection in doubt.
// Temporary failures are retried with exponential backoff and jitter, hard bounces are
// recorded (and suppress the address after a configured number), and the sending is paced
// by a shared rate limit over one or more relays.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

// Identity is how every message of the list presents itself.
type Identity struct {
	From            mailer.Address
	ReplyTo         string
	BounceAddress   string // envelope sender; empty = From
	ListName        string // phrase of List-Id
	ListID          string // dot-atom of List-Id, e.g. weekly.technerdo.com
	MessageIDDomain string
	// InstallTag (token.Signer.InstallTag) goes into every Message-ID, so that a reset
	// database, numbering issues and subscribers from 1 again, repeats no earlier Message-ID.
	InstallTag        string
	BaseURL           string // public URL of the unsubscribe handler, no trailing slash
	UnsubscribeMailto string // optional address for mailto: unsubscribes
}

// Relay is one way out: an SMTP relay (or the outbox) with its share of the traffic.
type Relay struct {
	Transport   mailer.Transport
	Connections int     // concurrent sessions through it (workers); at least 1
	Rate        float64 // messages per second through it; 0 for no limit of its own
	Weight      int     // its share of Options.Rate among the healthy relays; at least 1
}

// In-doubt policies: what to do with rows a crash left in flight (sent or not, nobody knows).
const (
	InDoubtResend = "resend" // send again: a duplicate beats a loss (default)
	InDoubtSkip   = "skip"   // mark them skipped: a loss beats a duplicate
)

// Progress hears about a send as it goes; calls come from several goroutines.
type Progress interface {
	// Start is called once per round with the number of rows ready to send.
	Start(ready int)
	// Outcome is called after each recorded outcome.
	Outcome(st newsletter.DeliveryStatus)
}

// RelayWatcher may be implemented by a Progress to hear at once when a relay stops
// answering, rather than from the Report at the end.
type RelayWatcher interface {
	// RelayDown is called once when relay (Transport.String()) fails twice in a row, with
	// the last error and until when this Send keeps trying it (Options.Wait; a time not
	// after now means it gives up in this run). A working session makes it eligible again.
	RelayDown(relay string, err error, retryUntil time.Time)
}

// Options configure a Sender. Zero values take the defaults noted.
type Options struct {
	Identity Identity
	// Token returns the signed unsubscribe token for a subscriber.
	Token func(newsletter.Subscriber) string
	// EnvelopeFrom, when set, returns the envelope sender of a subscriber's message (VERP);
	// nil, or a copy outside the ledger, uses Identity.BounceAddress.
	EnvelopeFrom func(issue newsletter.Issue, sub newsletter.Subscriber) string
	// LateReports, when set, counts the hard bounces and complaints about an issue that
	// arrived after the send; the canary adds those that come during its wait.
	LateReports func(ctx context.Context, issueID int64) (hard, complaints int, err error)

	// Policy paces the send and decides retries (policy.go); zero fields take DefaultPolicy's.
	Policy

	// Canary, when enabled, sends a fresh issue to its seeds and a share of the list first,
	// waits, and goes on only while bounces and deferrals stay under its limits.
	Canary Canary

	Progress Progress // optional
	Now      func() time.Time
	Logger   *slog.Logger
}

// Canary is the safety valve before a real send.
type Canary struct {
	Seeds         []string      // addresses that get the issue first (no ledger rows)
	Share         float64       // fraction of the list sent first, e.g. 0.01; 0 for seeds only
	Wait          time.Duration // pause after the canary, for late bounces and complaints
	MaxBounceRate float64       // hold the issue when more of the canary bounced than this
	MaxDeferRate  float64       // hold the issue when more of the canary was deferred than this
	// MaxComplaintRate holds the issue when more of the canary complained than this, counting
	// the complaints Options.LateReports has by the end of the wait.
	MaxComplaintRate float64
}

// Enabled reports whether a canary is configured.
func (c Canary) Enabled() bool { return len(c.Seeds) > 0 || c.Share > 0 }

// Sender delivers issues through relays, recording outcomes in a ledger.
type Sender struct {
	ledger Ledger
	relays []Relay
	opt    Options
	listID string // the List-Id header's value, the same for every message
	// feedbackTail follows the issue in Feedback-ID: ":list:publication".
	feedbackTail string
	chunk        int           // subscribers one ledger transaction queues (enqueueChunk; tests shrink it)
	relayRest    time.Duration // a failing relay's first rest (relayRest; tests shrink it)
}

// New returns a Sender. It needs at least one relay.
func New(ledger Ledger, relays []Relay, opt Options) *Sender {
	for i := range relays {
		relays[i].Connections = max(relays[i].Connections, 1)
		relays[i].Weight = max(relays[i].Weight, 1)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Logger = cmp.Or(opt.Logger, slog.New(slog.DiscardHandler))
	opt.Policy = opt.Policy.withDefaults()
	return &Sender{ledger: ledger, relays: relays, opt: opt, listID: listIDValue(opt.Identity.ListName, opt.Identity.ListID),
		feedbackTail: feedbackTail(opt.Identity), chunk: enqueueChunk, relayRest: relayRest}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Single is the one relay of a transport used alone with n connections.
func Single(t mailer.Transport, n int) []Relay {
	return []Relay{{Transport: t, Connections: n, Weight: 1}}
}

// WithProgress returns a copy of s that reports to p.
func (s *Sender) WithProgress(p Progress) *Sender {
	c := *s
	c.opt.Progress = p
	return &c
}

// Relays returns the relays, for the plan printed before a send.
func (s *Sender) Relays() []Relay { return s.relays }

// Report counts what one Send did.
type Report struct {
	Enqueued int // ledger rows added for subscribers who had none
	InDoubt  int // rows left in flight by an earlier crash (resent or skipped by policy)
	Retried  int // deferred rows that came due and were tried again
	Sent     int
	Deferred int // temporary failures during this Send (a row retried twice counts twice)
	Bounced  int
	Failed   int // temporary failures given up (attempts or horizon exhausted)
	// Unanswered counts messages sent in full whose reply never came (a timeout or a lost
	// connection after the end of DATA): in doubt, resent or skipped by Options.InDoubt.
	Unanswered int
	// FailedOver counts rows whose relay's session broke while another relay was healthy:
	// due again at once instead of after the backoff (included in Deferred).
	FailedOver int
	// Unreachable holds the last error of a relay that could not be reached until the
	// wait was over; empty otherwise.
	Unreachable string
	// Ledger is the issue's whole ledger after the run, by status.
	Ledger map[newsletter.DeliveryStatus]int
	// NextRetry is when the earliest row still deferred is due; zero when none is.
	NextRetry time.Time
	Done      bool // every row reached a final state; the issue is marked sent
	// Canary describes the canary this Send ran ("" when none); Held is why the issue is
	// held (by this canary or an earlier one): nothing more goes out until it is released.
	Canary string
	Held   string
	Took   time.Duration
}

// Send freezes the issue, queues every active subscriber not yet in its ledger, resolves
// rows an earlier run left in flight by the in-doubt policy, delivers every pending row, and
// retries deferred rows as they come due until Options.Wait has passed. Cancelling ctx stops
// new claims; messages already handed to a relay are finished and recorded. The error is for
// what retrying cannot fix; a relay that stays down shows in Report.Unreachable.
func (s *Sender) Send(ctx context.Context, issue newsletter.Issue, email render.Email) (report Report, err error) {
	start := s.opt.Now()
	deadline := start.Add(s.opt.Wait)
	if issue.Status != newsletter.IssueSending && issue.Status != newsletter.IssueSent {
		if err := s.ledger.SetIssueStatus(ctx, issue.ID, newsletter.IssueSending, start); err != nil {
			return report, fmt.Errorf("delivery: freeze issue %s: %w", issue.Week, err)
		}
	}
	// Rows are queued a chunk at a time as the workers need them: the first message waits for no more.
	enq := &enqueuer{ledger: s.ledger, issueID: issue.ID, now: s.opt.Now, chunk: s.chunk}
	defer func() { report.Enqueued = enq.added }()
	if s.opt.InDoubt == InDoubtSkip {
		report.InDoubt, err = s.ledger.SkipInFlight(ctx, issue.ID, start)
	} else {
		report.InDoubt, err = s.ledger.ResetInFlight(ctx, issue.ID)
	}
	if err != nil {
		return report, fmt.Errorf("delivery: resolve in-flight rows: %w", err)
	}
	if report.InDoubt > 0 {
		s.opt.Logger.Warn("rows were in flight when an earlier run stopped; their outcome is unknown",
			"issue", issue.Week.String(), "in_doubt", report.InDoubt, "policy", s.opt.InDoubt)
	}

	if report.Held, err = s.ledger.IssueHold(ctx, issue.ID); err != nil {
		return report, fmt.Errorf("delivery: hold: %w", err)
	}
	if report.Held == "" && s.opt.Canary.Enabled() {
		// The canary's share is of the whole list: queue it all first.
		if err := enq.all(ctx); err != nil {
			return report, err
		}
		if err := s.canary(ctx, issue, email, deadline, &report); err != nil {
			return report, err
		}
	}
	// A held issue sends nothing more, and its report has no retry due and is not done.
	var sendErr error
	due := start
	for report.Held == "" {
		n, err := s.ledger.RequeueDue(ctx, issue.ID, due)
		if err != nil {
			sendErr = fmt.Errorf("delivery: requeue: %w", err)
			break
		}
		report.Retried += n
		failedOver := report.FailedOver
		if sendErr = s.deliver(ctx, issue, email, deadline, 0, enq, &report); sendErr != nil || ctx.Err() != nil || report.Unreachable != "" {
			break
		}
		next, ok, err := s.ledger.NextRetry(ctx, issue.ID)
		if err != nil {
			sendErr = fmt.Errorf("delivery: next retry: %w", err)
			break
		}
		// Rows this round failed over from a broken relay go out at once, even past the deadline.
		dueNow := report.FailedOver > failedOver && !next.After(s.opt.Now())
		if !ok || next.After(deadline) && !dueNow {
			break
		}
		if !sleep(ctx, next.Sub(s.opt.Now())) {
			break
		}
		// With a stopped test clock "now" never reaches next; having slept until next, it is due.
		if due = s.opt.Now(); next.After(due) {
			due = next
		}
	}

	finish := context.WithoutCancel(ctx)
	if report.Ledger, err = s.ledger.DeliveryCounts(finish, issue.ID); err != nil {
		return report, errors.Join(sendErr, fmt.Errorf("delivery: counts: %w", err))
	}
	if next, ok, err := s.ledger.NextRetry(finish, issue.ID); err == nil && ok && report.Held == "" {
		report.NextRetry = next
	}
	open := report.Ledger[newsletter.DeliveryPending] + report.Ledger[newsletter.DeliverySending] + report.Ledger[newsletter.DeliveryDeferred]
	// Not done while subscribers are left unqueued (the send was stopped between chunks).
	if sendErr == nil && open == 0 && enq.done && report.Held == "" {
		if err := s.ledger.SetIssueStatus(finish, issue.ID, newsletter.IssueSent, s.opt.Now()); err != nil {
			return report, fmt.Errorf("delivery: mark sent: %w", err)
		}
		report.Done = true
	}
	report.Took = s.opt.Now().Sub(start)
	return report, sendErr
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// canary runs on a fresh issue only (a resumed send has had its canary): seeds, then Share
// of the rows, then Wait; it holds the issue when what it sent is over a limit.
func (s *Sender) canary(ctx context.Context, issue newsletter.Issue, email render.Email, deadline time.Time, report *Report) error {
	c := s.opt.Canary
	counts, err := s.ledger.DeliveryCounts(ctx, issue.ID)
	if err != nil {
		return fmt.Errorf("delivery: canary: %w", err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	pending := counts[newsletter.DeliveryPending]
	if pending == 0 || pending != total {
		return nil
	}
	before := *report
	seedsBounced := 0
	if len(c.Seeds) > 0 {
		results, err := s.sendCopies(ctx, issue, email, c.Seeds, "", "seed")
		if err != nil {
			return fmt.Errorf("delivery: canary seeds: %w", err)
		}
		for _, r := range results {
			if r.Err != nil {
				seedsBounced++
				s.opt.Logger.Warn("canary seed refused", "issue", issue.Week.String(), "seed", r.Email, "err", r.Err)
			}
		}
	}
	limit := int(math.Ceil(c.Share * float64(pending)))
	if limit > 0 {
		if err := s.deliver(ctx, issue, email, deadline, limit, nil, report); err != nil {
			return err
		}
	}
	bounced := report.Bounced - before.Bounced + seedsBounced
	deferred := report.Deferred - before.Deferred + report.Failed - before.Failed
	tried := report.Sent - before.Sent + report.Bounced - before.Bounced + deferred + len(c.Seeds)
	report.Canary = fmt.Sprintf("%d seed(s) and %d subscriber(s): %d bounced, %d deferred", len(c.Seeds), tried-len(c.Seeds), bounced, deferred)
	if ctx.Err() != nil {
		return nil
	}
	if c.Wait > 0 && !sleep(ctx, c.Wait) {
		return nil
	}
	complained := 0
	if s.opt.LateReports != nil {
		hard, n, err := s.opt.LateReports(ctx, issue.ID)
		if err != nil {
			return fmt.Errorf("delivery: canary: %w", err)
		}
		bounced, complained = bounced+hard, n
		report.Canary += fmt.Sprintf("; during the wait %d late bounce(s), %d complaint(s)", hard, n)
	}
	var reasons []string
	over := func(n int, what string, limit float64) {
		if tried > 0 && float64(n)/float64(tried) > limit {
			reasons = append(reasons, fmt.Sprintf("%d of %d %s (limit %.1f%%)", n, tried, what, 100*limit))
		}
	}
	over(bounced, "bounced", c.MaxBounceRate)
	over(deferred, "deferred", c.MaxDeferRate)
	over(complained, "complained", c.MaxComplaintRate)
	if len(reasons) == 0 {
		s.opt.Logger.Info("canary passed", "issue", issue.Week.String(), "canary", report.Canary)
		return nil
	}
	report.Held = "canary: " + strings.Join(reasons, ", ")
	s.opt.Logger.Warn("issue held by its canary", "issue", issue.Week.String(), "reason", report.Held)
	if err := s.ledger.HoldIssue(context.WithoutCancel(ctx), issue.ID, report.Held, s.opt.Now()); err != nil {
		return fmt.Errorf("delivery: hold: %w", err)
	}
	return nil
}

// deliver runs every relay's workers until no row is pending (enq, when not nil, queueing
// more), or until limit rows were claimed when limit > 0 (a canary).
func (s *Sender) deliver(ctx context.Context, issue newsletter.Issue, email render.Email, deadline time.Time, limit int, enq *enqueuer, report *Report) error {
	if s.opt.Progress != nil {
		if enq != nil && !enq.done {
			if n, err := s.ledger.DeliveryBacklog(ctx, issue.ID); err == nil {
				s.opt.Progress.Start(n)
			}
		} else if c, err := s.ledger.DeliveryCounts(ctx, issue.ID); err == nil {
			s.opt.Progress.Start(c[newsletter.DeliveryPending])
		}
	}
	p := newPacer(s.relays, s.opt.Rate, s.opt.DomainRate)
	// The body is encoded once per round; when it cannot be (nil), each message is encoded
	// in full and reports the problem itself.
	body, _ := mailer.PrepareBody(email.Text, email.HTML, render.Placeholders()...)
	workers := 0
	for _, r := range s.relays {
		workers += r.Connections
	}
	cl := newClaimer(s.ledger, issue.ID, s.opt.Now, enq, workers)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var quota *atomic.Int64
	if limit > 0 {
		quota = new(atomic.Int64)
		quota.Store(int64(limit))
	}
	unreachable := 0
	for i := range s.relays {
		for range s.relays[i].Connections {
			wg.Go(func() {
				w := &worker{s: s, relay: i, pacer: p, claimer: cl, issue: issue, email: email, body: body, deadline: deadline, endRound: stop, quota: quota}
				err := w.run(runCtx)
				mu.Lock()
				defer mu.Unlock()
				if w.report.Unreachable != "" {
					unreachable++
				}
				report.Sent += w.report.Sent
				report.Deferred += w.report.Deferred
				report.Bounced += w.report.Bounced
				report.Failed += w.report.Failed
				report.Unanswered += w.report.Unanswered
				report.FailedOver += w.report.FailedOver
				if w.report.Unreachable != "" && unreachable == workers {
					report.Unreachable = w.report.Unreachable // every relay is down
				}
				if err != nil {
					errs = append(errs, err)
					stop() // a broken ledger or an unbuildable message stops the others' claims too
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// worker is one session at a time through one relay, reused for every message it sends.
type worker struct {
	s        *Sender
	relay    int
	pacer    *pacer
	claimer  *claimer
	issue    newsletter.Issue
	email    render.Email
	body     *mailer.Body // prepared once per round; nil: each message encoded in full
	deadline time.Time
	endRound context.CancelFunc
	quota    *atomic.Int64 // rows this round may still claim; nil: no limit
	conn     mailer.Sender // the open session; nil before the first and after a broken one
	report   Report
	carry    []Outcome // the last outcome, recorded with the next claim
}

var errUnreachable = errors.New("relay unreachable")

// run sends until no row is pending or ctx ends (SIGTERM, the round over, another
// worker's fatal error); in-flight work is finished and recorded all the same.
func (w *worker) run(ctx context.Context) error {
	finish := context.WithoutCancel(ctx)
	err := w.loop(ctx, finish)
	if w.conn != nil {
		w.conn.Close()
	}
	return errors.Join(err, w.flush(finish))
}

// flush records the carried outcome on its own.
func (w *worker) flush(ctx context.Context) error {
	if len(w.carry) == 0 {
		return nil
	}
	if err := w.s.ledger.RecordDeliveries(ctx, w.carry, w.s.opt.Now()); err != nil {
		return fmt.Errorf("delivery: record %d: %w", w.carry[0].DeliveryID, err)
	}
	w.carry = nil
	return nil
}

func (w *worker) loop(ctx, finish context.Context) error {
	s := w.s
	for ctx.Err() == nil {
		// Opening may wait out a relay's rest, and a paced worker waits below: record the
		// last outcome first, not after the wait.
		if w.conn == nil || w.pacer.limited(w.relay) {
			if err := w.flush(finish); err != nil {
				return err
			}
		}
		if w.conn == nil {
			// A connection before a claim: a relay that is down costs no row an attempt.
			var err error
			if w.conn, err = w.open(ctx); err != nil {
				return nil // unreachable until the deadline (w.report says so), or the round ended
			}
		}
		if w.quota != nil && w.quota.Add(-1) < 0 {
			return nil // the canary's share is claimed; run() records the last outcome
		}
		// Pace before the claim, so a row waits in pending, not in flight.
		if err := w.pacer.wait(ctx, w.relay); err != nil {
			return nil
		}
		// The previous outcome is recorded in the transaction of the next claim (see claimer).
		rows, err := w.claimer.recordAndClaim(ctx, w.carry)
		if err != nil {
			if ctx.Err() != nil {
				return nil // run() records w.carry with finish
			}
			return fmt.Errorf("delivery: claim: %w", err)
		}
		w.carry = nil
		if len(rows) == 0 {
			w.endRound() // nothing pending: workers waiting for a resting relay can stop
			return nil
		}
		d := rows[0]
		// The per-domain cap needs the address, so it waits with the row claimed: still
		// at most one row per connection in doubt.
		if err := w.pacer.waitDomain(finish, d.Subscriber.Email); err != nil {
			return err
		}
		receipt, err := w.conn.Send(finish, s.message(w.issue, w.email, w.body, d.Subscriber))
		if errors.Is(err, mailer.ErrInvalidMessage) {
			// A message that cannot be built is a data or configuration problem, not the
			// recipient's: stop the run and put the row back rather than retry it forever.
			w.carry = []Outcome{{DeliveryID: d.ID, Status: newsletter.DeliveryPending, Reply: err.Error()}}
			return fmt.Errorf("delivery: subscriber %d: %w", d.Subscriber.ID, err)
		}
		out := w.outcome(d, receipt, err)
		if err != nil {
			msg := "delivery failed"
			if mailer.IsInDoubt(err) {
				msg = "no reply to a message sent in full; it may have arrived"
			}
			s.opt.Logger.Warn(msg, "issue", w.issue.Week.String(), "subscriber_id", d.Subscriber.ID,
				"relay", s.relays[w.relay].Transport.String(), "status", out.Status, "attempt", d.Attempts,
				"policy", s.opt.InDoubt, "err", err)
		}
		w.carry = []Outcome{out}
		if s.opt.Progress != nil {
			s.opt.Progress.Outcome(out.Status)
		}
		if sessionBroken(err) {
			// A dropped connection, a timeout or a 421: start a new session.
			w.pacer.fail(w.relay, nil, s.opt.Now(), s.relayRest)
			w.conn.Close()
			w.conn = nil
		} else if err == nil || mailer.IsPermanent(err) {
			w.pacer.ok(w.relay)
		} // else a 4xx for this recipient (greylisting, mailbox full): the session is fine.
	}
	return nil
}

// sessionBroken reports whether err is the relay's failure rather than the recipient's.
func sessionBroken(err error) bool {
	var se *mailer.SendError
	return err != nil && !mailer.IsPermanent(err) && (!errors.As(err, &se) || se.Code == 0 || se.Code == 421)
}

// open opens a session through the worker's relay, waiting out its rest after failures.
// It gives up with errUnreachable once the deadline has passed.
func (w *worker) open(ctx context.Context) (mailer.Sender, error) {
	s := w.s
	tr := s.relays[w.relay].Transport
	for {
		if until, lastErr := w.pacer.rest(w.relay); !until.IsZero() {
			if until.After(w.deadline) {
				w.report.Unreachable = lastErr
				return nil, errUnreachable
			}
			if !sleep(ctx, until.Sub(s.opt.Now())) {
				return nil, ctx.Err()
			}
		}
		conn, err := tr.Open(ctx)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The first failure retries at once (an idle connection dropped by the relay is
		// normal); from the second on, the relay rests, longer each time: never a spin.
		if !w.pacer.fail(w.relay, err, s.opt.Now(), s.relayRest) {
			s.opt.Logger.Debug("relay failed to open a session", "relay", tr.String(), "err", err)
			continue
		}
		// Said once per outage: every worker retrying every rest would repeat it.
		s.opt.Logger.Warn("relay does not answer; retrying", "relay", tr.String(), "err", err, "retry_until", w.deadline)
		if rw, ok := s.opt.Progress.(RelayWatcher); ok {
			rw.RelayDown(tr.String(), err, w.deadline)
		}
	}
}

// outcome classifies one attempt.
func (w *worker) outcome(d newsletter.Delivery, receipt mailer.Receipt, err error) Outcome {
	s := w.s
	now := s.opt.Now()
	switch {
	case err == nil:
		w.report.Sent++
		return Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySent, Reply: receipt.Reply}
	case mailer.IsPermanent(err):
		w.report.Bounced++
		return Outcome{DeliveryID: d.ID, Status: newsletter.DeliveryBounced, Reply: err.Error(), BounceLimit: s.opt.BounceLimit}
	}
	reply := err.Error()
	if mailer.IsInDoubt(err) {
		// The relay may have queued it: the in-doubt policy decides, as after a crash.
		w.report.Unanswered++
		if s.opt.InDoubt == InDoubtSkip {
			return Outcome{DeliveryID: d.ID, Status: newsletter.DeliverySkipped,
				Reply: fmt.Sprintf("in doubt, not resent (in_doubt: skip): %v", err)}
		}
		reply = "in doubt, to be resent (in_doubt: resend): " + reply
	}
	first := d.FirstAttemptAt
	if first.IsZero() {
		first = now
	}
	if d.Attempts >= s.opt.MaxAttempts || now.Sub(first) >= s.opt.Horizon {
		w.report.Failed++
		return Outcome{DeliveryID: d.ID, Status: newsletter.DeliveryFailed,
			Reply: fmt.Sprintf("gave up after %d attempts: %v", d.Attempts, err)}
	}
	w.report.Deferred++
	retry := now.Add(Backoff(d.Attempts, s.opt.RetryBase))
	if !mailer.IsInDoubt(err) && sessionBroken(err) && w.pacer.healthyOther(w.relay, now) {
		// The relay failed, not the recipient: a healthy relay can take it now rather than
		// after the backoff (an in-doubt row keeps it: it may have arrived).
		retry = now
		w.report.FailedOver++
	}
	return Outcome{DeliveryID: d.ID, Status: newsletter.DeliveryDeferred, Reply: reply, RetryAt: retry}
}

// retryMax caps the doubling backoff, unless the first wait is longer already.
const retryMax = time.Hour

// Backoff is the wait before attempt n+1 after n failed ones: base doubled per attempt,
// capped at retryMax (or base, when longer), with "equal jitter" (half fixed, half random)
// so that rows deferred together do not all come back in the same second.
func Backoff(attempts int, base time.Duration) time.Duration {
	limit := max(retryMax, base)
	d := base
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// Message builds the personalised message for one subscriber: the shared rendered body
// with the subscriber's placeholders filled, and the list headers of RFC 2369, RFC 2919
// and RFC 8058.
func (s *Sender) Message(issue newsletter.Issue, email render.Email, sub newsletter.Subscriber) mailer.Message {
	return s.message(issue, email, nil, sub)
}

// message is Message with, when body is not nil, the body prepared once per send.
func (s *Sender) message(issue newsletter.Issue, email render.Email, body *mailer.Body, sub newsletter.Subscriber) mailer.Message {
	id := s.opt.Identity
	tok := s.opt.Token(sub)
	unsubURL := newsletter.UnsubscribeURL(id.BaseURL, tok)
	rc := render.Recipient{Email: sub.Email, UnsubscribeURL: unsubURL}
	var html, text string
	var textFill, htmlFill []string
	if body != nil {
		textFill, htmlFill = rc.Fills()
	} else {
		html, text = email.Personalize(rc)
	}
	listUnsub := "<" + unsubURL + ">"
	if id.UnsubscribeMailto != "" {
		listUnsub += ", <mailto:" + id.UnsubscribeMailto + "?subject=" + url.QueryEscape("unsubscribe "+tok) + ">"
	}
	headers := []mailer.Header{
		{Name: "List-Id", Value: s.listID},
		{Name: "List-Unsubscribe", Value: listUnsub},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		{Name: "Precedence", Value: "bulk"},
		{Name: "Feedback-ID", Value: feedbackPart(issue.Week.String()) + s.feedbackTail},
	}
	return mailer.Message{
		From:         id.From,
		To:           mailer.Address{Name: sub.Name, Email: sub.Email},
		ReplyTo:      id.ReplyTo,
		EnvelopeFrom: s.envelopeFrom(issue, sub),
		Subject:      email.Subject,
		Date:         s.opt.Now(),
		MessageID:    s.messageID(issue, sub),
		Headers:      headers,
		Text:         text,
		HTML:         html,
		Body:         body,
		TextFill:     textFill,
		HTMLFill:     htmlFill,
	}
}

// messageID is WEEK.ISSUE.SUBSCRIBER.CREATED.INSTALL@DOMAIN (CREATED in base 36 seconds,
// left out with the install tag when unset): the same for every resend of one issue to one
// subscriber, and new for an issue rebuilt after a reset.
func (s *Sender) messageID(issue newsletter.Issue, sub newsletter.Subscriber) string {
	b := make([]byte, 0, 64)
	b = append(b, issue.Week.String()...)
	b = append(b, '.')
	b = strconv.AppendInt(b, issue.ID, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, sub.ID, 10)
	if !issue.CreatedAt.IsZero() {
		b = append(b, '.')
		b = strconv.AppendInt(b, issue.CreatedAt.Unix(), 36)
	}
	if s.opt.Identity.InstallTag != "" {
		b = append(b, '.')
		b = append(b, s.opt.Identity.InstallTag...)
	}
	b = append(b, '@')
	b = append(b, s.opt.Identity.MessageIDDomain...)
	return string(b)
}

func (s *Sender) envelopeFrom(issue newsletter.Issue, sub newsletter.Subscriber) string {
	if s.opt.EnvelopeFrom == nil || sub.ID <= 0 {
		return s.opt.Identity.BounceAddress
	}
	return s.opt.EnvelopeFrom(issue, sub)
}

// TestResult is the outcome of one test copy.
type TestResult struct {
	Email string
	Reply string
	Err   error
}

// SendTest sends a test copy of the issue to each address through the first relay, with
// "[TEST] " before the subject. The ledger is not touched. When copies failed (each result
// says why) the error counts them.
func (s *Sender) SendTest(ctx context.Context, issue newsletter.Issue, email render.Email, addrs []string) ([]TestResult, error) {
	res, err := s.sendCopies(ctx, issue, email, addrs, "[TEST] ", "test")
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if err == nil && failed > 0 {
		err = fmt.Errorf("%d of %d test copies failed", failed, len(addrs))
	}
	return res, err
}

// sendCopies sends the issue to addresses outside the ledger (test copies, canary seeds),
// each with a Message-ID of its own: such a copy is not the issue's message to anyone.
func (s *Sender) sendCopies(ctx context.Context, issue newsletter.Issue, email render.Email, addrs []string, subjectPrefix, kind string) ([]TestResult, error) {
	tr := s.relays[0].Transport
	conn, err := tr.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("delivery: %s send: %w", kind, err)
	}
	defer func() { conn.Close() }()
	email.Subject = subjectPrefix + email.Subject
	nonce := s.opt.Now().UnixNano()
	var out []TestResult
	for i, a := range addrs {
		m := s.Message(issue, email, newsletter.Subscriber{Email: a})
		m.MessageID = fmt.Sprintf("%s.%s.%d.%d%s@%s", issue.Week, kind, nonce, i, installSuffix(s.opt.Identity.InstallTag), s.opt.Identity.MessageIDDomain)
		r, err := conn.Send(ctx, m)
		out = append(out, TestResult{Email: a, Reply: r.Reply, Err: err})
		if err != nil && !mailer.IsPermanent(err) {
			conn.Close()
			if conn, err = tr.Open(ctx); err != nil {
				return out, fmt.Errorf("delivery: %s send: %w", kind, err)
			}
		}
	}
	return out, nil
}

func installSuffix(tag string) string {
	if tag == "" {
		return ""
	}
	return "." + tag
}

// feedbackTail is the list and publication parts of Feedback-ID, the header Gmail's
// feedback loop groups complaints by (campaign:customer:type:sender, here
// issue:list:publication); each part is kept to characters that cannot end the field.
func feedbackTail(id Identity) string {
	list := cmp.Or(id.ListID, id.MessageIDDomain)
	pub := feedbackPart(id.ListName)
	if pub == "" {
		_, pub, _ = strings.Cut(id.From.Email, "@")
		pub = feedbackPart(pub)
	}
	return ":" + feedbackPart(list) + ":" + pub
}

// feedbackPart lowers s to letters, digits, dots and dashes, other runs becoming one dash.
func feedbackPart(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String()
}

// listIDValue formats List-Id; the phrase is quoted when it holds specials (RFC 5322 §3.2.3)
// and encoded (RFC 2047) when it is not ASCII, leaving the <id> part readable.
func listIDValue(name, id string) string {
	if name == "" {
		return "<" + id + ">"
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r > 0x7e }) {
		return mime.QEncoding.Encode("utf-8", name) + " <" + id + ">"
	}
	if strings.ContainsAny(name, `()<>[]:;@\,."`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + id + ">"
}
