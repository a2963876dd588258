package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
)

// testCopies returns each received test copy's To address and Message-ID.
func testCopies(t *testing.T, raws [][]byte) (to, ids []string) {
	t.Helper()
	for _, raw := range raws {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(msg.Header.Get("Subject"), "[TEST] ") {
			t.Errorf("subject %q lacks [TEST]", msg.Header.Get("Subject"))
		}
		addr, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil {
			t.Fatal(err)
		}
		to = append(to, addr.Address)
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	slices.Sort(to)
	return to, ids
}

// distinct reports whether every value differs from the others.
func distinct(vs []string) bool {
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

func TestDraftTestSendsOneCopyPerAddress(t *testing.T) {
	want := []string{"a@example.org", "b@example.org", "c@example.org"}
	for _, tt := range []struct {
		name   string
		smtp   bool
		copies func(c *cli, srv *smtptest.Server) [][]byte
	}{
		{"outbox", false, func(c *cli, _ *smtptest.Server) [][]byte {
			var raws [][]byte
			for _, f := range emlFiles(c.t, filepath.Join(c.dir, "outbox")) {
				raw, err := os.ReadFile(f)
				if err != nil {
					c.t.Fatal(err)
				}
				raws = append(raws, raw)
			}
			return raws
		}},
		{"smtp", true, func(_ *cli, srv *smtptest.Server) [][]byte {
			var raws [][]byte
			for _, m := range srv.Messages() {
				raws = append(raws, m.Data)
			}
			return raws
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			var srv *smtptest.Server
			if tt.smtp {
				srv = smtptest.Start(t)
				c.env["NEWSLETTER_SMTP_URL"] = "smtp://" + srv.Addr() + "?tls=none"
			}
			c.mustRun("build", "--week", "2026-W19")
			out := c.mustRun(append([]string{"draft", "--week", "2026-W19", "test"}, want...)...)
			if !strings.Contains(out, "a@example.org, b@example.org, c@example.org") {
				t.Errorf("output:\n%s", out)
			}
			to, ids := testCopies(t, tt.copies(c, srv))
			if !slices.Equal(to, want) {
				t.Fatalf("copies went to %q, want one to each of %q", to, want)
			}
			if !distinct(ids) {
				t.Errorf("the copies share a Message-ID: %q", ids)
			}
		})
	}
}

// serve starts `newsletter serve` in-process on the test's clock and returns its base URL;
// it is stopped, and must exit cleanly, when the test ends.
func (c *cli) serve() string {
	c.t.Helper()
	c.env["NEWSLETTER_HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, &out, &out, func(k string) string { return c.env[k] }, func() time.Time { return c.now })
	}()
	c.t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			c.t.Errorf("serve exit %d:\n%s", code, out.String())
		}
	})
	listening := regexp.MustCompile(`Listening on (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	c.t.Fatalf("serve did not start:\n%s", out.String())
	return ""
}

// browser sends what a browser sends for a same-origin page: Basic credentials, and on
// posts the Origin and Sec-Fetch-Site headers.
func browser(t *testing.T, method, target, user, pass string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if form != nil {
		u, _ := url.Parse(target)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.Scheme+"://"+u.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

const e2eAdminToken = "e2e-admin-token-0123456789"

// The operator opens the preview in a browser with the admin token as the Basic password,
// and sends test copies from its form: one to each address.
func TestServePreviewInBrowserWithAdminToken(t *testing.T) {
	c := newCLI(t)
	c.env["NEWSLETTER_ADMIN_TOKEN"] = e2eAdminToken
	c.mustRun("build", "--week", "2026-W19")
	base := c.serve()

	if code, _ := browser(t, "GET", base+"/preview/2026-W19", "admin", "not-the-token-000000", nil); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", code)
	}
	code, page := browser(t, "GET", base+"/preview/2026-W19", "admin", e2eAdminToken, nil)
	if code != http.StatusOK || !strings.Contains(page, "Signed in as admin") {
		t.Fatalf("preview with the admin token: %d %.300s", code, page)
	}
	code, loc := browser(t, "POST", base+"/preview/2026-W19/test", "admin", e2eAdminToken,
		url.Values{"to": {"a@example.org, b@example.org,c@example.org"}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "done=") {
		t.Fatalf("test form: %d %s", code, loc)
	}
	var raws [][]byte
	for _, f := range emlFiles(t, filepath.Join(c.dir, "outbox")) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	to, ids := testCopies(t, raws)
	if want := []string{"a@example.org", "b@example.org", "c@example.org"}; !slices.Equal(to, want) || !distinct(ids) {
		t.Fatalf("test copies to %q with Message-IDs %q, want one each to %q", to, ids, want)
	}
}

// sentText returns the text/plain part of a sent message, decoded, its whitespace collapsed.
func sentText(t *testing.T, raw []byte) string {
	t.Helper()
	return strings.Join(strings.Fields(sentPart(t, raw, "text/plain")), " ")
}

// sentPart returns the part of a sent multipart message whose type is mediaType, decoded.
func sentPart(t *testing.T, raw []byte, mediaType string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no %s part: %v", mediaType, err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), mediaType) {
			b, err := io.ReadAll(p) // multipart decodes quoted-printable itself
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// listed reads the story list `draft show` prints: IDs and titles, in order.
func listed(out string) (ids, titles []string) {
	for _, m := range regexp.MustCompile(`(?m)^ +\d+\. #(\d+) (.+?)( \[pinned\])?$`).FindAllStringSubmatch(out, -1) {
		ids = append(ids, m[1])
		titles = append(titles, m[2])
	}
	return ids, titles
}

