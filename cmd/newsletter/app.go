package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"newsletter/internal/bounce"
	"newsletter/internal/config"
	"newsletter/internal/delivery"
	"newsletter/internal/feed"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/roster"
	"newsletter/internal/schedule"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
	"newsletter/internal/token"
	"newsletter/internal/weekly"
)

// flagSet is a command's flags, --config among them, and its positional arguments once parsed.
type flagSet struct {
	*flag.FlagSet
	e         env
	config    *string
	argsUsage string
	pos       []string
	checks    []func() error // run's usage checks, added by check
}

// flags returns a command's flags with --config; --help prints its usage to stdout.
func flags(e env, name, argsUsage, summary string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: newsletter %s [flags] %s\n\n%s\n\nFlags:\n", name, argsUsage, summary)
		fs.PrintDefaults()
	}
	cfg := fs.String("config", e.config, "configuration `FILE` (default $NEWSLETTER_CONFIG, else config.yaml, else config.example.yaml)")
	return &flagSet{FlagSet: fs, e: e, config: cfg, argsUsage: argsUsage}
}

// addWeekFlag adds --week to run, build, draft and preview.
func addWeekFlag(fs *flagSet) *string {
	return fs.String("week", "", "issue `WEEK`, like 2026-W48 (default: the next issue to go out: the one being sent, else the week of the next send slot)")
}

// parse parses flags, before or after the positional arguments, which must be n (0 or 1; any
// when n < 0), then runs the usage checks; --help prints the usage to stdout, stops with flag.ErrHelp.
func (f *flagSet) parse(args []string, n int, checks ...func() error) ([]string, error) {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" }) {
		f.SetOutput(f.e.stdout)
		f.Usage()
		return nil, flag.ErrHelp
	}
	// The flag package would print the error and the usage itself; the error is printed
	// once, where every other is, with a pointer to --help.
	f.SetOutput(io.Discard)
	for {
		if err := f.Parse(args); err != nil {
			return nil, usagef("%s: %v (see newsletter %s --help)", f.Name(), err, f.Name())
		}
		if f.NArg() == 0 {
			break
		}
		f.pos, args = append(f.pos, f.Arg(0)), f.Args()[1:]
	}
	var err error
	switch {
	case n == 0 && len(f.pos) > 0:
		err = usagef("%s takes no arguments, got %q", f.Name(), f.pos)
	case n == 1 && len(f.pos) != 1:
		err = usagef("%s: want exactly one %s, got %d arguments", f.Name(), f.argsUsage, len(f.pos))
	}
	for _, check := range checks {
		if err == nil {
			err = check()
		}
	}
	return f.pos, err
}

// open parses the flags and n arguments and runs the usage checks, before the database is
// touched so that a bad flag changes nothing, then opens the app; close it when done.
func (f *flagSet) open(ctx context.Context, args []string, n int, checks ...func() error) (*app, error) {
	if _, err := f.parse(args, n, checks...); err != nil {
		return nil, err
	}
	return openApp(ctx, f.e, *f.config)
}

// check adds usage checks for run and runRoster to apply after the flags.
func (f *flagSet) check(checks ...func() error) { f.checks = append(f.checks, checks...) }

// run opens the app as open does, with the checks added, runs body with it and closes it.
func (f *flagSet) run(ctx context.Context, args []string, n int, body func(a *app) error) error {
	a, err := f.open(ctx, args, n, f.checks...)
	if err != nil {
		return err
	}
	defer a.Close()
	return body(a)
}

// runRoster is run with the roster service too.
func (f *flagSet) runRoster(ctx context.Context, args []string, n int, body func(a *app, r *roster.Service) error) error {
	return f.run(ctx, args, n, func(a *app) error {
		r, err := a.roster(nil)
		if err != nil {
			return err
		}
		return body(a, r)
	})
}

// address adds the usage check of the EMAIL commands, which normalizes the argument into
// the string it returns.
func (f *flagSet) address() *string {
	addr := new(string)
	f.check(func() (err error) {
		if *addr, err = subscriber.NormalizeAddress(f.pos[0]); err != nil {
			return usagef("%s: %v", f.Name(), err) // the error quotes the address, clipped
		}
		return nil
	})
	return addr
}

