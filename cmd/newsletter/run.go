package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"newsletter/internal/weekly"
)

func cmdRun(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "run", "", "Gather the feeds, build the week's issue and send it to every active subscriber who has not had it.\nSafe to run again: nobody gets an issue twice; an interrupted run resumes where it stopped.")
	weekFlag := fs.String("week", "", "issue `WEEK` to build and send, like 2026-W48 (default: the week it is now in the configured time zone)")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("run", pos); err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	week, err := a.week(*weekFlag)
	if err != nil {
		return err
	}
	b, err := a.builder()
	if err != nil {
		return err
	}
	sender, err := a.sender()
	if err != nil {
		return err
	}

	out := e.stdout
	fmt.Fprintf(out, "Gathering %d feed(s):\n", len(a.cfg.Feeds))
	gatherErr := printGather(out, b.Gather(ctx, a.cfg.Feeds))

	built, err := b.Build(ctx, week)
	if errors.Is(err, weekly.ErrNoStories) {
		fmt.Fprintf(out, "No issue for %s: no new stories were published between %s.\n", week, built.Window.In(a.cfg.Location()))
		return gatherErr
	}
	if err != nil {
		return err
	}
	is := built.Issue
	if built.Frozen {
		fmt.Fprintf(out, "Issue %s is already %s; resuming its delivery.\n", is.Week, is.Status)
	} else {
		fmt.Fprintf(out, "Built issue %s: %d stories published %s.\n", is.Week, len(is.Stories), built.Window.In(a.cfg.Location()))
	}
	fmt.Fprintf(out, "  Subject: %s\n", is.Subject)
	for _, w := range built.Email.Warnings {
		fmt.Fprintf(out, "  Warning: %s\n", w)
	}

	rep, sendErr := sender.Send(ctx, is, built.Email)
	fmt.Fprintf(out, "Delivery of %s: %d sent, %d bounced, %d failed for now", is.Week, rep.Sent, rep.Bounced, rep.Failed)
	if rep.Resumed > 0 {
		fmt.Fprintf(out, ", %d resent after an interrupted run", rep.Resumed)
	}
	fmt.Fprintf(out, " (took %s).\n", rep.Took.Round(1e6))
	fmt.Fprintf(out, "  Ledger: %s\n", formatCounts(rep.Ledger))
	if a.cfg.SMTPURL == "" && rep.Sent > 0 {
		abs, _ := filepath.Abs(a.cfg.Outbox)
		fmt.Fprintf(out, "Messages were written to the outbox: %s\n  (one .eml file per recipient; open one in a mail client, or run `newsletter preview --week %s --format html`)\n", abs, is.Week)
	}
	if sendErr != nil {
		return sendErr
	}
	if rep.Failed > 0 || !rep.Done {
		return deferredError{fmt.Sprintf("issue %s is not fully delivered; run again to retry the remaining deliveries", is.Week)}
	}
	return gatherErr
}
