// Command newsletter-bench measures the newsletter binary against Postfix's smtp-source on
// loopback: the same message over the same number of connections into smtp-sink, alternated,
// with peak memory; and the time of a subscriber import, export and an issue build. It
// reports and never fails on a slow result.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// benchSecret signs the subscribers' tokens: the wrk part signs them too, as the mail would.
const benchSecret = "bench-secret-bench-secret-bench-secret-0123"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "newsletter-bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	out        io.Writer
	n          int
	conns      int
	repeats    int
	size       int
	dir        string // scratch directory
	bin        string // the newsletter binary
	pfx        string // unpacked postfix tools
	sink       string // Postfix's smtp-sink and smtp-source, found by postfix
	source     string
	pfxEnv     []string // the environment they need
	week       string
	env        []string
	wrkSubs    int
	wrkDur     time.Duration
	wrkRepeats int
	wrkRate    int // the paced runs' requests per second
	// wrkImportRows is the size of the import beside the wrk part's last run.
	wrkImportRows int
	// shapes are the messages the send part measures, each against its own ceiling: every
	// -stories value with every -dkim value. The other parts use the first, unsigned.
	shapes []shape
	rsaKey *rsa.PrivateKey // the DKIM keys, also in the PEM files of keyFile
	edKey  ed25519.PrivateKey
	root   string // the module's directory
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("newsletter-bench", flag.ContinueOnError)
	n := fs.Int("n", 20000, "subscribers")
	conns := fs.Int("connections", 16, "SMTP connections (newsletter workers and smtp-source sessions)")
	repeats := fs.Int("repeats", 3, "alternated runs of each sender")
	size := fs.Int("size", 0, "smtp-source message length when its -F is unusable; 0: the newsletter message's size")
	parts := fs.String("parts", "send,import,build", "what to measure: send, import, build, wrk, start (comma-separated)")
	wrkSubs := fs.Int("wrk-subscribers", 100000, "subscribers of the wrk part's database (each POST unsubscribes a different one)")
	wrkDur := fs.Duration("wrk-duration", 5*time.Second, "length of each wrk run; the import beside the last run must outlast it")
	wrkRepeats := fs.Int("wrk-repeats", 3, "repeats of the wrk part's runs, each on a fresh serve and database")
	wrkRate := fs.Int("wrk-rate", 500, "requests per second of the wrk part's paced runs (beside a send, beside an import)")
	wrkImportRows := fs.Int("wrk-import-rows", 1000000, "rows of the import beside the wrk part's last run")
	stories := fs.String("stories", "0", "stories in the sent issue, repeating the sample feed's items (22 makes a message of about 60 KB); 0: the sample feed as it is; a comma-separated list measures each")
	dkimFlag := fs.String("dkim", "none", "DKIM signatures of the send part: none, rsa (2048 bits), ed25519 or both; a comma-separated list measures each")
	cache := fs.String("postfix-cache", filepath.Join(os.TempDir(), "newsletter-bench-postfix"), "where Postfix's test tools are unpacked")
	keep := fs.Bool("keep", false, "keep the scratch directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	shapes, err := parseShapes(*stories, *dkimFlag)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "newsletter-bench-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	b := &bench{out: out, n: *n, conns: *conns, repeats: *repeats, size: *size, dir: dir, pfx: *cache, week: "2026-W19",
		wrkSubs: *wrkSubs, wrkDur: *wrkDur, wrkRepeats: max(1, *wrkRepeats), wrkRate: max(1, *wrkRate), wrkImportRows: *wrkImportRows, shapes: shapes}
	b.env = append(os.Environ(),
		"NEWSLETTER_CONFIG="+filepath.Join(dir, "config.yaml"),
		"NEWSLETTER_SECRET="+benchSecret,
		"NEWSLETTER_OUTBOX="+filepath.Join(dir, "outbox"),
		"NEWSLETTER_BASE_URL=https://news.example.org",
	)
	fmt.Fprintf(out, "newsletter-bench: n=%d connections=%d repeats=%d, %d CPUs, load %s, scratch %s\n", b.n, b.conns, b.repeats, runtime.NumCPU(), loadAvg(), dir)
	defer func() { fmt.Fprintf(out, "newsletter-bench: done, load %s\n", loadAvg()) }()
	if err := b.build(ctx); err != nil {
		return err
	}
	measure := map[string]func(context.Context) error{"send": b.send, "import": b.importExport, "build": b.buildIssue, "wrk": b.wrk, "start": b.start}
	for _, p := range strings.Split(*parts, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		err := fmt.Errorf("unknown part %q", p)
		if m, ok := measure[p]; ok {
			err = m(ctx)
		}
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", p, err) // report and go on: a benchmark, not a test
		}
	}
	return nil
}

