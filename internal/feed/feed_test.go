package feed

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testETag         = `"rss-v1"`
	testLastModified = "Wed, 29 Apr 2026 08:15:00 GMT"
)

// feedServer serves the testdata feeds the way a real site would, and records the
// conditional headers of each request.
type feedServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	s := &feedServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rss.xml", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		w.Header().Set("ETag", testETag)
		w.Header().Set("Last-Modified", testLastModified)
		if r.Header.Get("If-None-Match") == testETag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(readTestdata(t, "rss.xml"))
	})
	mux.HandleFunc("GET /old-feed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/blog/feed.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /blog/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		// No channel link: relative links can only resolve against where the feed was found.
		w.Write([]byte(`<rss version="2.0"><channel><title>Moved</title>
<item><title>Relative</title><link>posts/1</link></item></channel></rss>`))
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Write(readTestdata(t, "not-a-feed.html"))
	})
	mux.HandleFunc("GET /gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such feed", http.StatusNotFound)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database is down", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.Write([]byte(`<rss version="2.0"><channel><title>`))
		w.Write([]byte(strings.Repeat("x", n)))
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /hang-mid-body", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<rss version="2.0"><channel><title>Slow`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestFetchConditionalGET(t *testing.T) {
	srv := newFeedServer(t)
	f := &Fetcher{}
	source := srv.URL + "/rss.xml"

	first, err := f.Fetch(t.Context(), source, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || first.Title != "StackPulse & Friends" || len(first.Stories) != 3 {
		t.Fatalf("first fetch: NotModified %v, title %q, %d stories", first.NotModified, first.Title, len(first.Stories))
	}
	if want := (Validators{ETag: testETag, LastModified: testLastModified}); first.Validators != want {
		t.Errorf("validators = %+v, want %+v", first.Validators, want)
	}
	for _, s := range first.Stories {
		if s.FeedURL != source {
			t.Errorf("FeedURL = %q, want %q", s.FeedURL, source)
		}
	}

	second, err := f.Fetch(t.Context(), source, first.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || len(second.Stories) != 0 {
		t.Errorf("second fetch: NotModified %v, %d stories; want a 304", second.NotModified, len(second.Stories))
	}
	if second.Validators != first.Validators {
		t.Errorf("validators after 304 = %+v, want %+v", second.Validators, first.Validators)
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()
	if h := srv.headers[0]; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
		t.Errorf("first request was conditional: %v", h)
	}
	if h := srv.headers[1]; h.Get("If-None-Match") != testETag || h.Get("If-Modified-Since") != testLastModified {
		t.Errorf("second request: If-None-Match %q, If-Modified-Since %q", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
	}
	if ua := srv.headers[0].Get("User-Agent"); ua != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", ua, DefaultUserAgent)
	}
}

func TestFetchResolvesAgainstFinalURL(t *testing.T) {
	srv := newFeedServer(t)
	res, err := (&Fetcher{}).Fetch(t.Context(), srv.URL+"/old-feed", Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stories) != 1 {
		t.Fatalf("%d stories", len(res.Stories))
	}
	if got, want := res.Stories[0].URL, srv.URL+"/blog/posts/1"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := res.Stories[0].FeedURL, srv.URL+"/old-feed"; got != want {
		t.Errorf("FeedURL = %q, want the source as given, %q", got, want)
	}
}

func TestFetchErrors(t *testing.T) {
	srv := newFeedServer(t)
	tests := []struct {
		name    string
		f       Fetcher
		source  string
		msg     string
		errIs   error
		timeout bool
	}{
		{name: "404", source: srv.URL + "/gone", msg: "unexpected HTTP status 404 Not Found"},
		{name: "500", source: srv.URL + "/broken", msg: "unexpected HTTP status 500 Internal Server Error"},
		{name: "too large, announced", f: Fetcher{MaxBytes: 1000}, source: srv.URL + "/huge?n=5000&length", msg: "limit 1000", errIs: ErrTooLarge},
		{name: "too large, chunked", f: Fetcher{MaxBytes: 1000}, source: srv.URL + "/huge?n=5000", msg: "more than 1000 bytes", errIs: ErrTooLarge},
		{name: "hangs", f: Fetcher{Timeout: 200 * time.Millisecond}, source: srv.URL + "/hang", msg: "timed out after 200ms", errIs: context.DeadlineExceeded},
		{name: "hangs mid-body", f: Fetcher{Timeout: 200 * time.Millisecond}, source: srv.URL + "/hang-mid-body", msg: "timed out after 200ms", errIs: context.DeadlineExceeded},
		{name: "not a feed", source: srv.URL + "/page", msg: "got an HTML page", errIs: ErrNotFeed},
		{name: "unsupported scheme", source: "ftp://example.com/feed.xml", msg: `unsupported scheme "ftp"`},
		{name: "missing file", source: filepath.Join(t.TempDir(), "nope.xml"), msg: "no such file", errIs: fs.ErrNotExist},
		{name: "remote file URL", source: "file://fileserver/feeds/a.xml", msg: "remote host"},
		{name: "bad file", source: filepath.Join("testdata", "broken.xml"), msg: "malformed RSS feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.f.Fetch(t.Context(), tt.source, Validators{})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			if !strings.HasPrefix(err.Error(), "feed "+tt.source+": ") {
				t.Errorf("error does not name the source: %v", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			t.Log(err)
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.errIs)
			}
		})
	}
}

func TestFetchStatusError(t *testing.T) {
	srv := newFeedServer(t)
	_, err := (&Fetcher{}).Fetch(t.Context(), srv.URL+"/gone", Validators{})
	se, ok := errors.AsType[*StatusError](err)
	if !ok || se.Code != http.StatusNotFound {
		t.Errorf("err = %v, want a *StatusError with code 404", err)
	}
}

func TestFetchCancelled(t *testing.T) {
	srv := newFeedServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := (&Fetcher{}).Fetch(ctx, srv.URL+"/hang", Validators{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestFetchLocal(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "atom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{filepath.Join("testdata", "atom.xml"), abs, "file://" + filepath.ToSlash(abs)} {
		t.Run(source, func(t *testing.T) {
			res, err := (&Fetcher{}).Fetch(t.Context(), source, Validators{ETag: `"ignored"`})
			if err != nil {
				t.Fatal(err)
			}
			if res.Title != "Latency Lab" || len(res.Stories) != 2 || res.NotModified {
				t.Fatalf("title %q, %d stories, NotModified %v", res.Title, len(res.Stories), res.NotModified)
			}
			if res.Validators != (Validators{}) {
				t.Errorf("validators for a file: %+v", res.Validators)
			}
			if res.Stories[0].FeedURL != source {
				t.Errorf("FeedURL = %q, want %q", res.Stories[0].FeedURL, source)
			}
		})
	}
}

func TestFetchLocalTooLarge(t *testing.T) {
	_, err := (&Fetcher{MaxBytes: 100}).Fetch(t.Context(), filepath.Join("testdata", "rss.xml"), Validators{})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}
