package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/token"
	"newsletter/internal/web"
)

type fixture struct {
	db     *store.DB
	signer *token.Signer
	srv    *httptest.Server
	alice  newsletter.Subscriber
	bob    newsletter.Subscriber
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	alice, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "alice@example.com", Status: newsletter.StatusActive}, now)
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "bob@example.com", Status: newsletter.StatusActive}, now)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	// The list service, as `serve` wires it: one-click unsubscribes go onto the
	// suppression list and the consent log.
	rs := roster.New(roster.Options{Store: db, Tokens: signer, Now: func() time.Time { return now }})
	s, err := web.New(web.Options{
		Site: web.Site{
			Templates: os.DirFS(filepath.Join("..", "..", "templates")),
			Page:      web.Page{Publication: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", Accent: "#c8102e"},
			Tokens:    signer,
			Now:       func() time.Time { return now },
		},
		Subscribers: rs,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(s))
	t.Cleanup(srv.Close)
	return &fixture{db: db, signer: signer, srv: srv, alice: alice, bob: bob}
}

func (f *fixture) url(sub newsletter.Subscriber) string {
	return f.srv.URL + "/unsubscribe/" + f.signer.Make(token.Unsubscribe, sub.ID, sub.Email)
}

func (f *fixture) status(t *testing.T, sub newsletter.Subscriber) newsletter.SubscriberStatus {
	t.Helper()
	got, err := f.db.SubscriberByID(context.Background(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Status
}

// client never follows redirects, so a redirect shows up as its own status.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func postForm(t *testing.T, u string, form url.Values) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func TestGetNeverUnsubscribes(t *testing.T) {
	f := setup(t)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, f.url(f.alice), nil)
		code, body := do(t, req)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", method, code)
		}
		if method == http.MethodGet && (!strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "alice@example.com")) {
			t.Fatalf("GET page lacks the confirmation form:\n%s", body)
		}
	}
	if st := f.status(t, f.alice); st != newsletter.StatusActive {
		t.Fatalf("GET changed the status to %s", st)
	}
}

func TestOneClickURLEncoded(t *testing.T) {
	f := setup(t)
	for i := range 2 { // idempotent: the second POST answers 200 too
		code, body := postForm(t, f.url(f.alice), url.Values{"List-Unsubscribe": {"One-Click"}})
		if code != http.StatusOK {
			t.Fatalf("POST %d: status %d, body %s", i, code, body)
		}
	}
	if st := f.status(t, f.alice); st != newsletter.StatusUnsubscribed {
		t.Fatalf("status %s, want unsubscribed", st)
	}
	if st := f.status(t, f.bob); st != newsletter.StatusActive {
		t.Fatalf("bob's status changed to %s", st)
	}
}

