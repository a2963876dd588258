package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/store/storetest"
)

// writeOldJournal writes the unsubscribe journal an older version kept beside the
// database, holding a one-click unsubscribe of each subscriber. It returns each record's offset.
func writeOldJournal(t *testing.T, path string, subs []newsletter.Subscriber) []int64 {
	t.Helper()
	recs := make([]storetest.JournalRecord, len(subs))
	for i, s := range subs {
		recs[i] = storetest.JournalRecord{ID: s.ID, Status: "unsubscribed", Event: "left", Source: "web",
			Hash: []byte("hash-" + s.Email), Suppress: "unsubscribed", At: sampleMonday}
	}
	return storetest.WriteOldJournal(t, path, strings.Repeat("ab", 16), recs...)
}

// TestUpgradeFromADamagedJournal: an older version's journal with one damaged record among
// intact ones. Any command applies the intact ones; run refuses to send, naming the file
// and the offset, and exits non-zero until `migrate --drop-damaged-transitions`; then the
// send goes to everyone still active.
func TestUpgradeFromADamagedJournal(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	dbPath := filepath.Join(c.dir, "nl.db")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := db.ListSubscribers(ctx, store.SubscriberFilter{Status: newsletter.StatusActive})
	db.Close()
	if err != nil || len(subs) < 3 {
		t.Fatalf("%d active subscribers, %v", len(subs), err)
	}
	journal := dbPath + "-transitions"
	offsets := writeOldJournal(t, journal, subs[:3])
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	raw[offsets[1]+12] ^= 1
	if err := os.WriteFile(journal, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	list := c.mustRun("subscribers", "list", "--status", "unsubscribed")
	for i, s := range subs[:3] {
		if got := strings.Contains(list, s.Email); got != (i != 1) {
			t.Errorf("%s unsubscribed: %v, want %v\n%s", s.Email, got, i != 1, list)
		}
	}
	code, out, errOut := c.run("run", "--week", "2026-W19")
	where := fmt.Sprintf("offset %d", offsets[1])
	if code == 0 || !strings.Contains(errOut, journal) || !strings.Contains(errOut, where) || !strings.Contains(errOut, "--drop-damaged-transitions") {
		t.Fatalf("run with a damaged journal: exit %d, want non-zero naming %s at %s and the way out\nstdout:\n%s\nstderr:\n%s", code, journal, where, out, errOut)
	}
	if n := len(emlFiles(t, filepath.Join(c.dir, "outbox"))); n != 0 {
		t.Fatalf("%d messages written while the damaged journal was there", n)
	}
	c.mustRun("migrate", "--drop-damaged-transitions")
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal after migrate --drop-damaged-transitions: %v", err)
	}
	out = c.mustRun("run", "--week", "2026-W19")
	if want := fmt.Sprintf("%d sent", len(subs)-2); !strings.Contains(out, want) {
		t.Fatalf("run after the drop: want %q\n%s", want, out)
	}
}
