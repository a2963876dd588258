// Package web serves the HTTP endpoints: the one-click unsubscribe of RFC 8058 (GET shows a
// confirmation button and changes nothing, POST acts), sign-up, the public archive, the
// editors' preview, the admin pages and API, and the health and readiness checks.
package web

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/token"
)

// Subscribers is the part of the list the handlers need.
type Subscribers interface {
	SubscriberByID(ctx context.Context, id int64) (newsletter.Subscriber, error)
	// ChangeStatus moves sub, as SubscriberByID returned it, to st and reports whether
	// its status changed; newsletter.ErrRefused when sub may not move there (a bounced or
	// complained address coming back), with nothing written.
	ChangeStatus(ctx context.Context, sub newsletter.Subscriber, st newsletter.SubscriberStatus, now time.Time) (bool, error)
}

// Page is the publication's look for the pages served here.
type Page struct {
	Publication string
	WebsiteURL  string
	Accent      string
	Lang        string
}

// PageFor is the look of the pages of pub: its name, website, accent and language.
func PageFor(pub newsletter.Publication) Page {
	return Page{Publication: pub.Name, WebsiteURL: pub.WebsiteURL, Accent: pub.AccentColor, Lang: pub.Language}
}

// darkPage is the background of the pages' content in dark mode (main).
const darkPage = "#1e1e1e"

// AccentOnDark is Accent lightened until it keeps 4.5:1 (WCAG AA) on the dark page, for
// links and labels in dark mode; Accent itself when it is not a #rgb or #rrggbb colour.
func (p Page) AccentOnDark() string {
	rgb, ok := parseHex(p.Accent)
	if !ok {
		return p.Accent
	}
	bg, _ := parseHex(darkPage)
	for f := 0.0; f <= 1; f += 0.05 {
		var c [3]float64
		for i := range c {
			c[i] = rgb[i] + (255-rgb[i])*f
		}
		if contrast(c, bg) >= 4.5 || f >= 0.999 {
			return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c[0])), int(math.Round(c[1])), int(math.Round(c[2])))
		}
	}
	return "#ffffff"
}

func parseHex(s string) ([3]float64, bool) {
	var rgb [3]float64
	h, hash := strings.CutPrefix(s, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := hex.DecodeString(h)
	if !hash || err != nil || len(v) != 3 {
		return rgb, false
	}
	for i := range rgb {
		rgb[i] = float64(v[i])
	}
	return rgb, true
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l float64
		for i, w := range []float64{0.2126, 0.7152, 0.0722} {
			v := c[i] / 255
			if v <= 0.03928 {
				v /= 12.92
			} else {
				v = math.Pow((v+0.055)/1.055, 2.4)
			}
			l += w * v
		}
		return l
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Site is what every group of pages shares.
type Site struct {
	Templates fs.FS // holds the web/*.html.tmpl pages
	Page      Page
	Tokens    *token.Signer // signs the links' and forms' tokens
	Now       func() time.Time
	Logger    *slog.Logger
}

// parse fills in the defaults of what was left unset and parses the page template web/name.
func (s *Site) parse(name string, funcs template.FuncMap) (*template.Template, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.Logger = cmp.Or(s.Logger, slog.New(slog.DiscardHandler))
	s.Page.Lang = cmp.Or(s.Page.Lang, "en")
	return template.New(name).Funcs(funcs).ParseFS(s.Templates, "web/"+name)
}

// Options configure a Server.
type Options struct {
	Site
	Subscribers Subscribers
}

// Server holds the handlers' dependencies.
type Server struct {
	opt Options
	pages
}

// maxBody caps request bodies; a one-click POST is a few dozen bytes.
const maxBody = 64 << 10

// New parses the page templates and returns a Server.
func New(opt Options) (*Server, error) {
	page, err := opt.parse("unsubscribe.html.tmpl", nil)
	if err != nil {
		return nil, err
	}
	return &Server{opt: opt, pages: pages{page, opt.Page, opt.Logger}}, nil
}

// Registrar is a group of routes; each feature (unsubscribe, sign-up, admin, preview, archive)
// registers its own patterns on the server's one route table.
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Handler builds the server's route table from the groups, with /healthz, and wraps it with
// the security headers every page gets.
func Handler(groups ...Registrar) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	for _, g := range groups {
		g.Register(mux)
	}
	return secureHeaders(mux)
}

// Register adds the unsubscribe routes.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+newsletter.UnsubscribePath+"{token}", s.showUnsubscribe)
	mux.HandleFunc("POST "+newsletter.UnsubscribePath+"{token}", s.postUnsubscribe)
}

// showUnsubscribe answers GET (and HEAD): a confirmation form, never a state change,
// because mail scanners and previewers fetch every link in a message.
func (s *Server) showUnsubscribe(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.subscriber(w, r)
	if !ok {
		return
	}
	state := "confirm"
	if sub.Status == newsletter.StatusUnsubscribed {
		state = "unsubscribed"
	}
	s.renderState(w, state, sub.Email)
}