// loadConfig reads and validates the configuration, parses its schedule once and checks the
// subject with the rules of the packages that own them, naming the file, line and key.
func loadConfig(e env, path string) (config.Config, *schedule.Schedule, []mailer.SMTPConfig, error) {
	var smtp []mailer.SMTPConfig
	var sched *schedule.Schedule
	cfg, err := config.Read(config.Find(path, e.getenv), e.getenv, func(cfg config.Config) (err error) {
		if smtp, err = parseSMTPURLs(e, cfg); err != nil {
			return err
		}
		sched, err = schedule.Parse(cfg.Schedule.Build, cfg.Schedule.Send, cfg.Location())
		if se := (*schedule.SpecError)(nil); errors.As(err, &se) {
			return &config.Error{Key: "schedule." + string(se.Kind), Reason: se.Reason()}
		} else if err != nil {
			return err
		}
		if err := newsletter.CheckSubject(cfg.Issue.Subject); err != nil {
			return &config.Error{Key: "issue.subject", Reason: err.Error()}
		}
		return nil
	})
	if err != nil {
		return cfg, nil, nil, exitError{exitUsage, err}
	}
	return cfg, sched, smtp, nil
}

// parseSMTPURLs parses every relay URL once, for the sender, so that a bad one is named
// with the part that is wrong (scheme, host, port, tls=, ...) before anything runs.
func parseSMTPURLs(e env, cfg config.Config) ([]mailer.SMTPConfig, error) {
	key := "smtp_url"
	if e.getenv(config.EnvSMTPURL) != "" {
		key = config.EnvSMTPURL
	}
	urls := cfg.SMTPURLs()
	var relays []mailer.SMTPConfig
	for i, u := range urls {
		sc, err := mailer.ParseSMTPURL(u)
		if err != nil {
			k := key
			if len(urls) > 1 {
				k = fmt.Sprintf("%s (relay %d of %d)", key, i+1, len(urls))
			}
			return nil, &config.Error{Key: k, Reason: strings.TrimPrefix(err.Error(), "mailer: smtp url: ")}
		}
		relays = append(relays, sc)
	}
	return relays, nil
}

// app is everything a command may need, built from the configuration.
type app struct {
	env
	cfg config.Config
	// sched is the configured schedule, parsed once by loadConfig.
	sched *schedule.Schedule
	// smtp is smtp_url's relays, parsed once by loadConfig; none: the outbox.
	smtp   []mailer.SMTPConfig
	db     *store.DB
	logger *slog.Logger
	// Each of these builds its part the first time a command needs it, and then shares it
	// (serve's confirmations, preview, scheduler and notices): the DKIM signer (nil: no key
	// configured), the relays, the token signer (loading or creating its key) and the builder.
	dkim    func() (mailer.Signer, error)
	relays  func() ([]delivery.Relay, error)
	signer  func() (*token.Signer, error)
	builder func() (*weekly.Builder, error)
}

func openApp(ctx context.Context, e env, cfgPath string) (*app, error) {
	cfg, sched, smtp, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	a := &app{env: e, cfg: cfg, sched: sched, smtp: smtp, db: db, logger: newLogger(e)}
	a.dkim, a.signer, a.relays = sync.OnceValues(a.loadDKIM), sync.OnceValues(a.loadSigner), sync.OnceValues(a.loadRelays)
	a.builder = sync.OnceValues(a.loadBuilder)
	if lj := db.LegacyJournal(); lj.Applied > 0 {
		a.logger.Warn("applied the unsubscribes an older version left in its journal", "file", lj.Path, "applied", lj.Applied)
	}
	if lj := db.LegacyJournal(); len(lj.Damaged) > 0 {
		a.logger.Error(lj.Error() + ". " + store.JournalDamagedHint)
	}
	return a, nil
}

