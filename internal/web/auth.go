package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireToken wraps h so that only requests with "Authorization: Bearer TOKEN" pass; an empty
// token turns the endpoints off (404), so an unconfigured install exposes nothing.
func RequireToken(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.NotFound(w, r)
			return
		}
		if !BearerMatches(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsletter"`)
			http.Error(w, "401 unauthorized: send Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// BearerMatches reports whether r carries the bearer token, compared in constant time.
func BearerMatches(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
