package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

func cmdSubscribers(ctx context.Context, e env, args []string) error {
	return group(ctx, e, "subscribers", args, []command{
		{"add EMAIL [--name NAME] [--status S] [--force]",
			"add one address (active unless --status says otherwise;\na suppressed address only with --force)", subscribersAdd},
		{"remove EMAIL [--erase]", "unsubscribe an address (kept, so an import cannot re-add it);\n" +
			"--erase deletes it instead (GDPR), keeping only a hash", subscribersRemove},
		{"erase EMAIL", "the same as remove --erase", subscribersErase},
		{"suppress EMAIL [--reason R]", "put an address on the suppression list (complained, bounced, manual, unsubscribed)", subscribersSuppress},
		{"show EMAIL", "print one subscriber and their consent log", subscribersShow},
		{"list [--status S] [--search TEXT] [--limit N]", "print addresses with their status", subscribersList},
		{"import FILE [--dry-run] [--strict] [--resubscribe]",
			"add or update from a CSV with a header row (email, name, status, subscribed_at)", subscribersImport},
		{"export [--status S] [--search TEXT] [--output FILE]", "write a CSV that import reads back", subscribersExport},
		{"stats [--weeks N]", "count subscribers by status, and joins and departures by week", subscribersStats},
	}, "Statuses: active, pending, unsubscribed, bounced; filters also take suppressed\n"+
		"(unsubscribed, bounced or complained: everyone the list will not mail).\n")
}

// roster builds the list service the CLI shares with the admin API; serve's also sends
// confirmations.
func (a *app) roster(confirmations roster.Confirmations) (*roster.Service, error) {
	sg, err := a.signer()
	if err != nil {
		return nil, err
	}
	return roster.New(roster.Options{Store: a.db, Tokens: sg, Confirmations: confirmations, BaseURL: a.cfg.BaseURL,
		ConfirmTTL: a.cfg.Subscribe.ConfirmTTL, Now: a.now, Logger: a.logger}), nil
}

// statusFlag parses --status with parse (newsletter.ParseSubscriberStatus for a status to
// set, roster.ParseStatus for a filter, which also takes "suppressed"); "" is no status.
func statusFlag[T ~string](s string, parse func(string) (T, error)) (T, error) {
	if s == "" {
		return "", nil
	}
	st, err := parse(s)
	if err != nil {
		return "", usagef("--status: %w", err)
	}
	return st, nil
}

func subscribersAdd(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers add", "EMAIL", "Add one subscriber.")
	name := fs.String("name", "", "the subscriber's `NAME`")
	status := fs.String("status", "active", "initial `STATUS`")
	force := fs.Bool("force", false, "add the address even if it is on the suppression list (and take it off)")
	var st newsletter.SubscriberStatus
	addr := fs.address()
	fs.check(func() (err error) {
		st, err = statusFlag(*status, newsletter.ParseSubscriberStatus)
		return err
	})
	return fs.runRoster(ctx, args, 1, func(a *app, r *roster.Service) error {
		s, created, err := r.Add(ctx, roster.AddRequest{Email: *addr, Name: *name, Status: string(st), Source: "cli", Force: *force})
		if errors.Is(err, roster.ErrSuppressed) {
			return fmt.Errorf("subscribers add: %w; use --force if they asked to come back", err)
		}
		if err != nil {
			return err
		}
		either(e.stdout, created, "Added %s (%s).\n", "%s is already on the list (%s); nothing changed.\n", s.Email, s.Status)
		return nil
	})
}

func subscribersRemove(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers remove", "EMAIL", "Unsubscribe one address. The row is kept as unsubscribed so that no import mails it again.")
	erase := fs.Bool("erase", false, "delete the subscriber's personal data and history (GDPR erase), keeping only a keyed hash of the address on the suppression list")
	addr := fs.address()
	return fs.runRoster(ctx, args, 1, func(a *app, r *roster.Service) error {
		if *erase {
			return eraseAddress(ctx, e, r, *addr)
		}
		s, changed, err := r.Remove(ctx, *addr, "cli")
		if errors.Is(err, newsletter.ErrNotFound) {
			return fmt.Errorf("subscribers remove: %s is not on the list", *addr)
		}
		if err != nil {
			return err
		}
		either(e.stdout, changed, "Unsubscribed %s.\n", "%s was already unsubscribed.\n", s.Email)
		return nil
	})
}

func subscribersErase(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers erase", "EMAIL", "Delete a subscriber's personal data and history (GDPR erase). A keyed hash of the address stays on the suppression list, so no import can add it again.")
	addr := fs.address()
	return fs.runRoster(ctx, args, 1, func(a *app, r *roster.Service) error {
		return eraseAddress(ctx, e, r, *addr)
	})
}

