package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sync"
	"time"

	"newsletter/internal/mailbox"
	"newsletter/internal/metrics"
	"newsletter/internal/schedule"

	"newsletter/internal/web"
	"newsletter/templates"
)

// confirmPoll is how often serve looks for confirmation mails to retry.
const confirmPoll = 30 * time.Second

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := flags(e, "serve", "", "Run the daemon until SIGTERM: the scheduler (build and send at their cron times) and the HTTP\nserver (unsubscribe, sign-up, preview, archive, admin, /healthz, /readyz, /metrics) on http_addr.")
	logFormat := fs.String("log-format", "text", "log as `text` or json")
	logLevel := fs.String("log-level", "info", "log at `LEVEL` and above: debug, info, warn or error")
	noScheduler := fs.Bool("no-scheduler", false, "serve HTTP only; builds and sends stay manual")
	fs.check(func() error {
		var level slog.Level
		if *logFormat != "text" && *logFormat != "json" {
			return usagef("--log-format: want text or json, got %q", *logFormat)
		} else if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return usagef("--log-level: want debug, info, warn or error, got %q", *logLevel)
		}
		fs.e.logFormat, fs.e.logLevel = *logFormat, level
		return nil
	})
	return fs.run(ctx, args, 0, func(a *app) error {
		sg, err := a.signer()
		if err != nil {
			return err
		}
		site := web.Site{Templates: templates.Web, Page: web.PageFor(a.publication()), Tokens: sg, Now: a.now, Logger: a.logger}
		// The roster service puts one-click unsubscribes on the suppression list and the consent log.
		rs, subscriberGroups, err := a.subscriberRoutes(site)
		if err != nil {
			return err
		}
		bounceBox, pollBox, err := a.mailboxOptions()
		if err != nil {
			return err
		}
		srv, err := web.New(web.Options{Site: site, Subscribers: rs})
		if err != nil {
			return err
		}
		hooks, err := a.webhookRoutes(ctx, rs, e.stdout)
		if err != nil {
			return err
		}
		editorialGroups, err := a.editorialRoutes(site)
		if err != nil {
			return err
		}
		m := metrics.New(a.db, a.logger)
		// Its subscriber counts are business data: behind the admin token unless metrics.public.
		var metricsRoute web.Registrar = m
		if !a.cfg.Metrics.Public {
			metricsRoute = web.Route{Pattern: metrics.Route, Handler: web.RequireAdmin(a.cfg.AdminToken, m.Handler())}
		}
		ops := []web.Registrar{metricsRoute, web.Readiness{Check: a.db.Ready, Logger: a.logger, Held: a.db.HeldReason}}
		var runner *schedule.Runner
		if !*noScheduler {
			if runner, err = a.scheduler(m); err != nil {
				return err
			}
		}
		if u, err := url.Parse(a.cfg.BaseURL); err == nil && u.Scheme != "https" && len(a.smtp) > 0 {
			a.logger.Warn("base_url is not https: RFC 8058 one-click unsubscribe needs an https URL in production", "base_url", a.cfg.BaseURL)
		}
		ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
		}
		fmt.Fprintf(e.stdout, "Listening on http://%s (unsubscribe links use %s)\n", ln.Addr(), a.cfg.BaseURL)
		// The scheduler stops claiming on SIGTERM; a send in flight records what it sent first.
		runCtx, stopRunner := context.WithCancel(ctx)
		defer stopRunner()
		var loops sync.WaitGroup
		// Sign-ups are answered at once; their confirmation mails go out from the queue here.
		loops.Go(func() { rs.RunConfirmations(runCtx, confirmPoll) })
		if pollBox {
			loops.Go(func() {
				mailbox.Watch(runCtx, bounceBox, a.cfg.Bounces.PollEvery, func() (mailbox.Handle, error) {
					p, err := a.bounceRun(rs, e.stdout)
					if err != nil {
						return nil, err
					}
					return p.Message, nil
				}, func(err error) { a.logger.Error("bounce mailbox", "err", err) })
			})
		}
		if runner != nil {
			a.logger.Info("scheduler started", "timezone", a.cfg.Location().String(),
				"next_build", a.sched.Next(schedule.Build, a.now()), "next_send", a.sched.Next(schedule.Send, a.now()))
			loops.Go(func() { runner.Run(runCtx) })
		}
		handler := m.Instrument(web.Handler(slices.Concat([]web.Registrar{srv, hooks}, subscriberGroups, editorialGroups, ops)...))
		serveErr := web.Serve(ctx, ln, handler)
		stopRunner()
		loops.Wait()
		if serveErr != nil {
			return serveErr
		}
		fmt.Fprintln(e.stdout, "Stopped.")
		return nil
	})
}
