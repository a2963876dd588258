package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// wrkScript POSTs the RFC 8058 one-click body to one unsubscribe URL after another: thread
// k of n takes the lines k, k+n, k+2n, … of the file given as its first argument, so every
// request unsubscribes a different subscriber until the file runs out (then it wraps, and
// the repeats change nothing). Each connection sends its next request as soon as its answer
// is in (a closed loop): wrk finds the most the server answers.
const wrkScript = wrkPosts + wrkDone

// wrkPacedScript is wrkScript sending at a fixed rate (its third argument, requests per
// second over all threads) instead of as fast as the answers come: each thread keeps a
// schedule of one request every threads/rate seconds, and a connection whose answer is in
// waits for the next free slot (wrk's delay hook; LuaJIT's FFI reads the clock). Latency is
// then the server's at that load, not the queue that a closed loop builds in front of it.
// A slow answer holds back only its own connection's next request, so with many
// connections a stall shows in the latency rather than as requests never sent.
const wrkPacedScript = wrkPosts + `
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

// wrkPosts reads the token file (first argument) and the thread count (second; the paced
// script's rate is the third) and makes the POSTs.
const wrkPosts = `
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
  if args[3] then interval_ms = step * 1000 / tonumber(args[3]) end
end
function request()
  i = i + step
  if i > #paths then i = ((i - 1) % #paths) + 1 end
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
end
`

// wrkFloorScript GETs /healthz: the same server, wrk and connections, no database work.
const wrkFloorScript = wrkDone

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
	// schedule: at 3,000 requests/s each connection sends about every 21 ms.
	wrkPacedConnections = 64
)

// A wrkRun is one of the runs each repeat of the wrk part makes.
type wrkRun struct {
	label  string
	script string // file name in the scratch directory
	paths  string // token file; "" for the floor
	conns  int
	rate   int // the paced runs' requests per second; 0: a closed loop
	during sendKind
}

// sendKind is what sends while a run runs.
type sendKind int

const (
	noSend      sendKind = iota
	sendProcess          // `newsletter send` beside serve
	sendInServe          // serve's scheduler, resuming the issue, in serve's own process
)

// wrk measures the one-click unsubscribe handler of `newsletter serve` with wrk on loopback,
// idle and while `newsletter send` runs against the same database, and checks that every
// answered POST unsubscribed someone. Each repeat starts serve on a fresh copy of the
// database; the summary gives each run's min, median and max over the repeats.
func (b *bench) wrk(ctx context.Context) error {
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk not found (Debian: apt-get install -y wrk)")
	}
	sink, _, pfxEnv, err := b.postfix(ctx)
	if err != nil {
		return err
	}
	tmpl, err := b.prepare(ctx, b.wrkSubs)
	if err != nil {
		return err
	}
	// For each of idle, beside a send and during serve's own send: the floor, a closed loop
	// and (with a rate) a paced run. Each closed-loop run has two shares of the subscribers,
	// each paced run one.
	var runs []wrkRun
	var slots []string
	for _, d := range []struct {
		label, file string
		during      sendKind
	}{{"idle", "idle", noSend}, {"beside send", "send", sendProcess}, {"in serve's send", "own", sendInServe}} {
		runs = append(runs,
			wrkRun{label: "floor " + d.label, script: "floor.lua", conns: wrkConnections, during: d.during},
			wrkRun{label: d.label, script: "unsubscribe.lua", paths: "wrk-" + d.file + ".txt", conns: wrkConnections, during: d.during})
		slots = append(slots, "wrk-"+d.file+".txt", "wrk-"+d.file+".txt")
		if b.wrkRate > 0 {
			runs = append(runs, wrkRun{label: fmt.Sprintf("%s at %d/s", d.label, b.wrkRate), script: "paced.lua",
				paths: "wrk-" + d.file + "-paced.txt", conns: wrkPacedConnections, rate: b.wrkRate, during: d.during})
			slots = append(slots, "wrk-"+d.file+"-paced.txt")
		}
	}
	for i := range slots {
		slots[i] = filepath.Join(b.dir, slots[i])
	}
	if err := writeTokenPaths(ctx, tmpl, slots); err != nil {
		return err
	}
	for name, text := range map[string]string{"unsubscribe.lua": wrkScript, "paced.lua": wrkPacedScript, "floor.lua": wrkFloorScript} {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	smtpAddr, stopSink, err := startSink(ctx, sink, pfxEnv)
	if err != nil {
		return err
	}
	defer stopSink()
	fmt.Fprintf(b.out, "wrk: %d subscribers, %d threads, %d connections (%d paced), %s per run, %d repeats, the send at nice %d, one-click POSTs; serve's log in %s\n",
		b.wrkSubs, wrkThreads, wrkConnections, wrkPacedConnections, b.wrkDur, b.wrkRepeats, b.wrkSendNice, filepath.Join(b.dir, "serve.log"))
	results := make([][]wrkResult, len(runs))
	for rep := range b.wrkRepeats {
		got, err := b.wrkRepeat(ctx, wrkBin, tmpl, smtpAddr, runs, rep)
		for i, r := range got {
			results[i] = append(results[i], r)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(b.out, "wrk: min / median / max over %d repeats\n", b.wrkRepeats)
	for i, run := range runs {
		var rps, p50, p99 []float64
		for _, r := range results[i] {
			rps = append(rps, r.rate())
			p50 = append(p50, ms(r.p50))
			p99 = append(p99, ms(r.p99))
		}
		fmt.Fprintf(b.out, "  %-26s req/s %s; p50 %s ms; p99 %s ms\n", run.label, stats(rps), statsf(p50, "%.1f"), statsf(p99, "%.1f"))
	}
	return nil
}

// wrkRepeat starts serve on a fresh copy of tmpl and makes the runs, the idle ones first,
// then those beside a send, which it starts for them and stops after.
func (b *bench) wrkRepeat(ctx context.Context, wrkBin, tmpl, smtpAddr string, runs []wrkRun, rep int) ([]wrkResult, error) {
	db := filepath.Join(b.dir, "wrk.db")
	for _, suffix := range []string{"", "-wal", "-shm", "-transitions", "-writers"} {
		os.Remove(db + suffix)
	}
	if err := copyFile(db, tmpl); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", port)
	env := append(slices.Clone(b.env), "NEWSLETTER_DATABASE="+db, "NEWSLETTER_HTTP_ADDR="+httpAddr,
		fmt.Sprintf("NEWSLETTER_SMTP_URL=smtp://%s?tls=none&connections=%d&rate=0", smtpAddr, b.conns))
	logFile, err := os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	var serve *exec.Cmd
	startServe := func(args ...string) error {
		serve = exec.CommandContext(ctx, b.bin, append([]string{"serve"}, args...)...)
		serve.Env = env
		serve.Stderr = logFile
		if err := serve.Start(); err != nil {
			serve = nil
			return fmt.Errorf("serve: %w", err)
		}
		if err := waitListen(httpAddr); err != nil {
			return fmt.Errorf("serve: %w (its log: %s)", err, logFile.Name())
		}
		return nil
	}
	stopServe := func() {
		if serve != nil {
			_ = serve.Process.Signal(os.Interrupt)
			_ = serve.Wait()
			serve = nil
		}
	}
	defer stopServe()
	if err := startServe("--no-scheduler"); err != nil {
		return nil, err
	}
	var send *exec.Cmd
	var sendOut strings.Builder
	var sendStart time.Time
	stopSend := func() {
		if send == nil {
			return
		}
		_ = send.Process.Signal(os.Interrupt) // a throwaway database: stop where it is
		_ = send.Wait()
		took := time.Since(sendStart)
		send = nil
		sent, err := countSent(ctx, db)
		if err != nil {
			fmt.Fprintf(b.out, "wrk %d: send beside it: %s (ledger: %v)\n", rep+1, lastLine(sendOut.String()), err)
			return
		}
		fmt.Fprintf(b.out, "wrk %d: send beside it: %d messages in %s, %.0f msgs/s (%s)\n",
			rep+1, sent, took.Round(100*time.Millisecond), float64(sent)/took.Seconds(), lastLine(sendOut.String()))
	}
	defer stopSend()
	// Serve's own send: serve restarted with its scheduler, which resumes an issue marked
	// sending (the bench's issue was sent before anyone subscribed: it now goes to everyone).
	var ownStart time.Time
	ownBefore := -1
	defer func() {
		if ownBefore < 0 {
			return
		}
		took := time.Since(ownStart)
		stopServe()
		sent, err := countSent(ctx, db)
		if err != nil {
			fmt.Fprintf(b.out, "wrk %d: serve's own send: ledger: %v\n", rep+1, err)
			return
		}
		fmt.Fprintf(b.out, "wrk %d: serve's own send: %d messages in %s, %.0f msgs/s\n",
			rep+1, sent-ownBefore, took.Round(100*time.Millisecond), float64(sent-ownBefore)/took.Seconds())
	}()
	var results []wrkResult
	for _, run := range runs {
		if run.during == sendInServe && ownBefore < 0 {
			stopSend()
			stopServe()
			before, err := b.resumable(ctx, db)
			if err != nil {
				return results, err
			}
			if err := startServe(); err != nil {
				return results, err
			}
			ownBefore, ownStart = before, time.Now()
			time.Sleep(500 * time.Millisecond) // let it get going
		}
		if run.during == sendProcess && send == nil {
			args := []string{b.bin, "send", "--issue", b.week}
			if b.wrkSendNice != 0 {
				args = append([]string{"nice", "-n", fmt.Sprint(b.wrkSendNice)}, args...)
			}
			send = exec.CommandContext(ctx, args[0], args[1:]...)
			send.Env = env
			send.Stdout, send.Stderr = &sendOut, &sendOut
			send.WaitDelay = 10 * time.Second
			if err := send.Start(); err != nil {
				return results, fmt.Errorf("send: %w", err)
			}
			sendStart = time.Now()
			time.Sleep(500 * time.Millisecond) // let it get going
		}
		r, err := b.wrkOnce(ctx, wrkBin, db, httpAddr, run)
		if err != nil {
			return results, err
		}
		results = append(results, r)
		fmt.Fprintf(b.out, "wrk %d: %-26s %s\n", rep+1, run.label, r.line)
	}
	return results, nil
}

// wrkOnce makes one run; for the unsubscribe runs it checks that every answered POST is in
// the database.
func (b *bench) wrkOnce(ctx context.Context, wrkBin, db, httpAddr string, run wrkRun) (wrkResult, error) {
	args := []string{"-t", fmt.Sprint(wrkThreads), "-c", fmt.Sprint(run.conns), "-d", fmt.Sprintf("%ds", int(b.wrkDur.Seconds())),
		"--timeout", "5s", "-s", filepath.Join(b.dir, run.script)}
	var r wrkResult
	if run.paths == "" {
		out, err := exec.CommandContext(ctx, wrkBin, append(args, "http://"+httpAddr+"/healthz")...).CombinedOutput()
		if err == nil {
			err = r.parse(string(out))
		}
		if err != nil {
			return r, fmt.Errorf("wrk: %w\n%s", err, out)
		}
		r.line = fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, max %s; %d requests, %d errors (GET /healthz: the floor)",
			r.rate(), r.p50, r.p99, r.max, r.requests, r.errors())
		return r, nil
	}
	paths := filepath.Join(b.dir, run.paths)
	args = append(args, "http://"+httpAddr, "--", paths, fmt.Sprint(wrkThreads))
	if run.rate > 0 {
		args = append(args, fmt.Sprint(run.rate))
	}
	before, err := countUnsubscribed(ctx, db)
	if err != nil {
		return r, err
	}
	tokens, err := countLines(paths)
	if err != nil {
		return r, err
	}
	bucketsBefore, err := handlerBuckets(ctx, httpAddr)
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
	bucketsAfter, err := handlerBuckets(ctx, httpAddr)
	if err != nil {
		return r, err
	}
	after, err := settledUnsubscribed(ctx, db)
	if err != nil {
		return r, err
	}
	// wrk counts in requests every answer, late ones (its timeouts) included; read and write
	// errors are connections that failed, not answers.
	ok := r.requests - r.status
	recorded := after - before
	// Requests still in flight when wrk stops are answered after its count: up to one per
	// connection may be recorded without being counted.
	verdict := "every answered POST recorded"
	switch {
	case ok > tokens:
		verdict = fmt.Sprintf("wrapped: %d answers for %d tokens, cannot check", ok, tokens)
	case recorded < ok || recorded > ok+run.conns:
		verdict = fmt.Sprintf("MISMATCH: %d answered, %d recorded", ok, recorded)
	}
	behind := ""
	if run.rate > 0 && r.rate() < 0.98*float64(run.rate) {
		behind = fmt.Sprintf(", BEHIND the %d/s schedule", run.rate)
	}
	if run.rate > 0 {
		// Sent late, a request's wait for a free connection is not in its latency: past 1% of
		// them the p99 may be too low.
		behind += fmt.Sprintf(", %d sent over 5 ms after their slot", r.late)
		if r.late*100 > r.requests {
			behind += " (OVER 1%: the p99 may understate stalls)"
		}
	}
	r.line = fmt.Sprintf("%.0f req/s%s, p50 %s, p99 %s, max %s; %d requests, errors: %d connect %d read %d write %d status %d timeout; %d unsubscribed (%s); %s",
		r.rate(), behind, r.p50, r.p99, r.max, r.requests, r.connect, r.read, r.write, r.status, r.timeout, recorded, verdict,
		handlerShare(bucketsBefore, bucketsAfter))
	return r, nil
}

// handlerBuckets reads serve's histogram of the one-click route's handling time from
// /metrics: the cumulative count by bucket edge ("+Inf" included).
func handlerBuckets(ctx context.Context, httpAddr string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("serve's /metrics: %w", err)
	}
	defer resp.Body.Close()
	const prefix = `newsletter_http_request_duration_seconds_bucket{route="POST /unsubscribe/{token}",le="`
	buckets := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		tail, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		le, rest, ok := strings.Cut(tail, `"} `)
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(rest, 64); err == nil {
			buckets[le] = v
		}
	}
	return buckets, sc.Err()
}

