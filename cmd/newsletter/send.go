package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/dkim"
	"newsletter/internal/editorial"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/progress"
	"newsletter/internal/render"
	"newsletter/internal/schedule"
	"newsletter/internal/weekly"
)

func cmdSend(ctx context.Context, e env, args []string) error {
	fs := flags(e, "send", "", "Send (or resume) one saved issue to every active subscriber who has not had it,\nor a test copy of it to some addresses (--test; the ledger is not touched).")
	issueFlag := fs.issueFlag("the issue: an id or a week like 2026-W19 (default: this calendar week's issue)")
	testFlag := fs.String("test", "", "send a test copy (subject \"[TEST] …\") to these `ADDRESSES`, comma-separated, and nothing else")
	dryRun := fs.Bool("dry-run", false, "print what would be sent; send nothing and change nothing")
	release := fs.Bool("release", false, "lift the hold a failed canary put on the issue, then send the rest")
	return fs.run(ctx, args, 0, func(a *app) error {
		var is newsletter.Issue
		var err error
		if *issueFlag != "" {
			is, err = a.issueByFlag(ctx, *issueFlag)
		} else if is, err = a.db.IssueByWeek(ctx, newsletter.WeekOf(a.now().In(a.cfg.Location()))); err != nil {
			err = usagef("--issue is required when this week has no issue (%v)", err)
		}
		if err != nil {
			return err
		}
		sender, err := a.sender()
		if err != nil {
			return err
		}
		email := weekly.Stored(is)
		out := e.stdout
		if *testFlag != "" {
			var addrs []string
			for _, s := range strings.Split(*testFlag, ",") {
				if s = strings.TrimSpace(s); s != "" {
					addrs = append(addrs, s)
				}
			}
			if len(addrs) == 0 {
				return usagef("--test: no address given")
			}
			results, err := sender.SendTest(ctx, is, email, addrs)
			for _, r := range results {
				if r.Err != nil {
					fmt.Fprintf(out, "  %s: FAILED %v\n", r.Email, r.Err)
				} else {
					fmt.Fprintf(out, "  %s: %s\n", r.Email, r.Reply)
				}
			}
			if err != nil {
				return err
			}
			either(out, len(results) == 1, "Sent %d test copy of %s (the ledger is unchanged).\n",
				"Sent %d test copies of %s (the ledger is unchanged).\n", len(results), is.Week)
			return nil
		}
		if *dryRun {
			return a.dryRun(ctx, out, sender, is, email)
		}
		if *release {
			released, err := a.db.ReleaseIssue(ctx, is.ID)
			if err != nil {
				return err
			}
			either(out, released, "Released the hold on %s.\n", "Issue %s was not held.\n", is.Week)
		}
		if is.Status == newsletter.IssueDraft {
			// A plain draft's saved email may be stale (a later draft can take its stories);
			// approving rebuilds it, and run rebuilds it too.
			return usagef("issue %s is a draft nobody approved: approve it (newsletter draft approve --week %s) and send it again, or use newsletter run --week %s", is.Week, is.Week, is.Week)
		}
		if is.Status == newsletter.IssueSent {
			fmt.Fprintf(out, "Issue %s is already sent; resuming finds anyone still owed it.\n", is.Week)
		}
		return a.deliverIssue(ctx, out, sender, is, email)
	})
}

// loadRelays turns smtp_url (one or several, comma-separated) or the outbox into relays, each
// signing with DKIM when a key is configured; see app.relays.
func (a *app) loadRelays() ([]delivery.Relay, error) {
	signer, err := a.dkim()
	if err != nil {
		return nil, err
	}
	if len(a.smtp) == 0 {
		return delivery.Single(&mailer.Outbox{Dir: a.cfg.Outbox, Signer: signer}, a.cfg.Delivery.Workers), nil
	}
	return delivery.SMTPRelays(a.smtp, signer, a.cfg.Delivery.Workers), nil
}

