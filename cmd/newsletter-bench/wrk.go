package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// wrkScript requests one unsubscribe URL after another: thread k of n takes the lines k,
// k+n, k+2n, … of the file given as its first argument, so every POST unsubscribes a
// different subscriber until the file runs out (then it wraps, and the repeats change
// nothing). Its fourth argument is the method: POST sends the RFC 8058 one-click body, GET
// fetches the page a link scanner sees. Each connection sends its next request as soon as
// its answer is in (a closed loop): wrk finds the most the server answers.
const wrkScript = wrkRequests + wrkDone

// wrkPacedScript is wrkScript sending at a fixed rate (its third argument, requests per
// second over all threads) instead of as fast as the answers come: each thread keeps a
// schedule of one request every threads/rate seconds, and a connection whose answer is in
// waits for the next free slot (wrk's delay hook; LuaJIT's FFI reads the clock). Latency is
// then the server's at that load, not the queue that a closed loop builds in front of it.
const wrkPacedScript = wrkRequests + `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } nl_timespec;
int clock_gettime(int clk, nl_timespec *ts);
]]
local ts = ffi.new("nl_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local slot = nil
late = 0
function delay()
  local now = now_ms()
  slot = math.max(slot or now, now - 1000) + interval_ms -- a late thread does not make up more than 1 s
  -- A slot already past by more than 5 ms: every connection was waiting for an answer, and
  -- wrk times this request from when it goes out, not from its slot (coordinated omission).
  if now - slot > 5 then late = late + 1 end
  return math.max(0, slot - now)
end
` + wrkDone

// wrkRequests reads the token file (first argument), the thread count (second), the paced
// script's rate (third, 0 for none) and the method (fourth), and makes the requests.
const wrkRequests = `
local counter = 0
threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  i = tid + 1 - step
  if tonumber(args[3]) > 0 then interval_ms = step * 1000 / tonumber(args[3]) end
  method = args[4]
end
function request()
  i = i + step
  if i > #paths then i = ((i - 1) % #paths) + 1 end
  if method == "GET" then return wrk.format("GET", paths[i]) end
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
end
`

// wrkDone prints one line for the bench to parse.
const wrkDone = `
function done(summary, latency, requests)
  local late = 0
  for _, t in ipairs(threads or {}) do late = late + (t:get("late") or 0) end
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d late=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout, late))
end
`

const (
	wrkThreads     = 2
	wrkConnections = 32
	// wrkPacedConnections is more than a paced run needs at once, so that a stall keeps the
	// schedule.
	wrkPacedConnections = 64
)

// A wrkRun is one of the runs each repeat of the wrk part makes, with its target.
type wrkRun struct {
	label  string
	method string // POST (one-click) or GET (the page)
	paths  string // token file in the scratch directory
	rate   int    // the paced runs' requests per second; 0: a closed loop, over fewer connections
	// beside is what else writes to the database during the run: "send" (`newsletter
	// send` in its own process), "import" (of wrkImportRows new addresses) or "" (nothing).
	beside string
	// The target: at least minRate requests a second (closed loops), a p99 under maxP99
	// (paced runs); no errors either way.
	minRate float64
	maxP99  time.Duration
}

