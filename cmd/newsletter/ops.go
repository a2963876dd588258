package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
	"newsletter/internal/schedule"
)

func cmdStatus(ctx context.Context, e env, args []string) error {
	fs := flags(e, "status", "", "Print the schedule (next build and send, local and UTC), the current issue, its ledger and recent scheduled runs.")
	issueFlag := fs.issueFlag("show this issue (id or week like 2026-W19) instead of the current ones")
	return fs.run(ctx, args, 0, func(a *app) error {
		sched := a.sched
		now := a.now()
		loc := a.cfg.Location()
		out := e.stdout
		when := func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return fmt.Sprintf("%s (%s UTC)", a.stamp(t), t.UTC().Format("2006-01-02 15:04"))
		}
		nextSend := sched.Next(schedule.Send, now)
		fmt.Fprintf(out, "Schedule (%s):\n", loc)
		fmt.Fprintf(out, "  next build  %s  [%s]\n", when(sched.Next(schedule.Build, now)), a.cfg.Schedule.Build)
		fmt.Fprintf(out, "  next send   %s  [%s]\n", when(nextSend), a.cfg.Schedule.Send)
		if holder, until, err := a.db.LeaseHolder(ctx, schedule.LeaseName); err == nil && until.After(now) {
			fmt.Fprintf(out, "  sender lease held by %s until %s\n", holder, when(until))
		}

		week := newsletter.WeekOf(nextSend.In(loc))
		if nextSend.IsZero() {
			week = newsletter.WeekOf(now.In(loc))
		}
		weeks := []newsletter.Week{week.Prev(), week}
		// An issue still being sent (say, a week sent late by hand) is shown too.
		list, err := a.db.ListIssues(ctx)
		if err != nil {
			return err
		}
		for _, is := range list {
			if is.Status == newsletter.IssueSending && !slices.Contains(weeks, is.Week) {
				weeks = append([]newsletter.Week{is.Week}, weeks...)
			}
		}
		if *issueFlag != "" {
			is, err := a.issueByFlag(ctx, *issueFlag)
			if err != nil {
				return err
			}
			weeks = []newsletter.Week{is.Week}
		}
		subs, err := a.db.CountSubscribers(ctx)
		if err != nil {
			return err
		}
		active := subs[newsletter.StatusActive]
		for _, w := range weeks {
			is, err := a.db.IssueByWeek(ctx, w)
			if errors.Is(err, newsletter.ErrNotFound) {
				fmt.Fprintf(out, "Issue %s: not built yet\n", w)
				continue
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Issue %s: %s, %d stories, subject %q\n", w, is.Status, len(is.Stories), is.Subject)
			if reason, err := a.db.IssueHold(ctx, is.ID); err != nil {
				return err
			} else if reason != "" {
				fmt.Fprintf(out, "  HELD: %s (release: newsletter send --issue %s --release)\n", reason, w)
			}
			counts, err := a.db.IssueCounts(ctx, is.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  ledger: %s\n", formatCounts(counts))
			if is.Status != newsletter.IssueSent {
				// The ledger is queued a chunk at a time as the send goes, so its rows alone
				// undercount what is left: count against every active subscriber.
				left, err := a.db.DeliveryBacklog(ctx, is.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "  still to send: %d of %d active subscribers\n", left, active)
			}
			// The bounces and complaints that came back after the send, if any.
			c, r, err := editorial.IssueComplaints(ctx, a.db, is)
			if err != nil {
				return err
			}
			if r != (newsletter.IssueReports{}) {
				fmt.Fprintf(out, "  after the send: %d hard bounce(s), %d soft bounce(s), %d complaint(s) (%.2f%% of %d delivered)\n",
					r.Hard, r.Soft, r.Complaints, 100*c.Rate(), c.Delivered)
			}
			if c.Over() {
				fmt.Fprintf(out, "  COMPLAINTS over %.1f%% of delivered messages: mailbox providers count them against the sender (keep under 0.3%%)\n", 100*editorial.ComplaintAlarm)
			}
		}

		runs, err := a.db.RecentRuns(ctx, 8)
		if err != nil {
			return err
		}
		if len(runs) > 0 {
			fmt.Fprintln(out, "Recent scheduled runs:")
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			for _, r := range runs {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.ScheduledAt.In(loc).Format("2006-01-02 15:04"), r.Kind, r.Week, r.Outcome, r.Detail)
			}
			tw.Flush()
		}
		return nil
	})
}

func cmdBackup(ctx context.Context, e env, args []string) error {
	fs := flags(e, "backup", "FILE", "Write a consistent copy of the database to FILE (SQLite VACUUM INTO), safe while the daemon runs.\nRestore: stop the daemon, move FILE over the database path, start it again.")
	return fs.run(ctx, args, 1, func(a *app) error {
		target, err := filepath.Abs(fs.pos[0])
		if err != nil {
			return err
		}
		start := time.Now()
		if err := a.db.Backup(ctx, target); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Backed up %s to %s in %s.\n", a.cfg.Database, target, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

func cmdCompact(ctx context.Context, e env, args []string) error {
	fs := flags(e, "compact", "", "Fold the per-recipient delivery rows of issues sent more than --weeks ago into per-issue totals.")
	weeks := fs.Int("weeks", 8, "keep per-recipient rows of issues sent in the last `N` weeks")
	fs.check(func() error {
		if *weeks < 1 {
			return usagef("--weeks must be at least 1")
		}
		return nil
	})
	return fs.run(ctx, args, 0, func(a *app) error {
		res, err := a.db.Compact(ctx, a.now().AddDate(0, 0, -7**weeks))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Compacted %d issue(s): %d delivery rows folded into totals.\n", res.Issues, res.Rows)
		return nil
	})
}

// parseIssueFlag reads --issue as an id ("7") or a week ("2026-W19").
func parseIssueFlag(v string) (int64, newsletter.Week, error) {
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		return id, newsletter.Week{}, nil
	}
	if w, err := newsletter.ParseWeek(v); err == nil {
		return 0, w, nil
	}
	return 0, newsletter.Week{}, usagef("--issue: %q is neither an issue id nor a week like 2026-W19", v)
}

// issueFlag adds --issue with its usage check, run before the database is opened.
func (f *flagSet) issueFlag(usage string) *string {
	v := f.String("issue", "", usage)
	f.check(func() error {
		if *v == "" {
			return nil
		}
		_, _, err := parseIssueFlag(*v)
		return err
	})
	return v
}

// issueByFlag finds an issue by id ("7") or week ("2026-W19").
func (a *app) issueByFlag(ctx context.Context, v string) (newsletter.Issue, error) {
	var is newsletter.Issue
	var err error
	id, w, err := parseIssueFlag(v)
	if err != nil {
		return is, err
	}
	if w == (newsletter.Week{}) {
		is, err = a.db.IssueByID(ctx, id)
	} else {
		is, err = a.db.IssueByWeek(ctx, w)
	}
	if errors.Is(err, newsletter.ErrNotFound) {
		return is, fmt.Errorf("issue %s does not exist", v)
	}
	return is, err
}