// loadDKIM is the configured DKIM signer, nil when no key is configured; see app.dkim.
func (a *app) loadDKIM() (mailer.Signer, error) {
	f := dkim.Files(a.cfg.DKIM)
	if !f.Enabled() {
		return nil, nil
	}
	s, err := dkim.Load(f)
	if err != nil {
		return nil, exitError{exitUsage, err}
	}
	return s, nil
}

// printPlan prints what a send is about to do: recipients, relays, rate, duration.
func (a *app) printPlan(ctx context.Context, out io.Writer, sender *delivery.Sender, is newsletter.Issue) (int, error) {
	n, err := a.db.DeliveryBacklog(ctx, is.ID)
	if err != nil {
		return 0, err
	}
	p := sender.Plan(n)
	fmt.Fprintf(out, "Plan for %s: %d recipient(s) still to send.\n", is.Week, n)
	for _, r := range p.Relays {
		rate := "no rate limit"
		if r.Rate > 0 {
			rate = fmt.Sprintf("%g/s", r.Rate)
		}
		fmt.Fprintf(out, "  relay %s: %d connection(s), %s, weight %d\n", r.Transport, r.Connections, rate, r.Weight)
	}
	if p.Rate > 0 {
		fmt.Fprintf(out, "  overall rate: %g/s (%.0f/h)\n", p.Rate, p.Rate*3600)
	}
	if p.DomainRate > 0 {
		fmt.Fprintf(out, "  per-domain cap: %g/s\n", p.DomainRate)
	}
	if d := a.cfg.DKIM; d.KeyFile != "" {
		fmt.Fprintf(out, "  DKIM: d=%s s=%s", d.Domain, d.Selector)
		if d.Ed25519KeyFile != "" {
			fmt.Fprintf(out, " and ed25519 s=%s", d.Ed25519Selector)
		}
		fmt.Fprintln(out)
	}
	if p.Limit > 0 && n > 0 {
		fmt.Fprintf(out, "  estimated: %s, done about %s\n", p.Duration, a.now().Add(p.Duration).In(a.cfg.Location()).Format("Mon 15:04 MST"))
	} else if n > 0 {
		fmt.Fprintf(out, "  estimated: as fast as the relays accept\n")
	}
	return n, nil
}

// dryRun says what a send would do without touching SMTP or the ledger: the plan, and one
// message built (and signed) in full to prove it can be.
func (a *app) dryRun(ctx context.Context, out io.Writer, sender *delivery.Sender, is newsletter.Issue, email render.Email) error {
	n, err := a.printPlan(ctx, out, sender, is)
	if err != nil {
		return err
	}
	sample := sender.Message(is, email, editorial.PreviewReader())
	signer, err := a.dkim()
	if err != nil {
		return err
	}
	raw, err := sample.Render(signer)
	if err != nil {
		return fmt.Errorf("dry run: the message cannot be built: %w", err)
	}
	fmt.Fprintf(out, "  message: %q, %d KB\n", sample.Subject, (len(raw)+1023)/1024)
	fmt.Fprintf(out, "Dry run: would send issue %s to %d subscriber(s). Nothing was sent; the ledger is unchanged.\n", is.Week, n)
	return nil
}