// postUnsubscribe acts on the RFC 8058 one-click body (List-Unsubscribe=One-Click, sent
// urlencoded or multipart without cookies) and on the page's own buttons. It answers 200
// without a redirect (RFC 8058 §3.1) and is idempotent.
func (s *Server) postUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxBody); err != nil {
		s.fail(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	sub, ok := s.subscriber(w, r)
	if !ok {
		return
	}
	oneClick := r.PostForm.Get("List-Unsubscribe") == "One-Click"
	switch action := r.PostForm.Get("action"); {
	case oneClick || action == "unsubscribe":
		if sub.Status == newsletter.StatusBounced {
			// Mailed nothing already; made "unsubscribed", the page's resubscribe would bring it back.
			s.renderState(w, "unsubscribed", sub.Email)
			return
		}
		changed, err := s.opt.Subscribers.ChangeStatus(r.Context(), sub, newsletter.StatusUnsubscribed, s.opt.Now())
		if err != nil {
			s.internal(w, "unsubscribe", err)
			return
		}
		s.opt.Logger.Info("unsubscribed", "subscriber_id", sub.ID, "one_click", oneClick, "changed", changed)
		s.renderState(w, "unsubscribed", sub.Email)
	case action == "resubscribe":
		// ChangeStatus refuses anyone who did not leave by choice (bounced, complained).
		_, err := s.opt.Subscribers.ChangeStatus(r.Context(), sub, newsletter.StatusActive, s.opt.Now())
		if errors.Is(err, newsletter.ErrRefused) {
			s.fail(w, http.StatusConflict, "This address cannot be resubscribed from here. Please sign up again on our website.")
			return
		}
		if err != nil {
			s.internal(w, "resubscribe", err)
			return
		}
		s.opt.Logger.Info("resubscribed", "subscriber_id", sub.ID)
		s.renderState(w, "resubscribed", sub.Email)
	default:
		s.fail(w, http.StatusBadRequest, "Expected List-Unsubscribe=One-Click.")
	}
}

// readForm reads an urlencoded or multipart body of at most limit bytes into r.PostForm.
func readForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == typeMultipart {
		return r.ParseMultipartForm(limit)
	}
	return r.ParseForm()
}

// subscriber resolves the path token to its subscriber, answering 404 for anything that
// does not check out, so a guessed or altered token reveals nothing and changes nothing.
func (s *Server) subscriber(w http.ResponseWriter, r *http.Request) (newsletter.Subscriber, bool) {
	tok := r.PathValue("token")
	id, err := s.opt.Tokens.ID(tok)
	if err == nil {
		var sub newsletter.Subscriber
		sub, err = s.opt.Subscribers.SubscriberByID(r.Context(), id)
		if err == nil && s.opt.Tokens.Check(token.Unsubscribe, tok, sub.ID, sub.Email) {
			return sub, true
		}
		if err != nil && !errors.Is(err, newsletter.ErrNotFound) {
			s.internal(w, "lookup", err)
			return newsletter.Subscriber{}, false
		}
	}
	s.fail(w, http.StatusNotFound, "This unsubscribe link is not valid. If you copied it from an email, please check that it is complete.")
	return newsletter.Subscriber{}, false
}

// pageData is what the unsubscribe and sign-up pages show.
type pageData struct {
	Page
	Title     string
	State     string // unsubscribe: confirm, unsubscribed, resubscribed; sign-up: form, sent, confirm, confirmed; error
	Email     string
	Name      string
	FormToken string
	Message   string
}

// pages renders the unsubscribe or the sign-up template in the publication's look.
type pages struct {
	page   *template.Template
	look   Page
	logger *slog.Logger
}

func (p pages) render(w http.ResponseWriter, code int, data pageData) {
	data.Page = p.look
	renderPage(w, p.page, code, data, p.logger)
}

func (p pages) fail(w http.ResponseWriter, code int, msg string) {
	p.render(w, code, pageData{Title: http.StatusText(code), State: "error", Message: msg})
}

// internal answers an unexpected error of what: 503 when the database was busy, 500 otherwise.
func (p pages) internal(w http.ResponseWriter, what string, err error) {
	if busy(w, err) {
		p.logger.Warn("web: "+what+": database busy", "err", err)
		p.fail(w, http.StatusServiceUnavailable, busyMessage)
		return
	}
	p.logger.Error("web: "+what, "err", err)
	p.fail(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again in a minute.")
}

// busyMessage is the page's text for a 503 from a busy database.
const busyMessage = "We are busy just now and nothing was changed. Please try again in a moment."

// busy reports whether err is a write that did not get the database's lock in time (nothing
// was written) and, if so, sets the Retry-After header of the 503 the caller answers.
func busy(w http.ResponseWriter, err error) bool {
	if !errors.Is(err, newsletter.ErrBusy) {
		return false
	}
	w.Header().Set("Retry-After", "1")
	return true
}

// renderState answers 200 with the page of a subscriber's state.
func (s *Server) renderState(w http.ResponseWriter, state, email string) {
	title := map[string]string{"confirm": "Unsubscribe?", "unsubscribed": "You are unsubscribed", "resubscribed": "You are subscribed again"}[state]
	s.render(w, http.StatusOK, pageData{Title: title, State: state, Email: email})
}

func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
