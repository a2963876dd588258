// Package browsertest drives Debian's headless Chromium for tests: loading pages at a given
// width and auditing them with axe-core. Tests that use it skip where Chromium or axe-core
// is not installed (.ci/run installs both).
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the browser, or "" when there is none.
func Chromium() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Start launches a headless browser for t and returns its context; t is skipped when
// Chromium is absent or in -short mode. The browser stops when t ends.
func Start(t testing.TB) context.Context {
	t.Helper()
	exe := Chromium()
	if exe == "" {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run does): browser test skipped")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	// The flags keep Chromium off the network: this machine reaches only loopback.
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; it must not carry a timeout, which would stop it.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// AxeScript returns axe-core's axe.min.js: $AXE_CORE_JS, else the copy .ci/run installs
// under .cache/npm at the module's root. t is skipped when neither exists.
func AxeScript(t testing.TB) string {
	t.Helper()
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		if root, err := moduleRoot(); err == nil {
			path = filepath.Join(root, ".cache", "npm", "node_modules", "axe-core", "axe.min.js")
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("axe-core not found (%v): npm install --prefix .cache/npm axe-core, as .ci/run does", err)
	}
	return string(b)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"` // minor, moderate, serious or critical
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// Audit loads url at width pixels and runs axe-core's WCAG 2 A and AA rules over it.
func Audit(ctx context.Context, script, url string, width int64) ([]Violation, error) {
	run := `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			targets: v.nodes.map(n => n.target.join(' '))}))))`
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(url), chromedp.Evaluate[chromedp.Void](script)); err != nil {
		return nil, fmt.Errorf("audit %s: %w", url, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", url, err)
	}
	var out []Violation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("audit %s: %w", url, err)
	}
	return out, nil
}

// ScrollWidth loads url at width pixels and returns how wide the page's content is.
func ScrollWidth(ctx context.Context, url string, width int64) (int64, error) {
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(url)); err != nil {
		return 0, fmt.Errorf("width of %s: %w", url, err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0)`))
	if err != nil {
		return 0, fmt.Errorf("width of %s: %w", url, err)
	}
	return w, nil
}
