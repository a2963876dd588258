package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// wrkScript POSTs the RFC 8058 one-click body to one unsubscribe URL after another: thread
// k of n takes the lines k, k+n, k+2n, … of the file given as its first argument, so every
// request unsubscribes a different subscriber until the file runs out (then it wraps, and
// the repeats change nothing). done prints one line for the bench to parse.
const wrkScript = `
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  i = tid + 1 - step
end
function request()
  i = i + step
  if i > #paths then i = ((i - 1) % #paths) + 1 end
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
end
` + wrkDone

// wrkFloorScript GETs /healthz: the same server, wrk and connections, no database work.
const wrkFloorScript = wrkDone

// wrkDone prints one line for the bench to parse.
const wrkDone = `
function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
`

const (
	wrkThreads     = 2
	wrkConnections = 32
)

// wrk measures the one-click unsubscribe handler of `newsletter serve` with wrk on loopback,
// idle and while `newsletter send` runs against the same database, and checks that every
// answered POST unsubscribed someone.
func (b *bench) wrk(ctx context.Context) error {
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk not found (Debian: apt-get install -y wrk)")
	}
	sink, _, pfxEnv, err := b.postfix(ctx)
	if err != nil {
		return err
	}
	db, err := b.prepared(ctx, b.wrkSubs, "wrk.db")
	if err != nil {
		return err
	}
	// Half the subscribers for the idle run, half for the run beside a send.
	files := [2]string{filepath.Join(b.dir, "wrk-idle.txt"), filepath.Join(b.dir, "wrk-send.txt")}
	if err := writeTokenPaths(ctx, db, files); err != nil {
		return err
	}
	script := filepath.Join(b.dir, "unsubscribe.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return err
	}
	smtpAddr, stopSink, err := startSink(ctx, sink, pfxEnv)
	if err != nil {
		return err
	}
	defer stopSink()
	port, err := freePort()
	if err != nil {
		return err
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", port)
	env := append(slices.Clone(b.env), "NEWSLETTER_DATABASE="+db, "NEWSLETTER_HTTP_ADDR="+httpAddr,
		fmt.Sprintf("NEWSLETTER_SMTP_URL=smtp://%s?tls=none&connections=%d&rate=0", smtpAddr, b.conns))
	serve := exec.CommandContext(ctx, b.bin, "serve", "--no-scheduler")
	serve.Env = env
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() { _ = serve.Process.Signal(os.Interrupt); _ = serve.Wait() }()
	if err := waitListen(httpAddr); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(b.out, "wrk: %d subscribers, %d threads, %d connections, %s per run, one-click POSTs to %s\n",
		b.wrkSubs, wrkThreads, wrkConnections, b.wrkDur, httpAddr)
	// The floor: what this machine and this wrk shape give a handler that does nothing.
	floorScript := filepath.Join(b.dir, "floor.lua")
	if err := os.WriteFile(floorScript, []byte(wrkFloorScript), 0o644); err != nil {
		return err
	}
	floor := func(label string) error {
		out, err := exec.CommandContext(ctx, wrkBin, "-t", fmt.Sprint(wrkThreads), "-c", fmt.Sprint(wrkConnections),
			"-d", fmt.Sprintf("%ds", int(b.wrkDur.Seconds())), "--timeout", "5s", "-s", floorScript,
			"http://"+httpAddr+"/healthz").CombinedOutput()
		var r wrkResult
		if err == nil {
			err = r.parse(string(out))
		}
		if err != nil {
			return fmt.Errorf("wrk: %w\n%s", err, out)
		}
		fmt.Fprintf(b.out, "wrk %-11s %.0f req/s, p50 %s, p99 %s, max %s; %d requests, %d errors (GET /healthz: the floor)\n",
			label, float64(r.requests)/r.duration.Seconds(), r.p50, r.p99, r.max, r.requests,
			r.connect+r.read+r.write+r.status+r.timeout)
		return nil
	}
	if err := floor("floor idle"); err != nil {
		return err
	}
	for i, phase := range []string{"idle", "during send"} {
		var send *exec.Cmd
		var sendOut strings.Builder
		if phase == "during send" {
			send = exec.CommandContext(ctx, b.bin, "send", "--issue", b.week)
			send.Env = env
			send.Stdout, send.Stderr = &sendOut, &sendOut
			send.WaitDelay = 10 * time.Second
			if err := send.Start(); err != nil {
				return fmt.Errorf("send: %w", err)
			}
			time.Sleep(500 * time.Millisecond) // let it get going
			if err := floor("floor send"); err != nil {
				_ = send.Process.Signal(os.Interrupt)
				_ = send.Wait()
				return err
			}
		}
		before, err := countUnsubscribed(ctx, db)
		if err != nil {
			return err
		}
		tokens, err := countLines(files[i])
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, wrkBin, "-t", fmt.Sprint(wrkThreads), "-c", fmt.Sprint(wrkConnections),
			"-d", fmt.Sprintf("%ds", int(b.wrkDur.Seconds())), "--timeout", "5s", "-s", script,
			"http://"+httpAddr, "--", files[i], fmt.Sprint(wrkThreads))
		out, err := cmd.CombinedOutput()
		var sent string
		if send != nil {
			_ = send.Process.Signal(os.Interrupt) // a throwaway database: stop where it is
			_ = send.Wait()
			sent = lastLine(sendOut.String())
		}
		if err != nil {
			return fmt.Errorf("wrk: %w\n%s", err, out)
		}
		after, err := settledUnsubscribed(ctx, db)
		if err != nil {
			return err
		}
		var r wrkResult
		if err := r.parse(string(out)); err != nil {
			return fmt.Errorf("wrk: %w\n%s", err, out)
		}
		ok := r.requests - r.status - r.read - r.write - r.timeout
		recorded := after - before
		// Requests still in flight when wrk stops are answered after its count: up to one per
		// connection may be recorded without being counted.
		verdict := "every answered POST recorded"
		switch {
		case ok > tokens:
			verdict = fmt.Sprintf("wrapped: %d answers for %d tokens, cannot check", ok, tokens)
		case recorded < ok || recorded > ok+wrkConnections:
			verdict = fmt.Sprintf("MISMATCH: %d answered, %d recorded", ok, recorded)
		}
		fmt.Fprintf(b.out, "wrk %-11s %.0f req/s, p50 %s, p99 %s, max %s; %d requests, errors: %d connect %d read %d write %d status %d timeout; %d unsubscribed (%s)\n",
			phase, float64(r.requests)/r.duration.Seconds(), r.p50, r.p99, r.max, r.requests,
			r.connect, r.read, r.write, r.status, r.timeout, recorded, verdict)
		if send != nil {
			fmt.Fprintf(b.out, "wrk %-11s send beside it: %s\n", "", sent)
		}
	}
	return nil
}

