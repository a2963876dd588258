package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/token"
)

// AdminRoster is the part of the list's rules that the operator pages and the API use: reading
// the list, changing one subscriber, and the list as CSV.
type AdminRoster interface {
	List(ctx context.Context, f roster.Filter) ([]newsletter.Subscriber, int, error)
	Show(ctx context.Context, email string) (roster.Record, error)
	Stats(ctx context.Context, weeks int) (roster.Stats, error)
	Add(ctx context.Context, req roster.AddRequest) (sub newsletter.Subscriber, created bool, err error)
	Remove(ctx context.Context, email, source string) (newsletter.Subscriber, bool, error)
	Erase(ctx context.Context, email string) (existed bool, err error)
	Import(ctx context.Context, r io.Reader, opt roster.ImportOptions) (roster.ImportReport, error)
	Export(ctx context.Context, w io.Writer, f roster.Filter) (int, error)
}

// AdminOptions configure the operator pages and the JSON API.
type AdminOptions struct {
	Site
	Roster AdminRoster
	Token  string // NEWSLETTER_ADMIN_TOKEN; empty turns /admin and /api off (404)
	// BaseURL is the address the pages are served at (base_url); a browser's Origin may
	// name it when a proxy in front rewrites the Host header.
	BaseURL   string
	MaxImport int64 // largest CSV accepted, bytes; default 64 MiB
}

// Admin serves /admin (HTML) and /api/ (JSON), both behind the admin token.
type Admin struct {
	opt    AdminOptions
	page   *template.Template
	origin string // BaseURL's origin
}

// NewAdmin parses the admin template.
func NewAdmin(opt AdminOptions) (*Admin, error) {
	if opt.MaxImport <= 0 {
		opt.MaxImport = 64 << 20
	}
	page, err := opt.parse("admin.html.tmpl", template.FuncMap{
		"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	})
	if err != nil {
		return nil, err
	}
	return &Admin{opt: opt, page: page, origin: origin(opt.BaseURL)}, nil
}

// Register adds /admin and /api/ routes, each behind RequireAdmin. The API and the
// admin's POST are also guarded against other sites and bodies of the wrong type.
func (a *Admin) Register(mux *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /admin":                      a.dashboard,
		"GET /admin/subscriber":           a.subscriberPage,
		"POST /admin/import":              a.importPage,
		"GET /admin/export.csv":           a.apiExport,
		"GET /api/subscribers":            a.guarded(a.apiList),
		"POST /api/subscribers":           a.guarded(a.apiAdd, typeJSON),
		"GET /api/subscribers/{email}":    a.guarded(a.apiShow),
		"DELETE /api/subscribers/{email}": a.guarded(a.apiRemove),
		"POST /api/subscribers/import":    a.guarded(a.apiImport, typeCSV, typeMultipart),
		"GET /api/subscribers/export":     a.guarded(a.apiExport),
		"GET /api/stats":                  a.guarded(a.apiStats),
	} {
		mux.Handle(pattern, RequireAdmin(a.opt.Token, h))
	}
}

// RequireAdmin passes requests with "Authorization: Bearer TOKEN" or, so that a browser can
// open the /admin pages, HTTP Basic auth with the token as the password (any user name).
// An empty token turns the endpoints off (404).
func RequireAdmin(tok string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok == "" {
			http.NotFound(w, r)
			return
		}
		if adminAuth(r, tok) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("WWW-Authenticate", `Bearer realm="newsletter"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="newsletter admin", charset="UTF-8"`)
		http.Error(w, "401 unauthorized: send Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN> (or Basic auth with the token as password)", http.StatusUnauthorized)
	})
}

const (
	adminPageSize = 50
	trendWeeks    = 12 // weeks in the dashboard's and the API's trend
)

