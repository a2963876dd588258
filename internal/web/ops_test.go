package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/store/storetest"
	"newsletter/internal/web"
)

// TestReadyzWhileAJournalHoldsSending: with an older version's damaged journal beside a
// real database, /readyz answers 503 with the public reason (not the file's path nor the
// addresses the store logs), and 200 once another process has dropped the file.
func TestReadyzWhileAJournalHoldsSending(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ready.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	var subs []newsletter.Subscriber
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		s, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: email, Status: newsletter.StatusActive}, now)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	db.Close()
	journal := path + "-transitions"
	recs := make([]storetest.JournalRecord, len(subs))
	for i, s := range subs {
		recs[i] = storetest.JournalRecord{ID: s.ID, Status: "unsubscribed", Event: "left", Source: "web",
			Hash: []byte("hash-" + s.Email), Suppress: "unsubscribed", At: now}
	}
	offsets := storetest.WriteOldJournal(t, journal, strings.Repeat("cd", 16), recs...)
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	raw[offsets[1]+12] ^= 1 // inside bob's record
	if err := os.WriteFile(journal, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The store's own report names the file and bob, so the body below must leave them out.
	if msg := db.LegacyJournal().Error(); !strings.Contains(msg, journal) || !strings.Contains(msg, subs[1].Email) {
		t.Fatalf("the store's report lacks the file or bob: %s", msg)
	}
	const reason = "sending is held; run `newsletter migrate --drop-damaged-transitions`"
	srv := httptest.NewServer(web.Handler(web.Readiness{Check: db.Ready, Held: func() string {
		if errors.Is(db.SendingHeld(), store.ErrJournalDamaged) {
			return reason
		}
		return ""
	}}))
	t.Cleanup(srv.Close)

	steps := []struct {
		name     string
		before   func(t *testing.T)
		wantCode int
		wantBody string
	}{
		{"damaged journal", func(*testing.T) {}, http.StatusServiceUnavailable, "not ready: " + reason + "\n"},
		{"polled again", func(*testing.T) {}, http.StatusServiceUnavailable, "not ready: " + reason + "\n"},
		{"dropped by another process", func(t *testing.T) {
			// As `newsletter migrate --drop-damaged-transitions` does while serve runs.
			other, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := other.DropLegacyJournal(); err != nil {
				t.Fatal(err)
			}
		}, http.StatusOK, "ready\n"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.before(t)
			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != st.wantCode || string(body) != st.wantBody {
				t.Fatalf("GET /readyz: %d %q, want %d %q", resp.StatusCode, body, st.wantCode, st.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
		})
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal after the drop: %v", err)
	}
}
