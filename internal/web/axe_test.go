package web

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"newsletter/internal/browsertest"
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
	bctx := browsertest.Start(t)
	axe := browsertest.AxeScript(t)
	if axe == "" {
		t.Skip("axe-core is not installed")
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
		MessageIDDomain: "technerdo.com", Publication: newsletter.Publication{Name: page.Publication, WebsiteURL: page.WebsiteURL, PostalAddress: testPostal},
		Templates: templates.Confirm, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := roster.New(roster.Options{Store: f.db, Tokens: signer, Confirmations: mc, BaseURL: "https://news.example.org", Now: clock})
	site := Site{Templates: templates.Web, Page: page, Tokens: signer, Now: clock}
	unsub, err := New(Options{Site: site, Subscribers: svc})
	if err != nil {
		t.Fatal(err)
	}
	signup, err := NewSubscribe(SubscribeOptions{Site: site, Roster: svc})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := NewArchive(ArchiveOptions{Site: site, Issues: f.db, BaseURL: "https://news.example.org",
		Fill: func(h string) string { return h }, Tagline: "Analysis worth reading, delivered every Monday."})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(unsub, signup, archive))
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
				browsertest.CheckAxe(t, tctx, axe)
			})
		}
	}
}
