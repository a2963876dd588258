package web

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/token"
	"newsletter/templates"
)

// sendWeek builds the fixture's week as a draft and marks it sent, so the archive has it.
func sendWeek(t *testing.T, f *deskFixture) newsletter.Issue {
	t.Helper()
	f.build(t)
	if code, _ := f.do(t, "GET", "/preview/2026-W19", nil, asEditor); code != http.StatusOK {
		t.Fatalf("build the draft: %d", code)
	}
	ctx := context.Background()
	is, err := f.db.IssueByWeek(ctx, f.week)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return is
}

// TestArchiveFeeds: the Atom feed has an author and a self link (RFC 4287 §4.1.1), the
// JSON Feed at /issues/feed.json says the same, and both parse with gofeed to the issue.
func TestArchiveFeeds(t *testing.T) {
	f := setupDesk(t)
	is := sendWeek(t, f)
	issueURL := "https://news.example.org/issues/2026-W19"

	code, atom := f.do(t, "GET", "/issues/feed.atom", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("atom: %d", code)
	}
	var doc struct {
		Author struct {
			Name string `xml:"name"`
			URI  string `xml:"uri"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID string `xml:"id"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(atom), &doc); err != nil {
		t.Fatalf("atom does not parse: %v\n%s", err, atom)
	}
	if doc.Author.Name != "The Technerdo Weekly" || doc.Author.URI != "https://technerdo.com" {
		t.Errorf("author = %+v", doc.Author)
	}
	self := ""
	for _, l := range doc.Links {
		if l.Rel == "self" {
			self = l.Href
		}
	}
	if self != "https://news.example.org/issues/feed.atom" {
		t.Errorf("rel=self link = %q in %+v", self, doc.Links)
	}
	if len(doc.Entries) != 1 || doc.Entries[0].ID != issueURL {
		t.Errorf("entries = %+v", doc.Entries)
	}

	code, js := f.do(t, "GET", "/issues/feed.json", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("json feed: %d", code)
	}
	var jf jsonFeed
	if err := json.Unmarshal([]byte(js), &jf); err != nil {
		t.Fatalf("json feed does not parse: %v", err)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.FeedURL != "https://news.example.org/issues/feed.json" ||
		len(jf.Authors) != 1 || len(jf.Items) != 1 || jf.Items[0].URL != issueURL || jf.Items[0].Title != is.Subject {
		t.Errorf("json feed = %+v", jf)
	}

	for name, body := range map[string]string{"atom": atom, "json": js} {
		parsed, err := gofeed.NewParser().Parse(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: gofeed: %v", name, err)
		}
		if parsed.Title != "The Technerdo Weekly" || len(parsed.Items) != 1 || parsed.Items[0].Link != issueURL || len(parsed.Authors) != 1 {
			t.Errorf("%s as gofeed reads it: title %q, %d items, authors %v", name, parsed.Title, len(parsed.Items), parsed.Authors)
		}
	}
}

// TestArchivePagesLinkToSubscribe: the index and every archived issue lead to the sign-up.
func TestArchivePagesLinkToSubscribe(t *testing.T) {
	f := setupDesk(t)
	sendWeek(t, f)
	_, index := f.do(t, "GET", "/issues", nil, nil)
	if !strings.Contains(index, `href="/subscribe"`) || !strings.Contains(index, `href="/issues/feed.json"`) {
		t.Errorf("index lacks the subscribe or JSON Feed link")
	}
	_, page := f.do(t, "GET", "/issues/2026-W19", nil, nil)
	body := regexp.MustCompile(`<body[^>]*>`).FindStringIndex(page)
	if body == nil {
		t.Fatal("archived issue has no <body>")
	}
	if !strings.HasPrefix(page[body[1]:], `<div class="archive-banner"`) || !strings.Contains(page, `href="/subscribe"`) {
		t.Errorf("archived issue does not start with the subscribe banner: %.300s", page[body[1]:])
	}
	for page, want := range map[string]string{
		"<p>no body</p>": "<b>B</b><p>no body</p>",
		// "İ" grows when lower-cased: the banner still goes right after the tag.
		`<title>İİİ</title><BODY class="x"><p>`: `<title>İİİ</title><BODY class="x"><b>B</b><p>`,
	} {
		if got := withBanner(page, "<b>B</b>"); got != want {
			t.Errorf("withBanner(%q) = %q, want %q", page, got, want)
		}
	}
}

// TestHome: GET / shows the name, tagline and latest issue, and its sign-up form works
// as the one on /subscribe; other unknown paths stay 404.
func TestHome(t *testing.T) {
	f := setupDesk(t)
	is := sendWeek(t, f)
	signer, err := token.NewSigner(bytes.Repeat([]byte("h"), 32))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC) }
	page := Page{Publication: "The Technerdo Weekly", WebsiteURL: "https://technerdo.com", Accent: "#c8102e", Lang: "en"}
	mc, err := roster.NewMailConfirmations(roster.MailOptions{
		Transport: &mailer.Outbox{Dir: filepath.Join(t.TempDir(), "outbox")}, From: mailer.Address{Email: "weekly@technerdo.com"},
		MessageIDDomain: "technerdo.com", Publication: newsletter.Publication{Name: page.Publication, WebsiteURL: page.WebsiteURL, PostalAddress: testPostal},
		Templates: templates.Confirm, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := roster.New(roster.Options{Store: f.db, Tokens: signer, Confirmations: mc, BaseURL: "https://news.example.org", Now: now})
	site := Site{Templates: templates.Web, Page: page, Tokens: signer, Now: now}
	signup, err := NewSubscribe(SubscribeOptions{Site: site, Roster: svc})
	if err != nil {
		t.Fatal(err)
	}
	home, err := NewArchive(ArchiveOptions{Site: site, Issues: f.db, Tagline: "Analysis worth reading, delivered every Monday."})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(signup, home))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	got := buf.String()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	for _, want := range []string{"<h1>The Technerdo Weekly</h1>", "Analysis worth reading, delivered every Monday.",
		`href="/issues/2026-W19"`, is.Subject, `action="/subscribe"`, `href="/issues/feed.json"`} {
		if !strings.Contains(got, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(got)
	if m == nil {
		t.Fatal("home page form has no token")
	}
	form := url.Values{"email": {"reader@example.com"}, "form_token": {m[1]}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/subscribe", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-up from the home page: %d", resp.StatusCode)
	}
	sub, err := f.db.SubscriberByEmail(context.Background(), "reader@example.com")
	if err != nil || sub.Status != newsletter.StatusPending {
		t.Fatalf("after the home page's sign-up: %+v, %v", sub, err)
	}

	resp, err = http.Get(srv.URL + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no-such-page: %d, want 404", resp.StatusCode)
	}
}

func TestAccentOnDark(t *testing.T) {
	bg, _ := parseHex(darkPage)
	for _, accent := range []string{"#c8102e", "#00008b", "#000", "#ffcc00", "#1a73e8"} {
		got := Page{Accent: accent}.AccentOnDark()
		c, ok := parseHex(got)
		if !ok || contrast(c, bg) < 4.5 {
			t.Errorf("accent %s: %s on %s is under 4.5:1", accent, got, darkPage)
		}
	}
	if got := (Page{Accent: "red"}).AccentOnDark(); got != "red" {
		t.Errorf("a named colour is changed to %q", got)
	}
}
