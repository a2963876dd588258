package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// statusOf reads a subscriber's status through db.
func statusOf(t *testing.T, db *DB, id int64) newsletter.SubscriberStatus {
	t.Helper()
	s, err := db.SubscriberByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status
}

func journalSize(t *testing.T, dbPath string) int64 {
	t.Helper()
	st, err := os.Stat(dbPath + journalSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// journaled opens a database at a fresh path with n subscribers, this handle owning its
// journal.
func journaled(t *testing.T, prefix string, n int) (*DB, string, []int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "n.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, prefix, n)
	if err := db.OpenJournal(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db, path, ids
}

// TestJournalTakesUnsubscribesWhileTheLockIsHeld holds the write lock from another
// connection (as a long import would) while 50 one-click unsubscribes arrive: each is
// taken at once, shows as unsubscribed to this process, and is in the database once the
// lock is released. Closing empties the journal.
func TestJournalTakesUnsubscribesWhileTheLockIsHeld(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "n.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "j", 50)
	if recorded, err := db.RecordTransition(ctx, leave(ids[0]), t0); recorded || err != nil {
		t.Fatalf("without a journal: recorded=%v err=%v, want false and nil", recorded, err)
	}
	if err := db.OpenJournal(ctx, nil); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path)
	release := holdWriteLock(t, path)
	for _, id := range ids {
		recorded, err := db.RecordTransition(ctx, leave(id), t0)
		if err != nil || !recorded {
			release()
			t.Fatalf("subscriber %d: recorded=%v err=%v", id, recorded, err)
		}
	}
	// Not in the database yet (the lock is held), but this process sees them gone.
	for _, id := range []int64{ids[0], ids[49]} {
		if got := statusOf(t, db, id); got != newsletter.StatusUnsubscribed {
			t.Errorf("subscriber %d seen by the journal's owner as %s, want unsubscribed", id, got)
		}
		if got := statusOf(t, other, id); got != newsletter.StatusActive {
			t.Errorf("subscriber %d in the database as %s while the lock is held, want still active", id, got)
		}
	}
	if journalSize(t, path) <= int64(journalHeaderLen) || db.JournalPending() != 50 {
		t.Errorf("journal holds %d bytes and %d pending, want the 50 records", journalSize(t, path), db.JournalPending())
	}
	release()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := db.journal.Load().drain(waitCtx); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, other, ids[49]); got != newsletter.StatusUnsubscribed {
		t.Errorf("after the lock: subscriber %d is %s in the database", ids[49], got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n != 0 {
		t.Errorf("journal holds %d bytes after Close, want 0", n)
	}
	checkLeft(t, path, ids)
}

// writeJournal writes a journal file of epoch holding ts, as a `serve` that crashed would
// leave it, and returns the offset just past each record.
func writeJournal(t *testing.T, path, epoch string, ts []Transition) []int64 {
	t.Helper()
	data := []byte(journalMagic + epoch + "\n")
	var ends []int64
	for _, tr := range ts {
		rec, err := encodeRecord(tr, t0)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, rec...)
		ends = append(ends, int64(len(data)))
	}
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return ends
}

// TestOpenReplaysWhatACrashLeft: a journal nobody owns is applied by the next Open, never
// a record twice, and a record torn by a power cut is left out with what follows it.
func TestOpenReplaysWhatACrashLeft(t *testing.T) {
	ctx := context.Background()
	const epoch = "0123456789abcdef0123456789abcdef"
	come := func(id int64) Transition {
		return Transition{ID: id, Status: newsletter.StatusActive, Event: ConsentEvent{Event: "resubscribed", Source: "web"},
			Hash: leave(id).Hash, Unsuppress: true}
	}
	tests := []struct {
		name string
		// prepare writes the journal (ids: five fresh subscribers) and may change the database.
		prepare func(t *testing.T, db *DB, jpath string, ids []int64)
		want    []newsletter.SubscriberStatus
	}{
		{"all applied", func(t *testing.T, db *DB, jpath string, ids []int64) {
			writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), leave(ids[1]), leave(ids[2])})
		}, []newsletter.SubscriberStatus{"unsubscribed", "unsubscribed", "unsubscribed", "active", "active"}},
		{"in order", func(t *testing.T, db *DB, jpath string, ids []int64) {
			writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), come(ids[0]), leave(ids[1])})
		}, []newsletter.SubscriberStatus{"active", "unsubscribed", "active", "active", "active"}},
		{"applied part skipped", func(t *testing.T, db *DB, jpath string, ids []int64) {
			// The crash came after the first record's transaction and before the file was
			// emptied; the subscriber came back since. Replaying it would unsubscribe them.
			ends := writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), leave(ids[1])})
			if _, err := db.ApplyTransition(ctx, leave(ids[0]), t0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.db.ExecContext(ctx, `INSERT INTO journal_state (id, epoch, applied) VALUES (1, ?, ?)`, epoch, ends[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ApplyTransition(ctx, come(ids[0]), t0); err != nil {
				t.Fatal(err)
			}
		}, []newsletter.SubscriberStatus{"active", "unsubscribed", "active", "active", "active"}},
		{"another epoch's offset ignored", func(t *testing.T, db *DB, jpath string, ids []int64) {
			ends := writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), leave(ids[1])})
			if _, err := db.db.ExecContext(ctx, `INSERT INTO journal_state (id, epoch, applied) VALUES (1, 'ffffffffffffffffffffffffffffffff', ?)`, ends[1]); err != nil {
				t.Fatal(err)
			}
		}, []newsletter.SubscriberStatus{"unsubscribed", "unsubscribed", "active", "active", "active"}},
		{"torn tail", func(t *testing.T, db *DB, jpath string, ids []int64) {
			ends := writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), leave(ids[1]), leave(ids[2])})
			if err := os.Truncate(jpath, ends[2]-5); err != nil {
				t.Fatal(err)
			}
		}, []newsletter.SubscriberStatus{"unsubscribed", "unsubscribed", "active", "active", "active"}},
		// A record damaged in the middle ends what can be trusted: the ones after it too.
		{"bad checksum", func(t *testing.T, db *DB, jpath string, ids []int64) {
			ends := writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), leave(ids[1]), leave(ids[2])})
			data, err := os.ReadFile(jpath)
			if err != nil {
				t.Fatal(err)
			}
			data[ends[0]+recordHeaderLen+3] ^= 0xff // inside the second record's payload
			if err := os.WriteFile(jpath, data, 0o640); err != nil {
				t.Fatal(err)
			}
		}, []newsletter.SubscriberStatus{"unsubscribed", "active", "active", "active", "active"}},
		{"record breaking a constraint skipped", func(t *testing.T, db *DB, jpath string, ids []int64) {
			bad := leave(ids[1])
			bad.Suppress = "no such reason"
			writeJournal(t, jpath, epoch, []Transition{leave(ids[0]), bad, leave(ids[2])})
		}, []newsletter.SubscriberStatus{"unsubscribed", "active", "unsubscribed", "active", "active"}},
		{"gone subscriber skipped", func(t *testing.T, db *DB, jpath string, ids []int64) {
			writeJournal(t, jpath, epoch, []Transition{leave(999999), leave(ids[4])})
		}, []newsletter.SubscriberStatus{"active", "active", "active", "active", "unsubscribed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "n.db")
			db := openAt(t, path)
			ids := addSubscribers(t, db, "r", 5)
			tt.prepare(t, db, path+journalSuffix, ids)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = openAt(t, path)
			for i, id := range ids {
				if got := statusOf(t, db, id); got != tt.want[i] {
					t.Errorf("subscriber %d (#%d): %s, want %s", id, i, got, tt.want[i])
				}
			}
			if n := journalSize(t, path); n != 0 {
				t.Errorf("journal holds %d bytes after the replay, want 0", n)
			}
		})
	}
}

