package store

import (
	"context"
	"errors"

	"newsletter/internal/newsletter"
)

// FeedState returns the saved state of the feed at url; ErrNotFound before its first fetch.
func (db *DB) FeedState(ctx context.Context, url string) (newsletter.FeedState, error) {
	st := newsletter.FeedState{URL: url}
	var fetched int64
	err := db.scanRow(ctx, "feed "+url, []any{&st.ETag, &st.LastModified, &st.LastError, &fetched},
		`SELECT etag, last_modified, last_error, fetched_at FROM feeds WHERE url = ?`, url)
	if err != nil {
		return newsletter.FeedState{}, err
	}
	st.FetchedAt = fromUnix(fetched)
	return st, nil
}

// SaveFeedState stores st, replacing what was saved for st.URL.
func (db *DB) SaveFeedState(ctx context.Context, st newsletter.FeedState) error {
	if st.URL == "" {
		return errors.New("store: save feed state: empty URL")
	}
	_, err := db.exec(ctx, "save feed "+st.URL, `
		INSERT INTO feeds (url, etag, last_modified, last_error, fetched_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET
			etag = excluded.etag,
			last_modified = excluded.last_modified,
			last_error = excluded.last_error,
			fetched_at = excluded.fetched_at`,
		st.URL, st.ETag, st.LastModified, st.LastError, unix(st.FetchedAt))
	return err
}
