package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
	"newsletter/internal/weekly"
)

// Desk is the editors' workflow the preview pages drive (package editorial).
type Desk interface {
	// Preview shows the week's draft as a refresh would make it, without writing: GETs call it.
	Preview(ctx context.Context, week newsletter.Week) (editorial.View, error)
	Edit(ctx context.Context, e newsletter.Edit) error
	AddPick(ctx context.Context, week newsletter.Week, editor string, p editorial.Pick) (newsletter.Story, error)
	Approve(ctx context.Context, week newsletter.Week, by string) (newsletter.Issue, error)
	Unapprove(ctx context.Context, week newsletter.Week, by string) (newsletter.Issue, error)
	SendTest(ctx context.Context, week newsletter.Week, by string, to []string) error
}

// PreviewOptions configure the editors' preview pages.
type PreviewOptions struct {
	Site
	Desk Desk
	Auth EditorAuth
	// NextIssue names the issue that goes out next: what /preview without a week shows.
	NextIssue func(ctx context.Context) (newsletter.Week, error)
}

// Preview serves /preview: the week's draft as it will be sent, its checks, its edits and
// the forms that shape, test and approve it. Never public.
type Preview struct {
	opt  PreviewOptions
	page *template.Template
}

// NewPreview parses the preview template.
func NewPreview(opt PreviewOptions) (*Preview, error) {
	page, err := opt.parse("preview.html.tmpl", template.FuncMap{"inc": func(i int) int { return i + 1 }})
	if err != nil {
		return nil, err
	}
	return &Preview{opt: opt, page: page}, nil
}

