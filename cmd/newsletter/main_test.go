package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/smtptest"
)

// sampleMonday is the send time of the sample feed's issue, 2026-W19, in Istanbul.
var sampleMonday = time.Date(2026, 5, 4, 8, 0, 0, 0, time.FixedZone("+03", 3*3600))

// sampleLater is after every story of the sample feed (its second week, 2026-W20, too), as
// when a user runs the README's commands today: a story dated after the clock would count
// as arriving now.
var sampleLater = sampleMonday.AddDate(0, 0, 14)

// cli runs the program like a user would, with a private environment and clock.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
	now time.Time
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	feedBytes, err := os.ReadFile(filepath.Join("..", "..", "data", "sample-feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// The sample feed over real HTTP, plus a feed that is gone: the issue must still build.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(feedBytes)
	})
	feeds := httptest.NewServer(mux)
	t.Cleanup(feeds.Close)
	cfg := `
database: ` + filepath.Join(dir, "nl.db") + `
outbox: ` + filepath.Join(dir, "outbox") + `
secret_file: ` + filepath.Join(dir, "secret.key") + `
base_url: https://news.example.org
feeds:
  - ` + feeds.URL + `/feed.xml
  - ` + feeds.URL + `/gone.xml
`
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, dir: dir, env: map[string]string{"NEWSLETTER_CONFIG": filepath.Join(dir, "config.yaml")}, now: sampleLater}
}

// setConfig appends YAML to the test's configuration file.
func (c *cli) setConfig(yaml string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(yaml); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, func(k string) string { return c.env[k] }, func() time.Time { return c.now })
	return code, out.String(), errb.String()
}

func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		c.t.Fatalf("newsletter %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c *cli) importSample() {
	c.t.Helper()
	c.mustRun("subscribers", "import", filepath.Join("..", "..", "data", "sample-subscribers.csv"))
}

func emlFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRunEndToEndOutbox(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	out := c.mustRun("run", "--week", "2026-W19")
	for _, want := range []string{"FAILED", "gone.xml", "404", "Built issue 2026-W19: 8 stories", "5 sent, 0 bounced, 0 failed", "outbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	files := emlFiles(t, filepath.Join(c.dir, "outbox"))
	if len(files) != 5 {
		t.Fatalf("%d .eml files, want 5 (one per active subscriber)", len(files))
	}
	recipients := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		h := msg.Header
		to, err := mail.ParseAddress(h.Get("To"))
		if err != nil {
			t.Fatal(err)
		}
		recipients[to.Address] = true
		if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post = %q", f, h.Get("List-Unsubscribe-Post"))
		}
		if !regexp.MustCompile(`^<https://news\.example\.org/unsubscribe/[A-Za-z0-9_-]{32}>$`).MatchString(h.Get("List-Unsubscribe")) {
			t.Errorf("%s: List-Unsubscribe = %q", f, h.Get("List-Unsubscribe"))
		}
		if !strings.HasSuffix(h.Get("Message-Id"), "@technerdo.com>") || h.Get("Date") == "" || h.Get("List-Id") == "" {
			t.Errorf("%s: Message-ID %q, Date %q, List-Id %q", f, h.Get("Message-Id"), h.Get("Date"), h.Get("List-Id"))
		}
		if !strings.Contains(h.Get("Subject"), "The Technerdo Weekly") {
			t.Errorf("%s: Subject %q", f, h.Get("Subject"))
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "multipart/alternative") {
			t.Errorf("%s: Content-Type %q", f, h.Get("Content-Type"))
		}
		if bytes.Contains(raw, []byte("__NL_")) {
			t.Errorf("%s: an unfilled placeholder is left in the message", f)
		}
	}
	if recipients["alan.turing@example.org"] || len(recipients) != 5 {
		t.Fatalf("recipients %v: want the 5 active subscribers, not the unsubscribed one", recipients)
	}

	// Safe to run twice: nobody gets the issue again.
	out = c.mustRun("run", "--week", "2026-W19")
	if !strings.Contains(out, "already sent") || !strings.Contains(out, "0 sent") {
		t.Fatalf("second run:\n%s", out)
	}
	if n := len(emlFiles(t, filepath.Join(c.dir, "outbox"))); n != 5 {
		t.Fatalf("second run left %d files", n)
	}

	// A new subscriber joins: the next run sends the issue to them only.
	c.mustRun("subscribers", "add", "new.reader@example.com", "--name", "New Reader")
	out = c.mustRun("run", "--week", "2026-W19")
	if !strings.Contains(out, "1 sent") {
		t.Fatalf("run after a new subscriber:\n%s", out)
	}
	if n := len(emlFiles(t, filepath.Join(c.dir, "outbox"))); n != 6 {
		t.Fatalf("%d files, want 6", n)
	}
}

