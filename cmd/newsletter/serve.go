package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"newsletter/internal/web"
	"newsletter/templates"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "serve", "", "Serve the unsubscribe pages and /healthz on http_addr until interrupted.")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("serve", pos); err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	sg, err := a.signer()
	if err != nil {
		return err
	}
	page := web.Page{
		Publication: a.cfg.Publication.Name,
		WebsiteURL:  a.cfg.Publication.WebsiteURL,
		Accent:      a.cfg.Publication.AccentColor,
		Lang:        a.cfg.Publication.Language,
	}
	// The roster service puts one-click unsubscribes on the suppression list and the consent log.
	rs, subscriberGroups, err := a.subscriberRoutes(sg, page)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Options{
		Subscribers: rs,
		Tokens:      sg,
		Templates:   templates.Web,
		Page:        page,
		Now:         a.now,
		Logger:      a.logger,
	})
	if err != nil {
		return err
	}
	// The editors' preview (behind editor auth) and the public archive of sent issues.
	editorialGroups, err := a.editorialRoutes()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
	}
	hs := &http.Server{
		Handler:           web.Handler(append(append([]web.Registrar{srv}, subscriberGroups...), editorialGroups...)...),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Fprintf(e.stdout, "Listening on http://%s (unsubscribe links use %s)\n", ln.Addr(), a.cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(e.stdout, "Stopped.")
	return nil
}
