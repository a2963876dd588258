package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/editorial"
	"newsletter/internal/mailbox"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

const bouncesUsage = `Usage: newsletter bounces SUBCOMMAND [flags]

Subcommands:
  process [FILE]    read bounce reports (DSNs), spam complaints (ARF) and messages to
                    sender.unsubscribe_mailto, and apply them:
                    one message from FILE, or from standard input when FILE is absent
                    (a Postfix pipe transport or an aliases entry), or every message of
                    an mbox file or a Maildir directory given as FILE.
                    Prints one line per message. Exit 0 when every message was handled
                    or recognised as irrelevant, 1 when some input could not be read.
  poll              read every unseen message of bounces.mailbox (IMAP) the same way and
                    flag it seen; serve does this every bounces.poll_every.

Every subcommand takes --config FILE and --help.`

func cmdBounces(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, bouncesUsage)
		return usagef("bounces: missing subcommand")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, bouncesUsage)
		return errHelp
	case "process":
		return bouncesProcess(ctx, e, args[1:], os.Stdin)
	case "poll":
		return bouncesPoll(ctx, e, args[1:])
	}
	fmt.Fprintln(e.stderr, bouncesUsage)
	return usagef("bounces: unknown subcommand %q", args[0])
}

// bouncesProcess is `bounces process`, reading stdin when no FILE is given.
func bouncesProcess(ctx context.Context, e env, args []string, stdin io.Reader) error {
	fs, cfgPath := flags(e, "bounces process", "[FILE]",
		"Apply the bounce reports and complaints in one message (FILE or standard input), an mbox file or a Maildir.")
	pos, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("bounces process takes at most one FILE, got %q", pos)
	}
	a, r, err := openRoster(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.bounceRun(ctx, r, e.stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		err = p.one("stdin", stdin)
	} else {
		err = p.path(pos[0])
	}
	if err != nil {
		return err
	}
	if p.unreadable > 0 {
		return fmt.Errorf("bounces process: %d of %d message(s) could not be read", p.unreadable, p.seen)
	}
	return nil
}

// bounceRun returns what reads reports for `bounces process`, `bounces poll` and serve,
// printing a line per message on out.
func (a *app) bounceRun(ctx context.Context, r *roster.Service, out io.Writer) (*bounceRun, error) {
	p := &bounceRun{ctx: ctx, a: a, r: r, out: out,
		parse: bounce.Options{MaxBytes: a.cfg.Bounces.MaxMessageBytes, BounceAddress: a.cfg.Sender.BounceAddress,
			UnsubscribeAddress: a.cfg.Sender.UnsubscribeMailto},
		rules: roster.BounceRules{MessageIDDomain: a.cfg.MessageIDDomain(), SignedOnly: a.cfg.Sender.VERP, BounceRules: store.BounceRules{
			HardLimit: a.cfg.Delivery.BounceLimit, SoftLimit: a.cfg.Bounces.SoftLimit, SoftWindow: a.cfg.Bounces.SoftWindow}},
	}
	var err error
	p.editors, err = a.editorNotice()
	return p, err
}

// mailboxOptions is bounces.mailbox as the IMAP reader takes it; ok is false when none is set.
func (a *app) mailboxOptions() (opt mailbox.Options, ok bool, err error) {
	if a.cfg.Bounces.Mailbox == "" {
		return mailbox.Options{}, false, nil
	}
	if err := mailbox.Check(a.cfg.Bounces.Mailbox); err != nil {
		return mailbox.Options{}, false, &configError{fmt.Errorf("bounces.mailbox: %w", err)}
	}
	return mailbox.Options{URL: a.cfg.Bounces.Mailbox, MaxBytes: a.cfg.Bounces.MaxMessageBytes}, true, nil
}