// wrk measures `newsletter serve`'s unsubscribe endpoints with wrk on loopback: one-click
// POSTs and the page's GET idle in a closed loop, and POSTs at a fixed rate beside a send
// and beside a large import. It checks that every answered POST is in the database when
// wrk returns, and says whether each run meets its target. Each repeat starts serve on a
// fresh copy of the database; the summary gives each run's min, median and max.
func (b *bench) wrk(ctx context.Context) error {
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk not found (Debian: apt-get install -y wrk)")
	}
	smtpAddr, stopSink, err := b.startSink(ctx)
	if err != nil {
		return err
	}
	defer stopSink()
	tmpl, err := b.prepare(ctx, b.wrkSubs)
	if err != nil {
		return err
	}
	importCSV := filepath.Join(b.dir, "wrk-import.csv")
	if err := writeCSV(importCSV, "import", b.wrkImportRows); err != nil {
		return err
	}
	runs := []wrkRun{
		{label: "POST idle", method: "POST", paths: "wrk-post.txt", minRate: 1500},
		{label: "GET idle", method: "GET", paths: "wrk-get.txt", minRate: 3000},
		{label: fmt.Sprintf("POST %d/s beside send", b.wrkRate), method: "POST", paths: "wrk-send.txt", rate: b.wrkRate, beside: "send", maxP99: 100 * time.Millisecond},
		{label: fmt.Sprintf("POST %d/s beside import", b.wrkRate), method: "POST", paths: "wrk-import.txt", rate: b.wrkRate, beside: "import", maxP99: 100 * time.Millisecond},
	}
	// The closed-loop POSTs get three shares of the subscribers, the others one each.
	slots := []string{"wrk-post.txt", "wrk-post.txt", "wrk-post.txt", "wrk-get.txt", "wrk-send.txt", "wrk-import.txt"}
	if err := writeTokenPaths(ctx, tmpl, b.dir, slots); err != nil {
		return err
	}
	for name, text := range map[string]string{"closed.lua": wrkScript, "paced.lua": wrkPacedScript} {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(b.out, "wrk: %d subscribers, %d threads, %d connections (%d paced), %s per run, %d repeats, an import of %d rows; serve's log in %s\n",
		b.wrkSubs, wrkThreads, wrkConnections, wrkPacedConnections, b.wrkDur, b.wrkRepeats, b.wrkImportRows, filepath.Join(b.dir, "serve.log"))
	results := make([][]wrkResult, len(runs))
	for rep := range b.wrkRepeats {
		got, err := b.wrkRepeat(ctx, wrkBin, tmpl, importCSV, smtpAddr, runs, rep)
		for i, r := range got {
			results[i] = append(results[i], r)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(b.out, "wrk: min / median / max over %d repeats\n", b.wrkRepeats)
	for i, run := range runs {
		var rps, p50, p99, mx []float64
		for _, r := range results[i] {
			rps = append(rps, r.rate())
			p50 = append(p50, ms(r.p50))
			p99 = append(p99, ms(r.p99))
			mx = append(mx, ms(r.max))
		}
		fmt.Fprintf(b.out, "  %-26s req/s %s; p50 %s ms; p99 %s ms; max %s ms\n", run.label, statsf(rps, "%.0f"), statsf(p50, "%.1f"), statsf(p99, "%.1f"), statsf(mx, "%.0f"))
	}
	return nil
}

// wrkRepeat starts serve on a fresh copy of tmpl and makes the runs, starting the send or
// the import a run is beside before it and stopping it after.
func (b *bench) wrkRepeat(ctx context.Context, wrkBin, tmpl, importCSV, smtpAddr string, runs []wrkRun, rep int) ([]wrkResult, error) {
	db := filepath.Join(b.dir, "wrk.db")
	removeDB(db)
	if err := copyFile(db, tmpl); err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := []string{"NEWSLETTER_DATABASE=" + db, "NEWSLETTER_HTTP_ADDR=" + httpAddr, b.smtpEnv(smtpAddr)}
	logFile, err := os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	serve := b.command(ctx, env, b.bin, "serve", "--no-scheduler")
	serve.Stderr = logFile
	bg, err := startBackground(serve)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer bg.stop(os.Interrupt)
	if err := waitListen(httpAddr); err != nil {
		return nil, fmt.Errorf("serve: %w (its log: %s)", err, logFile.Name())
	}
	var results []wrkResult
	for _, run := range runs {
		var beside *background
		if run.beside != "" {
			args := []string{"send", "--issue", b.week}
			if run.beside == "import" {
				args = []string{"subscribers", "import", importCSV}
			}
			if beside, err = startBackground(b.command(ctx, env, b.bin, args...)); err != nil {
				return results, fmt.Errorf("%s: %w", run.label, err)
			}
			time.Sleep(500 * time.Millisecond) // let it get going
		}
		wrkStart := time.Now()
		r, err := b.wrkOnce(ctx, wrkBin, db, httpAddr, run)
		wrkEnd := time.Now()
		if beside != nil {
			b.stopBeside(ctx, rep, run.beside, beside, db)
			// A paced run is judged beside the import only if the import outlasted it.
			if ended := beside.ended; ended.Before(wrkEnd) && err == nil {
				covered := max(0, ended.Sub(wrkStart)) * 100 / wrkEnd.Sub(wrkStart)
				r.line += fmt.Sprintf("; NOT JUDGED: the %s ended %s before wrk did (%d%% of the run beside it): shorten -wrk-duration or raise -wrk-import-rows",
					run.beside, wrkEnd.Sub(ended).Round(100*time.Millisecond), covered)
			}
		}
		if err != nil {
			return results, err
		}
		results = append(results, r)
		fmt.Fprintf(b.out, "wrk %d: %-26s %s\n", rep+1, run.label, r.line)
	}
	return results, nil
}

// stopBeside ends what ran beside a run and reports how far it got: a send is interrupted
// (the database is a throwaway), an import is waited for.
func (b *bench) stopBeside(ctx context.Context, rep int, kind string, bg *background, db string) {
	if kind == "send" {
		bg.stop(os.Interrupt)
	}
	<-bg.done
	took, last := bg.ended.Sub(bg.began), lastLine(bg.out.String())
	if kind == "import" {
		fmt.Fprintf(b.out, "wrk %d: import beside it: %d rows in %s, %.0f rows/s, exit %v (%s)\n",
			rep+1, b.wrkImportRows, took.Round(100*time.Millisecond), float64(b.wrkImportRows)/took.Seconds(), bg.err, last)
		return
	}
	_, sent, err := counts(ctx, db)
	if err != nil {
		fmt.Fprintf(b.out, "wrk %d: send beside it: %s (ledger: %v)\n", rep+1, last, err)
		return
	}
	fmt.Fprintf(b.out, "wrk %d: send beside it: %d messages in %s, %.0f msgs/s (%s)\n",
		rep+1, sent, took.Round(100*time.Millisecond), float64(sent)/took.Seconds(), last)
}

// wrkOnce makes one run; for POSTs it checks that every answered one is in the database
// when wrk returns.
func (b *bench) wrkOnce(ctx context.Context, wrkBin, db, httpAddr string, run wrkRun) (wrkResult, error) {
	script, conns := "closed.lua", wrkConnections
	if run.rate > 0 {
		script, conns = "paced.lua", wrkPacedConnections
	}
	paths := filepath.Join(b.dir, run.paths)
	args := []string{"-t", fmt.Sprint(wrkThreads), "-c", fmt.Sprint(conns), "-d", fmt.Sprintf("%ds", int(b.wrkDur.Seconds())),
		"--timeout", "5s", "-s", filepath.Join(b.dir, script), "http://" + httpAddr, "--", paths, fmt.Sprint(wrkThreads), fmt.Sprint(run.rate), run.method}
	var r wrkResult
	before, _, err := counts(ctx, db)
	if err != nil {
		return r, err
	}
	tokens, err := countLines(paths)
	if err != nil {
		return r, err
	}
	out, err := exec.CommandContext(ctx, wrkBin, args...).CombinedOutput()
	if err == nil {
		err = r.parse(string(out))
	}
	if err != nil {
		return r, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	after, _, err := counts(ctx, db)
	if err != nil {
		return r, err
	}
	var notes []string
	if run.method == "POST" {
		// wrk counts in requests every answer, late ones (its timeouts) included; read and
		// write errors are connections that failed, not answers. Requests still in flight
		// when wrk stops are answered after its count: up to one per connection may be
		// recorded without being counted.
		ok := r.requests - r.status
		recorded := after - before
		switch {
		case ok > tokens:
			notes = append(notes, fmt.Sprintf("wrapped: %d answers for %d tokens, cannot check", ok, tokens))
		case recorded < ok || recorded > ok+conns:
			notes = append(notes, fmt.Sprintf("MISMATCH: %d answered, %d in the database", ok, recorded))
		default:
			notes = append(notes, fmt.Sprintf("%d in the database at once, every answered POST", recorded))
		}
	}
	if run.rate > 0 {
		if r.rate() < 0.98*float64(run.rate) {
			notes = append(notes, fmt.Sprintf("BEHIND the %d/s schedule", run.rate))
		}
		// Sent late, a request's wait for a free connection is not in its latency: past 1% of
		// them the p99 may be too low.
		late := fmt.Sprintf("%d sent over 5 ms after their slot", r.late)
		if r.late*100 > r.requests {
			late += " (OVER 1%: the p99 may understate stalls)"
		}
		notes = append(notes, late)
	}
	notes = append(notes, r.verdict(run))
	r.line = fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, max %s; %d requests, errors: %d connect %d read %d write %d status %d timeout; %s",
		r.rate(), r.p50, r.p99, r.max, r.requests, r.connect, r.read, r.write, r.status, r.timeout, strings.Join(notes, "; "))
	return r, nil
}

// verdict says whether r meets run's target.
func (r wrkResult) verdict(run wrkRun) string {
	var missed []string
	if r.errors() > 0 {
		missed = append(missed, fmt.Sprintf("%d errors", r.errors()))
	}
	if run.minRate > 0 && r.rate() < run.minRate {
		missed = append(missed, fmt.Sprintf("under %.0f req/s", run.minRate))
	}
	if run.maxP99 > 0 && r.p99 >= run.maxP99 {
		missed = append(missed, fmt.Sprintf("p99 not under %s", run.maxP99))
	}
	if len(missed) > 0 {
		return "target MISSED: " + strings.Join(missed, ", ")
	}
	return "target met"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type wrkResult struct {
	requests, connect, read, write, status, timeout int
	late                                            int // paced requests sent more than 5 ms after their slot
	duration, p50, p99, max                         time.Duration
	line                                            string // as printed
}

func (r wrkResult) rate() float64 { return float64(r.requests) / r.duration.Seconds() }
func (r wrkResult) errors() int   { return r.connect + r.read + r.write + r.status + r.timeout }

func (r *wrkResult) parse(out string) error {
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "WRK ") {
			continue
		}
		var dur, p50, p99, mx int64
		_, err := fmt.Sscanf(strings.TrimSpace(line), "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d late=%d",
			&r.requests, &dur, &p50, &p99, &mx, &r.connect, &r.read, &r.write, &r.status, &r.timeout, &r.late)
		r.duration, r.p50, r.p99, r.max = time.Duration(dur)*time.Microsecond, time.Duration(p50)*time.Microsecond,
			time.Duration(p99)*time.Microsecond, time.Duration(mx)*time.Microsecond
		return err
	}
	return errors.New("no result line")
}

// writeTokenPaths writes the unsubscribe path of every subscriber, signed as the mail signs
// it, into the files of slots in dir in turn (a file named twice takes twice the share).
func writeTokenPaths(ctx context.Context, dbPath, dir string, slots []string) error {
	sg, err := token.NewSigner([]byte(benchSecret))
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	writers := map[string]*bufio.Writer{}
	ws := make([]*bufio.Writer, len(slots))
	for i, name := range slots {
		if writers[name] == nil {
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				return err
			}
			defer f.Close()
			writers[name] = bufio.NewWriter(f)
		}
		ws[i] = writers[name]
	}
	n := 0
	err = db.EachSubscriber(ctx, store.SubscriberFilter{}, func(s newsletter.Subscriber) error {
		_, err := fmt.Fprintf(ws[n%len(ws)], "/unsubscribe/%s\n", sg.Make(token.Unsubscribe, s.ID, s.Email))
		n++
		return err
	})
	if err != nil {
		return err
	}
	for _, w := range writers {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// counts is how many subscribers of the database at dbPath have unsubscribed, and how
// many messages its ledger records as sent.
func counts(ctx context.Context, dbPath string) (unsubscribed, sent int, err error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	subscribers, err := db.CountSubscribers(ctx)
	if err != nil {
		return 0, 0, err
	}
	ledger, err := db.LedgerCounts(ctx)
	return subscribers[newsletter.StatusUnsubscribed], ledger[newsletter.DeliverySent], err
}

func countLines(path string) (int, error) {
	data, err := os.ReadFile(path)
	return strings.Count(string(data), "\n"), err
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
