package main

import (
	"bytes"
	"context"
	"io"
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

	"newsletter/internal/smtptest"
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