func TestRunOverSMTP(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	srv := smtptest.Start(t)
	c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + srv.Addr() + "?tls=none"
	srv.FailRcpt("linus@example.net", 550)
	code, out, errOut := c.run("run", "--week", "2026-W19")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "4 sent, 1 bounced") {
		t.Fatalf("output:\n%s", out)
	}
	if got := len(srv.Messages()); got != 4 {
		t.Fatalf("server received %d messages, want 4", got)
	}
	list := c.mustRun("subscribers", "list", "--status", "bounced")
	if !strings.Contains(list, "linus@example.net") {
		t.Fatalf("bounced list:\n%s", list)
	}
}

func TestRunDefersOnTemporaryFailure(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	srv := smtptest.Start(t)
	c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + srv.Addr() + "?tls=none"
	srv.FailRcpt("ada.lovelace@example.com", 451)
	c.setConfig("delivery:\n  retry_wait: 0s\n") // report the deferral at once; do not wait for its retry
	code, out, _ := c.run("run", "--week", "2026-W19")
	if code != exitDeferred || !strings.Contains(out, "4 sent, 0 bounced, 0 failed, 1 deferred") {
		t.Fatalf("exit %d, want %d\n%s", code, exitDeferred, out)
	}
	srv.FailRcpt("ada.lovelace@example.com", 0)
	c.now = c.now.Add(2 * time.Hour) // past the retry's backoff
	out = c.mustRun("run", "--week", "2026-W19")
	if !strings.Contains(out, "1 sent") {
		t.Fatalf("retry run:\n%s", out)
	}
	if got := len(srv.Messages()); got != 5 {
		t.Fatalf("server received %d messages in all, want 5", got)
	}
}

// TestRunSaysAtOnceThatTheRelayIsDown: a relay on a closed port is named in one line as
// soon as it fails, with until when the run keeps trying; the log warns once, not per try.
func TestRunSaysAtOnceThatTheRelayIsDown(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + addr + "?tls=none"
	// The test clock stands still, so the relay's first rest (about 2 s) already ends past
	// this wait and the run gives up after two tries.
	c.setConfig("delivery:\n  retry_wait: 1s\n")
	code, out, errOut := c.run("run", "--week", "2026-W19")
	if code != exitDeferred {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitDeferred, out, errOut)
	}
	until := c.now.Add(time.Second).Format("Mon 15:04:05 MST")
	want := "relay smtp://" + addr + "?tls=none does not answer (dial tcp " + addr + ": connect: connection refused); retrying until " + until
	if strings.Count(out, "does not answer") != 1 || !strings.Contains(out, want) {
		t.Errorf("output lacks one line %q:\n%s", want, out)
	}
	if n := strings.Count(errOut, `level=WARN msg="relay`); n != 1 {
		t.Errorf("%d warnings about the relay, want 1:\n%s", n, errOut)
	}
}

