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

// AxeScript returns axe-core's axe.min.js: the file $AXE_CORE_JS names (.ci/run installs
// the npm package and sets it), else .cache/npm/node_modules/axe-core at the module's root.
// It is empty, with a note in t's log, when there is neither.
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
		t.Logf("axe-core not found (%v): its checks are skipped; npm install --prefix .cache/npm axe-core", err)
		return ""
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

// Violation is one axe-core rule the page breaks.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Nodes   int    `json:"nodes"`
	Target  string `json:"target"` // the first node that breaks it
	Summary string `json:"summary"`
}

// Violations runs axe-core (script) over the page loaded in ctx. The pages' CSP allows no
// script from the page; the DevTools protocol is not bound by it.
func Violations(ctx context.Context, script string) ([]Violation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script+"\n;true")); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, target: String(v.nodes[0].target), summary: v.nodes[0].failureSummary}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	var out []Violation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	return out, nil
}

// CheckAxe runs axe-core over the page loaded in ctx and fails t on serious and critical
// violations; the others are logged, and counted by impact in the last line.
func CheckAxe(t testing.TB, ctx context.Context, script string) {
	t.Helper()
	found, err := Violations(ctx, script)
	if err != nil {
		t.Fatal(err)
	}
	byImpact := map[string]int{}
	for _, v := range found {
		byImpact[v.Impact] += v.Nodes
		msg := fmt.Sprintf("axe-core %s: %s on %d node(s), first %s: %s", v.Impact, v.ID, v.Nodes, v.Target, v.Summary)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	t.Logf("axe-core violations by impact: critical %d, serious %d, moderate %d, minor %d",
		byImpact["critical"], byImpact["serious"], byImpact["moderate"], byImpact["minor"])
}
