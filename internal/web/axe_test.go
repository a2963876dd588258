package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/token"
	"newsletter/templates"
)

// TestPublicPagesAxe runs axe-core (the file $AXE_CORE_JS names; .ci/run installs the npm
// package) in headless chromium over the public pages at 375 px: home, subscribe, confirm,
// unsubscribe, the archive and an archived issue, in light and dark mode. Serious and
// critical violations fail, and so does a page wider than the phone; the other violations
// are logged, counted by impact.
func TestPublicPagesAxe(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run does): axe-core test skipped")
	}
	axePath := os.Getenv("AXE_CORE_JS")
	if axePath == "" {
		t.Skip("AXE_CORE_JS is not set (npm install axe-core; .ci/run does): axe-core test skipped")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}

	f := setupDesk(t)
	sendWeek(t, f)
	ctx := context.Background()
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	signer, err := token.NewSigner(bytes.Repeat([]byte("a"), 32))
	if err != nil {
		t.Fatal(err)
	}
	page := Page{Publication: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", Accent: "#c8102e", Lang: "en"}
	mc, err := roster.NewMailConfirmations(roster.MailOptions{
		Transport: &mailer.Outbox{Dir: filepath.Join(t.TempDir(), "outbox")}, From: mailer.Address{Email: "weekly@technerdo.com"},
		MessageIDDomain: "technerdo.com", Publication: roster.Publication{Name: page.Publication, WebsiteURL: page.WebsiteURL, PostalAddress: testPostal},
		Templates: templates.Confirm, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := roster.New(roster.Options{Store: f.db, Tokens: signer, Confirmations: mc, BaseURL: "https://news.example.org", Now: clock})
	unsub, err := New(Options{Subscribers: svc, Tokens: signer, Templates: templates.Web, Page: page, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	signup, err := NewSubscribe(SubscribeOptions{Roster: svc, Tokens: signer, Templates: templates.Web, Page: page, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	home, err := NewHome(HomeOptions{Issues: f.db, Tokens: signer, Templates: templates.Web, Page: page,
		Tagline: "Analysis worth reading, delivered every Monday.", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := NewArchive(ArchiveOptions{Issues: f.db, Templates: templates.Web, Page: page, BaseURL: "https://news.example.org",
		Fill: func(h string) string { return h }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(unsub, signup, home, archive))
	defer srv.Close()

	active, _, err := f.db.AddSubscriber(ctx, newsletter.Subscriber{Email: "ada@example.com", Status: newsletter.StatusActive}, now)
	if err != nil {
		t.Fatal(err)
	}
	pending, _, err := f.db.AddSubscriber(ctx, newsletter.Subscriber{Email: "new@example.com", Status: newsletter.StatusPending}, now)
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"home", "/"},
		{"subscribe", "/subscribe"},
		{"confirm", "/confirm/" + signer.MakeExpiring(token.Confirm, pending.ID, pending.Email, now.Add(time.Hour))},
		{"unsubscribe", "/unsubscribe/" + signer.Make(token.Unsubscribe, active.ID, active.Email)},
		{"archive", "/issues"},
		{"archived-issue", "/issues/2026-W19"},
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	for _, pg := range pages {
		for _, scheme := range []string{"light", "dark"} {
			t.Run(pg.name+"-"+scheme, func(t *testing.T) {
				tctx, cancel := context.WithTimeout(bctx, 30*time.Second)
				defer cancel()
				if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
					t.Fatal(err)
				}
				if err := chromedp.Do(tctx, chromedp.EmulateViewport(375, 800), chromedp.Navigate(srv.URL+pg.path),
					chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
					t.Fatalf("load %s: %v", pg.path, err)
				}
				width, err := chromedp.Run(tctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - window.innerWidth`))
				if err != nil {
					t.Fatal(err)
				}
				if width > 0 {
					t.Errorf("%s is %d px wider than a 375 px phone", pg.path, width)
				}
				// The pages' CSP allows no script from the page; the DevTools protocol is not
				// bound by it.
				if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](string(axe)+"\n;true")); err != nil {
					t.Fatalf("inject axe-core: %v", err)
				}
				raw, err := chromedp.Run(tctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, target: String(v.nodes[0].target), summary: v.nodes[0].failureSummary}))))`, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("axe.run: %v", err)
				}
				var violations []struct {
					ID, Impact, Target, Summary string
					Nodes                       int
				}
				if err := json.Unmarshal([]byte(raw), &violations); err != nil {
					t.Fatal(err)
				}
				byImpact := map[string]int{}
				for _, v := range violations {
					byImpact[v.Impact] += v.Nodes
					msg := fmt.Sprintf("axe-core %s: %s on %d node(s), first %s: %s", v.Impact, v.ID, v.Nodes, v.Target, v.Summary)
					if v.Impact == "serious" || v.Impact == "critical" {
						t.Error(msg)
					} else {
						t.Log(msg)
					}
				}
				t.Logf("%s %s: critical %d, serious %d, moderate %d, minor %d", pg.path, scheme,
					byImpact["critical"], byImpact["serious"], byImpact["moderate"], byImpact["minor"])
			})
		}
	}
}
