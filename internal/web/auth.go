package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// BearerMatches reports whether r carries the bearer token, compared in constant time.
func BearerMatches(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
