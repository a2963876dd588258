package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/token"
	"newsletter/internal/web"
)

const adminToken = "admin-token-0123456789"

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type signupFixture struct {
	db     *store.DB
	svc    *roster.Service
	signer *token.Signer
	srv    *httptest.Server
	outbox string
	clock  *testClock
}

func setupSignup(t *testing.T, perIP, perAddress int) *signupFixture {
	t.Helper()
	return setupSignupImport(t, perIP, perAddress, 1<<20)
}

// setupSignupImport is setupSignup with imports of up to maxImport bytes.
func setupSignupImport(t *testing.T, perIP, perAddress int, maxImport int64) *signupFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, _ := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	clk := &testClock{now: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)}
	tpl := os.DirFS(filepath.Join("..", "..", "templates"))
	outbox := filepath.Join(dir, "outbox")
	mc, err := roster.NewMailConfirmations(roster.MailOptions{
		Transport: &mailer.Outbox{Dir: outbox}, From: mailer.Address{Name: "The Weekly", Email: "weekly@example.org"},
		MessageIDDomain: "example.org", Publication: newsletter.Publication{Name: "The Weekly", WebsiteURL: "https://example.org", PostalAddress: "1 Main St"},
		Templates: tpl, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := roster.New(roster.Options{Store: db, Tokens: signer, Confirmations: mc, BaseURL: "https://news.example.org", Now: clk.Now})
	page := web.Page{Publication: "The Weekly", WebsiteURL: "https://example.org", Accent: "#c8102e"}
	site := web.Site{Templates: tpl, Page: page, Tokens: signer, Now: clk.Now}
	unsub, err := web.New(web.Options{Site: site, Subscribers: svc})
	if err != nil {
		t.Fatal(err)
	}
	signup, err := web.NewSubscribe(web.SubscribeOptions{Site: site, Roster: svc, PerIP: perIP, PerAddress: perAddress})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := web.NewAdmin(web.AdminOptions{Site: site, Roster: svc, Token: adminToken,
		BaseURL: "https://news.example.org/letters", MaxImport: maxImport})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(unsub, signup, admin))
	t.Cleanup(srv.Close)
	return &signupFixture{db: db, svc: svc, signer: signer, srv: srv, outbox: outbox, clock: clk}
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken fetches the form like a browser and returns its token.
func (f *signupFixture) formToken(t *testing.T) string {
	t.Helper()
	code, body := do(t, mustReq(t, http.MethodGet, f.srv.URL+"/subscribe", nil))
	m := formTokenRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET /subscribe: %d\n%s", code, body)
	}
	return m[1]
}

