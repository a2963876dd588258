// Package feed fetches RSS 2.0, Atom and JSON Feed documents and turns them into
// newsletter stories with plain-text titles and sanitised HTML.
package feed

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

// Defaults for the zero Fetcher, and the User-Agent every fetch sends.
const (
	DefaultTimeout   = 20 * time.Second
	DefaultMaxBytes  = 10 << 20
	DefaultUserAgent = "newsletter/1 (+feed fetcher)"
)

// ErrTooLarge is returned (wrapped) when a feed is bigger than Fetcher.MaxBytes.
var ErrTooLarge = errors.New("too large")

// StatusError is returned (wrapped) when a server answers with a status other than 2xx or 304.
type StatusError struct {
	Code   int
	Status string // as sent, e.g. "404 Not Found"
}

// Error names the status, e.g. "unexpected HTTP status 404 Not Found".
func (e *StatusError) Error() string {
	return "unexpected HTTP status " + e.Status
}

// Validators are the conditional-GET validators remembered between fetches.
type Validators struct{ ETag, LastModified string }

// Result is what one fetch of one source gave.
type Result struct {
	Title       string             // the feed's own title
	Stories     []newsletter.Story // in feed order
	Validators  Validators         // to remember for the next fetch (http sources only)
	NotModified bool               // server answered 304: Stories is empty
	// Removed counts the characters XML forbids (raw control characters, references to
	// them) taken out before parsing, which would otherwise have rejected the whole feed.
	Removed int
}

// Fetcher reads feeds over HTTP or from local files. The zero value is ready to use;
// a Fetcher is safe for concurrent use as long as its fields are not changed.
type Fetcher struct {
	Timeout  time.Duration // per fetch, default 20s
	MaxBytes int64         // body cap, default 10 MiB; bigger feeds fail with ErrTooLarge
}

// Fetch reads one source: an http(s) URL, fetched with a conditional GET built from prev,
// or a local file path or file:// URL. Each story's FeedURL is set to source.
// Errors name the source.
func (f *Fetcher) Fetch(ctx context.Context, source string, prev Validators) (Result, error) {
	res, err := f.fetch(ctx, source, prev)
	if err != nil {
		return Result{}, fmt.Errorf("feed %s: %w", source, err)
	}
	for i := range res.Stories {
		res.Stories[i].FeedURL = source
	}
	return res, nil
}

func (f *Fetcher) fetch(ctx context.Context, source string, prev Validators) (Result, error) {
	scheme, _, hasScheme := strings.Cut(source, "://")
	switch scheme = strings.ToLower(scheme); {
	case !hasScheme:
		return f.fetchFile(source)
	case scheme == "http" || scheme == "https":
		return f.fetchHTTP(ctx, source, prev)
	case scheme == "file":
		u, err := url.Parse(source)
		if err != nil {
			return Result{}, err
		}
		if u.Host != "" && u.Host != "localhost" {
			return Result{}, fmt.Errorf("file URL with a remote host %q", u.Host)
		}
		return f.fetchFile(u.Path)
	default:
		return Result{}, fmt.Errorf("unsupported scheme %q (want http, https or file)", scheme)
	}
}

func (f *Fetcher) fetchHTTP(ctx context.Context, source string, prev Validators) (Result, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// One deadline for the whole fetch, body included: a server that trickles bytes
	// cannot hold the fetch open past it.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("User-Agent", DefaultUserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}

	resp, err := (&http.Client{}).Do(req) // no timeout of its own: the context carries it
	if err != nil {
		return Result{}, requestError(ctx, timeout, err)
	}
	defer resp.Body.Close()

	got := Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		// RFC 9110 15.4.5: a 304 may omit validators; keep the ones that still apply.
		got.ETag = cmp.Or(got.ETag, prev.ETag)
		got.LastModified = cmp.Or(got.LastModified, prev.LastModified)
		return Result{Validators: got, NotModified: true}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		status := cmp.Or(resp.Status, fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
		return Result{}, &StatusError{Code: resp.StatusCode, Status: status}
	}

	body, err := f.readCapped(resp.Body, resp.ContentLength)
	if err != nil {
		return Result{}, requestError(ctx, timeout, err)
	}
	// The final URL, after redirects, is the base for relative links (RFC 3986 5.1.3).
	res, err := Parse(bytes.NewReader(body), resp.Request.URL)
	res.Validators = got
	return res, err
}

func (f *Fetcher) fetchFile(path string) (Result, error) {
	file, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer file.Close()
	size := int64(-1)
	if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	body, err := f.readCapped(file, size)
	if err != nil {
		return Result{}, err
	}
	// No base: a file path says nothing about where the site lives, so relative links
	// resolve against the feed's own link.
	return Parse(bytes.NewReader(body), nil)
}

// readCapped reads all of r, failing with ErrTooLarge past MaxBytes. size is the
// announced length, or -1 when unknown, and lets an oversized body fail before it is read.
func (f *Fetcher) readCapped(r io.Reader, size int64) ([]byte, error) {
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if size > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, limit)
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return body, nil
}

// requestError turns the transport's error into a shorter one: *url.Error repeats the
// method and URL that Fetch already names, and a deadline reads better with its length.
func requestError(ctx context.Context, timeout time.Duration, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if !errors.Is(err, context.DeadlineExceeded) {
			// A body read cut short by the deadline may say only "request canceled".
			err = context.DeadlineExceeded
		}
		return fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return err
}