// bouncesPoll is `bounces poll`: one pass over bounces.mailbox.
func bouncesPoll(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "bounces poll", "", "Apply the bounce reports and complaints among the unseen messages of bounces.mailbox, flagging each seen.")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("bounces poll", pos); err != nil {
		return err
	}
	a, r, err := openRoster(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	opt, ok, err := a.mailboxOptions()
	if err != nil {
		return err
	}
	if !ok {
		return &configError{errors.New("bounces.mailbox is not set: there is no mailbox to poll")}
	}
	p, err := a.bounceRun(ctx, r, e.stdout)
	if err != nil {
		return err
	}
	n, err := mailbox.Poll(ctx, opt, func(_ context.Context, name string, body io.Reader) error { return p.one(name, body) })
	if err != nil {
		return fmt.Errorf("bounces poll: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d message(s) read from the bounce mailbox.\n", n)
	if p.unreadable > 0 {
		return fmt.Errorf("bounces poll: %d of %d message(s) could not be read", p.unreadable, p.seen)
	}
	return nil
}

// pollBounces reads bounces.mailbox every bounces.poll_every until ctx is done: serve's loop.
func (a *app) pollBounces(ctx context.Context, r *roster.Service, opt mailbox.Options, out io.Writer) {
	t := time.NewTicker(a.cfg.Bounces.PollEvery)
	defer t.Stop()
	for {
		p, err := a.bounceRun(ctx, r, out)
		if err == nil {
			_, err = mailbox.Poll(ctx, opt, func(_ context.Context, name string, body io.Reader) error { return p.one(name, body) })
		}
		if err != nil && ctx.Err() == nil {
			a.logger.Error("bounce mailbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// bounceRun processes messages and counts what it could not read.
type bounceRun struct {
	ctx              context.Context
	a                *app
	r                *roster.Service
	out              io.Writer
	parse            bounce.Options
	rules            roster.BounceRules
	editors          *editorial.Notice // nil when editorial.editors_email is not set
	seen, unreadable int
}

// path processes a Maildir, an mbox or a single message file.
func (p *bounceRun) path(name string) error {
	var handleErr error // already says "bounces process"
	err := mailbox.ReadPath(p.ctx, name, p.parse.MaxBytes,
		func(_ context.Context, label string, r io.Reader) error {
			handleErr = p.one(label, r)
			return handleErr
		},
		func(label string, err error) {
			p.seen++
			p.unreadable++
			fmt.Fprintf(p.out, "%s: cannot read: %v; nothing changed\n", label, err)
		})
	if err != nil && handleErr == nil {
		return fmt.Errorf("bounces process: %w", err)
	}
	return err
}

// one parses and applies one message and prints what it did.
func (p *bounceRun) one(label string, r io.Reader) error {
	p.seen++
	rep, err := bounce.Parse(r, p.parse)
	if err != nil {
		if label == "stdin" && errors.Is(err, bounce.ErrTooLarge) {
			// Read the rest, without keeping it, so that the MTA's pipe does not fail first.
			_, _ = io.Copy(io.Discard, r)
		}
		p.unreadable++
		fmt.Fprintf(p.out, "%s: cannot read: %v; nothing changed\n", label, err)
		return nil
	}
	out, err := p.r.ApplyReport(p.ctx, rep, p.rules)
	if err != nil {
		return fmt.Errorf("bounces process: %s: %w", label, err)
	}
	fmt.Fprintf(p.out, "%s: %s\n", label, p.describe(rep, out))
	if out.Recorded && rep.Kind == bounce.Complaint && out.IssueID > 0 {
		return p.complaintAlarm(out.IssueID)
	}
	return nil
}

// complaintAlarm tells the editors, once per issue, when a complaint takes the issue's
// complaints past complaintAlarm of its delivered messages.
func (p *bounceRun) complaintAlarm(issueID int64) error {
	counts, err := p.a.db.DeliveryCounts(p.ctx, issueID)
	if err != nil {
		return err
	}
	if totals, err := p.a.db.IssueTotals(p.ctx, issueID); err == nil {
		for st, n := range totals {
			counts[st] += n
		}
	}
	r, err := p.a.db.IssueBounces(p.ctx, issueID)
	if err != nil {
		return err
	}
	delivered := counts[newsletter.DeliverySent] + r.HardInLedger
	over := func(complaints int) bool { return float64(complaints) > complaintAlarm*float64(delivered) }
	// Only the complaint that crosses the line tells the editors: one mail per issue.
	if delivered == 0 || !over(r.Complaints) || over(r.Complaints-1) {
		return nil
	}
	is, err := p.a.db.IssueByID(p.ctx, issueID)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Issue %s: %d complaint(s) of %d delivered messages (%.2f%%), over %.1f%%.",
		is.Week, r.Complaints, delivered, 100*float64(r.Complaints)/float64(delivered), 100*complaintAlarm)
	if p.editors == nil {
		fmt.Fprintf(p.out, "  %s (set editorial.editors_email to be told by mail)\n", msg)
		return nil
	}
	body := msg + "\n\nGmail and Yahoo count spam complaints against the sender: keep them under 0.3%, aim under 0.1%.\n" +
		"Complaining subscribers are suppressed already; look at what this issue did differently\n" +
		"(subject, content, who was added to the list) before the next one goes out.\n\n" +
		"  newsletter status --issue " + is.Week.String() + "\n"
	if err := p.editors.Notify(p.ctx, "Complaints over 0.1%: issue "+is.Week.String(), body); err != nil {
		fmt.Fprintf(p.out, "  %s Could not tell the editors: %v\n", msg, err)
		return nil
	}
	fmt.Fprintf(p.out, "  %s Told the editors (%s).\n", msg, p.a.cfg.Editorial.EditorsEmail)
	return nil
}

func (p *bounceRun) describe(rep bounce.Report, out roster.BounceOutcome) string {
	what := map[bounce.Kind]string{bounce.Hard: "hard bounce", bounce.Soft: "soft bounce", bounce.Complaint: "complaint",
		bounce.Unsubscribe: "mailto unsubscribe"}[rep.Kind]
	if rep.Kind == bounce.Irrelevant {
		return "irrelevant: " + out.Skipped
	}
	if rep.Status != "" {
		what += " " + rep.Status
	}
	if out.Subscriber.ID == 0 {
		return what + ": " + out.Skipped
	}
	who := out.Subscriber.Email + " (by " + out.By
	if out.IssueID > 0 {
		if is, err := p.a.db.IssueByID(p.ctx, out.IssueID); err == nil {
			who += ", issue " + is.Week.String()
		}
	}
	who += ")"
	if !out.Recorded {
		return fmt.Sprintf("%s for %s: %s; nothing changed", what, who, out.Skipped)
	}
	res := out.Result
	var effect string
	switch {
	case res.Suppressed == store.SuppressComplained:
		effect = "suppressed (complained), status " + string(res.Status)
	case res.Suppressed == store.SuppressUnsubscribed:
		effect = "unsubscribed"
	case res.Suppressed != "":
		effect = "suppressed (bounced), status " + string(res.Status)
	case rep.Kind == bounce.Hard:
		effect = fmt.Sprintf("%d of %d hard bounces (delivery.bounce_limit)", res.Hard, res.Limit)
	default:
		effect = fmt.Sprintf("%d of %d soft bounces within %s (bounces.soft_limit)", res.Soft, res.Limit, p.rules.SoftWindow)
	}
	return fmt.Sprintf("%s for %s: %s", what, who, effect)
}

// complaintAlarm is the share of an issue's delivered messages whose complaints `status`
// warns about: Gmail and Yahoo ask senders to stay under 0.3% and aim under 0.1%.
const complaintAlarm = 0.001

// printIssueReports prints, for status, the bounces and complaints that came back after an
// issue was sent; nothing when none did.
func printIssueReports(ctx context.Context, w io.Writer, db *store.DB, issueID int64, counts map[newsletter.DeliveryStatus]int) error {
	r, err := db.IssueBounces(ctx, issueID)
	if err != nil {
		return err
	}
	if r == (store.IssueReports{}) {
		return nil
	}
	// Delivered: what the relays accepted, the bounces reported later included.
	delivered := counts[newsletter.DeliverySent] + r.HardInLedger
	rate := 0.0
	if delivered > 0 {
		rate = float64(r.Complaints) / float64(delivered)
	}
	fmt.Fprintf(w, "  after the send: %d hard bounce(s), %d soft bounce(s), %d complaint(s) (%.2f%% of %d delivered)\n",
		r.Hard, r.Soft, r.Complaints, 100*rate, delivered)
	if r.Complaints > 0 && rate > complaintAlarm {
		fmt.Fprintf(w, "  COMPLAINTS over %.1f%% of delivered messages: mailbox providers count them against the sender (keep under 0.3%%)\n", 100*complaintAlarm)
	}
	return nil
}