func eraseAddress(ctx context.Context, e env, r *roster.Service, addr string) error {
	existed, err := r.Erase(ctx, addr)
	if err != nil {
		return err
	}
	either(e.stdout, existed, "Erased %s; only a hash of the address is kept, on the suppression list.\n",
		"%s was not on the list; it is now suppressed.\n", addr)
	return nil
}

func subscribersSuppress(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers suppress", "EMAIL", "Put an address on the suppression list (a complaint, a bounce reported elsewhere, a request by other means). Its subscriber, if any, stops getting mail.")
	reason := fs.String("reason", "manual", "`REASON`: complained, bounced, manual or unsubscribed")
	addr := fs.address()
	fs.check(func() error {
		if err := roster.CheckSuppressReason(*reason); err != nil {
			return usagef("--reason: %w", err)
		}
		return nil
	})
	return fs.runRoster(ctx, args, 1, func(a *app, r *roster.Service) error {
		if err := r.Suppress(ctx, *addr, *reason, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Suppressed %s (%s).\n", *addr, *reason)
		return nil
	})
}

func subscribersShow(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers show", "EMAIL", "Print one subscriber and their consent log: when and how they joined, confirmed and left.")
	addr := fs.address()
	return fs.runRoster(ctx, args, 1, func(a *app, r *roster.Service) error {
		rec, err := r.Show(ctx, *addr)
		if errors.Is(err, roster.ErrSuppressed) {
			fmt.Fprintf(e.stdout, "%s is not on the list; its hash is on the suppression list (%s).\n", *addr, rec.Suppressed)
			return nil
		}
		if errors.Is(err, newsletter.ErrNotFound) {
			return fmt.Errorf("subscribers show: %s is not on the list", *addr)
		}
		if err != nil {
			return err
		}
		s := rec.Subscriber
		fmt.Fprintf(e.stdout, "Email:       %s\nName:        %s\nStatus:      %s\nSource:      %s\nJoined:      %s\nUpdated:     %s\nSuppressed:  %s\n\n",
			s.Email, s.Name, s.Status, s.Source, s.CreatedAt.Format(time.RFC3339), s.UpdatedAt.Format(time.RFC3339), cmp.Or(rec.Suppressed, "no"))
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tEVENT\tSOURCE\tIP\tDETAIL")
		for _, ev := range rec.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ev.At.Format(time.RFC3339), ev.Event, ev.Source, ev.IP, ev.Detail)
		}
		return tw.Flush()
	})
}

// filterFlags adds --status and --search, and the usage check that fills in *f.
func filterFlags(fs *flagSet, f *roster.Filter) {
	status := fs.String("status", "", "only subscribers with this `STATUS` (active, pending, unsubscribed, bounced, suppressed)")
	search := fs.String("search", "", "only addresses or names containing `TEXT`")
	fs.check(func() (err error) {
		f.Search = *search
		f.Status, err = statusFlag(*status, roster.ParseStatus)
		return err
	})
}

func subscribersList(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers list", "", "Print subscribers: address, status, name, date joined.")
	var filter roster.Filter
	filterFlags(fs, &filter)
	fs.IntVar(&filter.Limit, "limit", 0, "print at most `N` (0: all)")
	fs.check(func() error {
		if filter.Limit < 0 {
			return usagef("--limit must not be negative")
		}
		return nil
	})
	return fs.runRoster(ctx, args, 0, func(a *app, r *roster.Service) error {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tSTATUS\tNAME\tJOINED")
		n := 0
		err := r.Each(ctx, filter, func(s newsletter.Subscriber) error {
			n++
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Email, s.Status, s.Name, s.CreatedAt.Format("2006-01-02"))
			return err
		})
		if err != nil {
			return err
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d subscriber(s)\n", n)
		return nil
	})
}

