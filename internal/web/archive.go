package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/token"
)

// ArchiveStore is the part of the store the public archive reads.
type ArchiveStore interface {
	SentIssues(ctx context.Context) ([]newsletter.Issue, error)
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
}

// ArchiveOptions configure the public archive.
type ArchiveOptions struct {
	Site
	Issues  ArchiveStore
	BaseURL string // public URL of this server, for the feed's links
	// Fill replaces an issue's per-recipient placeholders with neutral values: the archive
	// carries no address and no working unsubscribe link.
	Fill    func(html string) string
	Tagline string // the home page's line under the publication's name
}

// Archive serves the public pages of sent issues: the home page at / (the name and tagline,
// the latest issues and the sign-up form, which posts to /subscribe), /issues,
// /issues/{week}, and the feeds /issues/feed.atom and /issues/feed.json.
type Archive struct {
	opt         ArchiveOptions
	index, home *template.Template
}

// NewArchive parses the archive's and the home page's templates.
func NewArchive(opt ArchiveOptions) (*Archive, error) {
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	index, err := opt.parse("archive.html.tmpl", nil)
	if err != nil {
		return nil, err
	}
	home, err := opt.parse("home.html.tmpl", nil)
	if err != nil {
		return nil, err
	}
	return &Archive{opt: opt, index: index, home: home}, nil
}

// Register adds the archive routes; they are public. GET / is the root only; other unknown
// paths stay 404.
func (a *Archive) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", a.serveHome)
	mux.HandleFunc("GET "+newsletter.ArchivePath, a.list)
	mux.HandleFunc("GET "+newsletter.ArchivePath+"/feed.atom", a.feed("application/atom+xml; charset=utf-8", a.atom))
	mux.HandleFunc("GET "+newsletter.ArchivePath+"/feed.json", a.feed("application/feed+json; charset=utf-8", a.jsonFeed))
	mux.HandleFunc("GET "+newsletter.ArchivePath+"/{week}", a.issue)
}

type archiveEntry struct {
	Week, Subject, Preheader, Date string
	Stories                        int
}

func entries(issues []newsletter.Issue) []archiveEntry {
	out := make([]archiveEntry, len(issues))
	for i, is := range issues {
		out[i] = archiveEntry{Week: is.Week.String(), Subject: is.Subject, Preheader: is.Preheader,
			Date: is.SentAt.Format("January 2, 2006"), Stories: len(is.Stories)}
	}
	return out
}

