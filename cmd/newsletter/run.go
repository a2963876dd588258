package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"newsletter/internal/newsletter"
	"newsletter/internal/weekly"
)

func cmdRun(ctx context.Context, e env, args []string) error {
	fs := flags(e, "run", "", "Gather the feeds, build the week's issue and send it to every active subscriber who has not had it.\nSafe to run again: nobody gets an issue twice; an interrupted run resumes where it stopped.")
	weekFlag := addWeekFlag(fs)
	dryRun := fs.Bool("dry-run", false, "gather and build, then print what would be sent: no SMTP, no ledger change, no approval")
	return fs.run(ctx, args, 0, func(a *app) error {
		week, b, err := a.weekBuilder(ctx, e.stdout, *weekFlag, !*dryRun)
		if err != nil {
			return err
		}
		sender, err := a.sender()
		if err != nil {
			return err
		}

		out := e.stdout
		gatherErr := a.gather(ctx, out, b)
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
		if *dryRun {
			return cmp.Or(a.dryRun(ctx, out, sender, is, built.Email), gatherErr)
		}
		if is.Status == newsletter.IssueDraft {
			// An operator's explicit run is the approval that require_approval asks for.
			if err := a.db.ApproveIssue(ctx, is.ID, "operator (newsletter run)", a.now()); err != nil {
				return err
			}
			fmt.Fprintf(out, "  Approved by this explicit run (editorial.require_approval governs scheduled sends only).\n")
		}
		return cmp.Or(a.deliverIssue(ctx, out, sender, is, built.Email), gatherErr)
	})
}