// newLogger builds the one logger of the process: text for people, JSON for collectors.
func newLogger(e env) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cmp.Or[slog.Leveler](e.logLevel, slog.LevelWarn)}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

func (a *app) Close() error { return a.db.Close() }

// stamp is t as the commands print a moment: in the publication's time zone, with the weekday.
func (a *app) stamp(t time.Time) string {
	return t.In(a.cfg.Location()).Format("Mon 2006-01-02 15:04 MST")
}

// publication is the configured identity as every other package takes it.
func (a *app) publication() newsletter.Publication { return newsletter.Publication(a.cfg.Publication) }

func (a *app) loadSigner() (*token.Signer, error) {
	key := []byte(a.cfg.Secret)
	if len(key) == 0 {
		var err error
		if key, err = token.LoadOrCreateKey(a.cfg.SecretFile); err != nil {
			return nil, err
		}
	}
	return token.NewSigner(key)
}

func (a *app) loadBuilder() (*weekly.Builder, error) {
	r, err := render.New(render.Publication{
		Publication: a.publication(),
		TimeZone:    a.cfg.Location(),
		ArchiveURL:  newsletter.ArchiveURL(a.cfg.BaseURL),
	}, a.cfg.TemplatesDir)
	if err != nil {
		return nil, usagef("templates: %w", err)
	}
	f := &feed.Fetcher{Timeout: a.cfg.Feed.Timeout, MaxBytes: a.cfg.Feed.MaxBytes}
	return weekly.New(a.db, f, r, weekly.Options{
		Location:   a.cfg.Location(),
		MaxStories: a.cfg.Issue.MaxStories,
		Lookback:   time.Duration(a.cfg.Issue.LookbackDays) * 24 * time.Hour,
		NextSend:   func(t time.Time) time.Time { return a.sched.Next(schedule.Send, t) },
		Grace:      a.cfg.Schedule.Grace,
		Subject:    a.cfg.Issue.Subject,
		Now:        a.now,
		// Editors' subject template; a bad one is a configuration error (checked in desk()).
		SubjectTemplate: a.cfg.Editorial.SubjectTemplate,
		Publication:     a.cfg.Publication.Name,
		Logger:          a.logger,
	}), nil
}

// transport is the first relay (DKIM-signing when configured), for single messages.
func (a *app) transport() (mailer.Transport, error) {
	relays, err := a.relays()
	if err != nil {
		return nil, err
	}
	return relays[0].Transport, nil
}

func (a *app) sender() (*delivery.Sender, error) { return a.newSender(a.cfg.Delivery.RetryWait) }

// newSender builds the delivery engine from the configuration; wait is how long a send keeps
// retrying what comes due (delivery.retry_wait; the daemon's is 0, see daemonJobs).
func (a *app) newSender(wait time.Duration) (*delivery.Sender, error) {
	sg, err := a.signer()
	if err != nil {
		return nil, err
	}
	relays, err := a.relays()
	if err != nil {
		return nil, err
	}
	s, d := a.cfg.Sender, a.cfg.Delivery
	opts := delivery.Options{
		Identity: delivery.Identity{
			From:              mailer.Address{Name: s.FromName, Email: s.FromAddress},
			ReplyTo:           s.ReplyTo,
			BounceAddress:     s.BounceAddress,
			ListName:          a.cfg.Publication.Name,
			ListID:            s.ListID,
			MessageIDDomain:   a.cfg.MessageIDDomain(),
			InstallTag:        sg.InstallTag(),
			BaseURL:           a.cfg.BaseURL,
			UnsubscribeMailto: s.UnsubscribeMailto,
		},
		Token: func(sub newsletter.Subscriber) string {
			return sg.Make(token.Unsubscribe, sub.ID, sub.Email)
		},
		Policy: delivery.Policy{InDoubt: d.InDoubt, MaxAttempts: d.MaxAttempts, Horizon: d.RetryHorizon,
			RetryBase: d.RetryBackoff, Wait: wait, BounceLimit: d.BounceLimit},
		Canary: delivery.Canary(d.Canary),
		LateReports: func(ctx context.Context, issueID int64) (int, int, error) {
			r, err := a.db.IssueBounces(ctx, issueID)
			return r.Hard, r.Complaints, err
		},
		Now:    a.now,
		Logger: a.logger,
	}
	if len(a.smtp) > 0 { // the outbox is a disk, not a relay: no pacing
		opts.Rate, _ = config.ParseRate(d.Rate)
		opts.DomainRate, _ = config.ParseRate(d.DomainRate)
	}
	if s.VERP {
		opts.EnvelopeFrom = func(is newsletter.Issue, sub newsletter.Subscriber) string {
			return bounce.VERPAddress(s.BounceAddress, sg.MakeVERP(is.ID, sub.ID, sub.Email))
		}
	}
	return delivery.New(a.db, slices.Clone(relays), opts), nil // New fills in defaults in place
}

