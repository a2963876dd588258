package browsertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAuditFindsViolations shows the audit can fail: a page with an image without alt text
// and no language breaks two rules that must be reported with their impact.
func TestAuditFindsViolations(t *testing.T) {
	ctx := Start(t)
	script := AxeScript(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><title>t</title></head><body><main><img src="/x.png"><p>Wide</p></main></body></html>`))
	}))
	defer srv.Close()
	found, err := Audit(ctx, script, srv.URL, 375)
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
	if w, err := ScrollWidth(ctx, srv.URL, 375); err != nil || w != 375 {
		t.Fatalf("scroll width %d, %v; want 375", w, err)
	}
}