// handlerShare says how many of the POSTs between two readings serve's handler answered
// within 5 and 20 ms, which splits wrk's latency into serve's part and the rest (the
// kernel, the scheduler, wrk itself).
func handlerShare(before, after map[string]float64) string {
	n := after["+Inf"] - before["+Inf"]
	for _, le := range []string{"0.005", "0.02"} {
		if _, ok := after[le]; !ok {
			n = 0
		}
	}
	if n <= 0 {
		return "serve's handler times not found on /metrics"
	}
	share := func(le string) float64 { return 100 * (after[le] - before[le]) / n }
	return fmt.Sprintf("serve's handler took at most 5 ms for %.2f%% of them, 20 ms for %.2f%%", share("0.005"), share("0.02"))
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
// it, into the files of slots in turn (a file named twice takes twice the share).
func writeTokenPaths(ctx context.Context, dbPath string, slots []string) error {
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
			f, err := os.Create(name)
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

// resumable marks the bench's issue as sending, for serve's scheduler to resume, and returns
// how many messages the ledger records as sent so far.
func (b *bench) resumable(ctx context.Context, dbPath string) (int, error) {
	week, err := newsletter.ParseWeek(b.week)
	if err != nil {
		return 0, err
	}
	return countIn(ctx, dbPath, func(db *store.DB) (int, error) {
		is, err := db.IssueByWeek(ctx, week)
		if err != nil {
			return 0, err
		}
		if err := db.SetIssueStatus(ctx, is.ID, newsletter.IssueSending, time.Now()); err != nil {
			return 0, err
		}
		counts, err := db.LedgerCounts(ctx)
		return counts[newsletter.DeliverySent], err
	})
}

// countSent is how many messages the ledger records as sent.
func countSent(ctx context.Context, dbPath string) (int, error) {
	return countIn(ctx, dbPath, func(db *store.DB) (int, error) {
		counts, err := db.LedgerCounts(ctx)
		return counts[newsletter.DeliverySent], err
	})
}

func countUnsubscribed(ctx context.Context, dbPath string) (int, error) {
	return countIn(ctx, dbPath, func(db *store.DB) (int, error) {
		counts, err := db.CountSubscribers(ctx)
		return counts[newsletter.StatusUnsubscribed], err
	})
}

// countIn opens the database at dbPath for count and closes it.
func countIn(ctx context.Context, dbPath string, count func(*store.DB) (int, error)) (int, error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return count(db)
}

// settledUnsubscribed counts the unsubscribed once the count holds still for 200 ms (at
// most 10 s): serve answers a one-click POST once it is in its journal and applies the
// journal to the database a few milliseconds later.
func settledUnsubscribed(ctx context.Context, dbPath string) (int, error) {
	last := -1
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, err := countUnsubscribed(ctx, dbPath)
		if err != nil || n == last || time.Now().After(deadline) {
			return n, err
		}
		last = n
		time.Sleep(200 * time.Millisecond)
	}
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
