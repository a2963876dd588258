// Package delivery sends one saved issue to every subscriber in its delivery ledger, each
// exactly once as far as SMTP allows: a worker claims a ledger row, sends, and records the
// outcome before it claims the next, so a crash leaves at most one row per connection in doubt.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"strings"
	"sync"
	"time"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

// Ledger is the part of the store that delivery needs.
type Ledger interface {
	SetIssueStatus(ctx context.Context, issueID int64, st newsletter.IssueStatus, now time.Time) error
	// EnqueueDeliveries adds a pending row for every active subscriber without one.
	EnqueueDeliveries(ctx context.Context, issueID int64, now time.Time) (int, error)
	// ResetInFlight returns rows left in sending by a crash to pending.
	ResetInFlight(ctx context.Context, issueID int64) (int, error)
	// RequeueFailed returns rows that failed temporarily to pending.
	RequeueFailed(ctx context.Context, issueID int64) (int, error)
	// ClaimDeliveries moves up to limit pending rows of the issue to sending and returns them.
	ClaimDeliveries(ctx context.Context, issueID int64, limit int, now time.Time) ([]newsletter.Delivery, error)
	// RecordOutcomes stores the final (or retryable) state of claimed rows.
	RecordOutcomes(ctx context.Context, outcomes []newsletter.Delivery, now time.Time) error
	DeliveryCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error)
}

// Identity is how every message of the list presents itself.
type Identity struct {
	From              mailer.Address
	ReplyTo           string
	BounceAddress     string // envelope sender; empty = From
	ListName          string // phrase of List-Id
	ListID            string // dot-atom of List-Id, e.g. weekly.technerdo.com
	MessageIDDomain   string
	BaseURL           string // public URL of the unsubscribe handler, no trailing slash
	UnsubscribeMailto string // optional address for mailto: unsubscribes
}

// Options configure a Sender.
type Options struct {
	Identity Identity
	// Token returns the signed unsubscribe token for a subscriber.
	Token   func(newsletter.Subscriber) string
	Workers int
	Now     func() time.Time
	Logger  *slog.Logger
}

// Sender delivers issues through a transport, recording outcomes in a ledger.
type Sender struct {
	ledger    Ledger
	transport mailer.Transport
	opt       Options
}

// New returns a Sender.
func New(ledger Ledger, transport mailer.Transport, opt Options) *Sender {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.Identity.BaseURL = strings.TrimRight(opt.Identity.BaseURL, "/")
	return &Sender{ledger: ledger, transport: transport, opt: opt}
}

// Report counts what one Send did.
type Report struct {
	Enqueued int // ledger rows added for subscribers who had none
	Resumed  int // rows left in flight by an earlier crash, sent again (a duplicate beats a loss)
	Retried  int // rows that had failed temporarily before, tried again
	Sent     int
	Bounced  int
	Failed   int // temporary failures, left for the next run
	// Ledger is the issue's whole ledger after the run, by status.
	Ledger map[newsletter.DeliveryStatus]int
	Done   bool // every row reached a final state; the issue is marked sent
	Took   time.Duration
}

// Send freezes the issue (no more edits once the first message may leave), adds a ledger
// row for every active subscriber not yet in it, resumes what an earlier run left, and
// delivers every pending row. Cancelling ctx stops new claims; messages already handed to
// the transport are finished and recorded. A transport that cannot be opened stops the run
// with an error and returns its claimed row to pending.
func (s *Sender) Send(ctx context.Context, issue newsletter.Issue, email render.Email) (Report, error) {
	start := s.opt.Now()
	var report Report
	if issue.Status == newsletter.IssueDraft {
		if err := s.ledger.SetIssueStatus(ctx, issue.ID, newsletter.IssueSending, start); err != nil {
			return report, fmt.Errorf("delivery: freeze issue %s: %w", issue.Week, err)
		}
	}
	var err error
	if report.Enqueued, err = s.ledger.EnqueueDeliveries(ctx, issue.ID, start); err != nil {
		return report, fmt.Errorf("delivery: enqueue: %w", err)
	}
	if report.Resumed, err = s.ledger.ResetInFlight(ctx, issue.ID); err != nil {
		return report, fmt.Errorf("delivery: resume: %w", err)
	}
	if report.Resumed > 0 {
		s.opt.Logger.Warn("resending messages whose outcome was not recorded before a crash", "issue", issue.Week.String(), "count", report.Resumed)
	}
	if report.Retried, err = s.ledger.RequeueFailed(ctx, issue.ID); err != nil {
		return report, fmt.Errorf("delivery: requeue: %w", err)
	}
	sendErr := s.deliver(ctx, issue, email, &report)
	if report.Ledger, err = s.ledger.DeliveryCounts(context.WithoutCancel(ctx), issue.ID); err != nil {
		return report, errors.Join(sendErr, fmt.Errorf("delivery: counts: %w", err))
	}
	open := report.Ledger[newsletter.DeliveryPending] + report.Ledger[newsletter.DeliverySending] + report.Ledger[newsletter.DeliveryFailed]
	if sendErr == nil && open == 0 {
		if err := s.ledger.SetIssueStatus(context.WithoutCancel(ctx), issue.ID, newsletter.IssueSent, s.opt.Now()); err != nil {
			return report, fmt.Errorf("delivery: mark sent: %w", err)
		}
		report.Done = true
	}
	report.Took = s.opt.Now().Sub(start)
	return report, sendErr
}