// Register adds the preview routes, each behind the editors' guard.
func (p *Preview) Register(mux *http.ServeMux) {
	g := func(h http.HandlerFunc) http.Handler { return p.opt.Auth.Require(h) }
	mux.Handle("GET /preview", g(func(w http.ResponseWriter, r *http.Request) {
		wk, err := p.opt.NextIssue(r.Context())
		if err != nil {
			p.opt.Logger.Error("web: preview: next issue", "err", err)
			http.Error(w, "could not tell which issue goes out next", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/preview/"+wk.String(), http.StatusSeeOther)
	}))
	mux.Handle("GET /preview/{week}", g(p.show))
	mux.Handle("GET /preview/{week}/email.html", g(p.email))
	mux.Handle("POST /preview/{week}/edit", g(p.act(p.edit)))
	mux.Handle("POST /preview/{week}/add", g(p.act(p.add)))
	mux.Handle("POST /preview/{week}/approve", g(p.act(p.approve)))
	mux.Handle("POST /preview/{week}/unapprove", g(p.act(p.unapprove)))
	mux.Handle("POST /preview/{week}/test", g(p.act(p.test)))
}

// The preview frames the email from its own route: the page may frame same-origin content,
// and the framed email may be framed by this site only. Images in emails are remote.
const (
	previewCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	emailCSP   = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-ancestors 'self'; base-uri 'none'"
)

type previewData struct {
	Page
	Week    string
	Editor  string
	Flash   string
	Error   string
	Missing string // why there is no issue to show
	View    editorial.View
	Failed  int // red checks
}

func (p *Preview) week(w http.ResponseWriter, r *http.Request) (newsletter.Week, bool) {
	wk, err := newsletter.ParseWeek(r.PathValue("week"))
	if err != nil {
		http.Error(w, "404 page not found: no such week", http.StatusNotFound)
		return wk, false
	}
	return wk, true
}

func (p *Preview) show(w http.ResponseWriter, r *http.Request) {
	wk, ok := p.week(w, r)
	if !ok {
		return
	}
	d := previewData{Page: p.opt.Page, Week: wk.String(), Editor: Editor(r), Flash: r.URL.Query().Get("done"), Error: r.URL.Query().Get("error")}
	v, err := p.opt.Desk.Preview(r.Context(), wk)
	switch {
	case err == nil:
		d.View = v
		for _, c := range v.Checks {
			if !c.OK {
				d.Failed++
			}
		}
	case errors.Is(err, newsletter.ErrNotFound), errors.Is(err, weekly.ErrNoStories):
		d.Missing = err.Error()
		d.View.Edits = v.Edits
	default:
		p.opt.Logger.Error("web: preview", "week", wk.String(), "err", err)
		http.Error(w, "500 internal error: the draft could not be built (see the log)", http.StatusInternalServerError)
		return
	}
	renderPage(w, p.page, http.StatusOK, d, p.opt.Logger, "Content-Security-Policy", previewCSP)
}

// darkMedia turns the email's dark-mode rules on unconditionally, to simulate a dark client.
var darkMedia = regexp.MustCompile(`@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)`)

// email serves the sample subscriber's HTML for the preview frames (?dark=1 simulates dark mode).
func (p *Preview) email(w http.ResponseWriter, r *http.Request) {
	wk, ok := p.week(w, r)
	if !ok {
		return
	}
	v, err := p.opt.Desk.Preview(r.Context(), wk)
	if err != nil {
		http.Error(w, "404 page not found: "+err.Error(), http.StatusNotFound)
		return
	}
	body := v.Message.HTML
	if r.URL.Query().Get("dark") == "1" {
		body = darkMedia.ReplaceAllString(body, "@media all")
	}
	w.Header().Set("Content-Security-Policy", emailCSP)
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(body))
}

// done redirects back to the preview (POST-redirect-GET) with a message or an error.
func (p *Preview) done(w http.ResponseWriter, r *http.Request, wk newsletter.Week, msg string, err error) {
	target := "/preview/" + wk.String()
	switch {
	case err == nil:
		target += "?done=" + url.QueryEscape(msg)
	case errors.Is(err, editorial.ErrInvalid), errors.Is(err, editorial.ErrFrozen):
		target += "?error=" + url.QueryEscape(err.Error())
	default:
		p.opt.Logger.Error("web: preview action", "week", wk.String(), "err", err)
		target += "?error=" + url.QueryEscape("That did not work; the log says why.")
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// act serves a form's POST: it reads the week and the form, runs f and redirects back with
// f's message or error.
func (p *Preview) act(f func(r *http.Request, wk newsletter.Week) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wk, ok := p.week(w, r)
		if !ok {
			return
		}
		if err := readForm(w, r, maxBody); err != nil {
			http.Error(w, "400 bad request: the form could not be read", http.StatusBadRequest)
			return
		}
		msg, err := f(r, wk)
		p.done(w, r, wk, msg, err)
	}
}

func (p *Preview) edit(r *http.Request, wk newsletter.Week) (string, error) {
	e := newsletter.Edit{Week: wk, Editor: Editor(r), Action: r.PostForm.Get("action"), Value: r.PostForm.Get("value")}
	e.StoryID, _ = strconv.ParseInt(r.PostForm.Get("story"), 10, 64) // none or not a number: 0, which CheckEdit names
	return "Saved: " + e.Action, p.opt.Desk.Edit(r.Context(), e)
}

func (p *Preview) add(r *http.Request, wk newsletter.Week) (string, error) {
	f := r.PostForm
	pos := 0
	if v := strings.TrimSpace(f.Get("position")); v != "" {
		n, err := editorial.ParsePosition(v)
		if err != nil {
			return "", err
		}
		pos = n
	}
	st, err := p.opt.Desk.AddPick(r.Context(), wk, Editor(r), editorial.Pick{
		URL: f.Get("url"), Title: f.Get("title"), Summary: f.Get("summary"),
		ImageURL: f.Get("image_url"), ImageAlt: f.Get("image_alt"), Section: f.Get("section"),
		Position: pos,
	})
	return "Added: " + st.Title, err
}

func (p *Preview) approve(r *http.Request, wk newsletter.Week) (string, error) {
	_, err := p.opt.Desk.Approve(r.Context(), wk, Editor(r))
	return "Approved: the issue is frozen and goes out at its send time; past it, within a minute while the grace period lasts.", err
}

func (p *Preview) unapprove(r *http.Request, wk newsletter.Week) (string, error) {
	_, err := p.opt.Desk.Unapprove(r.Context(), wk, Editor(r))
	return "Reopened: the issue is a draft again; approve it again for it to go out.", err
}

func (p *Preview) test(r *http.Request, wk newsletter.Week) (string, error) {
	to := r.PostForm.Get("to")
	return "Test sent to " + to, p.opt.Desk.SendTest(r.Context(), wk, Editor(r), []string{to})
}