func TestRunWithoutStories(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.now = time.Date(2026, 7, 20, 8, 0, 0, 0, time.UTC) // Monday of 2026-W30
	code, out, _ := c.run("run", "--week", "2026-W30")
	if code != 0 || !strings.Contains(out, "No issue for 2026-W30") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestPreview(t *testing.T) {
	c := newCLI(t)
	text := c.mustRun("preview", "--week", "2026-W19", "--format", "text")
	if !strings.Contains(text, "Microsoft and OpenAI End Exclusive Cloud Partnership") || !strings.Contains(text, "https://news.example.org/unsubscribe/") {
		t.Fatalf("text preview:\n%s", text)
	}
	html := c.mustRun("preview", "--week", "2026-W19", "--no-fetch")
	if !strings.Contains(html, "<html") || strings.Contains(html, "__NL_") {
		t.Fatalf("html preview is not a filled-in page")
	}
	eml := c.mustRun("preview", "--week", "2026-W19", "--format", "eml", "--no-fetch")
	if _, err := mail.ReadMessage(strings.NewReader(eml)); err != nil {
		t.Fatalf("eml preview does not parse: %v", err)
	}
	// The preview is a draft: nothing was sent.
	if files := emlFiles(t, filepath.Join(c.dir, "outbox")); len(files) != 0 {
		t.Fatalf("preview sent %d messages", len(files))
	}
}

func TestSubscribersCommands(t *testing.T) {
	c := newCLI(t)
	csvPath := filepath.Join(c.dir, "subs.csv")
	os.WriteFile(csvPath, []byte("email,name\nok@example.com,Ok\nnot-an-address,Bad\nfine@example.org,Fine\n"), 0o600)

	code, _, errOut := c.run("subscribers", "import", "--strict", csvPath)
	if code != exitFailure || !strings.Contains(errOut, "line 3") {
		t.Fatalf("strict import: exit %d\n%s", code, errOut)
	}
	if list := c.mustRun("subscribers", "list"); strings.Contains(list, "ok@example.com") {
		t.Fatal("--strict wrote rows despite a bad one")
	}
	code, out, errOut := c.run("subscribers", "import", csvPath)
	if code != exitFailure || !strings.Contains(errOut, "line 3") || !strings.Contains(out, "2 added") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	c.mustRun("subscribers", "remove", "ok@example.com")
	list := c.mustRun("subscribers", "list", "--status", "unsubscribed")
	if !strings.Contains(list, "ok@example.com") || strings.Contains(list, "fine@example.org") {
		t.Fatalf("unsubscribed list:\n%s", list)
	}
	// Export round-trips through import, and re-importing does not resubscribe.
	exported := filepath.Join(c.dir, "export.csv")
	c.mustRun("subscribers", "export", "--output", exported)
	out = c.mustRun("subscribers", "import", exported)
	if !strings.Contains(out, "0 added") {
		t.Fatalf("re-import of the export:\n%s", out)
	}
	stats := c.mustRun("subscribers", "stats")
	if !regexp.MustCompile(`active\s+1\n`).MatchString(stats) || !regexp.MustCompile(`unsubscribed\s+1\n`).MatchString(stats) {
		t.Fatalf("stats:\n%s", stats)
	}
	if code, _, errOut := c.run("subscribers", "add", "Bob <bob@example.com>"); code != exitUsage || !strings.Contains(errOut, "bob@example.com") {
		t.Fatalf("bad add: exit %d %s", code, errOut)
	}
}

func TestBadUsageAndConfig(t *testing.T) {
	c := newCLI(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no command", nil, nil, exitUsage, ""},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, "unknown command"},
		{"bad flag", []string{"run", "--weak", "x"}, nil, exitUsage, "weak"},
		{"bad week", []string{"run", "--week", "2026-48"}, nil, exitUsage, "--week"},
		{"bad format", []string{"preview", "--format", "pdf"}, nil, exitUsage, "--format"},
		{"help", []string{"run", "--help"}, nil, exitOK, ""},
		{"send with no issue this week", []string{"send"}, nil, exitUsage, "--issue is required when this week has no issue"},
		{"send a bad issue", []string{"send", "--issue", "W19"}, nil, exitUsage, "neither an issue id nor a week"},
		{"send a missing issue", []string{"send", "--issue", "2026-W19"}, nil, exitFailure, "issue 2026-W19 does not exist"},
		{"bad env value", []string{"migrate"}, map[string]string{"NEWSLETTER_BASE_URL": "news.example.org"}, exitUsage, "base_url"},
		{"smtp with loopback links", []string{"run", "--week", "2026-W19"}, map[string]string{"NEWSLETTER_SMTP_URL": "smtp://127.0.0.1:1?tls=none", "NEWSLETTER_BASE_URL": "http://127.0.0.1:8080"}, exitUsage, "allow_insecure_links"},
		{"missing config file", []string{"migrate", "--config", "/nonexistent.yaml"}, nil, exitUsage, "nonexistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := c.env
			c.env = map[string]string{}
			for k, v := range saved {
				c.env[k] = v
			}
			for k, v := range tc.env {
				c.env[k] = v
			}
			defer func() { c.env = saved }()
			code, _, errOut := c.run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
		})
	}
	bad := filepath.Join(c.dir, "bad.yaml")
	os.WriteFile(bad, []byte("issue:\n  max_storeis: 3\n"), 0o600)
	code, _, errOut := c.run("run", "--config", bad)
	if code != exitUsage || !strings.Contains(errOut, "max_storeis") {
		t.Fatalf("unknown key: exit %d %s", code, errOut)
	}
	code, _, errOut = c.run("serve", "--log-level", "loud")
	if code != exitUsage || !strings.Contains(errOut, "--log-level") {
		t.Fatalf("bad --log-level: exit %d %s", code, errOut)
	}
}

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServeUnsubscribesFromTheSentLink(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.mustRun("run", "--week", "2026-W19")
	files := emlFiles(t, filepath.Join(c.dir, "outbox"))
	raw, _ := os.ReadFile(files[0])
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	to, _ := mail.ParseAddress(msg.Header.Get("To"))
	link := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	path := strings.TrimPrefix(link, "https://news.example.org")

	c.env["NEWSLETTER_HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, &out, &out, func(k string) string { return c.env[k] }, time.Now)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`Listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not start:\n%s", out.String())
	}
	resp, err := http.PostForm(base+path, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST: %d", resp.StatusCode)
	}
	// serve logs at info: the unsubscribe is in its log.
	if !strings.Contains(out.String(), "msg=unsubscribed") {
		t.Errorf("serve's log has no unsubscribe line:\n%s", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, out.String())
	}
	list := c.mustRun("subscribers", "list", "--status", "unsubscribed")
	if !strings.Contains(list, to.Address) {
		t.Fatalf("%s not unsubscribed:\n%s", to.Address, list)
	}
	// The next send skips them. (serve runs on the real clock, months after the sample
	// week, so it has also compacted the issue's ledger: the rerun shows too that a compacted
	// issue is never queued again.)
	out2 := c.mustRun("run", "--week", "2026-W19")
	if !strings.Contains(out2, "0 sent") {
		t.Fatalf("rerun:\n%s", out2)
	}
}