type wrkResult struct {
	requests, connect, read, write, status, timeout int
	duration, p50, p99, max                         time.Duration
}

func (r *wrkResult) parse(out string) error {
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "WRK ") {
			continue
		}
		var dur, p50, p99, mx int64
		_, err := fmt.Sscanf(strings.TrimSpace(line), "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d",
			&r.requests, &dur, &p50, &p99, &mx, &r.connect, &r.read, &r.write, &r.status, &r.timeout)
		r.duration, r.p50, r.p99, r.max = time.Duration(dur)*time.Microsecond, time.Duration(p50)*time.Microsecond,
			time.Duration(p99)*time.Microsecond, time.Duration(mx)*time.Microsecond
		return err
	}
	return errors.New("no result line")
}

// writeTokenPaths writes the unsubscribe path of every subscriber, signed as the mail signs
// it, alternately into the two files.
func writeTokenPaths(ctx context.Context, dbPath string, files [2]string) error {
	sg, err := token.NewSigner([]byte(benchSecret))
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var ws [2]*bufio.Writer
	for i, name := range files {
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		defer f.Close()
		ws[i] = bufio.NewWriter(f)
	}
	n := 0
	err = db.EachSubscriber(ctx, store.SubscriberFilter{}, func(s newsletter.Subscriber) error {
		_, err := fmt.Fprintf(ws[n%2], "/unsubscribe/%s\n", sg.Make(token.Unsubscribe, s.ID, s.Email))
		n++
		return err
	})
	if err != nil {
		return err
	}
	for _, w := range ws {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func countUnsubscribed(ctx context.Context, dbPath string) (int, error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	counts, err := db.CountSubscribers(ctx)
	if err != nil {
		return 0, err
	}
	return counts[newsletter.StatusUnsubscribed], nil
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
