package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// TestOpenWhileAnotherProcessWrites: opening an up-to-date database and reading it must not
// wait for the write lock, so that `subscribers list` or `show` answer while another process
// holds a long write transaction (WAL lets readers run beside it).
func TestOpenWhileAnotherProcessWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 1)
	if _, err := db.ApplyTransition(ctx, leave(ids[0]), t0); err != nil {
		t.Fatal(err)
	}

	release := holdWriteLock(t, path)
	defer release()
	// A busy timeout far shorter than the lock is held: only an Open that takes no write
	// lock can succeed.
	again, err := open(ctx, path, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("open while another connection holds the write lock: %v", err)
	}
	defer again.Close()
	s, err := again.SubscriberByID(ctx, ids[0])
	if err != nil || s.Status != newsletter.StatusUnsubscribed {
		t.Fatalf("read while another connection holds the write lock: %+v, %v", s, err)
	}
}
