package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// damagedJournal imports the sample subscribers and writes beside c's database an older
// version's journal unsubscribing the first three, with the second record damaged. It
// returns the journal's path, the active subscribers and each record's offset.
func damagedJournal(c *cli) (journal string, subs []newsletter.Subscriber, offsets []int64) {
	t := c.t
	t.Helper()
	c.importSample()
	dbPath := filepath.Join(c.dir, "nl.db")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	subs, err = db.ListSubscribers(ctx, store.SubscriberFilter{Status: newsletter.StatusActive})
	db.Close()
	if err != nil || len(subs) < 3 {
		t.Fatalf("%d active subscribers, %v", len(subs), err)
	}
	journal = dbPath + "-transitions"
	offsets = writeOldJournal(t, journal, subs[:3])
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	raw[offsets[1]+12] ^= 1
	if err := os.WriteFile(journal, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return journal, subs, offsets
}

// TestUpgradeFromADamagedJournal: an older version's journal with one damaged record among
// intact ones. Any command applies the intact ones; run refuses to send, naming the file
// and the offset, and exits non-zero until `migrate --drop-damaged-transitions`; then the
// send goes to everyone still active.
func TestUpgradeFromADamagedJournal(t *testing.T) {
	c := newCLI(t)
	journal, subs, offsets := damagedJournal(c)

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

// TestReadyzWithADamagedJournal: while a damaged journal holds sending back, the daemon's
// /readyz answers 503 naming the problem and the command that clears it, but neither the
// file's path nor an address; once `migrate --drop-damaged-transitions` has run beside
// it, the same daemon answers 200.
func TestReadyzWithADamagedJournal(t *testing.T) {
	c := newCLI(t)
	journal, subs, _ := damagedJournal(c)
	base := serveInProcess(t, c)

	code, body := readyz(t, base)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "journal") || !strings.Contains(body, "newsletter migrate --drop-damaged-transitions") {
		t.Fatalf("readyz with a damaged journal: %d %q, want 503 naming the journal and the command", code, body)
	}
	for _, secret := range []string{journal, c.dir, subs[1].Email, "@"} {
		if strings.Contains(body, secret) {
			t.Errorf("readyz tells anyone %q: %q", secret, body)
		}
	}
	c.mustRun("migrate", "--drop-damaged-transitions")
	if code, body := readyz(t, base); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("readyz after the drop: %d %q, want 200 \"ready\"", code, body)
	}
}

// readyz fetches base/readyz and returns its status and body.
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