// loadAvg is the first three fields of /proc/loadavg: the other work on the machine.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

// build compiles the newsletter command, makes the DKIM keys and writes the configuration
// of the first shape.
func (b *bench) build(ctx context.Context) error {
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	b.root, b.bin = filepath.Dir(strings.TrimSpace(string(root))), filepath.Join(b.dir, "newsletter")
	if _, err := b.cmd(ctx, nil, "go", "build", "-C", b.root, "-o", b.bin, "./cmd/newsletter"); err != nil {
		return err
	}
	if err := b.makeKeys(); err != nil {
		return err
	}
	return b.configure(shape{stories: b.shapes[0].stories})
}

// configure writes the configuration for one shape of message.
func (b *bench) configure(sh shape) error {
	feed, _ := filepath.Abs(filepath.Join(b.root, "data", "sample-feed.xml"))
	maxStories := 12
	if sh.stories > 0 {
		var err error
		if feed, err = b.repeatFeed(feed, sh.stories); err != nil {
			return err
		}
		maxStories = sh.stories
	}
	cfg := fmt.Sprintf(`database: %s
feeds: [%q]
issue:
  max_stories: %d
delivery:
  workers: %d
  rate: "0"
  retry_wait: 0s
# The wrk part reads serve's handler times from /metrics.
metrics:
  public: true
# serve's scheduler (the wrk part's own send) only resumes: its slots are half a year away.
schedule:
  build: %[5]q
  send: %[5]q
`, filepath.Join(b.dir, "template.db"), feed, maxStories, b.conns, farSlot(time.Now()))
	cfg += b.dkimConfig(sh.dkim)
	return os.WriteFile(filepath.Join(b.dir, "config.yaml"), []byte(cfg), 0o644)
}

// farSlot is a cron line that fires once a year, half a year from now: serve's scheduler
// finds no slot to build or send within its week of lookback, nor soon after.
func farSlot(now time.Time) string {
	at := now.AddDate(0, 6, 0)
	return fmt.Sprintf("0 0 %d %d *", min(at.Day(), 28), int(at.Month()))
}

// repeatFeed writes a copy of the sample feed with n items, repeating its items with new
// GUIDs and links, so the issue (and the message) grows.
func (b *bench) repeatFeed(sample string, n int) (string, error) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		return "", err
	}
	s := string(raw)
	first, last := strings.Index(s, "<item>"), strings.LastIndex(s, "</item>")
	if first < 0 || last < 0 {
		return "", fmt.Errorf("%s: no <item>", sample)
	}
	items := strings.SplitAfter(strings.TrimSpace(s[first:last+len("</item>")]), "</item>")
	var sb strings.Builder
	sb.WriteString(s[:first])
	for i := range n {
		item := strings.TrimSpace(items[i%(len(items)-1)]) // the split leaves an empty last part
		if k := i / (len(items) - 1); k > 0 {
			item = strings.Replace(item, "</guid>", fmt.Sprintf("-%d</guid>", k), 1)
			item = strings.Replace(item, "/</link>", fmt.Sprintf("/%d/</link>", k), 1)
			item = strings.Replace(item, "</title>", fmt.Sprintf(" (part %d)</title>", k+1), 1)
		}
		sb.WriteString(item + "\n")
	}
	sb.WriteString(s[last+len("</item>"):])
	p := filepath.Join(b.dir, "feed.xml")
	return p, os.WriteFile(p, []byte(sb.String()), 0o644)
}

