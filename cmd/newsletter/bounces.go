package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"newsletter/internal/bounce"
	"newsletter/internal/inbox"
	"newsletter/internal/mailbox"
	"newsletter/internal/roster"
)

func cmdBounces(ctx context.Context, e env, args []string) error {
	return group(ctx, e, "bounces", args, []command{
		{"process [FILE]", `read bounce reports (DSNs), spam complaints (ARF) and messages to
sender.unsubscribe_mailto, and apply them: one message from FILE, or from standard input
when FILE is absent (a Postfix pipe transport or an aliases entry), or every message of
an mbox file or a Maildir directory given as FILE. Prints one line per message.
Exit 0 when every message was handled or recognised as irrelevant, 1 when some input
could not be read, 75 (EX_TEMPFAIL: the MTA keeps the message and retries) when the
database could not be opened or could not record a report; the reports applied before
it stay, and applying one again changes nothing.`, bouncesProcess},
		{"poll", "read every unseen message of bounces.mailbox (IMAP) the same way and\n" +
			"flag it seen; serve does this every bounces.poll_every.", bouncesPoll},
	}, "")
}

// bouncesProcess is `bounces process`, reading stdin when no FILE is given.
func bouncesProcess(ctx context.Context, e env, args []string) error {
	fs := flags(e, "bounces process", "[FILE]",
		"Apply the bounce reports and complaints in one message (FILE or standard input), an mbox file or a Maildir.")
	a, err := fs.open(ctx, args, -1, func() error {
		if len(fs.pos) > 1 {
			return usagef("bounces process takes at most one FILE, got %q", fs.pos)
		}
		return nil
	})
	if err != nil {
		if x := (exitError{}); !errors.As(err, &x) {
			// Not usage or the configuration: the database could not be opened (locked by a migration,
			// unwritable, disk full), which an operator can fix while the MTA keeps the message.
			err = exitError{exitTempFail, err}
		}
		return err
	}
	defer a.Close()
	r, err := a.roster(nil)
	if err != nil {
		return err
	}
	p, err := a.bounceRun(r, e.stdout)
	if err != nil {
		return err
	}
	if len(fs.pos) == 0 {
		err = p.Message(ctx, "stdin", e.stdin)
	} else {
		err = p.Path(ctx, fs.pos[0])
	}
	if nr := (*inbox.NotRecordedError)(nil); errors.As(err, &nr) {
		return exitError{exitTempFail, err}
	}
	if err != nil {
		return err
	}
	if err := p.Err(); err != nil {
		return fmt.Errorf("bounces process: %w", err)
	}
	return nil
}

// bounceRun returns what reads reports for `bounces process`, `bounces poll` and serve,
// printing a line per message on out.
func (a *app) bounceRun(r *roster.Service, out io.Writer) (*inbox.Run, error) {
	notice, err := a.editorNotice()
	if err != nil {
		return nil, err
	}
	return inbox.New(inbox.Options{Applier: r, Issues: a.db, Rules: a.bounceRules(), Notice: notice, Out: out,
		Parse: bounce.Options{MaxBytes: a.cfg.Bounces.MaxMessageBytes, BounceAddress: a.cfg.Sender.BounceAddress,
			UnsubscribeAddress: a.cfg.Sender.UnsubscribeMailto}}), nil
}

// mailboxOptions is bounces.mailbox as the IMAP reader takes it; ok is false when none is set.
func (a *app) mailboxOptions() (opt mailbox.Options, ok bool, err error) {
	if a.cfg.Bounces.Mailbox == "" {
		return mailbox.Options{}, false, nil
	}
	if err := mailbox.Check(a.cfg.Bounces.Mailbox); err != nil {
		return mailbox.Options{}, false, usagef("bounces.mailbox: %w", err)
	}
	return mailbox.Options{URL: a.cfg.Bounces.Mailbox, MaxBytes: a.cfg.Bounces.MaxMessageBytes}, true, nil
}

// bouncesPoll is `bounces poll`: one pass over bounces.mailbox.
func bouncesPoll(ctx context.Context, e env, args []string) error {
	fs := flags(e, "bounces poll", "", "Apply the bounce reports and complaints among the unseen messages of bounces.mailbox, flagging each seen.")
	return fs.runRoster(ctx, args, 0, func(a *app, r *roster.Service) error {
		opt, ok, err := a.mailboxOptions()
		if err != nil {
			return err
		}
		if !ok {
			return usagef("bounces.mailbox is not set: there is no mailbox to poll")
		}
		p, err := a.bounceRun(r, e.stdout)
		if err != nil {
			return err
		}
		n, err := mailbox.Poll(ctx, opt, p.Message)
		if err != nil {
			return fmt.Errorf("bounces poll: %w", err)
		}
		fmt.Fprintf(e.stdout, "%d message(s) read from the bounce mailbox.\n", n)
		if err := p.Err(); err != nil {
			return fmt.Errorf("bounces poll: %w", err)
		}
		return nil
	})
}
