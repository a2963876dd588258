package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/token"
	"newsletter/internal/web"
)

// list is a database of n active subscribers behind the unsubscribe handler, wired as `serve`
// wires it (the roster service, so one-click unsubscribes also go onto the suppression list
// and the consent log), with each subscriber's unsubscribe path.
type list struct {
	path    string
	db      *store.DB
	handler http.Handler
	paths   []string
	ids     []int64
}

func newList(tb testing.TB, n int) *list {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "list.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("reader%07d@example.com", i), Status: newsletter.StatusActive}
	}
	if _, err := db.ImportSubscribers(ctx, func(yield func(newsletter.Subscriber) error) error {
		for _, r := range rows {
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}, store.ImportOptions{}, now); err != nil {
		tb.Fatal(err)
	}
	sg, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		tb.Fatal(err)
	}
	l := &list{path: path, db: db}
	if err := db.EachSubscriber(ctx, store.SubscriberFilter{}, func(s newsletter.Subscriber) error {
		l.paths = append(l.paths, "/unsubscribe/"+sg.Make(token.Unsubscribe, s.ID, s.Email))
		l.ids = append(l.ids, s.ID)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	rs := roster.New(roster.Options{Store: db, Tokens: sg, Now: func() time.Time { return now }})
	s, err := web.New(web.Options{
		Site: web.Site{
			Templates: os.DirFS(filepath.Join("..", "..", "templates")),
			Page:      web.Page{Publication: "The Technerdo Weekly", Accent: "#c8102e"},
			Tokens:    sg,
			Now:       func() time.Time { return now },
		},
		Subscribers: rs,
	})
	if err != nil {
		tb.Fatal(err)
	}
	l.handler = web.Handler(s)
	return l
}

func oneClick(u string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, u, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// TestOneClickBurst sends 200 one-click POSTs for 200 subscribers at once over HTTP while
// another handle on the database file records a send's ledger, as `newsletter send` does
// from its own process. Every POST must be answered 200, and every answered one must be
// found recorded (unsubscribed, suppressed, in the consent log) by a fresh handle opened
// after the server's is closed.
func TestOneClickBurst(t *testing.T) {
	ctx := context.Background()
	const burst = 200
	l := newList(t, burst+300)
	srv := httptest.NewServer(l.handler)
	t.Cleanup(srv.Close)
	is, err := l.db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: time.Now(), CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.db.EnqueueDeliveries(ctx, is.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	sender, err := store.Open(ctx, l.path)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()

	start := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, burst)
	for i := range burst {
		wg.Go(func() {
			<-start
			resp, err := http.Post(srv.URL+l.paths[i], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	var sendErr error
	wg.Go(func() {
		<-start
		var outcomes []store.Outcome
		for {
			rows, err := sender.RecordAndClaim(ctx, is.ID, outcomes, 1, time.Now())
			if err != nil || len(rows) == 0 {
				sendErr = err
				return
			}
			outcomes = []store.Outcome{{DeliveryID: rows[0].ID, Status: newsletter.DeliverySent}}
		}
	})
	close(start)
	wg.Wait()
	if sendErr != nil {
		t.Fatalf("the sender beside the burst: %v", sendErr)
	}
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("POST for subscriber %d: %d", l.ids[i], code)
		}
	}
	// Their page says so at once.
	resp, err := http.Get(srv.URL + l.paths[burst-1])
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "You are unsubscribed") {
		t.Errorf("the page of subscriber %d after their one-click POST:\n%s", l.ids[burst-1], page)
	}
	srv.Close()
	if err := sender.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(ctx, l.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, id := range l.ids {
		s, err := db.SubscriberByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		reason, err := db.SubscriberSuppression(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.ConsentLog(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for _, ev := range events {
			log = append(log, ev.Event+"/"+ev.Source)
		}
		if i >= burst {
			if s.Status != newsletter.StatusActive || reason != "" || len(log) != 1 {
				t.Fatalf("subscriber %d, not in the burst: %s, suppressed %q, log %v", id, s.Status, reason, log)
			}
			continue
		}
		if s.Status != newsletter.StatusUnsubscribed || reason != store.SuppressUnsubscribed || !strings.Contains(strings.Join(log, " "), "left/web") {
			t.Errorf("subscriber %d answered %d but has status %s, suppressed %q, log %v", id, codes[i], s.Status, reason, log)
		}
	}
}

// TestOneClickCommittedBeforeAnswer: once a one-click POST is answered, another handle on
// the database file (another process: `newsletter subscribers list`, a send) reads the
// subscriber as unsubscribed.
func TestOneClickCommittedBeforeAnswer(t *testing.T) {
	ctx := context.Background()
	l := newList(t, 10)
	srv := httptest.NewServer(l.handler)
	defer srv.Close()
	other, err := store.Open(ctx, l.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i, p := range l.paths {
		resp, err := http.Post(srv.URL+p, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %d: %d", i, resp.StatusCode)
		}
		if s, err := other.SubscriberByID(ctx, l.ids[i]); err != nil || s.Status != newsletter.StatusUnsubscribed {
			t.Fatalf("subscriber %d read by another handle right after the 200: %+v, %v", l.ids[i], s, err)
		}
	}
}

// TestOneClickWhileAnotherHoldsTheLock: another connection (an import in another process,
// say) holds the write lock for a second. The POST waits for it and is answered 200 with
// the change committed, or 503 with Retry-After and nothing changed; never a 200 for a
// change the database does not hold.
func TestOneClickWhileAnotherHoldsTheLock(t *testing.T) {
	ctx := context.Background()
	l := newList(t, 3)
	srv := httptest.NewServer(l.handler)
	defer srv.Close()
	raw, err := sql.Open("sqlite3", "file:"+l.path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		_, err := conn.ExecContext(ctx, `COMMIT`)
		released <- err
	}()
	resp, err := http.Post(srv.URL+l.paths[0], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	other, err := store.Open(ctx, l.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s, err := other.SubscriberByID(ctx, l.ids[0])
	if err != nil {
		t.Fatal(err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if s.Status != newsletter.StatusUnsubscribed {
			t.Fatalf("answered 200 but the database has %s", s.Status)
		}
	case http.StatusServiceUnavailable:
		if resp.Header.Get("Retry-After") == "" || s.Status != newsletter.StatusActive {
			t.Fatalf("503 with Retry-After %q, status %s; want one, and nothing changed", resp.Header.Get("Retry-After"), s.Status)
		}
	default:
		t.Fatalf("POST with the lock held for a second: %d", resp.StatusCode)
	}
}

// busyList is a list whose writes never get the database's lock.
type busyList struct{ sub newsletter.Subscriber }

func (b busyList) SubscriberByID(context.Context, int64) (newsletter.Subscriber, error) {
	return b.sub, nil
}

func (busyList) ChangeStatus(context.Context, newsletter.Subscriber, newsletter.SubscriberStatus, time.Time) (bool, error) {
	return false, fmt.Errorf("store: subscriber 7: %w", newsletter.ErrBusy)
}

// TestBusyDatabaseAnswers503: a change that did not get the lock in time is a 503 with
// Retry-After, for the mail provider to retry, and the page says nothing was changed.
func TestBusyDatabaseAnswers503(t *testing.T) {
	sg, err := token.NewSigner(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Options{Subscribers: busyList{sub: newsletter.Subscriber{ID: 7, Email: "reader@example.com", Status: newsletter.StatusActive}},
		Site: web.Site{Tokens: sg, Templates: os.DirFS(filepath.Join("..", "..", "templates"))}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, body string }{
		{"one-click", "List-Unsubscribe=One-Click"},
		{"button", "action=unsubscribe"},
		{"resubscribe", "action=resubscribe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/unsubscribe/"+sg.Make(token.Unsubscribe, 7, "reader@example.com"), strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			web.Handler(s).ServeHTTP(w, req)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "nothing was changed") {
				t.Fatalf("%d, Retry-After %q:\n%s", w.Code, w.Header().Get("Retry-After"), w.Body.String())
			}
		})
	}
}

// BenchmarkOneClickUnsubscribe runs one-click POSTs through the handler, 32 at a time as
// the wrk bench sends them, each for a different subscriber. The database holds as many
// subscribers as the run posts.
func BenchmarkOneClickUnsubscribe(b *testing.B) {
	l := newList(b, b.N)
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			l.handler.ServeHTTP(w, oneClick(l.paths[next.Add(1)-1]))
			if w.Code != http.StatusOK {
				b.Errorf("POST: %d", w.Code)
			}
		}
	})
}