// result of one process run.
type result struct {
	took   time.Duration
	maxRSS int64         // KiB
	cpu    time.Duration // user and system time of the process
	out    string
}

// command is name with args in the bench's environment and extraEnv.
func (b *bench) command(ctx context.Context, extraEnv []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(slices.Clone(b.env), extraEnv...)
	return cmd
}

// smtpEnv points the newsletter at the SMTP server at addr over the bench's connections.
func (b *bench) smtpEnv(addr string) string {
	return fmt.Sprintf("NEWSLETTER_SMTP_URL=smtp://%s?tls=none&connections=%d&rate=0", addr, b.conns)
}

// cmd runs name with args to its end and measures it.
func (b *bench) cmd(ctx context.Context, extraEnv []string, name string, args ...string) (result, error) {
	cmd := b.command(ctx, extraEnv, name, args...)
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	own := selfRSS()
	start := time.Now()
	err := cmd.Run()
	r := result{took: time.Since(start), out: buf.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if name == b.bin && r.maxRSS > 0 && r.maxRSS <= own {
		// See copyFile: the figure may be this process's size, not the child's.
		fmt.Fprintf(os.Stderr, "newsletter-bench: %s's peak RSS (%d KiB) is not above the bench's own (%d KiB); it is not a measurement of the child\n",
			filepath.Base(name), r.maxRSS, own)
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(r.out))
	}
	return r, nil
}

// selfRSS is this process's resident set in KiB (0 when unknown).
func selfRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(rest, &kb) // "  1234 kB": the number, then a unit Sscan leaves unread
			return kb
		}
	}
	return 0
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// prepare makes template.db: the sample issue built with nobody subscribed (so it is saved
// and sent to no one), then n subscribers imported; each send starts from a copy.
func (b *bench) prepare(ctx context.Context, n int) (string, error) {
	db := filepath.Join(b.dir, "template.db")
	removeDB(db)
	if _, err := b.cmd(ctx, nil, b.bin, "run", "--week", b.week); err != nil {
		return "", err
	}
	csv := filepath.Join(b.dir, "subscribers.csv")
	if err := writeCSV(csv, "reader", n); err != nil {
		return "", err
	}
	if _, err := b.cmd(ctx, nil, b.bin, "subscribers", "import", csv); err != nil {
		return "", err
	}
	return db, nil
}

// writeCSV writes n active subscribers, PREFIX0000000@example.com and on.
func writeCSV(path, prefix string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "email,name,status")
	for i := range n {
		fmt.Fprintf(w, "%s%07d@example.com,Reader %d,active\n", prefix, i, i)
	}
	return errors.Join(w.Flush(), f.Close())
}

// copyFile streams src to dst. It must not read the file into memory: a child started
// while this process is large reports this process's size as its own peak RSS, because
// Linux counts the memory a vfork-style child shares until exec in its ru_maxrss.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// postfix finds smtp-sink and smtp-source, unpacking the Debian package into the cache
// (apt-get download and dpkg-deb -x: no install, no mail server) when they are missing.
func (b *bench) postfix(ctx context.Context) error {
	root := filepath.Join(b.pfx, "root")
	b.sink, b.source = filepath.Join(root, "usr/sbin/smtp-sink"), filepath.Join(root, "usr/sbin/smtp-source")
	b.pfxEnv = []string{"LD_LIBRARY_PATH=" + filepath.Join(root, "usr/lib/postfix")}
	if _, err := os.Stat(b.source); err == nil {
		return nil
	}
	if p, err := exec.LookPath("smtp-source"); err == nil {
		s, _ := exec.LookPath("smtp-sink")
		b.sink, b.source, b.pfxEnv = s, p, nil
		return nil
	}
	if err := os.MkdirAll(b.pfx, 0o755); err != nil {
		return err
	}
	dl := exec.CommandContext(ctx, "apt-get", "download", "postfix")
	dl.Dir = b.pfx
	if out, err := dl.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download postfix: %w\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(b.pfx, "postfix_*.deb"))
	if len(debs) == 0 {
		return fmt.Errorf("no postfix .deb in %s", b.pfx)
	}
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb -x: %w\n%s", err, out)
	}
	return nil
}

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startSink finds Postfix's tools, starts smtp-sink on a free loopback port and waits for
// it to listen.
func (b *bench) startSink(ctx context.Context) (addr string, stop func(), err error) {
	if err := b.postfix(ctx); err != nil {
		return "", nil, err
	}
	if addr, err = freeAddr(); err != nil {
		return "", nil, err
	}
	args := []string{addr, "1024"}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.CommandContext(ctx, b.sink, args...)
	cmd.Env = append(os.Environ(), b.pfxEnv...)
	cmd.Stderr = os.Stderr
	sink, err := startBackground(cmd)
	if err != nil {
		return "", nil, fmt.Errorf("smtp-sink: %w", err)
	}
	if err := waitListen(addr); err != nil {
		sink.stop(os.Kill)
		return "", nil, fmt.Errorf("smtp-sink: %w", err)
	}
	return addr, func() { sink.stop(os.Kill) }, nil
}

