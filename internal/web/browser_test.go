package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"newsletter/internal/browsertest"
	"newsletter/internal/newsletter"
)

// artifactDir is $TEST_ARTIFACTS/browser when set (CI keeps it), else a temporary directory.
func artifactDir(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("TEST_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserLayout loads the preview page and an archived issue in headless chromium at a
// phone's and the email's width: nothing may overflow sideways at 375px, and the main parts
// must be visible. Screenshots are saved as artifacts.
func TestBrowserLayout(t *testing.T) {
	bctx := browsertest.Start(t)
	f := setupDesk(t)
	ctx := context.Background()
	// Build the week's draft, then mark it sent so the archive has it; the preview shows a
	// frozen issue as it was sent, with the same page around it.
	f.build(t)
	if code, _ := f.do(t, "GET", "/preview/2026-W19", nil, asEditor); code != 200 {
		t.Fatal(code)
	}
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, time.Now()); err != nil {
		t.Fatal(err)
	}
	dir := artifactDir(t)

	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Bearer " + testAdminToken}}); err != nil {
		t.Fatalf("set headers: %v", err)
	}

	pages := []struct {
		name, path string
		visible    []string
	}{
		{"preview", "/preview/2026-W19", []string{"#top", "#email iframe.phone", "#report", "#log"}},
		// The email as the preview frames it (headless screenshots of the page leave frames blank).
		{"preview-email", "/preview/2026-W19/email.html", []string{"table.container", "h1.title", "td.footer"}},
		{"archive-index", "/issues", []string{"#archive"}},
		{"archive-issue", "/issues/2026-W19", []string{"table.container", "h1.title", "td.footer"}},
	}
	for _, pg := range pages {
		for _, width := range []int64{375, 600} {
			t.Run(fmt.Sprintf("%s-%d", pg.name, width), func(t *testing.T) {
				tctx, cancel := context.WithTimeout(bctx, 30*time.Second)
				defer cancel()
				steps := []chromedp.Action[chromedp.Void]{
					chromedp.EmulateViewport(width, 800),
					chromedp.Navigate(f.srv.URL + pg.path),
				}
				for _, sel := range pg.visible {
					steps = append(steps, chromedp.WaitVisible(chromedp.CSS(sel)))
				}
				if err := chromedp.Do(tctx, steps...); err != nil {
					t.Fatalf("load %s at %dpx: %v", pg.path, width, err)
				}
				scrollWidth, err := chromedp.Run(tctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
				if err != nil {
					t.Fatal(err)
				}
				innerWidth, err := chromedp.Run(tctx, chromedp.Evaluate[int64](`window.innerWidth`))
				if err != nil {
					t.Fatal(err)
				}
				shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(dir, fmt.Sprintf("%s-%d.png", pg.name, width))
				if err := os.WriteFile(file, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s (scrollWidth %d, innerWidth %d)", file, scrollWidth, innerWidth)
				if width == 375 && scrollWidth > innerWidth {
					t.Errorf("%s overflows horizontally at %dpx: scrollWidth %d > innerWidth %d", pg.path, width, scrollWidth, innerWidth)
				}
			})
		}
	}
}
