package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"newsletter/internal/weekly"
)

func cmdBuild(ctx context.Context, e env, args []string) error {
	fs := flags(e, "build", "", "Gather the feeds and create or refresh the week's draft, keeping every editor's edit.\nPrints the draft and the inclusion report; sends nothing.")
	weekFlag := addWeekFlag(fs)
	noFetch := fs.Bool("no-fetch", false, "build from the stories already stored, without fetching the feeds")
	return fs.run(ctx, args, 0, func(a *app) error {
		week, b, err := a.weekBuilder(ctx, e.stdout, *weekFlag, false)
		if err != nil {
			return err
		}
		var gatherErr error
		if !*noFetch {
			gatherErr = a.gather(ctx, e.stdout, b)
		}
		built, err := b.Build(ctx, week)
		if errors.Is(err, weekly.ErrNoStories) {
			fmt.Fprintf(e.stdout, "No draft for %s: no new stories were published between %s.\n", week, built.Window.In(a.cfg.Location()))
			return gatherErr
		}
		if err != nil {
			return err
		}
		printBuild(e.stdout, a, built)
		return gatherErr
	})
}

// printBuild shows a draft: status, subject, stories and the inclusion report.
func printBuild(w io.Writer, a *app, built weekly.Build) {
	is := built.Issue
	if built.Frozen {
		fmt.Fprintf(w, "Issue %s is %s; it is no longer rebuilt.\n", is.Week, is.Status)
	} else {
		fmt.Fprintf(w, "Draft %s: %d stories published %s.\n", is.Week, len(is.Stories), built.Window.In(a.cfg.Location()))
	}
	fmt.Fprintf(w, "  Subject:   %s\n  Preheader: %s\n", is.Subject, is.Preheader)
	if is.ApprovedBy != "" {
		fmt.Fprintf(w, "  Approved by %s\n", is.ApprovedBy)
	}
	for i, s := range is.Stories {
		pin := ""
		if s.Pinned {
			pin = " [pinned]"
		}
		fmt.Fprintf(w, "  %2d. #%d %s%s\n", i+1, s.ID, s.Title, pin)
	}
	for _, warn := range built.Email.Warnings {
		fmt.Fprintf(w, "  Warning: %s\n", warn)
	}
	if len(built.Decisions) > 0 {
		fmt.Fprintln(w, "Inclusion report:")
		for _, d := range built.Decisions {
			verdict := "in "
			if !d.Included {
				verdict = "out"
			}
			fmt.Fprintf(w, "  %s #%d %s", verdict, d.Story.ID, d.Story.Title)
			if d.Reason != "" {
				fmt.Fprintf(w, ": %s", d.Reason)
			}
			fmt.Fprintln(w)
		}
	}
}