// An editor works a draft from the command line: unknown stories are named, picks land
// where they are put, the order shown is the order sent, and an approval can be withdrawn
// until the send starts.
func TestDraftEditorsControls(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	delete(c.env, "USER") // as under cron or in a container
	c.mustRun("build", "--week", "2026-W19")
	draft := func(args ...string) (int, string, string) {
		return c.run(append([]string{"draft", "--week", "2026-W19"}, args...)...)
	}
	for _, args := range [][]string{{"pin", "999"}, {"exclude", "#999"}, {"move", "999", "2"}, {"unpin", "999"}} {
		code, out, errOut := draft(args...)
		if code != 2 || !strings.Contains(errOut, "no story #999") || strings.Contains(errOut, "FOREIGN KEY") {
			t.Errorf("draft %s: exit %d, want 2 and a message naming story #999\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}

	ids, _ := listed(c.mustRun("draft", "--week", "2026-W19", "show"))
	if len(ids) < 4 {
		t.Fatalf("the sample draft lists %d stories", len(ids))
	}
	c.mustRun("draft", "--week", "2026-W19", "pin", ids[3])
	c.mustRun("draft", "--week", "2026-W19", "add", "https://example.org/pick-one", "--title", "Editor pick one")
	out := c.mustRun("draft", "--week", "2026-W19", "add", "https://example.org/pick-two", "--title", "Editor pick two", "--at", "3")
	if code, _, errOut := draft("add", "https://example.org/pick-three", "--title", "Three", "--at", "-1"); code != 2 {
		t.Errorf("add --at -1: exit %d, want 2\n%s", code, errOut)
	}
	pickIDs, titles := listed(out)
	if len(titles) < 3 || pickIDs[0] != ids[3] || titles[1] != "Editor pick one" || titles[2] != "Editor pick two" {
		t.Errorf("want the pinned story, the pick added without a position, then the pick placed at 3:\n%s", out)
	}
	// Grouped by section, the stories are listed in the order the email shows them.
	out = c.mustRun("draft", "--week", "2026-W19", "group", "on")
	for _, line := range regexp.MustCompile(`(?m)^  2026-\S+ \S+ .*$`).FindAllString(out, -1) {
		if !regexp.MustCompile(`^  \S+ \S+ cli:\S+ `).MatchString(line) {
			t.Errorf("edit recorded without an editor's name: %q", line)
		}
	}

	for args, want := range map[string]string{"pin": "pin: which story ID?", "exclude x7": `exclude: story ID "x7" is not a number`,
		"move " + ids[1]: "move: give a story ID and a position", "group": "group: on or off"} {
		if code, _, errOut := draft(strings.Fields(args)...); code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("draft %s: exit %d, want 2 and %q\n%s", args, code, want, errOut)
		}
	}
	if out := c.mustRun("draft", "--week", "2026-W19", "move", "#"+ids[1], "1"); !strings.Contains(out, "Recorded move") {
		t.Errorf("move:\n%s", out)
	}
	intro := filepath.Join(c.dir, "intro.md")
	os.WriteFile(intro, []byte("From a *file*."), 0o600)
	if out := c.mustRun("draft", "--week", "2026-W19", "set-intro", "--file", intro); !strings.Contains(out, `set-intro "From a *file*."`) {
		t.Errorf("set-intro --file:\n%s", out)
	}
	c.mustRun("draft", "--week", "2026-W19", "approve")
	if out := c.mustRun("draft", "--week", "2026-W19", "unapprove"); !strings.Contains(out, "Reopened issue 2026-W19") {
		t.Errorf("unapprove:\n%s", out)
	}
	if out := c.mustRun("draft", "--week", "2026-W19", "set-subject", "Edited after reopening"); !strings.Contains(out, "unapprove") {
		t.Errorf("the edit log lacks the unapprove:\n%s", out)
	}
	approved := c.mustRun("draft", "--week", "2026-W19", "approve")
	_, shown := listed(c.mustRun("draft", "--week", "2026-W19", "show"))
	c.mustRun("run", "--week", "2026-W19")

	files := emlFiles(t, filepath.Join(c.dir, "outbox"))
	if len(files) == 0 {
		t.Fatalf("nothing sent; approve said:\n%s", approved)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	text, at := sentText(t, raw), 0
	for _, title := range shown {
		i := strings.Index(text[at:], strings.Join(strings.Fields(title), " "))
		if i < 0 {
			t.Fatalf("%q is not in the sent text after the stories before it; shown order %q\n%s", title, shown, text)
		}
		at += i + len(title)
	}

	code, _, errOut := draft("unapprove")
	if code != 2 || !strings.Contains(errOut, "send has started") {
		t.Errorf("unapprove after the send: exit %d, want 2 and a clear message\n%s", code, errOut)
	}
}

// A send stopped after queueing part of the list: status counts what is left against every
// active subscriber, not against the rows queued so far.
func TestStatusCountsEveryActiveSubscriber(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	c.mustRun("build", "--week", "2026-W19")
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(c.dir, "nl.db"))
	if err != nil {
		t.Fatal(err)
	}
	is, err := db.IssueByWeek(ctx, newsletter.Week{Year: 2026, Num: 19})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetIssueStatus(ctx, is.ID, newsletter.IssueSending, c.now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.EnqueueDeliveriesAfter(ctx, is.ID, 0, 2, c.now); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimDeliveries(ctx, is.ID, 1, c.now)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := db.RecordDeliveries(ctx, []newsletter.Outcome{{DeliveryID: claimed[0].ID, Status: newsletter.DeliverySent}}, c.now); err != nil {
		t.Fatal(err)
	}
	active, err := db.CountSubscribers(ctx)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := active[newsletter.StatusActive]
	out := c.mustRun("status")
	if !strings.Contains(out, "ledger: pending 1, sent 1") {
		t.Fatalf("status ledger:\n%s", out)
	}
	if want := fmt.Sprintf("still to send: %d of %d active subscribers", n-1, n); n < 3 || !strings.Contains(out, want) {
		t.Errorf("status lacks %q:\n%s", want, out)
	}
}

// TestPreviewNamesNoSubscriber: the preview's headers pane is addressed to a stand-in, not to
// someone on the list, and its unsubscribe link, followed by an editor, changes nobody.
func TestPreviewNamesNoSubscriber(t *testing.T) {
	c := newCLI(t)
	c.env["NEWSLETTER_ADMIN_TOKEN"] = e2eAdminToken
	c.importSample()
	c.mustRun("build", "--week", "2026-W19")
	base := c.serve()
	code, page := browser(t, "GET", base+"/preview/2026-W19", "admin", e2eAdminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("preview: %d", code)
	}
	page = html.UnescapeString(page)
	if strings.Contains(page, "ada.lovelace@example.com") || !strings.Contains(page, "reader@example.com") {
		t.Fatalf("the preview should be addressed to the stand-in reader@example.com:\n%.2000s", page)
	}
	m := regexp.MustCompile(`https://news\.example\.org(/unsubscribe/[A-Za-z0-9_\-]+)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no unsubscribe link in the preview")
	}
	before := c.mustRun("subscribers", "list")
	resp, err := http.PostForm(base+m[1], url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("the preview's one-click link answered 200")
	}
	if after := c.mustRun("subscribers", "list"); after != before {
		t.Fatalf("following the preview's link changed the list:\nbefore\n%s\nafter\n%s", before, after)
	}
}
