package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"newsletter/internal/newsletter"
)

// t0 is the tests' clock: a fixed instant, so stored times can be compared.
var t0 = time.Date(2026, time.May, 4, 9, 0, 0, 0, time.UTC)

// openTestDB opens a fresh database in a temporary directory and closes it
// when the test ends.
func openTestDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "data", "newsletter.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "n.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if want := ms[len(ms)-1].version; v1 != want {
		t.Fatalf("schema version %d, want %d", v1, want)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o027 != 0 {
		t.Errorf("directory mode %v, want at most 0750", perm)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	v2, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if v2 != v1 || applied != len(ms) {
		t.Fatalf("after reopen: version %d (was %d), %d migrations recorded, want %d", v2, v1, applied, len(ms))
	}
}

func TestPragmas(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	// Several connections at once, so the check is not only of the first one.
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var journal string
		var fk, busy, sync int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || fk != 1 || busy != 5000 || sync != 1 {
			t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d, want wal 1 5000 1(NORMAL)", journal, fk, busy, sync)
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
	// And the foreign keys are enforced, not just reported.
	_, err := db.db.ExecContext(ctx, `INSERT INTO deliveries (issue_id, subscriber_id, status, updated_at) VALUES (999, 999, 'pending', 0)`)
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("insert with dangling references: %v, want a FOREIGN KEY error", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"not a database", notDB, "not a database"},
		{"directory under a file", filepath.Join(notDB, "sub", "n.db"), "create directory"},
		{"path is a directory", dir, "unable to open"},
		{"empty path", "", "empty database path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(ctx, tc.path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "store: open") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to start with \"store: open\" and say %q", err, tc.want)
			}
		})
	}
}

func TestFailingMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	before, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"migrations/0001_init.sql":   {Data: []byte("this is applied already and must not run")},
		"migrations/9001_good.sql":   {Data: []byte("CREATE TABLE good_table (x INTEGER);")},
		"migrations/9002_broken.sql": {Data: []byte("CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);")},
		"migrations/9003_later.sql":  {Data: []byte("CREATE TABLE later_table (x INTEGER);")},
	}
	err = db.migrateFS(ctx, fsys, t0)
	if err == nil || !strings.Contains(err.Error(), "9002_broken.sql") {
		t.Fatalf("migrate error %v, want it to name 9002_broken.sql", err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before == 9001 || v != 9001 {
		t.Fatalf("schema version %d (before %d), want 9001", v, before)
	}
	for table, want := range map[string]int{"good_table": 1, "half_done": 0, "later_table": 0} {
		var n int
		if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = ?`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("table %s: %d, want %d", table, n, want)
		}
	}
}

func TestMigrationNames(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, "positive number"},
		{"same version", fstest.MapFS{"migrations/0002_a.sql": {}, "migrations/002_b.sql": {}}, "share version 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := migrations(tc.fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	ms, err := migrations(fstest.MapFS{"migrations/0010_b.sql": {}, "migrations/0002_a.sql": {}})
	if err != nil || len(ms) != 2 || ms[0].version != 2 || ms[1].version != 10 {
		t.Fatalf("migrations = %v, %v; want versions 2, 10 in order", ms, err)
	}
}

func TestLikePattern(t *testing.T) {
	if got, want := likePattern(`50%_off\`), `%50\%\_off\\%`; got != want {
		t.Fatalf("likePattern = %q, want %q", got, want)
	}
}

// errIs fails the test unless err wraps target.
func errIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

// holdWriteLock takes the write lock of the database at path on a connection of its own, as
// another process would, and returns the function that releases it.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			t.Error(err)
		}
		conn.Close()
		raw.Close()
	}
}

// TestWritesWaitForAnotherWriter holds the write lock from another connection while each
// kind of write runs: each must wait for it and then succeed, not fail with SQLITE_BUSY.
func TestWritesWaitForAnotherWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wait.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 10)
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: t0, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		write func() error
	}{
		{"transition", func() error { _, err := db.ApplyTransition(ctx, leave(ids[0]), t0); return err }},
		{"status", func() error {
			_, err := db.ApplyTransition(ctx, Transition{ID: ids[1], Status: newsletter.StatusBounced}, t0)
			return err
		}},
		{"add logged", func() error {
			_, _, err := db.AddSubscriberLogged(ctx, newsletter.Subscriber{Email: "new@example.com"}, ConsentEvent{Event: "joined", Source: "cli"}, t0)
			return err
		}},
		{"import", func() error {
			_, err := db.ImportSubscribers(ctx, streamOf(newsletter.Subscriber{Email: "imported@example.com"}), ImportOptions{}, t0)
			return err
		}},
		{"enqueue", func() error { _, err := db.EnqueueDeliveries(ctx, is.ID, t0); return err }},
		{"record and claim", func() error { _, err := db.RecordAndClaim(ctx, is.ID, nil, 2, t0); return err }},
		{"single statement", func() error { _, err := db.ResetInFlight(ctx, is.ID); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release := holdWriteLock(t, path)
			var mu sync.Mutex
			released := false
			done := make(chan error)
			go func() {
				err := tc.write()
				mu.Lock()
				if !released {
					err = errors.Join(err, errors.New("finished while another connection held the write lock"))
				}
				mu.Unlock()
				done <- err
			}()
			// Give the write time to meet the lock; the test holds however long this takes.
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			released = true
			release()
			mu.Unlock()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
	st, err := db.SubscriberByID(ctx, ids[0])
	if err != nil || st.Status != newsletter.StatusUnsubscribed {
		t.Fatalf("after the waits: %+v, %v", st, err)
	}
}

// TestWriteBusyPastTheTimeout: a write that does not get the lock within the busy timeout
// fails with newsletter.ErrBusy and writes nothing.
func TestWriteBusyPastTheTimeout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := open(ctx, path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := addSubscribers(t, db, "reader", 1)
	release := holdWriteLock(t, path)
	_, err = db.ApplyTransition(ctx, leave(ids[0]), t0)
	release()
	if !errors.Is(err, newsletter.ErrBusy) {
		t.Fatalf("error %v, want newsletter.ErrBusy", err)
	}
	if s, err := db.SubscriberByID(ctx, ids[0]); err != nil || s.Status != newsletter.StatusActive {
		t.Fatalf("after the busy write: %+v, %v", s, err)
	}
}

// TestCloseLeavesNoWAL: after writes, Close folds the WAL into the database file and
// removes it, so that the file alone is the whole database (the benchmark and operators
// copy it).
func TestCloseLeavesNoWAL(t *testing.T) {
	ctx := context.Background()
	for i := range 3 {
		path := filepath.Join(t.TempDir(), "close.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		ids := addSubscribers(t, db, "reader", 2000)
		for _, id := range ids[:50] {
			if _, err := db.ApplyTransition(ctx, leave(id), t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: WAL after Close: %v", i, err)
		}
		checkLeft(t, path, ids[:50])
	}
}
