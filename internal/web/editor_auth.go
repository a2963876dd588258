package web

import (
	"context"
	"net/http"

	"golang.org/x/crypto/bcrypt"
)

// EditorAuth guards the editors' pages: HTTP basic auth against bcrypt hashes, or the admin
// token, as a bearer token (for scripts) or as the Basic password with any name (for a browser,
// as /admin takes it). With neither configured the pages are off (404).
type EditorAuth struct {
	Editors    map[string]string // name → bcrypt hash
	AdminToken string
}

type editorKey struct{}

// Editor returns the editor a guarded request was authenticated as.
func Editor(r *http.Request) string {
	name, _ := r.Context().Value(editorKey{}).(string)
	return name
}

// Require wraps h: requests without valid credentials get 401 and nothing else. State-changing
// requests must also come from this site (basic credentials are sent by the browser on its own,
// so a form on another site could otherwise act as the editor).
func (a EditorAuth) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.Editors) == 0 && a.AdminToken == "" {
			http.NotFound(w, r)
			return
		}
		name := ""
		user, pass, basic := r.BasicAuth()
		if adminAuth(r, a.AdminToken) {
			name = "admin"
		} else if basic {
			hash, known := a.Editors[user]
			if !known {
				// Spend the same time on an unknown name, so names cannot be probed.
				hash = "$2a$10$QtMu36mbX2pOvSmiFkYDx.XmRUd.9EbIvf.Eft.7a6OQogo9EBjcu"
			}
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil && known {
				name = user
			}
		}
		if name == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="newsletter editors", charset="UTF-8"`)
			http.Error(w, "401 unauthorized: editors sign in with their name and password (or any name and the admin token); scripts send Authorization: Bearer <NEWSLETTER_ADMIN_TOKEN>", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r, "") {
			http.Error(w, "403 forbidden: cross-site request", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), editorKey{}, name)))
	})
}
