package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
)

const subscribersUsage = `Usage: newsletter subscribers SUBCOMMAND [flags]

Subcommands:
  add EMAIL [--name NAME] [--status S]   add one address (active unless --status says otherwise)
  remove EMAIL                           unsubscribe an address (kept, so an import cannot re-add it)
  list [--status S] [--search TEXT]      print addresses with their status
  import FILE [--dry-run] [--strict] [--resubscribe]
                                         add or update from a CSV with a header row
                                         (email, name, status, subscribed_at)
  export [--status S] [--search TEXT] [--output FILE]
                                         write a CSV that import reads back
  stats                                  count subscribers by status

Statuses: active, pending, unsubscribed, bounced.
Every subcommand takes --config FILE and --help.`

func cmdSubscribers(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, subscribersUsage)
		return usagef("subscribers: missing subcommand")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, subscribersUsage)
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "add":
		return subscribersAdd(ctx, e, rest)
	case "remove":
		return subscribersRemove(ctx, e, rest)
	case "list":
		return subscribersList(ctx, e, rest)
	case "import":
		return subscribersImport(ctx, e, rest)
	case "export":
		return subscribersExport(ctx, e, rest)
	case "stats":
		return subscribersStats(ctx, e, rest)
	}
	fmt.Fprintln(e.stderr, subscribersUsage)
	return usagef("subscribers: unknown subcommand %q", sub)
}

func parseStatus(s string) (newsletter.SubscriberStatus, error) {
	if s == "" {
		return "", nil
	}
	st, err := newsletter.ParseSubscriberStatus(s)
	if err != nil {
		return "", usageError{fmt.Errorf("--status: %w", err)}
	}
	return st, nil
}

func subscribersAdd(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers add", "EMAIL", "Add one subscriber.")
	name := fs.String("name", "", "the subscriber's `NAME`")
	status := fs.String("status", "active", "initial `STATUS`")
	pos, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("subscribers add: want exactly one EMAIL, got %d arguments", len(pos))
	}
	addr, err := subscriber.NormalizeAddress(pos[0])
	if err != nil {
		return usagef("subscribers add: %q: %v", pos[0], err)
	}
	st, err := parseStatus(*status)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	s, created, err := a.db.AddSubscriber(ctx, newsletter.Subscriber{Email: addr, Name: subscriber.CleanName(*name), Status: st, Source: "cli"}, a.now())
	if err != nil {
		return err
	}
	if !created {
		fmt.Fprintf(e.stdout, "%s is already on the list (%s); nothing changed.\n", s.Email, s.Status)
		return nil
	}
	fmt.Fprintf(e.stdout, "Added %s (%s).\n", s.Email, s.Status)
	return nil
}

func subscribersRemove(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers remove", "EMAIL", "Unsubscribe one address. The row is kept as unsubscribed so that no import mails it again.")
	pos, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("subscribers remove: want exactly one EMAIL, got %d arguments", len(pos))
	}
	addr, err := subscriber.NormalizeAddress(pos[0])
	if err != nil {
		return usagef("subscribers remove: %q: %v", pos[0], err)
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := a.db.SubscriberByEmail(ctx, addr)
	if errors.Is(err, newsletter.ErrNotFound) {
		return fmt.Errorf("subscribers remove: %s is not on the list", addr)
	}
	if err != nil {
		return err
	}
	changed, err := a.db.SetSubscriberStatus(ctx, s.ID, newsletter.StatusUnsubscribed, a.now())
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(e.stdout, "%s was already unsubscribed.\n", s.Email)
		return nil
	}
	fmt.Fprintf(e.stdout, "Unsubscribed %s.\n", s.Email)
	return nil
}

func filterFlags(fs interface {
	String(name, value, usage string) *string
}) (status, search *string) {
	status = fs.String("status", "", "only subscribers with this `STATUS` (active, pending, unsubscribed, bounced)")
	search = fs.String("search", "", "only addresses or names containing `TEXT`")
	return status, search
}