func subscribersImport(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers import", "FILE", fmt.Sprintf("Add or update subscribers from a CSV file (header row: email, name, status, subscribed_at; only email is required).\n"+
		"The file is written %d rows to a transaction; an import that stops part way (an interrupt, a read failure) keeps\n"+
		"the rows it wrote, says how many, and can be run again. --strict checks the whole file before writing.\n"+
		"Bad rows are reported with their line number (the first %d listed, all counted); the good rows are kept unless --strict.\n"+
		"A row for an address an earlier row of the file wrote updates it, as for an address already on the list\n"+
		"(an unsubscribed or bounced one stays so unless --resubscribe).\n"+
		"Rows for suppressed addresses are skipped unless --resubscribe.", store.ImportChunk, roster.MaxReportedErrors))
	dryRun := fs.Bool("dry-run", false, "report what would change, write nothing")
	strict := fs.Bool("strict", false, "check the whole file first and write nothing when any row is bad")
	resub := fs.Bool("resubscribe", false, "let rows re-activate addresses that unsubscribed, bounced or are suppressed")
	// The file is opened by the usage check, before the database is: a wrong name changes nothing.
	in, name := e.stdin, "stdin"
	var file *os.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	fs.check(func() (err error) {
		if len(fs.pos) != 1 {
			return usagef("subscribers import: want exactly one FILE (use - for standard input)")
		}
		if fs.pos[0] != "-" {
			file, err = os.Open(fs.pos[0])
			in, name = file, fs.pos[0]
		}
		return err
	})
	return fs.runRoster(ctx, args, -1, func(a *app, r *roster.Service) error {
		rep, err := r.Import(ctx, in, roster.ImportOptions{DryRun: *dryRun, Strict: *strict, Resubscribe: *resub, Source: "import"})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, re := range rep.Errors {
			fmt.Fprintf(e.stderr, "%s:%v\n", name, re.Error())
		}
		if rep.ErrorsCut() {
			fmt.Fprintf(e.stderr, "%s: %d more bad row(s) not listed (only the first %d are)\n", name, rep.BadRows-len(rep.Errors), len(rep.Errors))
		}
		if *strict && rep.BadRows > 0 {
			return fmt.Errorf("%s: %d bad row(s); nothing imported (--strict)", name, rep.BadRows)
		}
		verb := "Imported"
		if *dryRun {
			verb = "Dry run, nothing written: would import"
		}
		fmt.Fprintf(e.stdout, "%s %s: %d added, %d updated, %d unchanged, %d kept unsubscribed/bounced, %d bad row(s).\n",
			verb, name, rep.Added, rep.Updated, rep.Unchanged, rep.Kept, rep.BadRows)
		if rep.Suppressed > 0 {
			fmt.Fprintf(e.stdout, "%d row(s) skipped: the address is on the suppression list (--resubscribe to override).\n", rep.Suppressed)
		}
		if rep.BadRows > 0 {
			return fmt.Errorf("%s: %d bad row(s) skipped (see above)", name, rep.BadRows)
		}
		return nil
	})
}

func subscribersExport(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers export", "", "Write subscribers as CSV (email, name, status, subscribed_at); `subscribers import` reads it back.")
	var filter roster.Filter
	filterFlags(fs, &filter)
	output := fs.String("output", "", "write to `FILE` instead of standard output (written whole, then renamed into place)")
	return fs.runRoster(ctx, args, 0, func(a *app, r *roster.Service) error {
		var n int
		var err error
		if *output != "" {
			n, err = r.ExportFile(ctx, *output, filter)
		} else {
			n, err = r.Export(ctx, e.stdout, filter)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Exported %d subscriber(s).\n", n)
		return nil
	})
}

func subscribersStats(ctx context.Context, e env, args []string) error {
	fs := flags(e, "subscribers stats", "", "Count subscribers by status, the suppression list, and joins and departures per week (UTC, weeks starting Monday).")
	weeks := fs.Int("weeks", 0, "also print the last `N` weeks' joins and departures (0: none)")
	fs.check(func() error {
		if *weeks < 0 || *weeks > 520 {
			return usagef("--weeks must be between 0 and 520")
		}
		return nil
	})
	return fs.runRoster(ctx, args, 0, func(a *app, r *roster.Service) error {
		st, err := r.Stats(ctx, *weeks)
		if err != nil {
			return err
		}
		for _, s := range roster.Statuses {
			fmt.Fprintf(e.stdout, "%-13s %d\n", s, st.ByStatus[s])
		}
		fmt.Fprintf(e.stdout, "%-13s %d\n", "total", st.Total)
		fmt.Fprintf(e.stdout, "%-13s %d\n", "suppressed", st.Suppressed)
		fmt.Fprintf(e.stdout, "%-13s %d\n", "erased", st.Suppression[store.SuppressErased])
		if len(st.Weeks) > 0 {
			fmt.Fprintf(e.stdout, "\n%-10s  %7s  %7s\n", "WEEK OF", "JOINED", "LEFT")
			for _, w := range st.Weeks {
				fmt.Fprintf(e.stdout, "%-10s  %7d  %7d\n", w.Start.Format("2006-01-02"), w.Joined, w.Left)
			}
		}
		return nil
	})
}