func TestOneClickMultipart(t *testing.T) {
	f := setup(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.url(f.bob), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if code, body := do(t, req); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if st := f.status(t, f.bob); st != newsletter.StatusUnsubscribed {
		t.Fatalf("status %s, want unsubscribed", st)
	}
}

func TestFormButtonsAndResubscribe(t *testing.T) {
	f := setup(t)
	code, body := postForm(t, f.url(f.alice), url.Values{"action": {"unsubscribe"}})
	if code != http.StatusOK || !strings.Contains(body, `value="resubscribe"`) {
		t.Fatalf("unsubscribe page: %d, lacks the resubscribe button:\n%s", code, body)
	}
	if st := f.status(t, f.alice); st != newsletter.StatusUnsubscribed {
		t.Fatalf("status %s", st)
	}
	if code, _ := postForm(t, f.url(f.alice), url.Values{"action": {"resubscribe"}}); code != http.StatusOK {
		t.Fatalf("resubscribe: %d", code)
	}
	if st := f.status(t, f.alice); st != newsletter.StatusActive {
		t.Fatalf("status %s after resubscribe", st)
	}
	// A bounced address cannot be resubscribed through a link.
	if _, err := f.db.ApplyTransition(context.Background(), store.Transition{ID: f.bob.ID, Status: newsletter.StatusBounced}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _ := postForm(t, f.url(f.bob), url.Values{"action": {"resubscribe"}}); code != http.StatusConflict {
		t.Fatalf("resubscribe of a bounced address: %d, want 409", code)
	}
	if st := f.status(t, f.bob); st != newsletter.StatusBounced {
		t.Fatalf("bounced address became %s", st)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	f := setup(t)
	aliceTok := f.signer.Make(token.Unsubscribe, f.alice.ID, f.alice.Email)
	otherKey, _ := token.NewSigner(bytes.Repeat([]byte("x"), 32))
	tests := []struct {
		name string
		path string
		form url.Values
		want int
	}{
		{"garbage token", "/unsubscribe/nope", url.Values{"List-Unsubscribe": {"One-Click"}}, http.StatusNotFound},
		{"token of another key", "/unsubscribe/" + otherKey.Make(token.Unsubscribe, f.alice.ID, f.alice.Email), url.Values{"List-Unsubscribe": {"One-Click"}}, http.StatusNotFound},
		{"alice's tag on bob's id", "/unsubscribe/" + swapID(t, f.signer, aliceTok, f.bob.ID), url.Values{"List-Unsubscribe": {"One-Click"}}, http.StatusNotFound},
		{"unknown subscriber", "/unsubscribe/" + f.signer.Make(token.Unsubscribe, 999, "ghost@example.com"), url.Values{"List-Unsubscribe": {"One-Click"}}, http.StatusNotFound},
		{"empty body", "/unsubscribe/" + aliceTok, url.Values{}, http.StatusBadRequest},
		{"wrong one-click value", "/unsubscribe/" + aliceTok, url.Values{"List-Unsubscribe": {"Yes"}}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := postForm(t, f.srv.URL+tc.path, tc.form)
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
		})
	}
	if f.status(t, f.alice) != newsletter.StatusActive || f.status(t, f.bob) != newsletter.StatusActive {
		t.Fatal("a bad request changed a subscriber")
	}
	// An oversized body is refused.
	big := url.Values{"List-Unsubscribe": {"One-Click"}, "pad": {strings.Repeat("a", 100<<10)}}
	if code, _ := postForm(t, f.url(f.alice), big); code != http.StatusBadRequest {
		t.Fatalf("oversized body: %d, want 400", code)
	}
	if f.status(t, f.alice) != newsletter.StatusActive {
		t.Fatal("oversized body unsubscribed")
	}
}

// swapID makes a token that carries another id with the original tag: a forgery attempt.
func swapID(t *testing.T, s *token.Signer, tok string, id int64) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint64(raw[:8], uint64(id))
	forged := base64.RawURLEncoding.EncodeToString(raw)
	if got, err := s.ID(forged); err != nil || got != id {
		t.Fatalf("forged token carries id %d (%v), want %d", got, err, id)
	}
	return forged
}

func TestSecurityHeadersAndHealth(t *testing.T) {
	f := setup(t)
	resp, err := client.Get(f.url(f.alice))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("unsubscribe must not set cookies")
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/healthz", nil)
	if code, body := do(t, req); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
}

func TestRequireAdminBearer(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("secret")) })
	tests := []struct {
		name, configured, header string
		want                     int
	}{
		{"right token", "0123456789abcdef", "Bearer 0123456789abcdef", http.StatusOK},
		{"no header", "0123456789abcdef", "", http.StatusUnauthorized},
		{"wrong token", "0123456789abcdef", "Bearer 0123456789abcdeX", http.StatusUnauthorized},
		{"basic instead of bearer", "0123456789abcdef", "Basic 0123456789abcdef", http.StatusUnauthorized},
		{"prefix of the token", "0123456789abcdef", "Bearer 0123", http.StatusUnauthorized},
		{"not configured", "", "Bearer ", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(web.RequireAdmin(tc.configured, ok))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			code, body := do(t, req)
			if code != tc.want || (code == http.StatusOK) != (body == "secret") {
				t.Fatalf("status %d body %q, want %d", code, body, tc.want)
			}
		})
	}
}
