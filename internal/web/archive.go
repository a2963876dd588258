package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"newsletter/internal/newsletter"
)

// ArchiveStore is the part of the store the public archive reads.
type ArchiveStore interface {
	SentIssues(ctx context.Context) ([]newsletter.Issue, error)
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
}

// ArchiveOptions configure the public archive.
type ArchiveOptions struct {
	Issues    ArchiveStore
	Templates fs.FS // holds web/archive.html.tmpl
	Page      Page
	BaseURL   string // public URL of this server, for the feed's links
	// Fill replaces an issue's per-recipient placeholders with neutral values: the archive
	// carries no address and no working unsubscribe link.
	Fill   func(html string) string
	Logger *slog.Logger
}

// Archive serves the public pages of sent issues: /issues, /issues/{week}, /issues/feed.atom.
type Archive struct {
	opt   ArchiveOptions
	index *template.Template
}

// NewArchive parses the archive template.
func NewArchive(opt ArchiveOptions) (*Archive, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	index, err := template.ParseFS(opt.Templates, "web/archive.html.tmpl")
	if err != nil {
		return nil, err
	}
	return &Archive{opt: opt, index: index}, nil
}

// Register adds the archive routes; they are public.
func (a *Archive) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /issues", a.list)
	mux.HandleFunc("GET /issues/feed.atom", a.feed)
	mux.HandleFunc("GET /issues/{week}", a.issue)
}

type archiveData struct {
	Page
	Issues []archiveEntry
}

type archiveEntry struct {
	Week, Subject, Preheader, Date string
	Stories                        int
}

func (a *Archive) list(w http.ResponseWriter, r *http.Request) {
	issues, err := a.opt.Issues.SentIssues(r.Context())
	if err != nil {
		a.opt.Logger.Error("web: archive", "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	d := archiveData{Page: a.opt.Page}
	for _, is := range issues {
		d.Issues = append(d.Issues, archiveEntry{Week: is.Week.String(), Subject: is.Subject, Preheader: is.Preheader,
			Date: is.SentAt.Format("January 2, 2006"), Stories: len(is.Stories)})
	}
	var buf bytes.Buffer
	if err := a.index.Execute(&buf, d); err != nil {
		a.opt.Logger.Error("web: archive template", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", archiveCSP)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

const archiveCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

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
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(a.opt.Fill(is.HTML)))
}

func (a *Archive) feed(w http.ResponseWriter, r *http.Request) {
	issues, err := a.opt.Issues.SentIssues(r.Context())
	if err != nil {
		a.opt.Logger.Error("web: archive feed", "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	f := &feeds.Feed{
		Title:       a.opt.Page.Publication,
		Link:        &feeds.Link{Href: a.opt.BaseURL + "/issues"},
		Description: "Past issues of " + a.opt.Page.Publication,
		Id:          a.opt.BaseURL + "/issues",
	}
	for _, is := range issues {
		link := a.opt.BaseURL + "/issues/" + is.Week.String()
		var titles []string
		for _, s := range is.Stories {
			titles = append(titles, s.Title)
		}
		f.Items = append(f.Items, &feeds.Item{
			Id:          link,
			Title:       is.Subject,
			Link:        &feeds.Link{Href: link},
			Description: is.Preheader,
			Content:     template.HTMLEscapeString(strings.Join(titles, " · ")),
			Created:     is.SentAt,
			Updated:     is.SentAt,
		})
		if f.Updated.Before(is.SentAt) {
			f.Updated = is.SentAt
		}
	}
	if f.Updated.IsZero() {
		f.Updated = time.Unix(0, 0).UTC()
	}
	atom, err := f.ToAtom()
	if err != nil {
		a.opt.Logger.Error("web: archive feed", "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(atom))
}
