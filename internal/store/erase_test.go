package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// TestEraseLeavesNoTrace erases a subscriber while the database is open, as serve holds
// it, and reads every byte of the database file, its -wal and its -shm: neither the
// address nor the name is there any more, though the other subscribers' are.
func TestEraseLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nl.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	const email, name = "erase-me.7f3a@example.com", "Eraseme Quixotic"
	var target newsletter.Subscriber
	for i := range 300 {
		s := newsletter.Subscriber{Email: fmt.Sprintf("reader%03d@example.com", i), Name: fmt.Sprintf("Reader %d", i), Status: newsletter.StatusActive}
		if i == 150 {
			s.Email, s.Name = email, name
		}
		got, _, err := db.AddSubscriber(ctx, s, now)
		if err != nil {
			t.Fatal(err)
		}
		if i == 150 {
			target = got
		}
	}
	// Changes to the row put more copies of it in the WAL and the file.
	for _, st := range []newsletter.SubscriberStatus{newsletter.StatusUnsubscribed, newsletter.StatusActive} {
		if _, err := db.SetSubscriberStatus(ctx, target.ID, st, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetSubscriberStatus(ctx, target.ID, newsletter.StatusUnsubscribed, now); err != nil {
		t.Fatal(err)
	}
	if !filesHold(t, path, email) {
		t.Fatal("the address is not in the files before the erase: the test proves nothing")
	}
	if err := db.EraseSubscriber(ctx, target.ID, bytes.Repeat([]byte{7}, 32), now); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{email, name} {
		if filesHold(t, path, secret) {
			t.Errorf("%q is still in the database's files after the erase", secret)
		}
	}
	if !filesHold(t, path, "reader151@example.com") {
		t.Error("another subscriber's address is gone from the files")
	}
}

// filesHold reports whether the database file, its -wal or its -shm holds s.
func filesHold(t *testing.T, path, s string) bool {
	t.Helper()
	found := false
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s)) {
			t.Logf("%s holds %q", filepath.Base(p), s)
			found = true
		}
	}
	return found
}
