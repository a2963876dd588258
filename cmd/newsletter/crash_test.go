package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

// binary builds the real newsletter binary once per test into t.TempDir().
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "newsletter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is a configuration for the binary: n subscribers, the sample feed, SMTP to srv.
type binaryEnv struct {
	t   *testing.T
	bin string
	dir string
	env []string
	n   int
}

func newBinaryEnv(t *testing.T, srv *smtptest.Server, n int) *binaryEnv {
	t.Helper()
	b := &binaryEnv{t: t, bin: binary(t), dir: t.TempDir(), n: n}
	feed, err := filepath.Abs(filepath.Join("..", "..", "data", "sample-feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
database: %s
outbox: %s
secret_file: %s
base_url: https://news.example.org
feeds: [%q]
delivery:
  workers: 2
  rate: "0"
  retry_wait: 0s
`, filepath.Join(b.dir, "nl.db"), filepath.Join(b.dir, "outbox"), filepath.Join(b.dir, "secret.key"), feed)
	if err := os.WriteFile(filepath.Join(b.dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email,name,status\n")
	for i := range n {
		fmt.Fprintf(&csv, "reader%03d@example.com,Reader %d,active\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "subs.csv"), []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.env = append(os.Environ(), "NEWSLETTER_CONFIG="+filepath.Join(b.dir, "config.yaml"),
		"NEWSLETTER_SMTP_URL=smtp://"+srv.Addr()+"?tls=none&timeout=10s")
	if out, err := b.command("subscribers", "import", filepath.Join(b.dir, "subs.csv")).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	return b
}

func (b *binaryEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(b.bin, args...)
	cmd.Dir = b.dir
	cmd.Env = b.env
	return cmd
}

// startMidSend starts `run` and returns once the server has at least k messages.
func (b *binaryEnv) startMidSend(srv *smtptest.Server, k int) (*exec.Cmd, *bytes.Buffer) {
	b.t.Helper()
	var out bytes.Buffer
	cmd := b.command("run", "--week", "2026-W19")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); len(srv.Messages()) < k; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			b.t.Fatalf("the run did not get to %d messages:\n%s", k, out.String())
		}
	}
	return cmd, &out
}

func (b *binaryEnv) ledger() map[newsletter.DeliveryStatus]int {
	b.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.dir, "nl.db"))
	if err != nil {
		b.t.Fatal(err)
	}
	defer db.Close()
	is, err := db.IssueByWeek(ctx, newsletter.Week{Year: 2026, Num: 19})
	if err != nil {
		b.t.Fatal(err)
	}
	c, err := db.DeliveryCounts(ctx, is.ID)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

func perRecipient(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

var inDoubtPattern = regexp.MustCompile(`(\d+) in doubt`)

// TestBinaryKilledMidSendResumes kills the real binary with SIGKILL while the server is
// slow to answer DATA, restarts it, and checks that every recipient got exactly one copy
// except the in-doubt ones the restart reports, which got at most two.
func TestBinaryKilledMidSendResumes(t *testing.T) {
	srv := smtptest.Start(t)
	const n = 30
	b := newBinaryEnv(t, srv, n)
	srv.Stall(150 * time.Millisecond)
	cmd, out := b.startMidSend(srv, 6)
	// Half a stall later the next messages are at the server, their 250 not yet sent:
	// the kill lands between send and record.
	time.Sleep(75 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	before := b.ledger()
	if before[newsletter.DeliverySent] >= n {
		t.Fatalf("the run finished before the kill:\n%s", out.String())
	}

	srv.Stall(0)
	res, err := b.command("run", "--week", "2026-W19").CombinedOutput()
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, res)
	}
	m := inDoubtPattern.FindSubmatch(res)
	if m == nil {
		t.Fatalf("restart output does not report in-doubt messages:\n%s", res)
	}
	inDoubt, _ := strconv.Atoi(string(m[1]))
	if inDoubt > 2 || inDoubt != before[newsletter.DeliverySending] {
		t.Fatalf("%d in doubt reported, %d rows were in flight; want at most one per connection (2)\n%s", inDoubt, before[newsletter.DeliverySending], res)
	}
	got := perRecipient(srv)
	twice := 0
	for i := range n {
		addr := fmt.Sprintf("reader%03d@example.com", i)
		switch got[addr] {
		case 1:
		case 2:
			twice++
		default:
			t.Errorf("%s got %d copies", addr, got[addr])
		}
	}
	if twice > inDoubt {
		t.Fatalf("%d recipients got two copies, but only %d were reported in doubt\n%s", twice, inDoubt, res)
	}
	if c := b.ledger(); c[newsletter.DeliverySent] != n {
		t.Fatalf("ledger after restart: %v", c)
	}
	t.Logf("killed with %d sent; %d in doubt, %d recipients got two copies", before[newsletter.DeliverySent], inDoubt, twice)
}

// TestBinarySIGTERMFinishesInFlight stops the real binary with SIGTERM mid-send: it finishes
// what is in flight, records it and exits 0; the next run sends the rest, nobody twice.
func TestBinarySIGTERMFinishesInFlight(t *testing.T) {
	srv := smtptest.Start(t)
	const n = 30
	b := newBinaryEnv(t, srv, n)
	srv.Stall(150 * time.Millisecond)
	cmd, out := b.startMidSend(srv, 4)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v, want exit 0\n%s", err, out.String())
	}
	c := b.ledger()
	if c[newsletter.DeliverySending] != 0 || c[newsletter.DeliverySent] != len(srv.Messages()) {
		t.Fatalf("after SIGTERM the ledger is %v with %d messages at the server\n%s", c, len(srv.Messages()), out.String())
	}
	if c[newsletter.DeliverySent] >= n {
		t.Fatalf("the run finished before SIGTERM:\n%s", out.String())
	}
	srv.Stall(0)
	res, err := b.command("run", "--week", "2026-W19").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, res)
	}
	if !bytes.Contains(res, []byte("0 in doubt")) {
		t.Fatalf("resume after SIGTERM reports doubt:\n%s", res)
	}
	for i := range n {
		if addr := fmt.Sprintf("reader%03d@example.com", i); perRecipient(srv)[addr] != 1 {
			t.Errorf("%s got %d copies", addr, perRecipient(srv)[addr])
		}
	}
}

// TestBinaryKilledServeKeepsUnsubscribes: a one-click unsubscribe that `serve` answered is
// in the database at once (another process lists it) and survives a SIGKILL of serve right
// after the answer; the database leaves no file of its own beside it but SQLite's.
func TestBinaryKilledServeKeepsUnsubscribes(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	b := newBinaryEnv(t, srv, 5)
	key, err := token.LoadOrCreateKey(filepath.Join(b.dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := token.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(b.dir, "nl.db")
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var subs []newsletter.Subscriber
	err = db.EachSubscriber(ctx, store.SubscriberFilter{}, func(s newsletter.Subscriber) error {
		paths = append(paths, "/unsubscribe/"+sg.Make(token.Unsubscribe, s.ID, s.Email))
		subs = append(subs, s)
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	d := startServe(t, b, append(b.env, "NEWSLETTER_HTTP_ADDR=127.0.0.1:0"), "serve", "--no-scheduler")
	var base string
	select {
	case base = <-d.addr:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", d.output())
	}
	post := func(p string) {
		t.Helper()
		resp, err := http.PostForm(base+p, url.Values{"List-Unsubscribe": {"One-Click"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click POST: %d\n%s", resp.StatusCode, d.output())
		}
	}
	listed := func() string {
		t.Helper()
		out, err := b.command("subscribers", "list", "--status", "unsubscribed").CombinedOutput()
		if err != nil {
			t.Fatalf("list: %v\n%s", err, out)
		}
		return string(out)
	}
	post(paths[0])
	if out := listed(); !strings.Contains(out, subs[0].Email) {
		t.Fatalf("right after the 200, another process does not list %s as unsubscribed:\n%s", subs[0].Email, out)
	}
	const left = 3
	for _, p := range paths[1:left] {
		post(p)
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.cmd.Wait()

	out := listed()
	for i, s := range subs {
		if got := strings.Contains(out, s.Email); got != (i < left) {
			t.Errorf("%s listed as unsubscribed: %v, want %v\n%s", s.Email, got, i < left, out)
		}
	}
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, "nl.db") && name != "nl.db" && name != "nl.db-wal" && name != "nl.db-shm" {
			t.Errorf("%s beside the database", name)
		}
	}
}