// removeDB removes the SQLite database at db with its WAL files.
func removeDB(db string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
}

// background is a process started by startBackground.
type background struct {
	cmd          *exec.Cmd
	out          strings.Builder
	began, ended time.Time
	err          error         // how it exited
	done         chan struct{} // closed when it exited
}

// startBackground starts cmd, collecting its output in out unless its Stderr goes
// elsewhere, and closes done when it exits.
func startBackground(cmd *exec.Cmd) (*background, error) {
	bg := &background{cmd: cmd, done: make(chan struct{}), began: time.Now()}
	if cmd.Stderr == nil {
		cmd.Stdout, cmd.Stderr = &bg.out, &bg.out
	}
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		bg.err = cmd.Wait()
		bg.ended = time.Now()
		close(bg.done)
	}()
	return bg, nil
}

// stop sends bg sig (os.Interrupt as Ctrl-C would, os.Kill) and waits for its exit.
func (bg *background) stop(sig os.Signal) {
	_ = bg.cmd.Process.Signal(sig)
	<-bg.done
}

// waitListen waits at most 5 s for a listener on addr.
func waitListen(addr string) error {
	for range 50 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after 5 s", addr)
}

// send measures each shape: newsletter send alternated with smtp-source into one smtp-sink
// and, for a signed shape, with the signatures per second of the same keys on every core.
func (b *bench) send(ctx context.Context) error {
	addr, stopSink, err := b.startSink(ctx)
	if err != nil {
		return err
	}
	defer stopSink()
	// The other parts run with the first shape, unsigned.
	defer b.configure(shape{stories: b.shapes[0].stories})
	var rows []string
	for _, sh := range b.shapes {
		row, err := b.sendShape(ctx, sh, addr)
		if err != nil {
			return fmt.Errorf("%s: %w", sh, err)
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(b.out, "send: summary, n=%d connections=%d, medians of %d alternated rounds (min-max)\n", b.n, b.conns, b.repeats)
	for _, r := range rows {
		fmt.Fprintln(b.out, "  "+r)
	}
	return nil
}

// sendShape measures one shape and returns its summary line.
func (b *bench) sendShape(ctx context.Context, sh shape, addr string) (string, error) {
	if err := b.configure(sh); err != nil {
		return "", err
	}
	tmpl, err := b.prepare(ctx, b.n)
	if err != nil {
		return "", err
	}
	// The message as a subscriber gets it, for smtp-source (unsigned: a signature adds some
	// 500 bytes to it).
	eml, err := b.cmd(ctx, nil, b.bin, "preview", "--week", b.week, "--format", "eml", "--no-fetch")
	if err != nil {
		return "", err
	}
	msgFile := filepath.Join(b.dir, "message.eml")
	if err := os.WriteFile(msgFile, []byte(eml.out), 0o644); err != nil {
		return "", err
	}
	size := b.size
	if size == 0 {
		size = len(eml.out)
	}
	// smtp-source -F sends a file as the message where supported; otherwise -l gives the size.
	srcArgs := []string{"-d", "-s", fmt.Sprint(b.conns), "-m", fmt.Sprint(b.n), "-f", "weekly@example.org", "-t", "reader@example.com"}
	if _, err := b.cmd(ctx, b.pfxEnv, b.source, append(append(slices.Clone(srcArgs), "-m", "1", "-F", msgFile), addr)...); err == nil {
		srcArgs = append(srcArgs, "-F", msgFile)
		fmt.Fprintf(b.out, "send %s: smtp-source sends the newsletter message itself (-F, %d bytes)\n", sh, size)
	} else {
		srcArgs = append(srcArgs, "-l", fmt.Sprint(size))
		fmt.Fprintf(b.out, "send %s: smtp-source sends a generated message of the same size (-l %d)\n", sh, size)
	}
	srcArgs = append(srcArgs, addr)
	smtpURL := b.smtpEnv(addr)
	var ours, theirs, sigs, ceilings, ratios, cpus []float64
	var peakRSS int64 // KiB
	for i := range b.repeats {
		db := filepath.Join(b.dir, fmt.Sprintf("send%d.db", i))
		if err := copyFile(db, tmpl); err != nil {
			return "", err
		}
		// A signed shape's signature rate is measured just before and just after the send,
		// so that both see much the same load from the rest of the machine.
		var sigBefore float64
		if sh.dkim != "none" {
			sigBefore = b.signatureRate(sh.dkim)
		}
		r, err := b.cmd(ctx, []string{smtpURL, "NEWSLETTER_DATABASE=" + db}, b.bin, "send", "--issue", b.week)
		if err != nil {
			return "", err
		}
		removeDB(db)
		o := float64(b.n) / r.took.Seconds()
		s, err := b.cmd(ctx, b.pfxEnv, b.source, srcArgs...)
		if err != nil {
			return "", err
		}
		t := float64(b.n) / s.took.Seconds()
		ceiling, sigNote := t, ""
		if sh.dkim != "none" {
			sg := (sigBefore + b.signatureRate(sh.dkim)) / 2
			sigs = append(sigs, sg)
			ceiling = min(t, sg)
			sigNote = fmt.Sprintf(", %s signatures %.0f/s on %d cores", sh.dkim, sg, runtime.GOMAXPROCS(0))
		}
		ours, theirs, ceilings, ratios, cpus = append(ours, o), append(theirs, t), append(ceilings, ceiling), append(ratios, o/ceiling), append(cpus, perMsg(r.cpu, b.n))
		peakRSS = max(peakRSS, r.maxRSS)
		fmt.Fprintf(b.out, "send %s: run %d: newsletter %.0f msgs/s (%s, CPU %.0f µs/msg, peak RSS %.1f MiB), smtp-source %.0f msgs/s (%s, CPU %.0f µs/msg)%s, ratio %.2f\n",
			sh, i+1, o, r.took.Round(time.Millisecond), perMsg(r.cpu, b.n), float64(r.maxRSS)/1024, t, s.took.Round(time.Millisecond), perMsg(s.cpu, b.n), sigNote, o/ceiling)
	}
	fmt.Fprintf(b.out, "send %s: n=%d connections=%d message %d bytes\n", sh, b.n, b.conns, size)
	fmt.Fprintf(b.out, "  newsletter send  msgs/s min/median/max: %s\n", statsf(ours, "%.0f"))
	fmt.Fprintf(b.out, "  smtp-source      msgs/s min/median/max: %s\n", statsf(theirs, "%.0f"))
	if len(sigs) > 0 {
		fmt.Fprintf(b.out, "  %-16s min/median/max: %s\n", sh.dkim+" sigs/s", statsf(sigs, "%.0f"))
	}
	fmt.Fprintf(b.out, "  newsletter CPU µs/msg min/median/max: %s\n", statsf(cpus, "%.0f"))
	fmt.Fprintf(b.out, "  ratio to ceiling min/median/max: %s\n", statsf(ratios, "%.2f"))
	fmt.Fprintf(b.out, "  newsletter peak RSS max: %.1f MiB\n", float64(peakRSS)/1024)
	ceilingName := "smtp-source"
	if len(sigs) > 0 {
		ceilingName = "min(smtp-source, " + sh.dkim + " sigs)"
	}
	return fmt.Sprintf("%-22s %6d bytes  %s %s msgs/s  newsletter %s msgs/s  ratio %s  CPU %s µs/msg  peak RSS %.1f MiB",
		sh, size, ceilingName, medianRange(ceilings, "%.0f"), medianRange(ours, "%.0f"), medianRange(ratios, "%.2f"), medianRange(cpus, "%.0f"), float64(peakRSS)/1024), nil
}

// perMsg is a process's CPU time per message sent, in microseconds: unlike its rate, it
// hardly moves with the other work on the machine.
func perMsg(cpu time.Duration, n int) float64 { return float64(cpu.Microseconds()) / float64(n) }

// medianRange is "median (min-max)" of v, each in format f.
func medianRange(v []float64, f string) string {
	lo, med, hi := spread(v)
	return fmt.Sprintf(f+" ("+f+"-"+f+")", med, lo, hi)
}

// statsf is "min / median / max" of v, each in format f; "-" when v is empty.
func statsf(v []float64, f string) string {
	if len(v) == 0 {
		return "-"
	}
	lo, med, hi := spread(v)
	return fmt.Sprintf(f+" / "+f+" / "+f, lo, med, hi)
}

func spread(v []float64) (lo, med, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], med, s[len(s)-1]
}

// importExport times a CSV import of n rows into an empty database and its export.
func (b *bench) importExport(ctx context.Context) error {
	csv := filepath.Join(b.dir, "import.csv")
	if err := writeCSV(csv, "reader", b.n); err != nil {
		return err
	}
	db := filepath.Join(b.dir, "import.db")
	env := []string{"NEWSLETTER_DATABASE=" + db}
	r, err := b.cmd(ctx, env, b.bin, "subscribers", "import", csv)
	if err != nil {
		return err
	}
	e, err := b.cmd(ctx, env, b.bin, "subscribers", "export", "--output", filepath.Join(b.dir, "export.csv"))
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "import: %d rows in %s (peak RSS %.1f MiB); export in %s (peak RSS %.1f MiB)\n",
		b.n, r.took.Round(time.Millisecond), float64(r.maxRSS)/1024, e.took.Round(time.Millisecond), float64(e.maxRSS)/1024)
	return nil
}

