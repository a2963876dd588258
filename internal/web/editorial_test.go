package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/store"
	"newsletter/internal/weekly"
	"newsletter/templates"
)

// A bcrypt hash (cost 4, fast in tests) of "s3cret-editor".
const testEditorHash = "$2a$04$6tm2fB8KmvJ4aSdLvCFtVOzJNwq.eQDJdUdu7cLOESgmHFHEjsPDK"

const testAdminToken = "admin-token-0123456789"

// testMessages personalises like delivery does, for a fixed sample subscriber, and records tests.
type testMessages struct{ sent []string }

func (m *testMessages) Sample(_ context.Context, is newsletter.Issue, e render.Email) (editorial.Message, error) {
	unsub := "https://news.example.org/unsubscribe/sample-token"
	h, txt := e.Personalize(render.Recipient{Email: "reader@example.com", UnsubscribeURL: unsub})
	return editorial.Message{Subject: e.Subject, HTML: h, Text: txt, Headers: "Subject: " + e.Subject, UnsubscribeURL: unsub}, nil
}

func (m *testMessages) SendTest(_ context.Context, is newsletter.Issue, e render.Email, to []string) error {
	for _, a := range to {
		m.sent = append(m.sent, a+": [TEST] "+e.Subject)
	}
	return nil
}

type deskFixture struct {
	db       *store.DB
	builder  *weekly.Builder
	srv      *httptest.Server
	messages *testMessages
	week     newsletter.Week
}

var testPostal = "Technerdo Media, Büyükdere Cd. 185, Istanbul"

func setupDesk(t *testing.T) *deskFixture {
	t.Helper()
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC) // Monday of 2026-W19
	return setupDeskAt(t, &now)
}

// setupDeskAt is setupDesk on a clock the test may move; the stories are dated before *now.
func setupDeskAt(t *testing.T, now *time.Time) *deskFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var stories []newsletter.Story
	for i, title := range []string{"Chips get faster", "A quiet week for phones", "Rust in the kernel", "Cheap laptops, reviewed"} {
		stories = append(stories, newsletter.Story{
			URL: "https://technerdo.com/s/" + string(rune('a'+i)), Title: title, Summary: "A short dek about " + title + ".",
			Section: []string{"News", "Reviews"}[i%2], Published: now.Add(-time.Duration(i+1) * 20 * time.Hour),
			ImageURL: "https://technerdo.com/img/" + string(rune('a'+i)) + ".jpg", ImageAlt: title,
		})
	}
	if _, err := db.SaveStories(ctx, stories, *now); err != nil {
		t.Fatal(err)
	}
	r, err := render.New(render.Publication{Publication: newsletter.Publication{Name: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com",
		PostalAddress: testPostal}, ArchiveURL: "https://news.example.org/issues"}, "")
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return *now }
	b := weekly.New(db, nil, r, weekly.Options{MaxStories: 3, Lookback: 7 * 24 * time.Hour, Now: clock,
		SubjectTemplate: "{{.Publication}}: {{.TopStory}}", Publication: "The Technerdo Weekly"})
	msgs := &testMessages{}
	desk := editorial.New(db, b, msgs, editorial.Options{PostalAddress: testPostal, Now: clock})
	week := newsletter.Week{Year: 2026, Num: 19}
	page := Page{Publication: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", Accent: "#c8102e", Lang: "en"}
	site := Site{Templates: templates.Web, Page: page}
	preview, err := NewPreview(PreviewOptions{Site: site, Desk: desk, NextIssue: func(context.Context) (newsletter.Week, error) { return week, nil },
		Auth: EditorAuth{Editors: map[string]string{"ayse": testEditorHash}, AdminToken: testAdminToken}})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := NewArchive(ArchiveOptions{Site: site, Issues: db, BaseURL: "https://news.example.org",
		Fill: render.PublicHTML})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(preview, archive))
	t.Cleanup(srv.Close)
	return &deskFixture{db: db, builder: b, srv: srv, messages: msgs, week: week}
}

func (f *deskFixture) do(t *testing.T, method, path string, form url.Values, auth func(*http.Request)) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != nil {
		auth(req)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location") // where the preview reports the outcome
	}
	return resp.StatusCode, string(b)
}

// build saves the week's draft, as `newsletter build` and the scheduler do: the preview's
// GETs only read.
func (f *deskFixture) build(t *testing.T) {
	t.Helper()
	if _, err := f.builder.Build(context.Background(), f.week); err != nil {
		t.Fatal(err)
	}
}

