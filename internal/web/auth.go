package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

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
