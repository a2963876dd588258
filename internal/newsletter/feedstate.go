package newsletter

import "time"

// FeedState is what the fetcher remembers about a feed between runs, for conditional GET
// (RFC 9110 section 13.1) and for reporting.
type FeedState struct {
	URL          string
	ETag         string
	LastModified string
	LastError    string // empty after a successful fetch
	FetchedAt    time.Time
}
