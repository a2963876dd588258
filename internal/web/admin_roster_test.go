package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/token"
	"newsletter/internal/web"
)

// The roster service is what the handlers are given in production: it must keep matching.
var (
	_ web.AdminRoster = (*roster.Service)(nil)
	_ web.SignUps     = (*roster.Service)(nil)
	_ web.Subscribers = (*roster.Service)(nil)
)

// failingRoster answers every call with err, as the roster does when its database fails;
// a real store cannot be made to fail on cue.
type failingRoster struct{ err error }

func (f failingRoster) List(context.Context, roster.Filter) ([]newsletter.Subscriber, int, error) {
	return nil, 0, f.err
}

func (f failingRoster) Show(context.Context, string) (roster.Record, error) {
	return roster.Record{}, f.err
}

func (f failingRoster) Stats(context.Context, int) (roster.Stats, error) {
	return roster.Stats{}, f.err
}

func (f failingRoster) Add(context.Context, roster.AddRequest) (newsletter.Subscriber, bool, error) {
	return newsletter.Subscriber{}, false, f.err
}

func (f failingRoster) Remove(context.Context, string, string) (newsletter.Subscriber, bool, error) {
	return newsletter.Subscriber{}, false, f.err
}

func (f failingRoster) Erase(context.Context, string) (bool, error) { return false, f.err }

func (f failingRoster) Import(context.Context, io.Reader, roster.ImportOptions) (roster.ImportReport, error) {
	return roster.ImportReport{}, f.err
}

func (f failingRoster) Export(context.Context, io.Writer, roster.Filter) (int, error) {
	return 0, f.err
}

// TestAPIAnswersRosterErrors: each kind of failure gets its status, a busy database a
// Retry-After, and only an unexpected error is logged, without its text reaching the client.
func TestAPIAnswersRosterErrors(t *testing.T) {
	internal := errors.New("disk I/O error at page 7")
	requests := []struct{ method, path string }{
		{"GET", "/api/stats"},
		{"GET", "/api/subscribers"},
		{"GET", "/api/subscribers/a@example.com"},
		{"DELETE", "/api/subscribers/a@example.com"},
		{"DELETE", "/api/subscribers/a@example.com?erase=true"},
	}
	for _, tc := range []struct {
		name       string
		err        error
		code       int
		retryAfter bool
		logged     bool
	}{
		{"busy", fmt.Errorf("store: %w", newsletter.ErrBusy), http.StatusServiceUnavailable, true, false},
		{"bad input", fmt.Errorf("%w: no @", roster.ErrBadInput), http.StatusBadRequest, false, false},
		{"internal", internal, http.StatusInternalServerError, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			signer, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
			if err != nil {
				t.Fatal(err)
			}
			admin, err := web.NewAdmin(web.AdminOptions{
				Site: web.Site{Templates: os.DirFS(filepath.Join("..", "..", "templates")), Tokens: signer,
					Logger: slog.New(slog.NewTextHandler(&logs, nil))},
				Roster: failingRoster{tc.err}, Token: adminToken,
			})
			if err != nil {
				t.Fatal(err)
			}
			h := web.Handler(admin)
			for _, rq := range requests {
				logs.Reset()
				req := httptest.NewRequest(rq.method, rq.path, nil)
				req.Header.Set("Authorization", "Bearer "+adminToken)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != tc.code {
					t.Errorf("%s %s = %d %s; want %d", rq.method, rq.path, w.Code, w.Body, tc.code)
				}
				if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
					t.Errorf("%s %s: Retry-After %q; want one: %v", rq.method, rq.path, w.Header().Get("Retry-After"), tc.retryAfter)
				}
				if strings.Contains(w.Body.String(), "page 7") {
					t.Errorf("%s %s: the body shows the internal error: %s", rq.method, rq.path, w.Body)
				}
				if got := strings.Contains(logs.String(), "page 7"); got != tc.logged {
					t.Errorf("%s %s: logged %v, want %v: %q", rq.method, rq.path, got, tc.logged, logs.String())
				}
			}
		})
	}
}