func mustReq(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (f *signupFixture) signUp(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	return postForm(t, f.srv.URL+"/subscribe", form)
}

// mails sends the queued confirmations, as serve does after a sign-up, and returns every
// mail in the outbox.
func (f *signupFixture) mails(t *testing.T) []string {
	t.Helper()
	if _, err := f.svc.SendQueuedConfirmations(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(f.outbox, "*.eml"))
	var out []string
	for _, p := range files {
		b, _ := os.ReadFile(p)
		out = append(out, string(b))
	}
	return out
}

var linkRE = regexp.MustCompile(`https://news\.example\.org(/confirm/[A-Za-z0-9_=\-]+)`)

func (f *signupFixture) status(t *testing.T, email string) newsletter.SubscriberStatus {
	t.Helper()
	s, err := f.db.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status
}

func TestSignUpConfirmFlow(t *testing.T) {
	f := setupSignup(t, 100, 100)
	code, body := f.signUp(t, url.Values{"email": {"ada@example.com"}, "name": {"Ada"}, "form_token": {f.formToken(t)}})
	if code != http.StatusOK || !strings.Contains(body, "Check your inbox") {
		t.Fatalf("sign-up: %d\n%s", code, body)
	}
	mails := f.mails(t)
	if len(mails) != 1 {
		t.Fatalf("%d confirmation mails", len(mails))
	}
	// Quoted-printable may break the link; undo soft line breaks first.
	m := linkRE.FindStringSubmatch(strings.ReplaceAll(mails[0], "=\r\n", ""))
	if m == nil {
		t.Fatalf("no link in\n%s", mails[0])
	}
	confirm := f.srv.URL + m[1]
	// Scanners GET (and HEAD) the link: nothing changes.
	for range 3 {
		code, body = do(t, mustReq(t, http.MethodGet, confirm, nil))
		if code != http.StatusOK || !strings.Contains(body, `<form method="post">`) {
			t.Fatalf("GET confirm: %d\n%s", code, body)
		}
		do(t, mustReq(t, http.MethodHead, confirm, nil))
	}
	if st := f.status(t, "ada@example.com"); st != newsletter.StatusPending {
		t.Fatalf("after GETs: %s", st)
	}
	code, body = postForm(t, confirm, url.Values{})
	if code != http.StatusOK || !strings.Contains(body, "You are subscribed") {
		t.Fatalf("POST confirm: %d\n%s", code, body)
	}
	if st := f.status(t, "ada@example.com"); st != newsletter.StatusActive {
		t.Fatalf("after POST: %s", st)
	}
	// Same page for an active address, and no second mail.
	code, body2 := f.signUp(t, url.Values{"email": {"ada@example.com"}, "form_token": {f.formToken(t)}})
	if code != http.StatusOK || !strings.Contains(body2, "Check your inbox") {
		t.Fatalf("second sign-up: %d", code)
	}
	_, newBody := f.signUp(t, url.Values{"email": {"new@example.com"}, "form_token": {f.formToken(t)}})
	if body2 != newBody {
		t.Fatal("the answer differs between a member and a new address")
	}
	if n := len(f.mails(t)); n != 2 {
		t.Fatalf("%d mails, want 2 (none for the active address)", n)
	}
	// Forged, truncated and expired links.
	for _, tok := range []string{"x", m[1][len("/confirm/"):][:10], strings.Repeat("A", 43)} {
		if code, _ := postForm(t, f.srv.URL+"/confirm/"+tok, nil); code != http.StatusNotFound {
			t.Fatalf("forged %q: %d", tok, code)
		}
	}
	f.clock.Add(73 * time.Hour)
	f.signUp(t, url.Values{"email": {"late@example.com"}, "form_token": {f.formToken(t)}})
	newLink := ""
	for _, mm := range f.mails(t) {
		if strings.Contains(mm, "late@example.com") {
			newLink = linkRE.FindStringSubmatch(strings.ReplaceAll(mm, "=\r\n", ""))[1]
		}
	}
	f.clock.Add(73 * time.Hour)
	if code, _ := postForm(t, f.srv.URL+newLink, nil); code != http.StatusGone {
		t.Fatalf("expired link: %d", code)
	}
	if st := f.status(t, "late@example.com"); st != newsletter.StatusPending {
		t.Fatalf("expired link changed the status to %s", st)
	}
}

func TestSignUpAbuse(t *testing.T) {
	f := setupSignup(t, 100, 100)
	tok := f.formToken(t)
	tests := []struct {
		name    string
		form    url.Values
		headers map[string]string
		want    int
	}{
		{"no form token", url.Values{"email": {"a@example.com"}}, nil, http.StatusForbidden},
		{"forged form token", url.Values{"email": {"a@example.com"}, "form_token": {tok[:len(tok)-2] + "AA"}}, nil, http.StatusForbidden},
		{"cross-site origin", url.Values{"email": {"a@example.com"}, "form_token": {tok}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", url.Values{"email": {"a@example.com"}, "form_token": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"bad address", url.Values{"email": {"not an address"}, "form_token": {tok}}, nil, http.StatusBadRequest},
		{"header injection", url.Values{"email": {"a@example.com\r\nBcc: x@example.com"}, "form_token": {tok}}, nil, http.StatusBadRequest},
		{"honeypot", url.Values{"email": {"bot@example.com"}, "website": {"http://spam"}, "form_token": {tok}}, nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustReq(t, http.MethodPost, f.srv.URL+"/subscribe", []byte(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			if code, body := do(t, req); code != tt.want {
				t.Fatalf("got %d, want %d\n%s", code, tt.want, body)
			}
		})
	}
	if n := len(f.mails(t)); n != 0 {
		t.Fatalf("%d mails sent to refused sign-ups", n)
	}
	if _, total, _ := f.svc.List(context.Background(), roster.Filter{}); total != 0 {
		t.Fatalf("%d rows stored by refused sign-ups", total)
	}
	// Body size cap.
	big := url.Values{"email": {"a@example.com"}, "name": {strings.Repeat("x", 20<<10)}, "form_token": {tok}}
	if code, _ := f.signUp(t, big); code != http.StatusBadRequest {
		t.Fatalf("oversized body: %d", code)
	}
	// The form is a plain page: no redirect anywhere, whatever the input.
	if code, _ := f.signUp(t, url.Values{"email": {"a@example.com"}, "form_token": {tok}, "next": {"https://evil.example"}}); code != http.StatusOK {
		t.Fatalf("next= parameter: %d", code)
	}
}

func TestSignUpRateLimit(t *testing.T) {
	f := setupSignup(t, 3, 2)
	tok := f.formToken(t)
	codes := []int{}
	for i := range 3 {
		code, _ := f.signUp(t, url.Values{"email": {"same@example.com"}, "form_token": {tok}})
		codes = append(codes, code)
		_ = i
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("per-address limit: %v", codes)
	}
	// The IP has used 3 of 3; a different address is refused too.
	if code, _ := f.signUp(t, url.Values{"email": {"other@example.com"}, "form_token": {tok}}); code != http.StatusTooManyRequests {
		t.Fatalf("per-IP limit: %d", code)
	}
	// An hour later the buckets have refilled (the clock is injected).
	f.clock.Add(time.Hour)
	if code, _ := f.signUp(t, url.Values{"email": {"other@example.com"}, "form_token": {f.formToken(t)}}); code != http.StatusOK {
		t.Fatalf("after an hour: %d", code)
	}
}

func TestRateLimiter(t *testing.T) {
	clk := &testClock{now: time.Unix(0, 0)}
	l := web.NewRateLimiter(2, time.Minute, clk.Now)
	first, second, third := l.Allow("a"), l.Allow("a"), l.Allow("a")
	if !first || !second || third {
		t.Fatal("burst of 2 not enforced")
	}
	if !l.Allow("b") {
		t.Fatal("keys are not independent")
	}
	clk.Add(30 * time.Second)
	if refilled, again := l.Allow("a"), l.Allow("a"); !refilled || again {
		t.Fatal("refill of one per 30s not applied")
	}
	if !web.NewRateLimiter(0, time.Minute, clk.Now).Allow("x") {
		t.Fatal("limit 0 should allow")
	}
}

func TestUnsubscribeGoesToSuppressionAndLog(t *testing.T) {
	f := setupSignup(t, 100, 100)
	ctx := context.Background()
	sub, _, err := f.svc.Add(ctx, roster.AddRequest{Email: "u@example.com", Source: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	u := f.srv.URL + "/unsubscribe/" + f.signer.Make(token.Unsubscribe, sub.ID, sub.Email)
	if code, _ := postForm(t, u, url.Values{"List-Unsubscribe": {"One-Click"}}); code != http.StatusOK {
		t.Fatal(code)
	}
	rec, err := f.svc.Show(ctx, "u@example.com")
	if err != nil || rec.Suppressed != store.SuppressUnsubscribed || len(rec.Events) != 2 || rec.Events[1].Event != "left" {
		t.Fatalf("%+v %v", rec, err)
	}
	if code, body := postForm(t, u, url.Values{"action": {"resubscribe"}}); code != http.StatusOK || !strings.Contains(body, "subscribed again") {
		t.Fatal(code)
	}
	rec, _ = f.svc.Show(ctx, "u@example.com")
	if rec.Suppressed != "" || rec.Subscriber.Status != newsletter.StatusActive {
		t.Fatalf("after resubscribe: %+v", rec)
	}
}

// --- admin and API

func (f *signupFixture) api(t *testing.T, method, path, body string, auth bool) (int, string) {
	t.Helper()
	req := mustReq(t, method, f.srv.URL+path, []byte(body))
	if auth {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	switch {
	case strings.HasPrefix(path, "/api/subscribers/import"):
		req.Header.Set("Content-Type", "text/csv")
	case body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func TestAdminAuth(t *testing.T) {
	f := setupSignup(t, 100, 100)
	for _, p := range []string{"/admin", "/api/subscribers", "/api/stats", "/api/subscribers/export", "/admin/export.csv"} {
		if code, _ := f.api(t, http.MethodGet, p, "", false); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", p, code)
		}
		req := mustReq(t, http.MethodGet, f.srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer wrong-token-0123456789")
		if code, _ := do(t, req); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", p, code)
		}
		req = mustReq(t, http.MethodGet, f.srv.URL+p, nil)
		req.SetBasicAuth("anyone", adminToken)
		if code, _ := do(t, req); code != http.StatusOK {
			t.Errorf("%s with basic auth: %d", p, code)
		}
	}
	if code, _ := f.api(t, http.MethodDelete, "/api/subscribers/a@example.com", "", false); code != http.StatusUnauthorized {
		t.Errorf("DELETE without a token: %d", code)
	}
}

func TestAPI(t *testing.T) {
	f := setupSignup(t, 100, 100)
	code, body := f.api(t, http.MethodPost, "/api/subscribers", `{"email":"Ada@Example.com","name":"Ada"}`, true)
	if code != http.StatusCreated || !strings.Contains(body, `"email": "Ada@example.com"`) {
		t.Fatalf("add: %d %s", code, body)
	}
	if code, _ := f.api(t, http.MethodPost, "/api/subscribers", `{"email":"Ada@example.com"}`, true); code != http.StatusOK {
		t.Fatalf("add again: %d", code)
	}
	for _, bad := range []string{`{"email":"nope"}`, `{"email":"a@example.com","status":"weird"}`, `{"email":"a@example.com","extra":1}`, `not json`, `{"email":"a@example.com"}{}`} {
		if code, body := f.api(t, http.MethodPost, "/api/subscribers", bad, true); code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
			t.Errorf("add %s: %d %s", bad, code, body)
		}
	}
	csv := "email,name,status\nb@example.com,\"B, Bee\",active\nbad,x,\nc@example.com,C,pending\n"
	code, body = f.api(t, http.MethodPost, "/api/subscribers/import", csv, true)
	var rep struct {
		Added   int `json:"added"`
		BadRows []struct {
			Line int `json:"line"`
		} `json:"bad_rows"`
		BadRowCount int  `json:"bad_row_count"`
		Truncated   bool `json:"bad_rows_truncated"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 || rep.Added != 2 || len(rep.BadRows) != 1 || rep.BadRows[0].Line != 3 ||
		rep.BadRowCount != 1 || rep.Truncated {
		t.Fatalf("import: %d %s", code, body)
	}
	if code, _ := f.api(t, http.MethodPost, "/api/subscribers/import?dry_run=maybe", csv, true); code != http.StatusBadRequest {
		t.Fatalf("bad flag: %d", code)
	}
	if code, _ := f.api(t, http.MethodPost, "/api/subscribers/import", "name\nx\n", true); code != http.StatusBadRequest {
		t.Fatalf("no email column: %d", code)
	}
	code, body = f.api(t, http.MethodGet, "/api/subscribers?status=active&limit=1", "", true)
	var page struct {
		Subscribers []struct{ Email string } `json:"subscribers"`
		Total       int                      `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != 200 || page.Total != 2 || len(page.Subscribers) != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, q := range []string{"?status=nope", "?limit=-1", "?limit=100000", "?offset=x"} {
		if code, _ := f.api(t, http.MethodGet, "/api/subscribers"+q, "", true); code != http.StatusBadRequest {
			t.Errorf("list %s: %d", q, code)
		}
	}
	if code, body := f.api(t, http.MethodGet, "/api/subscribers?search=bee", "", true); code != 200 || !strings.Contains(body, "b@example.com") {
		t.Fatalf("search: %d %s", code, body)
	}
	if code, body := f.api(t, http.MethodDelete, "/api/subscribers/b@example.com", "", true); code != 200 || !strings.Contains(body, `"changed": true`) {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _ := f.api(t, http.MethodDelete, "/api/subscribers/nobody@example.com", "", true); code != http.StatusNotFound {
		t.Fatalf("delete unknown: %d", code)
	}
	if code, _ := f.api(t, http.MethodDelete, "/api/subscribers/c@example.com?erase=true", "", true); code != 200 {
		t.Fatalf("erase: %d", code)
	}
	if code, body := f.api(t, http.MethodPost, "/api/subscribers", `{"email":"c@example.com"}`, true); code != http.StatusConflict {
		t.Fatalf("add after erase: %d %s", code, body)
	}
	if code, body := f.api(t, http.MethodGet, "/api/subscribers/b@example.com", "", true); code != 200 || !strings.Contains(body, `"left"`) {
		t.Fatalf("show: %d %s", code, body)
	}
	code, body = f.api(t, http.MethodGet, "/api/subscribers/export?status=suppressed", "", true)
	if code != 200 || !strings.HasPrefix(body, "email,name,status,subscribed_at\n") || !strings.Contains(body, "b@example.com") || strings.Contains(body, "Ada@") {
		t.Fatalf("export: %d %s", code, body)
	}
	if code, body := f.api(t, http.MethodGet, "/api/stats", "", true); code != 200 || !strings.Contains(body, `"erased": 1`) {
		t.Fatalf("stats: %d %s", code, body)
	}
}

func TestAdminPages(t *testing.T) {
	f := setupSignup(t, 100, 100)
	ctx := context.Background()
	if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: "<b>x</b>@example.com"}); err == nil {
		t.Fatal("accepted markup in an address")
	}
	if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: "ada@example.com", Name: "<script>alert(1)</script>", Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		req := mustReq(t, http.MethodGet, f.srv.URL+path, nil)
		req.SetBasicAuth("", adminToken)
		return do(t, req)
	}
	code, body := get("/admin?search=ada")
	if code != 200 || !strings.Contains(body, "ada@example.com") || strings.Contains(body, "<script>alert") {
		t.Fatalf("dashboard: %d\n%s", code, body)
	}
	if code, _ := get("/admin?offset=-3"); code != http.StatusBadRequest {
		t.Fatalf("bad offset: %d", code)
	}
	if code, _ := get("/admin?status=nope"); code != http.StatusBadRequest {
		t.Fatalf("bad status: %d", code)
	}
	if code, body := get("/admin/subscriber?email=ada@example.com"); code != 200 || !strings.Contains(body, "joined") {
		t.Fatalf("history: %d\n%s", code, body)
	}
	if code, _ := get("/admin/subscriber?email=nobody@example.com"); code != http.StatusNotFound {
		t.Fatalf("unknown subscriber: %d", code)
	}
	// Upload with the page's form token.
	m := formTokenRE.FindStringSubmatch(body)
	upload := func(token, origin string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("form_token", token)
		fw, _ := mw.CreateFormFile("file", "list.csv")
		fw.Write([]byte("email,name\nnew@example.com,New\nbroken,x\n"))
		mw.Close()
		req := mustReq(t, http.MethodPost, f.srv.URL+"/admin/import", buf.Bytes())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.SetBasicAuth("", adminToken)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return do(t, req)
	}
	if m == nil {
		t.Fatal("no form token on the admin page")
	}
	if code, _ := upload(m[1], "https://evil.example"); code != http.StatusForbidden {
		t.Fatalf("cross-site upload: %d", code)
	}
	if code, _ := upload("forged", ""); code != http.StatusForbidden {
		t.Fatalf("forged token upload: %d", code)
	}
	code, body = upload(m[1], f.srv.URL)
	if code != 200 || !strings.Contains(body, "1 added") || !strings.Contains(body, "1 bad row(s).") || !strings.Contains(body, "<td class=\"num\">3</td>") {
		t.Fatalf("upload: %d\n%s", code, body)
	}
}
