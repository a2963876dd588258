package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Readiness answers GET /readyz: the database is reachable and fully migrated.
type Readiness struct {
	Check  func(ctx context.Context) error
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
		w.Write([]byte("ready\n"))
	})
}