// deliverIssue prints the plan, sends with progress, prints the summary and maps the result
// to the exit code: 0 done, 3 rows still deferred (or every relay down), 1 otherwise.
func (a *app) deliverIssue(ctx context.Context, out io.Writer, sender *delivery.Sender, is newsletter.Issue, email render.Email) error {
	held, release, err := a.holdSenderLease(ctx, out, is.Week)
	if err != nil {
		return err
	}
	defer release()
	ctx = held
	if _, err := a.printPlan(ctx, out, sender, is); err != nil {
		return err
	}
	prog := progress.New(out, is.Week.String(), a.cfg.Location(), a.now)
	sender = sender.WithProgress(prog)
	rep, sendErr := sender.Send(ctx, is, email)
	prog.Finish()
	a.printSummary(out, is.Week, rep)
	if len(a.smtp) == 0 && rep.Sent > 0 {
		abs, _ := filepath.Abs(a.cfg.Outbox)
		fmt.Fprintf(out, "Messages were written to the outbox: %s\n  (one .eml file per recipient; open one in a mail client, or run `newsletter preview --week %s --format html`)\n", abs, is.Week)
	}
	if sendErr != nil {
		return sendErr
	}
	if ctx.Err() != nil {
		// SIGTERM/SIGINT: what was in flight is recorded; the next start resumes.
		fmt.Fprintf(out, "Stopped on request; run it again, or let serve, to resume issue %s.\n", is.Week)
		return nil
	}
	switch {
	case rep.Held != "":
		return exitError{exitDeferred, fmt.Errorf("issue %s is held (%s); look into it, then `newsletter send --issue %s --release`", is.Week, rep.Held, is.Week)}
	case rep.Unreachable != "":
		return exitError{exitDeferred, fmt.Errorf("issue %s: no relay could be reached within delivery.retry_wait (%s); nothing was lost, run again later", is.Week, rep.Unreachable)}
	case !rep.Done:
		return exitError{exitDeferred, fmt.Errorf("issue %s is not fully delivered; run it again, or let serve, to retry the deferred deliveries", is.Week)}
	}
	return nil
}

// holdSenderLease takes the scheduler's lease too, so that a manual run and `serve` never
// send at once; it waits up to three lease lifetimes for a crashed holder, then exits 3.
func (a *app) holdSenderLease(ctx context.Context, out io.Writer, week newsletter.Week) (context.Context, func(), error) {
	held, release, err := schedule.HoldWaiting(ctx, a.db, schedule.Holder(), schedule.WaitOptions{
		Now: a.now, Logger: a.logger,
		Waiting: func(holder string) {
			fmt.Fprintf(out, "Waiting for %s, which holds the sender lease (a crashed holder frees it within %s)...\n", holder, schedule.LeaseTTL)
		},
	})
	if h := (*schedule.LeaseHeldError)(nil); errors.As(err, &h) {
		return nil, nil, exitError{exitDeferred, fmt.Errorf("issue %s: %s is still sending (it holds the sender lease); nothing was sent, run again later", week, h.Holder)}
	}
	return held, release, err
}

// printSummary is the one-screen result of a send.
func (a *app) printSummary(out io.Writer, week newsletter.Week, rep delivery.Report) {
	rate := 0.0
	if rep.Took > 0 {
		rate = float64(rep.Sent) / rep.Took.Seconds()
	}
	fmt.Fprintf(out, "Delivery of %s: %d sent, %d bounced, %d failed, %d deferred, %d in doubt (took %s, %.1f messages/s).\n",
		week, rep.Sent, rep.Bounced, rep.Failed, rep.Deferred, rep.InDoubt, rep.Took.Round(time.Millisecond), rate)
	if rep.InDoubt > 0 {
		fmt.Fprintf(out, "  %d message(s) were in flight when an earlier run stopped: they may have arrived; see delivery.in_doubt.\n", rep.InDoubt)
	}
	if rep.Unanswered > 0 {
		fmt.Fprintf(out, "  %d message(s) got no reply after being sent in full: they may have arrived; see delivery.in_doubt.\n", rep.Unanswered)
	}
	if rep.Canary != "" {
		fmt.Fprintf(out, "  Canary: %s\n", rep.Canary)
	}
	if rep.Held != "" {
		fmt.Fprintf(out, "  HELD: %s\n", rep.Held)
	}
	fmt.Fprintf(out, "  Ledger: %s\n", formatCounts(rep.Ledger))
	if n := rep.Ledger[newsletter.DeliveryDeferred]; n > 0 && !rep.NextRetry.IsZero() {
		fmt.Fprintf(out, "  %d deferred, next retry due %s\n", n, a.stamp(rep.NextRetry))
	}
	if rep.Unreachable != "" {
		fmt.Fprintf(out, "  Relay unreachable: %s\n", rep.Unreachable)
	}
}
