package browsertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestViolationsAreFound shows the audit can fail: a page with an image without alt text
// and no language breaks two rules, reported with their impact.
func TestViolationsAreFound(t *testing.T) {
	ctx := Start(t)
	script := AxeScript(t)
	if script == "" {
		t.Skip("no axe-core")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><title>t</title></head><body><main><img src="/x.png"><p>Text</p></main></body></html>`))
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	found, err := Violations(ctx, script)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, v := range found {
		byID[v.ID] = v.Impact
	}
	if byID["image-alt"] != "critical" || byID["html-has-lang"] != "serious" {
		t.Fatalf("violations %v, want image-alt (critical) and html-has-lang (serious)", byID)
	}
}