// buildIssue times gather and render of an issue from 10 local feeds of 50 items each
// (run --dry-run: nothing is sent).
func (b *bench) buildIssue(ctx context.Context) error {
	var feeds []string
	pub := time.Date(2026, 4, 28, 6, 0, 0, 0, time.UTC)
	for f := range 10 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Feed %d</title><link>https://f%d.example.org/</link><description>d</description>\n", f, f)
		for i := range 50 {
			fmt.Fprintf(&sb, "<item><title>Story %d of feed %d</title><link>https://f%d.example.org/s/%d</link><guid>f%d-s%d</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
				i, f, f, i, f, i, pub.Add(-time.Duration(f*50+i)*time.Minute).Format(time.RFC1123Z), strings.Repeat("A summary sentence of the story. ", 6))
		}
		sb.WriteString("</channel></rss>\n")
		p := filepath.Join(b.dir, fmt.Sprintf("feed%d.xml", f))
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			return err
		}
		feeds = append(feeds, p)
	}
	db := filepath.Join(b.dir, "build.db")
	env := []string{"NEWSLETTER_DATABASE=" + db, "NEWSLETTER_FEEDS=" + strings.Join(feeds, ",")}
	if _, err := b.cmd(ctx, env, b.bin, "migrate"); err != nil {
		return err
	}
	r, err := b.cmd(ctx, env, b.bin, "run", "--dry-run", "--week", b.week)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "build: gather and render from 10 feeds x 50 items in %s (the whole process, run --dry-run)\n", r.took.Round(time.Millisecond))
	return nil
}