func subscribersList(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers list", "", "Print subscribers: address, status, name, date joined.")
	status, search := filterFlags(fs)
	limit := fs.Int("limit", 0, "print at most `N` (0: all)")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("subscribers add", pos); err != nil {
		return err
	}
	st, err := parseStatus(*status)
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit must not be negative")
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tSTATUS\tNAME\tJOINED")
	n := 0
	err = a.db.EachSubscriber(ctx, store.SubscriberFilter{Status: st, Search: *search, Limit: *limit}, func(s newsletter.Subscriber) error {
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
}

func subscribersImport(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers import", "FILE", "Add or update subscribers from a CSV file (header row: email, name, status, subscribed_at; only email is required).\nBad rows are reported with their line number; the good rows are kept unless --strict.")
	dryRun := fs.Bool("dry-run", false, "report what would change, write nothing")
	strict := fs.Bool("strict", false, "write nothing when any row is bad")
	resub := fs.Bool("resubscribe", false, "let rows re-activate addresses that unsubscribed or bounced")
	pos, err := parse(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("subscribers import: want exactly one FILE (use - for standard input)")
	}
	var in io.Reader
	name := pos[0]
	if name == "-" {
		in, name = os.Stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	rows, rowErrs, err := subscriber.ReadCSV(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, re := range rowErrs {
		fmt.Fprintf(e.stderr, "%s:%v\n", name, re.Error())
	}
	if *strict && len(rowErrs) > 0 {
		return fmt.Errorf("%s: %d bad row(s); nothing imported (--strict)", name, len(rowErrs))
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	subs := make([]newsletter.Subscriber, len(rows))
	for i, r := range rows {
		subs[i] = newsletter.Subscriber{Email: r.Email, Name: r.Name, Status: r.Status, Source: "import", CreatedAt: r.SubscribedAt}
	}
	res, err := a.db.ImportSubscribers(ctx, subs, store.ImportOptions{DryRun: *dryRun, Resubscribe: *resub}, a.now())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	verb := "Imported"
	if *dryRun {
		verb = "Dry run, nothing written: would import"
	}
	fmt.Fprintf(e.stdout, "%s %s: %d added, %d updated, %d unchanged, %d kept unsubscribed/bounced, %d bad row(s).\n",
		verb, name, res.Added, res.Updated, res.Unchanged, res.Kept, len(rowErrs))
	if len(rowErrs) > 0 {
		return fmt.Errorf("%s: %d bad row(s) skipped (see above)", name, len(rowErrs))
	}
	return nil
}

func subscribersExport(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers export", "", "Write subscribers as CSV (email, name, status, subscribed_at); `subscribers import` reads it back.")
	status, search := filterFlags(fs)
	output := fs.String("output", "", "write to `FILE` instead of standard output (written whole, then renamed into place)")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("subscribers import", pos); err != nil {
		return err
	}
	st, err := parseStatus(*status)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	w := e.stdout
	var tmp *os.File
	if *output != "" {
		if tmp, err = os.CreateTemp(dirOf(*output), ".export-*.csv"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
	}
	cw, err := subscriber.NewCSVWriter(w)
	if err != nil {
		return err
	}
	n := 0
	err = a.db.EachSubscriber(ctx, store.SubscriberFilter{Status: st, Search: *search}, func(s newsletter.Subscriber) error {
		n++
		return cw.Write(s)
	})
	if err != nil {
		return err
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), *output); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "Exported %d subscriber(s).\n", n)
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

func subscribersStats(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "subscribers stats", "", "Count subscribers by status.")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("subscribers stats", pos); err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	counts, err := a.db.CountSubscribers(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, st := range []newsletter.SubscriberStatus{newsletter.StatusActive, newsletter.StatusPending, newsletter.StatusUnsubscribed, newsletter.StatusBounced} {
		fmt.Fprintf(e.stdout, "%-13s %d\n", st, counts[st])
		total += counts[st]
	}
	fmt.Fprintf(e.stdout, "%-13s %d\n", "total", total)
	return nil
}
