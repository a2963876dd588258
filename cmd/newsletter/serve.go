package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"newsletter/internal/metrics"
	"newsletter/internal/schedule"

	"newsletter/internal/web"
	"newsletter/templates"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "serve", "", "Run the daemon until SIGTERM: the scheduler (build and send at their cron times) and the HTTP\nserver (unsubscribe, sign-up, preview, archive, admin, /healthz, /readyz, /metrics) on http_addr.")
	logFormat := fs.String("log-format", "text", "log as `text` or json")
	logLevel := fs.String("log-level", "info", "log at `LEVEL` and above: debug, info, warn or error")
	noScheduler := fs.Bool("no-scheduler", false, "serve HTTP only; builds and sends stay manual")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("serve", pos); err != nil {
		return err
	}
	if *logFormat != "text" && *logFormat != "json" {
		return usagef("--log-format: want text or json, got %q", *logFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usagef("--log-level: want debug, info, warn or error, got %q", *logLevel)
	}
	e.logFormat, e.logLevel = *logFormat, level
	tuneGC(e.getenv)
	cores := tuneProcs(e.getenv)
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	// One-click unsubscribes are journaled and applied behind the answer (store.OpenJournal);
	// the handler is then CPU and an append, and requests take turns at it (web.Options).
	maxConcurrent := 0
	if err := a.db.OpenJournal(ctx, a.logger); err != nil {
		a.logger.Warn("unsubscribes are written straight to the database, without the journal", "err", err)
	} else {
		maxConcurrent = max(1, cores/2)
	}
	sg, err := a.signer()
	if err != nil {
		return err
	}
	page := web.Page{
		Publication: a.cfg.Publication.Name,
		WebsiteURL:  a.cfg.Publication.WebsiteURL,
		Accent:      a.cfg.Publication.AccentColor,
		Lang:        a.cfg.Publication.Language,
	}
	// The roster service puts one-click unsubscribes on the suppression list and the consent log.
	rs, subscriberGroups, err := a.subscriberRoutes(sg, page)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Options{
		Subscribers: rs,
		Tokens:      sg,
		Templates:   templates.Web,
		Page:        page,
		Now:         a.now,
		Logger:      a.logger,
		// Half the cores, the rest left to net/http, the journal and a send: on 2 cores one
		// at a time gave a p99 of 15.8–18.5 ms idle and 19.9–22.4 beside a send, two at a
		// time 19.2–22.2 and 24.7–26.8 (wrk -t2 -c32, three pairs alternated).
		MaxConcurrent: maxConcurrent,
	})
	if err != nil {
		return err
	}
	// The editors' preview (behind editor auth) and the public archive of sent issues.
	editorialGroups, err := a.editorialRoutes()
	if err != nil {
		return err
	}
	m := metrics.New(metricsSource{a}, a.logger)
	ops := []web.Registrar{a.metricsRoute(m), web.Readiness{Check: a.db.Ready, Logger: a.logger}}
	var runner *schedule.Runner
	if !*noScheduler {
		if runner, err = a.scheduler(m); err != nil {
			return err
		}
	}
	if u, err := url.Parse(a.cfg.BaseURL); err == nil && u.Scheme != "https" && len(a.cfg.SMTPURLs()) > 0 {
		a.logger.Warn("base_url is not https: RFC 8058 one-click unsubscribe needs an https URL in production", "base_url", a.cfg.BaseURL)
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
	}
	hs := &http.Server{
		Handler:           m.Instrument(web.Handler(slices.Concat([]web.Registrar{srv}, subscriberGroups, editorialGroups, ops)...)),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Fprintf(e.stdout, "Listening on http://%s (unsubscribe links use %s)\n", ln.Addr(), a.cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// The scheduler stops claiming on SIGTERM; a send in flight records what it sent first.
	runCtx, stopRunner := context.WithCancel(ctx)
	defer stopRunner()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		if runner != nil {
			sched, _ := a.schedule()
			a.logger.Info("scheduler started", "timezone", a.cfg.Location().String(),
				"next_build", sched.Next(schedule.Build, a.now()), "next_send", sched.Next(schedule.Send, a.now()))
			runner.Run(runCtx)
		}
	}()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	stopRunner()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-schedDone
	if serveErr == nil {
		serveErr = <-errc
	}
	if !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	fmt.Fprintln(e.stdout, "Stopped.")
	return nil
}

// serveGCPercent and serveMemoryLimit are serve's garbage collector settings, unless GOGC or
// GOMEMLIMIT say otherwise. Its live heap is a few MiB and each request allocates a few KiB,
// so at Go's default (collect once the heap has doubled) it collected several times a second
// under load, each time taking a core's share for marking. Collecting at 5× the live heap,
// one-click unsubscribes beside a send had a p99 of 16.8–17.2 ms against 19.4–23.5 at the
// default, and answered 3–28% more (three pairs of 6 s wrk runs, alternated). The memory limit
// makes the collector work harder rather than let a larger live heap grow 5×.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 256 << 20
)

// serveSpareProcs is how many Ps serve runs beyond Go's default of one per core. Its
// goroutines spend much of their time in SQLite (cgo) and system calls, and a P whose thread
// is in a cgo call is handed on only once sysmon notices, after 20 µs to 10 ms: with one P
// per core, a write transaction of the scheduler's send or of the journal's applier (one at a
// time in the process, under writeMu) held one of the handlers' two Ps meanwhile. A spare P
// takes over: on 2 cores (the bench's wrk part, two runs alternated with runs at 2 Ps) the
// closed-loop p99 of one-click POSTs during serve's own send went from 20.6 and 20.5 ms to
// 16.2 and 15.7, and beside a separate send from 19.9 and 20.2 to 18.3 and 16.7. More than
// one made a send on 2 cores about 12% slower (4 Ps: 11,246–11,695 messages in 8 s against
// 12,817–13,780, three pairs) where one cost nothing measurable (12,724–14,503 against
// 13,099–14,429).
const serveSpareProcs = 1

// startProcs is GOMAXPROCS as Go set it when the process started: the cores, a container's
// CPU limit, or the GOMAXPROCS variable.
var startProcs = runtime.GOMAXPROCS(0)

// tuneProcs sets serve's GOMAXPROCS to startProcs plus serveSpareProcs unless the GOMAXPROCS
// variable is set, and returns startProcs. Once set by hand, GOMAXPROCS no longer follows a
// container's CPU limit should it change while serve runs (Go 1.25 and later do otherwise).
func tuneProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(startProcs + serveSpareProcs)
	}
	return startProcs
}

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