// deliver runs the workers over the ledger's pending rows.
func (s *Sender) deliver(ctx context.Context, issue newsletter.Issue, email render.Email, report *Report) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	for w := 0; w < s.opt.Workers; w++ {
		wg.Go(func() {
			r, err := s.work(runCtx, issue, email)
			mu.Lock()
			defer mu.Unlock()
			report.Sent += r.Sent
			report.Bounced += r.Bounced
			report.Failed += r.Failed
			if err != nil {
				errs = append(errs, err)
				stop() // one broken transport or ledger stops the others' claims too
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// work is one worker: one transport session, reused for every message it sends.
func (s *Sender) work(ctx context.Context, issue newsletter.Issue, email render.Email) (Report, error) {
	var report Report
	// Finish and record in-flight work even when ctx is cancelled (SIGTERM).
	finish := context.WithoutCancel(ctx)
	var conn mailer.Sender
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for ctx.Err() == nil {
		rows, err := s.ledger.ClaimDeliveries(ctx, issue.ID, 1, s.opt.Now())
		if err != nil {
			if ctx.Err() != nil {
				return report, nil
			}
			return report, fmt.Errorf("delivery: claim: %w", err)
		}
		if len(rows) == 0 {
			return report, nil
		}
		d := rows[0]
		if conn == nil {
			conn, err = s.transport.Open(finish)
			if err != nil {
				d.Status = newsletter.DeliveryPending
				d.Reply = err.Error()
				if rerr := s.ledger.RecordOutcomes(finish, []newsletter.Delivery{d}, s.opt.Now()); rerr != nil {
					return report, errors.Join(err, rerr)
				}
				return report, fmt.Errorf("delivery: open %s: %w", s.transport, err)
			}
		}
		receipt, err := conn.Send(finish, s.Message(issue, email, d.Subscriber))
		if errors.Is(err, mailer.ErrInvalidMessage) {
			// A message that cannot be built is a data or configuration problem, not the
			// recipient's: stop the run and put the row back rather than retry it forever.
			d.Status, d.Reply = newsletter.DeliveryPending, err.Error()
			if rerr := s.ledger.RecordOutcomes(finish, []newsletter.Delivery{d}, s.opt.Now()); rerr != nil {
				return report, errors.Join(err, rerr)
			}
			return report, fmt.Errorf("delivery: subscriber %d: %w", d.Subscriber.ID, err)
		}
		switch {
		case err == nil:
			d.Status, d.Reply = newsletter.DeliverySent, receipt.Reply
			report.Sent++
		case mailer.IsPermanent(err):
			d.Status, d.Reply = newsletter.DeliveryBounced, err.Error()
			report.Bounced++
		default:
			d.Status, d.Reply = newsletter.DeliveryFailed, err.Error()
			report.Failed++
			// The session may be broken (dropped connection, timeout): start a new one.
			conn.Close()
			conn = nil
		}
		if err != nil {
			s.opt.Logger.Warn("delivery failed", "issue", issue.Week.String(), "subscriber_id", d.Subscriber.ID, "status", d.Status, "err", err)
		}
		if err := s.ledger.RecordOutcomes(finish, []newsletter.Delivery{d}, s.opt.Now()); err != nil {
			return report, fmt.Errorf("delivery: record %d: %w", d.ID, err)
		}
	}
	return report, nil
}

// Message builds the personalised message for one subscriber: the shared rendered body
// with the subscriber's placeholders filled, and the list headers of RFC 2369, RFC 2919
// and RFC 8058.
func (s *Sender) Message(issue newsletter.Issue, email render.Email, sub newsletter.Subscriber) mailer.Message {
	id := s.opt.Identity
	tok := s.opt.Token(sub)
	unsubURL := id.BaseURL + "/unsubscribe/" + tok
	html, text := email.Personalize(render.Recipient{Email: sub.Email, UnsubscribeURL: unsubURL})
	listUnsub := "<" + unsubURL + ">"
	if id.UnsubscribeMailto != "" {
		listUnsub += ", <mailto:" + id.UnsubscribeMailto + "?subject=" + url.QueryEscape("unsubscribe "+tok) + ">"
	}
	headers := []mailer.Header{
		{Name: "List-Id", Value: listIDValue(id.ListName, id.ListID)},
		{Name: "List-Unsubscribe", Value: listUnsub},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		{Name: "Precedence", Value: "bulk"},
	}
	return mailer.Message{
		From:         id.From,
		To:           mailer.Address{Name: sub.Name, Email: sub.Email},
		ReplyTo:      id.ReplyTo,
		EnvelopeFrom: id.BounceAddress,
		Subject:      email.Subject,
		Date:         s.opt.Now(),
		MessageID:    fmt.Sprintf("%s.%d.%d@%s", issue.Week, issue.ID, sub.ID, id.MessageIDDomain),
		Headers:      headers,
		Text:         text,
		HTML:         html,
	}
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