// weekBuilder builds the weekly builder, resolves --week (without it, the issue that goes
// out next) and says on w when that issue goes out, or that its slot passed and the
// scheduler will not send it; sendingNow is true for run, which sends it.
func (a *app) weekBuilder(ctx context.Context, w io.Writer, weekFlag string, sendingNow bool) (newsletter.Week, *weekly.Builder, error) {
	b, err := a.builder()
	if err != nil {
		return newsletter.Week{}, nil, err
	}
	var week newsletter.Week
	if weekFlag == "" {
		week, err = b.Upcoming(ctx)
	} else if week, err = newsletter.ParseWeek(weekFlag); err != nil {
		err = usagef("--week: %w", err)
	}
	if err != nil {
		return week, nil, err
	}
	now := a.now()
	o, err := b.Outlook(ctx, week, now)
	if err != nil {
		return week, nil, err
	}
	when := a.stamp(o.SendAt)
	switch {
	case o.Standing == weekly.StandingSent:
		_, err = fmt.Fprintf(w, "Issue %s was sent %s.\n", week, a.stamp(o.SentAt))
	case o.Standing == weekly.StandingSending:
		_, err = fmt.Fprintf(w, "Issue %s is being sent.\n", week)
	case sendingNow && !o.SendAt.After(now):
		_, err = fmt.Fprintf(w, "Issue %s was due %s; sending it now.\n", week, when)
	case sendingNow:
		_, err = fmt.Fprintf(w, "Issue %s is due %s; sending it now, ahead of its slot.\n", week, when)
	case o.Standing == weekly.StandingMissed:
		_, err = fmt.Fprintf(w, "Issue %s: its send slot, %s, passed unsent: the scheduler will not send it (missed).\n"+
			"  To send it anyway: newsletter run --week %s\n", week, when, week)
	case o.Standing == weekly.StandingUpcoming:
		_, err = fmt.Fprintf(w, "Issue %s goes out %s (schedule.send).\n", week, when)
	default:
		_, err = fmt.Fprintf(w, "Issue %s was due %s; the scheduler still sends it within schedule.grace (%s).\n", week, when, a.cfg.Schedule.Grace)
	}
	return week, b, err
}

// gather fetches the feeds, reporting each on w, and returns an error naming the failed
// ones when all failed.
func (a *app) gather(ctx context.Context, w io.Writer, b *weekly.Builder) error {
	fmt.Fprintf(w, "Gathering %d feed(s):\n", len(a.cfg.Feeds))
	reports := b.Gather(ctx, a.cfg.Feeds)
	for _, r := range reports {
		switch {
		case r.Err != nil:
			fmt.Fprintf(w, "  FAILED %s: %v\n", r.Source, r.Err)
		case r.NotModified:
			fmt.Fprintf(w, "  %s: not modified since the last fetch\n", r.Source)
		case r.Removed > 0:
			fmt.Fprintf(w, "  %s (%s; %d character(s) XML forbids removed): %d items, %d new\n", r.Source, r.Title, r.Removed, r.Items, r.New)
		default:
			fmt.Fprintf(w, "  %s (%s): %d items, %d new\n", r.Source, r.Title, r.Items, r.New)
		}
	}
	return weekly.AllFailed(reports)
}