func asEditor(r *http.Request) { r.SetBasicAuth("ayse", "s3cret-editor") }
func asAdmin(r *http.Request)  { r.Header.Set("Authorization", "Bearer "+testAdminToken) }

func TestPreviewAuth(t *testing.T) {
	f := setupDesk(t)
	f.build(t)
	tests := []struct {
		name   string
		method string
		auth   func(*http.Request)
		want   int
	}{
		{"no credentials", "GET", nil, http.StatusUnauthorized},
		{"wrong password", "GET", func(r *http.Request) { r.SetBasicAuth("ayse", "nope") }, http.StatusUnauthorized},
		{"unknown editor", "GET", func(r *http.Request) { r.SetBasicAuth("mallory", "s3cret-editor") }, http.StatusUnauthorized},
		{"wrong token", "GET", func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong-token-000000") }, http.StatusUnauthorized},
		{"editor", "GET", asEditor, http.StatusOK},
		{"admin token", "GET", asAdmin, http.StatusOK},
		{"admin token as basic password", "GET", func(r *http.Request) { r.SetBasicAuth("anyone", testAdminToken) }, http.StatusOK},
		{"admin token as basic password, editor's name", "GET", func(r *http.Request) { r.SetBasicAuth("ayse", testAdminToken) }, http.StatusOK},
		{"wrong basic password, no editor", "GET", func(r *http.Request) { r.SetBasicAuth("admin", "wrong-token-000000") }, http.StatusUnauthorized},
		{"empty basic password", "GET", func(r *http.Request) { r.SetBasicAuth("admin", "") }, http.StatusUnauthorized},
		{"admin basic cross-site post", "POST", func(r *http.Request) {
			r.SetBasicAuth("x", testAdminToken)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, http.StatusForbidden},
		{"post without credentials", "POST", nil, http.StatusUnauthorized},
		{"cross-site post", "POST", func(r *http.Request) { asEditor(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, form := "/preview/2026-W19", url.Values(nil)
			if tt.method == "POST" {
				path, form = "/preview/2026-W19/approve", url.Values{}
			}
			code, body := f.do(t, tt.method, path, form, tt.auth)
			if code != tt.want {
				t.Fatalf("status %d, want %d: %.200s", code, tt.want, body)
			}
		})
	}
	if is, err := f.db.IssueByWeek(context.Background(), f.week); err != nil || is.Status != newsletter.IssueDraft {
		t.Fatalf("refused requests changed the issue: %v %v", is.Status, err)
	}
}

func TestPreviewEditsPersistAndApproveFreezes(t *testing.T) {
	f := setupDesk(t)
	f.build(t)
	ctx := context.Background()
	code, page := f.do(t, "GET", "/preview/2026-W19", nil, asEditor)
	if code != http.StatusOK || !strings.Contains(page, "Gmail") || !strings.Contains(page, "Inclusion report") {
		t.Fatalf("preview: %d %.300s", code, page)
	}
	if !strings.Contains(page, "over the cap of 3 stories") {
		t.Errorf("inclusion report lacks the capped story")
	}
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	last := is.Stories[len(is.Stories)-1]
	first := is.Stories[0]
	post := func(path string, form url.Values) {
		t.Helper()
		code, body := f.do(t, "POST", path, form, asEditor)
		if code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %.300s", path, code, body)
		}
	}
	post("/preview/2026-W19/edit", url.Values{"action": {"set-subject"}, "value": {"Editors' choice"}})
	post("/preview/2026-W19/edit", url.Values{"action": {"set-intro"}, "value": {"Hello <script>x</script> **readers**"}})
	post("/preview/2026-W19/edit", url.Values{"action": {"move"}, "story": {itoa(last.ID)}, "value": {"1"}})
	post("/preview/2026-W19/edit", url.Values{"action": {"exclude"}, "story": {itoa(first.ID)}})
	post("/preview/2026-W19/add", url.Values{"url": {"https://example.org/pick"}, "title": {"An editor's pick"}, "summary": {"Worth it."}})
	post("/preview/2026-W19/test", url.Values{"to": {"editor@example.org"}})
	if len(f.messages.sent) != 1 || !strings.Contains(f.messages.sent[0], "[TEST] Editors' choice") {
		t.Errorf("test sends: %q", f.messages.sent)
	}

	// A rebuild from the feeds (what `newsletter build` and the scheduler do) keeps every edit.
	code, page = f.do(t, "GET", "/preview/2026-W19", nil, asAdmin)
	if code != http.StatusOK {
		t.Fatal(code)
	}
	is, err = f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	if is.Subject != "Editors' choice" {
		t.Errorf("subject %q", is.Subject)
	}
	var titles []string
	for _, s := range is.Stories {
		titles = append(titles, s.Title)
		if s.ID == first.ID {
			t.Errorf("excluded story %q is in the issue", s.Title)
		}
	}
	if !strings.Contains(strings.Join(titles, "|"), "An editor's pick") {
		t.Errorf("manual pick missing: %q", titles)
	}
	if strings.Contains(is.HTML, "<script") || !strings.Contains(is.HTML, "<strong>readers</strong>") {
		t.Errorf("intro not rendered safely")
	}
	for _, want := range []string{"excluded by ayse", "set-subject", "test-send", "editor@example.org"} {
		if !strings.Contains(page, want) {
			t.Errorf("preview lacks %q", want)
		}
	}

	post("/preview/2026-W19/approve", url.Values{})
	is, err = f.db.IssueByWeek(ctx, f.week)
	if err != nil || is.Status != newsletter.IssueApproved || is.ApprovedBy != "ayse" {
		t.Fatalf("after approve: %v by %q (%v)", is.Status, is.ApprovedBy, err)
	}
	frozen := is.HTML
	code, body := f.do(t, "POST", "/preview/2026-W19/edit", url.Values{"action": {"set-subject"}, "value": {"Too late"}}, asEditor)
	if code != http.StatusSeeOther {
		t.Fatalf("edit after approve: %d %s", code, body)
	}
	if is, _ = f.db.IssueByWeek(ctx, f.week); is.Subject != "Editors' choice" || is.HTML != frozen {
		t.Errorf("an edit changed an approved issue: subject %q", is.Subject)
	}
	if ok, why := editorial.Ready(is, true); !ok {
		t.Errorf("approved issue not ready: %s", why)
	}
}

func TestArchiveShowsOnlySentIssues(t *testing.T) {
	f := setupDesk(t)
	f.build(t)
	ctx := context.Background()
	if code, _ := f.do(t, "GET", "/preview/2026-W19", nil, asEditor); code != http.StatusOK {
		t.Fatal(code)
	}
	if code, _ := f.do(t, "GET", "/issues/2026-W19", nil, nil); code != http.StatusNotFound {
		t.Errorf("draft is public: %d", code)
	}
	_, index := f.do(t, "GET", "/issues", nil, nil)
	if strings.Contains(index, "2026-W19") {
		t.Errorf("index lists a draft")
	}
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	code, page := f.do(t, "GET", "/issues/2026-W19", nil, nil)
	if code != http.StatusOK || !strings.Contains(page, is.Stories[0].Title) {
		t.Fatalf("archived issue: %d", code)
	}
	for _, leak := range []string{render.PlaceholderEmail, render.PlaceholderUnsubscribeURL, "/unsubscribe/", "reader@example.com"} {
		if strings.Contains(page, leak) {
			t.Errorf("archive page contains %q", leak)
		}
	}
	if _, index = f.do(t, "GET", "/issues", nil, nil); !strings.Contains(index, `href="/issues/2026-W19"`) {
		t.Errorf("index lacks the sent issue")
	}
	code, atom := f.do(t, "GET", "/issues/feed.atom", nil, nil)
	if code != http.StatusOK || !strings.Contains(atom, "https://news.example.org/issues/2026-W19") || !strings.Contains(atom, "<feed") {
		t.Errorf("feed: %d %.300s", code, atom)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPreviewOfADraftBuiltAheadOfItsWeek opens, rebuilds and approves on the preview page a
// draft built on the Friday before its week, as the default schedule makes it.
func TestPreviewOfADraftBuiltAheadOfItsWeek(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) // the Friday before 2026-W19
	f := setupDeskAt(t, &now)
	for _, step := range []time.Duration{0, time.Minute, 26 * time.Hour} {
		now = now.Add(step)
		code, page := f.do(t, "GET", "/preview/2026-W19", nil, asAdmin)
		if code != http.StatusOK || !strings.Contains(page, "Chips get faster") || strings.Contains(page, "No issue to preview") {
			t.Fatalf("%s after the first build: %d\n%.300s", step, code, page)
		}
	}
	code, _ := f.do(t, "POST", "/preview/2026-W19/approve", url.Values{}, asAdmin)
	if code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	is, err := f.db.IssueByWeek(context.Background(), f.week)
	if err != nil || is.Status != newsletter.IssueApproved || len(is.Stories) != 3 {
		t.Fatalf("after approve: %v, %d stories, %v", is.Status, len(is.Stories), err)
	}
}

func TestPreviewUnapproveReopensUntilTheSendStarts(t *testing.T) {
	f := setupDesk(t)
	ctx := context.Background()
	post := func(path string, form url.Values, auth func(*http.Request)) string {
		t.Helper()
		code, body := f.do(t, "POST", path, form, auth)
		if code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %.300s", path, code, body)
		}
		return body
	}
	status := func() newsletter.IssueStatus {
		t.Helper()
		is, err := f.db.IssueByWeek(ctx, f.week)
		if err != nil {
			t.Fatal(err)
		}
		return is.Status
	}
	if code, _ := f.do(t, "GET", "/preview/2026-W19", nil, asEditor); code != http.StatusOK {
		t.Fatal(code)
	}
	post("/preview/2026-W19/approve", url.Values{}, asEditor)
	_, page := f.do(t, "GET", "/preview/2026-W19", nil, asEditor)
	if !strings.Contains(page, `action="/preview/2026-W19/unapprove"`) {
		t.Fatalf("an approved issue's preview has no reopen button")
	}

	cross := func(r *http.Request) { asEditor(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }
	if code, _ := f.do(t, "POST", "/preview/2026-W19/unapprove", url.Values{}, cross); code != http.StatusForbidden {
		t.Errorf("cross-site unapprove: %d, want 403", code)
	}
	if code, _ := f.do(t, "POST", "/preview/2026-W19/unapprove", url.Values{}, nil); code != http.StatusUnauthorized {
		t.Errorf("unapprove without credentials: %d, want 401", code)
	}
	if st := status(); st != newsletter.IssueApproved {
		t.Fatalf("refused requests reopened the issue: %s", st)
	}

	post("/preview/2026-W19/unapprove", url.Values{}, asEditor)
	if st := status(); st != newsletter.IssueDraft {
		t.Fatalf("after unapprove: %s, want draft", st)
	}
	post("/preview/2026-W19/edit", url.Values{"action": {"set-subject"}, "value": {"Reopened and edited"}}, asEditor)
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil || is.Subject != "Reopened and edited" || is.ApprovedBy != "" {
		t.Fatalf("edit after reopening: subject %q approved by %q (%v)", is.Subject, is.ApprovedBy, err)
	}
	_, page = f.do(t, "GET", "/preview/2026-W19", nil, asEditor)
	if !strings.Contains(page, "<td>unapprove</td>") {
		t.Errorf("the edit log lacks the unapprove")
	}

	// Once the send has started, the issue stays as it goes out.
	post("/preview/2026-W19/approve", url.Values{}, asEditor)
	if err := f.db.SetIssueStatus(ctx, is.ID, newsletter.IssueSending, time.Now()); err != nil {
		t.Fatal(err)
	}
	loc := post("/preview/2026-W19/unapprove", url.Values{}, asEditor)
	if !strings.Contains(loc, "error=") || !strings.Contains(mustUnescape(t, loc), "send has started") {
		t.Errorf("unapprove while sending redirects to %q, want an error saying the send has started", loc)
	}
	if st := status(); st != newsletter.IssueSending {
		t.Errorf("unapprove while sending: %s", st)
	}
}

func TestPreviewNamesAnUnknownStory(t *testing.T) {
	f := setupDesk(t)
	for _, form := range []url.Values{
		{"action": {"pin"}, "story": {"999"}},
		{"action": {"exclude"}, "story": {"999"}},
		{"action": {"move"}, "story": {"999"}, "value": {"2"}},
	} {
		code, loc := f.do(t, "POST", "/preview/2026-W19/edit", form, asEditor)
		if code != http.StatusSeeOther || !strings.Contains(mustUnescape(t, loc), "no story #999") {
			t.Errorf("%s 999: %d %q, want a redirect naming story #999", form.Get("action"), code, loc)
		}
	}
	edits, err := f.db.Edits(context.Background(), f.week)
	if err != nil || len(edits) != 0 {
		t.Errorf("edits recorded for an unknown story: %+v (%v)", edits, err)
	}
}

func TestPreviewAddPickAtPosition(t *testing.T) {
	f := setupDesk(t)
	f.build(t)
	ctx := context.Background()
	if code, _ := f.do(t, "GET", "/preview/2026-W19", nil, asEditor); code != http.StatusOK {
		t.Fatal(code)
	}
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	pinned := is.Stories[2]
	for _, form := range []url.Values{
		{"action": {"pin"}, "story": {itoa(pinned.ID)}},
	} {
		if code, loc := f.do(t, "POST", "/preview/2026-W19/edit", form, asEditor); code != http.StatusSeeOther || strings.Contains(loc, "error=") {
			t.Fatalf("pin: %d %s", code, loc)
		}
	}
	add := func(u, title, pos string) {
		t.Helper()
		code, loc := f.do(t, "POST", "/preview/2026-W19/add", url.Values{"url": {u}, "title": {title}, "position": {pos}}, asEditor)
		if code != http.StatusSeeOther || strings.Contains(loc, "error=") {
			t.Fatalf("add %s at %q: %d %s", title, pos, code, loc)
		}
	}
	add("https://example.org/after-pinned", "After the pinned", "")
	add("https://example.org/third", "Third", "3")
	if code, loc := f.do(t, "POST", "/preview/2026-W19/add", url.Values{"url": {"https://example.org/x"}, "title": {"X"}, "position": {"zero"}}, asEditor); code != http.StatusSeeOther || !strings.Contains(loc, "error=") {
		t.Errorf("a bad position: %d %s, want an error", code, loc)
	}
	if is, err = f.db.IssueByWeek(ctx, f.week); err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, s := range is.Stories {
		titles = append(titles, s.Title)
	}
	want := []string{pinned.Title, "After the pinned", "Third"}
	if len(titles) != 3 || titles[0] != want[0] || titles[1] != want[1] || titles[2] != want[2] {
		t.Errorf("stories %q, want %q", titles, want)
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPreviewGetWritesNothing: the preview's GETs show the draft as a refresh would make it,
// new stories included, but save nothing: only the guarded POSTs write.
func TestPreviewGetWritesNothing(t *testing.T) {
	for _, built := range []bool{false, true} {
		t.Run(map[bool]string{false: "no draft yet", true: "stored draft, newer story"}[built], func(t *testing.T) {
			f := setupDesk(t)
			ctx := context.Background()
			if built {
				f.build(t)
			}
			fresh := newsletter.Story{URL: "https://technerdo.com/s/fresh", Title: "Fresh from the wire", Summary: "New since the build.",
				Section: "News", Published: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)}
			if _, err := f.db.SaveStories(ctx, []newsletter.Story{fresh}, time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			before, beforeErr := f.db.IssueByWeek(ctx, f.week)
			for _, path := range []string{"/preview/2026-W19", "/preview/2026-W19/email.html"} {
				code, page := f.do(t, "GET", path, nil, asEditor)
				if code != http.StatusOK {
					t.Fatalf("GET %s: %d %.200s", path, code, page)
				}
				if path == "/preview/2026-W19" && !strings.Contains(page, fresh.Title) {
					t.Errorf("the preview does not show the story gathered since the build")
				}
			}
			after, afterErr := f.db.IssueByWeek(ctx, f.week)
			if !built {
				if !errors.Is(afterErr, newsletter.ErrNotFound) {
					t.Errorf("a GET saved a draft: %v %+v", afterErr, after.Subject)
				}
				return
			}
			if beforeErr != nil || afterErr != nil {
				t.Fatal(beforeErr, afterErr)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("a GET changed the stored draft:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestPreviewOfAWeekWithoutStories: a week whose window holds no story shows why, not a 500.
func TestPreviewOfAWeekWithoutStories(t *testing.T) {
	f := setupDesk(t)
	code, page := f.do(t, "GET", "/preview/2026-W10", nil, asEditor)
	if code != http.StatusOK || !strings.Contains(page, `id="missing"`) || !strings.Contains(page, "no new stories") {
		i := max(0, strings.Index(page, "<body"))
		t.Fatalf("preview of an empty week: %d\n%.900s", code, page[i:])
	}
}