// sentIssues loads the archive, answering 500 itself on failure.
func (a *Archive) sentIssues(w http.ResponseWriter, r *http.Request) ([]newsletter.Issue, bool) {
	issues, err := a.opt.Issues.SentIssues(r.Context())
	if err != nil {
		a.opt.Logger.Error("web: sent issues", "path", r.URL.Path, "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return nil, false
	}
	return issues, true
}

func (a *Archive) list(w http.ResponseWriter, r *http.Request) {
	issues, ok := a.sentIssues(w, r)
	if !ok {
		return
	}
	d := homeData{Page: a.opt.Page, Issues: entries(issues)}
	renderPage(w, a.index, http.StatusOK, d, a.opt.Logger, "Content-Security-Policy", archiveCSP, "Cache-Control", archiveCache)
}

const (
	archiveCSP   = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	archiveCache = "public, max-age=300"
)

// issue serves a sent issue as its email, placeholders filled neutrally. Drafts and issues
// still sending are not public: 404.
func (a *Archive) issue(w http.ResponseWriter, r *http.Request) {
	wk, err := newsletter.ParseWeek(r.PathValue("week"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	is, err := a.opt.Issues.IssueByWeek(r.Context(), wk)
	if errors.Is(err, newsletter.ErrNotFound) || (err == nil && is.Status != newsletter.IssueSent) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.opt.Logger.Error("web: archive issue", "week", wk.String(), "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", archiveCSP)
	w.Header().Set("Cache-Control", archiveCache)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(withBanner(a.opt.Fill(is.HTML), a.banner())))
}

// banner is the strip above an archived issue: the way to the archive and to subscribing,
// which a reader who came from a link has no other way to find.
func (a *Archive) banner() string {
	name := template.HTMLEscapeString(a.opt.Page.Publication)
	return `<div class="archive-banner" style="padding:10px 16px;background-color:#141414;color:#f2f2f2;font:14px/20px -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;text-align:center">` +
		`<a href="/issues" style="color:#f2f2f2">` + name + `: past issues</a> · ` +
		`<a href="/subscribe" style="color:#ffffff;font-weight:700">Subscribe</a> to get each issue by email</div>`
}

// bodyTag is an HTML <body> start tag in any case.
var bodyTag = regexp.MustCompile(`(?i)<body[^>]*>`)

// withBanner puts banner first in the body of an email's HTML (at the top when it has no
// <body> tag).
func withBanner(page, banner string) string {
	at := bodyTag.FindStringIndex(page)
	if at == nil {
		return banner + page
	}
	return page[:at[1]] + banner + page[at[1]:]
}

// The Atom feed of the archive (RFC 4287), written out here for the parts a reader needs:
// a self link, an author, an entry per sent issue.
type atomFeed struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string      `xml:"xml:lang,attr,omitempty"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle"`
	ID       string      `xml:"id"`
	Links    []atomLink  `xml:"link"`
	Updated  string      `xml:"updated"`
	Author   atomAuthor  `xml:"author"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Link      atomLink `xml:"link"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Summary   string   `xml:"summary,omitempty"`
	Content   atomText `xml:"content"`
}

// storyTitles lists an issue's stories on one line, for the feeds' entries.
func storyTitles(is newsletter.Issue) string {
	titles := make([]string, 0, len(is.Stories))
	for _, s := range is.Stories {
		titles = append(titles, s.Title)
	}
	return strings.Join(titles, " · ")
}

func (a *Archive) atom(issues []newsletter.Issue) ([]byte, error) {
	pub := a.opt.Page.Publication
	f := atomFeed{
		Lang:     a.opt.Page.Lang,
		Title:    pub,
		Subtitle: "Past issues of " + pub,
		ID:       a.opt.BaseURL + "/issues",
		Links: []atomLink{
			{Rel: "alternate", Type: "text/html", Href: a.opt.BaseURL + "/issues"},
			{Rel: "self", Type: "application/atom+xml", Href: a.opt.BaseURL + "/issues/feed.atom"},
		},
		Author: atomAuthor{Name: pub, URI: a.opt.Page.WebsiteURL},
	}
	updated := time.Unix(0, 0).UTC()
	for _, is := range issues {
		link := a.opt.BaseURL + "/issues/" + is.Week.String()
		at := is.SentAt.UTC().Format(time.RFC3339)
		f.Entries = append(f.Entries, atomEntry{
			ID: link, Title: is.Subject, Link: atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Published: at, Updated: at, Summary: is.Preheader,
			Content: atomText{Type: "text", Text: storyTitles(is)},
		})
		if is.SentAt.After(updated) {
			updated = is.SentAt
		}
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	return append([]byte(xml.Header), out...), err
}

// feed serves the sent issues as the feed that marshal makes of them, or 500 when it fails.
func (a *Archive) feed(contentType string, marshal func([]newsletter.Issue) ([]byte, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		issues, ok := a.sentIssues(w, r)
		if !ok {
			return
		}
		out, err := marshal(issues)
		if err != nil {
			a.opt.Logger.Error("web: archive feed", "err", err)
			http.Error(w, "500 internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", archiveCache)
		w.Header().Set("Content-Type", contentType)
		w.Write(out)
	}
}

// The JSON Feed of the archive (https://jsonfeed.org/version/1.1).
type jsonFeed struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	HomePageURL string       `json:"home_page_url"`
	FeedURL     string       `json:"feed_url"`
	Description string       `json:"description"`
	Language    string       `json:"language,omitempty"`
	Authors     []jsonAuthor `json:"authors"`
	Items       []jsonItem   `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	Title         string `json:"title"`
	Summary       string `json:"summary,omitempty"`
	ContentText   string `json:"content_text"`
	DatePublished string `json:"date_published"`
}

func (a *Archive) jsonFeed(issues []newsletter.Issue) ([]byte, error) {
	pub := a.opt.Page.Publication
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       pub,
		HomePageURL: a.opt.BaseURL + "/issues",
		FeedURL:     a.opt.BaseURL + "/issues/feed.json",
		Description: "Past issues of " + pub,
		Language:    a.opt.Page.Lang,
		Authors:     []jsonAuthor{{Name: pub, URL: a.opt.Page.WebsiteURL}},
		Items:       []jsonItem{},
	}
	for _, is := range issues {
		link := a.opt.BaseURL + "/issues/" + is.Week.String()
		f.Items = append(f.Items, jsonItem{ID: link, URL: link, Title: is.Subject, Summary: is.Preheader,
			ContentText: storyTitles(is), DatePublished: is.SentAt.UTC().Format(time.RFC3339)})
	}
	return json.MarshalIndent(f, "", "  ")
}

// homeLatest is how many issues the home page lists.
const homeLatest = 5

// homeData is what the home page and the archive's list show.
type homeData struct {
	Page
	Tagline   string
	Issues    []archiveEntry
	FormToken string
}

func (a *Archive) serveHome(w http.ResponseWriter, r *http.Request) {
	issues, ok := a.sentIssues(w, r)
	if !ok {
		return
	}
	d := homeData{Page: a.opt.Page, Tagline: a.opt.Tagline, Issues: entries(issues[:min(len(issues), homeLatest)]),
		FormToken: a.opt.Tokens.MakeForm(token.PublicForm, a.opt.Now())}
	renderPage(w, a.home, http.StatusOK, d, a.opt.Logger)
}
