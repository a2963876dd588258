package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestAddressPagesMatchTemplate: the pages cut ahead for the subscriber's states are used,
// and each answers byte for byte what the template renders, whatever the address holds.
func TestAddressPagesMatchTemplate(t *testing.T) {
	s, err := New(Options{
		Templates: os.DirFS(filepath.Join("..", "..", "templates")),
		Page:      Page{Publication: `The "Nerd" & <Co>`, WebsiteURL: "https://technerdo.com/?a=1&b=2", Accent: "#c8102e"},
	})
	if err != nil {
		t.Fatal(err)
	}
	states := []string{stateConfirm, stateUnsubscribed, stateResubscribed}
	for _, state := range states {
		if _, ok := s.cut[state]; !ok {
			t.Errorf("state %s: no page cut ahead; every answer goes through the template", state)
		}
	}
	addresses := []struct{ name, email string }{
		{"plain", "reader@example.com"},
		{"plus", "reader+news@example.com"},
		{"quotes", `"o'neil"@example.com`},
		{"markup", "<b>&amp;</b>@example.com"},
		{"nul", "a\x00b@example.com"},
	}
	for _, state := range states {
		for _, a := range addresses {
			t.Run(state+"/"+a.name, func(t *testing.T) {
				fast := httptest.NewRecorder()
				s.renderState(fast, state, a.email)
				slow := httptest.NewRecorder()
				s.render(slow, 200, pageData{Title: stateTitle(state), State: state, Email: a.email})
				if fast.Code != slow.Code || fast.Header().Get("Content-Type") != slow.Header().Get("Content-Type") || fast.Body.String() != slow.Body.String() {
					t.Fatalf("cut page differs from the template's:\n%s\n---\n%s", fast.Body, slow.Body)
				}
			})
		}
	}
}

// TestAddressPageFallsBack: where the template would escape the address otherwise (here in
// an unquoted attribute), the page is not cut and the template renders every answer.
func TestAddressPageFallsBack(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := `<p title={{.Email}}>{{.Email}}</p>`
	if err := os.WriteFile(filepath.Join(dir, "web", "unsubscribe.html.tmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Templates: os.DirFS(dir)})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.cut) != 0 {
		t.Fatalf("cut %d pages of a template with the address in an attribute", len(s.cut))
	}
	w := httptest.NewRecorder()
	s.renderState(w, stateUnsubscribed, "a b@example.com")
	if got, want := w.Body.String(), `<p title=a&#32;b@example.com>a b@example.com</p>`; got != want {
		t.Fatalf("page %q, want %q", got, want)
	}
}