// TestReadmeEditorWalkthrough runs the README's first command and then its editors'
// walkthrough on the sample's second week, verbatim, as a user would after cloning.
func TestReadmeEditorWalkthrough(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "Try it on the sample's second week"
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("the README has no %q section", marker)
	}
	_, block, _ := strings.Cut(rest, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	c := newCLI(t)
	c.now = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC) // any day after the sample's weeks
	c.importSample()
	c.mustRun("run", "--week", "2026-W19")
	var ran int
	for line := range strings.Lines(block) {
		args, ok := strings.CutPrefix(strings.TrimSpace(line), "go run ./cmd/newsletter ")
		if !ok {
			t.Fatalf("README walkthrough line %q is not a newsletter command", line)
		}
		out := c.mustRun(strings.Fields(args)...)
		ran++
		if strings.HasPrefix(args, "draft show") && !strings.Contains(out, "Draft 2026-W20: 5 stories") {
			t.Fatalf("draft show:\n%s", out)
		}
	}
	if ran != 5 {
		t.Fatalf("ran %d README commands, want 5", ran)
	}
	out := c.mustRun("status", "--issue", "2026-W20")
	if !strings.Contains(out, "approved") {
		t.Fatalf("status after the walkthrough:\n%s", out)
	}
}

// TestGatherReportsRemovedCharacters: a feed with a character XML forbids builds, and the
// gather report says what was taken out.
func TestGatherReportsRemovedCharacters(t *testing.T) {
	c := newCLI(t)
	feedBytes, err := os.ReadFile(filepath.Join("..", "..", "data", "sample-feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	bell := strings.Replace(string(feedBytes), "<title>Technerdo</title>", "<title>Technerdo&#7;</title>", 1)
	path := filepath.Join(c.dir, "bell.xml")
	if err := os.WriteFile(path, []byte(bell), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env["NEWSLETTER_FEEDS"] = path
	code, out, errOut := c.run("build", "--week", "2026-W19")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "(Technerdo; 1 character(s) XML forbids removed): 14 items") {
		t.Fatalf("gather report:\n%s", out)
	}
}

// TestSendRefusesAPlainDraft: a draft's saved email may be stale, so send wants it approved
// (which rebuilds it) or run.
func TestSendRefusesAPlainDraft(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.mustRun("build", "--week", "2026-W19")
	code, out, errOut := c.run("send", "--issue", "2026-W19")
	if code != 2 || !strings.Contains(errOut, "draft nobody approved") {
		t.Fatalf("send of a draft: exit %d\n%s%s", code, out, errOut)
	}
	if files, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "*.eml")); len(files) != 0 {
		t.Fatalf("%d messages sent", len(files))
	}
	c.mustRun("draft", "approve", "--week", "2026-W19")
	// Test copies leave the ledger alone; --release on an issue nobody held says so.
	for addrs, want := range map[string]string{"a@example.com": "Sent 1 test copy of 2026-W19", "a@example.com, b@example.com": "Sent 2 test copies of 2026-W19"} {
		if out := c.mustRun("send", "--issue", "2026-W19", "--test", addrs); !strings.Contains(out, want) {
			t.Fatalf("send --test %s:\n%s", addrs, out)
		}
	}
	if out := c.mustRun("send", "--issue", "2026-W19", "--release"); !strings.Contains(out, "Issue 2026-W19 was not held.") {
		t.Fatalf("send --release:\n%s", out)
	}
}

// TestApproveSaysWhenTheIssueGoesOut: approving ahead of the send slot, within the grace
// period after it, and past that, each says what will happen to the issue.
func TestApproveSaysWhenTheIssueGoesOut(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.mustRun("build", "--week", "2026-W19")
	// 2026-W19 goes out on Monday 4 May 2026 at 08:00 in Istanbul, 05:00 UTC; grace is 12 h.
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), "goes out at its send time"},
		{time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), "sends it within a minute while schedule.grace lasts"},
		{time.Date(2026, 5, 5, 6, 0, 0, 0, time.UTC), "the scheduler will not send it: send it with `newsletter send --issue 2026-W19`"},
	} {
		c.now = tc.now
		if out := c.mustRun("draft", "approve", "--week", "2026-W19"); !strings.Contains(out, tc.want) {
			t.Errorf("approve at %s:\n%s\nwant %q", tc.now, out, tc.want)
		}
		c.mustRun("draft", "unapprove", "--week", "2026-W19")
	}
}
