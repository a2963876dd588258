package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Readiness answers GET /readyz: the database is reachable and fully migrated, and nothing
// holds sending back.
type Readiness struct {
	Check func(ctx context.Context) error
	// Held returns one sentence fit for anyone who polls (no paths, no
	// addresses) saying what holds sending back and how to clear it, or "" when nothing
	// does. It is called on every poll, so it must be cheap.
	Held   func() string
	Logger *slog.Logger
}

// Register adds GET /readyz.
func (rd Readiness) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := rd.Check(ctx); err != nil {
			if rd.Logger != nil {
				rd.Logger.Error("not ready", "err", err)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		// Not logged here: whatever holds sending was logged in full when it was found,
		// and a probe polling every few seconds would repeat it without end.
		if reason := rd.Held(); reason != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + reason + "\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
}