// TestJournalOfALiveOwnerIsLeftAlone: while one handle owns the journal, another opening the
// database applies nothing of it (it does not even wait for the write lock it would need)
// and cannot take it over.
func TestJournalOfALiveOwnerIsLeftAlone(t *testing.T) {
	ctx := context.Background()
	owner, path, ids := journaled(t, "o", 2)
	second := openAt(t, path)
	release := holdWriteLock(t, path)
	recorded, err := owner.RecordTransition(ctx, leave(ids[0]), t0)
	if err != nil || !recorded {
		release()
		t.Fatalf("recorded=%v err=%v", recorded, err)
	}
	err = second.replayUnownedJournal(ctx)
	size := journalSize(t, path)
	st := statusOf(t, second, ids[0])
	release()
	if err != nil || size <= int64(journalHeaderLen) || st != newsletter.StatusActive {
		t.Fatalf("another handle's replay of an owned journal: err %v, journal %d bytes, subscriber %s; want nil, the record still there, active", err, size, st)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := second.OpenJournal(short, nil); !errors.Is(err, errJournalLocked) {
		t.Fatalf("second owner: %v, want %v", err, errJournalLocked)
	}
	if err := owner.Close(); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, second, ids[0]); got != newsletter.StatusUnsubscribed {
		t.Errorf("after the owner closed: %s, want unsubscribed", got)
	}
	if err := second.OpenJournal(ctx, nil); err != nil {
		t.Fatalf("taking over a released journal: %v", err)
	}
}

