package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestFeedState(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	const url = "https://example.com/feed.xml"
	_, err := db.FeedState(ctx, url)
	if !errors.Is(err, newsletter.ErrNotFound) {
		t.Fatalf("never fetched: %v, want ErrNotFound", err)
	}
	states := []newsletter.FeedState{
		{URL: url, ETag: `"abc"`, LastModified: "Mon, 04 May 2026 09:00:00 GMT", FetchedAt: t0},
		{URL: url, LastError: "timeout", FetchedAt: t0.Add(time.Hour)},
	}
	for _, st := range states {
		if err := db.SaveFeedState(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := db.FeedState(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if got != st {
			t.Fatalf("got %+v, want %+v", got, st)
		}
	}
}
