package web

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The request bodies the admin routes take.
const (
	typeJSON      = "application/json"
	typeCSV       = "text/csv"
	typeMultipart = "multipart/form-data"
)

// origin is the scheme and host of an absolute URL, as a browser sends it in Origin;
// "" when u is not one.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return strings.ToLower(p.Scheme + "://" + p.Host)
}

// sameOrigin refuses requests a browser makes on another site's behalf: browsers send
// Sec-Fetch-Site and Origin on such requests, scripts (curl, a cron job) send neither.
// The Origin may name the request's own Host or, behind a proxy that rewrites Host,
// trusted (base_url's origin; "" for none).
func sameOrigin(r *http.Request, trusted string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || (trusted != "" && strings.EqualFold(o, trusted))
}

// adminAuth reports whether r carries tok, as a bearer token or as the Basic password with
// any user name, compared in constant time; never for an empty tok.
func adminAuth(r *http.Request, tok string) bool {
	if tok == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		_, got, ok = r.BasicAuth()
	}
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1
}

// bodyTypeIn reports whether r's Content-Type is one of types, parameters aside.
func bodyTypeIn(r *http.Request, types []string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && slices.Contains(types, mt)
}

// guarded refuses, before h runs, a cross-site request (403) and, when types are given,
// a body of another type (415). A browser sends Basic credentials along with any page's
// request, and a form or a fetch without preflight can only send text/plain, urlencoded or
// multipart bodies, so both checks are what keeps another site from using the admin's login.
func (a *Admin) guarded(h http.HandlerFunc, types ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r, a.origin) {
			a.writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-site request refused"})
			return
		}
		if len(types) > 0 && !bodyTypeIn(r, types) {
			a.writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be " + strings.Join(types, " or ")})
			return
		}
		h(w, r)
	}
}
