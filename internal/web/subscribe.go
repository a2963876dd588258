package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/token"
)

// SignUps is the part of the roster service the sign-up pages need.
type SignUps interface {
	SignUp(ctx context.Context, req roster.SignUp) (roster.SignUpOutcome, error)
	ConfirmTarget(ctx context.Context, tok string) (newsletter.Subscriber, error)
	Confirm(ctx context.Context, tok, ip string) (newsletter.Subscriber, error)
}

// SubscribeOptions configure the sign-up pages.
type SubscribeOptions struct {
	Site
	Roster SignUps
	// Per-IP and per-address sign-up limits per hour; 0 turns one off.
	PerIP, PerAddress int
}

// Subscribe serves GET/POST /subscribe and GET/POST /confirm/{token}.
type Subscribe struct {
	opt SubscribeOptions
	pages
	perIP, perEmail *RateLimiter
}

const (
	maxSignUpBody = 8 << 10       // a sign-up POST: two short fields and a token
	formMaxAge    = 2 * time.Hour // how long a served form can be posted
)

// NewSubscribe parses the page template.
func NewSubscribe(opt SubscribeOptions) (*Subscribe, error) {
	page, err := opt.parse("subscribe.html.tmpl", nil)
	if err != nil {
		return nil, err
	}
	return &Subscribe{
		opt: opt, pages: pages{page, opt.Page, opt.Logger},
		perIP:    NewRateLimiter(opt.PerIP, time.Hour, opt.Now),
		perEmail: NewRateLimiter(opt.PerAddress, time.Hour, opt.Now),
	}, nil
}

// Register adds the sign-up routes.
func (s *Subscribe) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /subscribe", s.showForm)
	mux.HandleFunc("POST /subscribe", s.postForm)
	mux.HandleFunc("GET /confirm/{token}", s.showConfirm)
	mux.HandleFunc("POST /confirm/{token}", s.postConfirm)
}

func (s *Subscribe) showForm(w http.ResponseWriter, r *http.Request) {
	s.form(w, http.StatusOK, pageData{})
}

// form answers code with the sign-up form, freshly signed, showing d's input and message.
func (s *Subscribe) form(w http.ResponseWriter, code int, d pageData) {
	d.Title, d.State, d.FormToken = "Subscribe", "form", s.opt.Tokens.MakeForm(token.PublicForm, s.opt.Now())
	s.render(w, code, d)
}

// postForm stores a sign-up. Whatever the address's standing, a valid request gets the
// same "check your inbox" page, so the form cannot be used to learn who is subscribed.
func (s *Subscribe) postForm(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxSignUpBody); err != nil {
		s.fail(w, http.StatusBadRequest, "The form could not be read. Please reload the page and try again.")
		return
	}
	ip := clientIP(r)
	if !s.perIP.Allow(ip) {
		s.opt.Logger.Warn("sign-up rate limited", "by", "ip", "ip", ip)
		s.tooMany(w)
		return
	}
	if !sameOrigin(r, "") || s.opt.Tokens.CheckForm(token.PublicForm, r.PostForm.Get("form_token"), s.opt.Now(), formMaxAge) != nil {
		s.fail(w, http.StatusForbidden, "This form has expired or did not come from our site. Please reload the page and try again.")
		return
	}
	email, name := r.PostForm.Get("email"), r.PostForm.Get("name")
	// The honeypot: a field people never see. Bots that fill every field get the
	// ordinary answer and nothing happens.
	if r.PostForm.Get("website") != "" {
		s.opt.Logger.Info("sign-up honeypot", "ip", ip)
		s.render(w, http.StatusOK, pageData{Title: "Check your inbox", State: "sent"})
		return
	}
	addr, err := roster.Normalize(email)
	if err != nil || len(name) > 1000 {
		msg := "Please enter a valid email address, like name@example.org."
		if err == nil {
			msg = "That name is too long."
		}
		s.form(w, http.StatusBadRequest, pageData{Email: clip(email, 254, ""), Name: clip(name, 254, ""), Message: msg})
		return
	}
	if !s.perEmail.Allow(strings.ToLower(addr)) {
		s.opt.Logger.Warn("sign-up rate limited", "by", "address", "ip", ip)
		s.tooMany(w)
		return
	}
	outcome, err := s.opt.Roster.SignUp(r.Context(), roster.SignUp{Email: addr, Name: name, IP: ip})
	if err != nil {
		s.opt.Logger.Error("web: sign-up", "err", err)
		busy(w, err)
		s.fail(w, http.StatusServiceUnavailable, "We could not send the confirmation email just now. Please try again in a few minutes.")
		return
	}
	s.opt.Logger.Info("sign-up", "outcome", string(outcome), "ip", ip)
	s.render(w, http.StatusOK, pageData{Title: "Check your inbox", State: "sent"})
}

// showConfirm answers GET with a button: link scanners fetch every URL in a message,
// so a GET must never confirm anyone.
func (s *Subscribe) showConfirm(w http.ResponseWriter, r *http.Request) {
	sub, err := s.opt.Roster.ConfirmTarget(r.Context(), r.PathValue("token"))
	if !s.target(w, err) {
		return
	}
	if sub.Status == newsletter.StatusActive {
		s.render(w, http.StatusOK, pageData{Title: "You are subscribed", State: "confirmed", Email: sub.Email})
		return
	}
	s.render(w, http.StatusOK, pageData{Title: "Confirm your subscription", State: "confirm", Email: sub.Email})
}

func (s *Subscribe) postConfirm(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r, maxSignUpBody); err != nil {
		s.fail(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	sub, err := s.opt.Roster.Confirm(r.Context(), r.PathValue("token"), clientIP(r))
	if !s.target(w, err) {
		return
	}
	s.opt.Logger.Info("confirmed", "subscriber_id", sub.ID)
	s.render(w, http.StatusOK, pageData{Title: "You are subscribed", State: "confirmed", Email: sub.Email})
}

// target answers a confirmation link that does not check out and reports whether it did.
func (s *Subscribe) target(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, roster.ErrLinkExpired):
		s.fail(w, http.StatusGone, "This confirmation link has expired. Please sign up again to get a new one.")
	case errors.Is(err, roster.ErrLinkInvalid):
		s.fail(w, http.StatusNotFound, "This confirmation link is not valid. If you copied it from an email, please check that it is complete.")
	default:
		s.internal(w, "confirm", err)
	}
	return false
}

func (s *Subscribe) tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "3600")
	s.fail(w, http.StatusTooManyRequests, "Too many sign-up attempts. Please try again later.")
}

// renderPage answers code with t executed on data, setting the header pairs kv first; a
// template that fails answers 500 without them.
func renderPage(w http.ResponseWriter, t *template.Template, code int, data any, logger *slog.Logger, kv ...string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		logger.Error("web: template", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	for i := 0; i+1 < len(kv); i += 2 {
		w.Header().Set(kv[i], kv[i+1])
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// clientIP is the peer address. X-Forwarded-For is not trusted: anyone can send it,
// and trusting it would let one client pose as many to the rate limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clip keeps request text echoed back short and valid UTF-8: at most n bytes of s, then
// more when it was cut. A JSON decoder's error, for one, quotes the request's unknown field.
func clip(s string, n int, more string) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "")
	}
	return strings.ToValidUTF8(s[:n], "") + more
}