// TestJournalDrainIsNotStarved: a direct change waits only for the journal's records that came
// before it, not for those that keep arriving after (under a steady stream of unsubscribes
// the journal is never empty, and waiting for that starved sign-up confirmations).
func TestJournalDrainIsNotStarved(t *testing.T) {
	ctx := context.Background()
	db, path, ids := journaled(t, "s", 12)
	j := db.journal.Load()
	j.mu.Lock()
	j.batch = 4 // three rounds for the twelve
	j.mu.Unlock()
	release := holdWriteLock(t, path)
	record := func(ids []int64) {
		for _, id := range ids {
			if _, err := db.RecordTransition(ctx, leave(id), t0); err != nil {
				release()
				t.Fatal(err)
			}
		}
	}
	record(ids[:4])
	drained := make(chan error, 1)
	target := j.mark() // as drain does
	go func() { drained <- j.waitApplied(ctx, target) }()
	record(ids[4:])
	release()
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	applied, appended := j.appliedLocked(), j.appended
	j.mu.Unlock()
	if applied < 4 || applied == appended {
		t.Errorf("drain returned with %d of %d records applied: want the first 4 in, and not to have waited for all", applied, appended)
	}
}

// TestJournalDropsARecordThatCannotBeApplied: a record that breaks a constraint is dropped
// and the others of its batch are applied.
func TestJournalDropsARecordThatCannotBeApplied(t *testing.T) {
	ctx := context.Background()
	db, _, ids := journaled(t, "b", 3)
	bad := leave(ids[1])
	bad.Suppress = "no such reason" // the suppressions table's CHECK refuses it
	for _, tr := range []Transition{leave(ids[0]), bad, leave(ids[2])} {
		if _, err := db.RecordTransition(ctx, tr, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.journal.Load().drain(ctx); err != nil {
		t.Fatal(err)
	}
	for i, want := range []newsletter.SubscriberStatus{"unsubscribed", "active", "unsubscribed"} {
		if got := statusOf(t, db, ids[i]); got != want {
			t.Errorf("subscriber #%d: %s, want %s", i, got, want)
		}
	}
}

// TestJournalCloseAppliesWhatIsPending: Close waits out a write lock held elsewhere and
// applies what the journal holds before it lets go.
func TestJournalCloseAppliesWhatIsPending(t *testing.T) {
	ctx := context.Background()
	db, path, ids := journaled(t, "c", 3)
	release := holdWriteLock(t, path)
	for _, id := range ids {
		if _, err := db.RecordTransition(ctx, leave(id), t0); err != nil {
			release()
			t.Fatal(err)
		}
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		release()
	}()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, path); n != 0 {
		t.Errorf("journal holds %d bytes after Close, want 0", n)
	}
	checkLeft(t, path, ids)
}

// TestOpenRefusesAJournalItCannotRead: a file where the journal should be that is not one
// stops Open with an error naming it, rather than leaving what it may hold unapplied.
func TestOpenRefusesAJournalItCannotRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "n.db")
	openAt(t, path).Close()
	if err := os.WriteFile(path+journalSuffix, []byte("this is not a journal at all, but long enough\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, path); !errors.Is(err, errNotJournal) || !strings.Contains(err.Error(), path+journalSuffix) {
		if db != nil {
			db.Close()
		}
		t.Fatalf("Open beside a file that is not a journal: %v, want an error naming it", err)
	}
	if err := os.Remove(path + journalSuffix); err != nil {
		t.Fatal(err)
	}
	openAt(t, path)
}

// TestJournalGoesBeforeADirectChange: a change made directly after one journaled for the
// same subscriber is the one that stays.
func TestJournalGoesBeforeADirectChange(t *testing.T) {
	ctx := context.Background()
	db, _, ids := journaled(t, "d", 1)
	if _, err := db.RecordTransition(ctx, leave(ids[0]), t0); err != nil {
		t.Fatal(err)
	}
	back := Transition{ID: ids[0], Status: newsletter.StatusActive, Event: ConsentEvent{Event: "resubscribed", Source: "cli"},
		Hash: leave(ids[0]).Hash, Unsuppress: true}
	changed, err := db.ApplyTransition(ctx, back, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Error("the resubscribe changed nothing: it ran before the journaled unsubscribe")
	}
	if got := statusOf(t, db, ids[0]); got != newsletter.StatusActive {
		t.Errorf("status %s, want active", got)
	}
}

func TestJournalRecordsRoundTrip(t *testing.T) {
	tr := leave(42)
	tr.Event.IP = "192.0.2.1"
	tr.Event.At = t0.Add(time.Minute)
	rec, err := encodeRecord(tr, t0)
	if err != nil {
		t.Fatal(err)
	}
	entries := decodeJournal(append(append([]byte{}, rec...), rec[:4]...), 0)
	if len(entries) != 1 {
		t.Fatalf("decoded %d entries from a record and a torn one, want 1", len(entries))
	}
	got := entries[0]
	if got.t.ID != 42 || got.t.Status != tr.Status || got.t.Event.IP != "192.0.2.1" || !got.t.Event.At.Equal(tr.Event.At) ||
		string(got.t.Hash) != string(tr.Hash) || got.t.Suppress != tr.Suppress || !got.now.Equal(t0) || got.end != int64(len(rec)) {
		t.Errorf("round trip: got %+v, want %+v at %v", got, tr, t0)
	}
	if _, err := readJournalHeader([]byte("SQLite format 3\x00 and then some more bytes")); err == nil {
		t.Error("a header that is not a journal's was read")
	}
}
