package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long requests in flight get to finish once serving stops.
const shutdownGrace = 10 * time.Second

// Serve answers h on ln until ctx is done, then shuts down gracefully; it returns nil after
// a requested stop and the server's error otherwise. The timeouts bound what a slow or
// hostile client can hold: headers, bodies, idle keep-alive connections.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

// Route is one pattern and its handler as a route group, for a handler built elsewhere.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Register adds the route.
func (r Route) Register(mux *http.ServeMux) { mux.Handle(r.Pattern, r.Handler) }