type adminPage struct {
	Page
	Title     string
	State     string // dashboard, subscriber, import, error
	FormToken string
	Message   string

	Stats    roster.Stats
	Statuses []newsletter.SubscriberStatus
	Filter   roster.Filter
	Subs     []newsletter.Subscriber
	Total    int
	Prev     string // query strings of the neighbouring pages, "" when none
	Next     string
	Export   string

	Record roster.Record
	Report roster.ImportReport
	DryRun bool
}

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := roster.Filter{Status: q.Get("status"), Search: q.Get("search"), Limit: adminPageSize}
	if off := q.Get("offset"); off != "" {
		n, err := strconv.Atoi(off)
		if err != nil || n < 0 {
			a.fail(w, http.StatusBadRequest, "offset must be a non-negative number")
			return
		}
		f.Offset = n
	}
	subs, total, err := a.opt.Roster.List(r.Context(), f)
	if err != nil {
		a.failErr(w, err)
		return
	}
	stats, err := a.opt.Roster.Stats(r.Context(), trendWeeks)
	if err != nil {
		a.failErr(w, err)
		return
	}
	p := adminPage{Title: "Subscribers", State: "dashboard", Stats: stats, Statuses: roster.Statuses,
		Filter: f, Subs: subs, Total: total, Export: pageQuery(f, -1)}
	if f.Offset > 0 {
		p.Prev = pageQuery(f, max(0, f.Offset-adminPageSize))
	}
	if f.Offset+len(subs) < total {
		p.Next = pageQuery(f, f.Offset+adminPageSize)
	}
	a.render(w, http.StatusOK, p)
}

// pageQuery is the query string for f at offset (none when offset < 0).
func pageQuery(f roster.Filter, offset int) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "search": f.Search} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	return v.Encode()
}

func (a *Admin) subscriberPage(w http.ResponseWriter, r *http.Request) {
	rec, err := a.opt.Roster.Show(r.Context(), r.URL.Query().Get("email"))
	if err != nil && !(errors.Is(err, roster.ErrSuppressed) && rec.Suppressed != "") {
		a.failErr(w, err)
		return
	}
	a.render(w, http.StatusOK, adminPage{Title: "Subscriber", State: "subscriber", Record: rec, Message: r.URL.Query().Get("email")})
}

// importPage takes a CSV upload (multipart, field "file") and shows the row report.
// Basic-auth credentials ride along on any request a browser makes, so the form is
// also checked for a same-origin post and a signed form token (CSRF).
func (a *Admin) importPage(w http.ResponseWriter, r *http.Request) {
	allowLongUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, a.opt.MaxImport+64<<10)
	if !sameOrigin(r, a.origin) {
		a.fail(w, http.StatusForbidden, "cross-site form post refused")
		return
	}
	if !bodyTypeIn(r, []string{typeMultipart}) {
		a.fail(w, http.StatusUnsupportedMediaType, "want a multipart/form-data upload with a file field")
		return
	}
	part, fields, err := upload(r)
	if err != nil {
		a.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if a.opt.Tokens.CheckForm(token.AdminForm, fields["form_token"], a.opt.Now(), 12*time.Hour) != nil {
		a.fail(w, http.StatusForbidden, "the form has expired; reload the page and upload again")
		return
	}
	opt := roster.ImportOptions{DryRun: fields["dry_run"] != "", Resubscribe: fields["resubscribe"] != "", Source: "admin"}
	rep, err := a.opt.Roster.Import(r.Context(), part, opt)
	if err != nil {
		a.failErr(w, err)
		return
	}
	a.opt.Logger.Info("admin import", "added", rep.Added, "updated", rep.Updated, "bad_rows", rep.BadRows, "dry_run", opt.DryRun)
	a.render(w, http.StatusOK, adminPage{Title: "Import report", State: "import", Report: rep, DryRun: opt.DryRun})
}

func (a *Admin) fail(w http.ResponseWriter, code int, msg string) {
	a.render(w, code, adminPage{Title: http.StatusText(code), State: "error", Message: msg})
}

func (a *Admin) failErr(w http.ResponseWriter, err error) {
	code, msg := a.errorStatus(w, err, "web: admin")
	a.fail(w, code, msg)
}

func (a *Admin) render(w http.ResponseWriter, code int, p adminPage) {
	p.Page = a.opt.Page
	p.FormToken = a.opt.Tokens.MakeForm(token.AdminForm, a.opt.Now())
	renderPage(w, a.page, code, p, a.opt.Logger)
}

// errorStatus maps a service error to an HTTP status and a message safe to show, logging
// an internal error as what and setting Retry-After for a busy database.
func (a *Admin) errorStatus(w http.ResponseWriter, err error, what string) (int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, roster.ErrBadInput):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, roster.ErrSuppressed):
		return http.StatusConflict, err.Error()
	case errors.Is(err, newsletter.ErrNotFound):
		return http.StatusNotFound, "no such subscriber"
	case busy(w, err):
		return http.StatusServiceUnavailable, "the database is busy and nothing was changed; try again in a moment"
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", mbe.Limit)
	}
	a.opt.Logger.Error(what, "err", err)
	return http.StatusInternalServerError, "internal error; see the server log"
}
