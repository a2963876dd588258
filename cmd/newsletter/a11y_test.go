package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"newsletter/internal/browsertest"
)

// TestPagesPassAxe audits with axe-core, in headless Chromium at a phone's and a desktop's
// width, the email as sent and every public page serve shows a reader: the archive, the
// sign-up form, the confirmation page and the unsubscribe page. No serious or critical
// violation is allowed; the rest are logged.
func TestPagesPassAxe(t *testing.T) {
	bctx := browsertest.Start(t)
	axe := browsertest.AxeScript(t)
	if axe == "" {
		t.Skip("axe-core is not installed")
	}
	c := newCLI(t)
	c.importSample()
	c.mustRun("run", "--week", "2026-W19")
	outbox := filepath.Join(c.dir, "outbox")
	sent := emlFiles(t, outbox)
	raw, err := os.ReadFile(sent[0])
	if err != nil {
		t.Fatal(err)
	}
	emailFile := filepath.Join(t.TempDir(), "email.html")
	if err := os.WriteFile(emailFile, []byte(sentPart(t, raw, "text/html")), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	unsub := regexp.MustCompile(`<https://news\.example\.org(/unsubscribe/[^>]+)>`).FindStringSubmatch(msg.Header.Get("List-Unsubscribe"))
	if unsub == nil {
		t.Fatalf("List-Unsubscribe: %q", msg.Header.Get("List-Unsubscribe"))
	}

	base := c.serve()
	form := get(t, base+"/subscribe")
	tok := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(form)
	if tok == nil {
		t.Fatalf("sign-up form:\n%s", form)
	}
	resp, err := http.PostForm(base+"/subscribe", url.Values{"email": {"new.reader@example.com"}, "name": {"New Reader"}, "form_token": {tok[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var confirm string
	for _, f := range awaitMail(t, outbox, len(sent)+1) {
		if slices.Contains(sent, f) {
			continue
		}
		b, _ := os.ReadFile(f)
		if m := regexp.MustCompile(`https://news\.example\.org(/confirm/[A-Za-z0-9_\-]+)`).FindStringSubmatch(strings.ReplaceAll(string(b), "=\r\n", "")); m != nil {
			confirm = m[1]
		}
	}
	if confirm == "" {
		t.Fatal("no confirmation mail for the sign-up")
	}

	pages := []struct{ name, url string }{
		{"email", "file://" + emailFile},
		{"archive", base + "/issues"},
		{"archived issue", base + "/issues/2026-W19"},
		{"sign-up", base + "/subscribe"},
		{"confirm", base + confirm},
		{"unsubscribe", base + unsub[1]},
	}
	for _, p := range pages {
		for _, width := range []int64{375, 1024} {
			t.Run(fmt.Sprintf("%s-%d", p.name, width), func(t *testing.T) {
				if err := chromedp.Do(bctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(p.url)); err != nil {
					t.Fatal(err)
				}
				browsertest.CheckAxe(t, bctx, axe)
			})
		}
	}
}
