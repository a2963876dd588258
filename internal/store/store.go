// Package store keeps the newsletter's state in SQLite: subscribers, stories, feeds, issues and the delivery ledger.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"newsletter/internal/newsletter"

	// Registers the "sqlite3" driver; this package is the only one that knows it.
	_ "github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the newsletter's database. It is safe for concurrent use.
type DB struct {
	db      *sql.DB       // reads and single-statement writes, waiting in SQLite's busy handler
	writer  *sql.DB       // the one connection for write transactions (inTx), polling in begin
	writing chan struct{} // one write transaction of this process at a time, in arrival order
	timeout time.Duration // how long a write waits for the lock
	legacy  LegacyJournal // what Open found of an older version's journal (upgrade.go)
}

// Connection settings, applied by go-sqlite3 to every connection (open adds busy_timeout):
//   - WAL lets readers run while a write transaction is open.
//   - foreign_keys is off by default in SQLite and is per connection.
//   - _txlock=immediate takes the write lock at BEGIN: a deferred transaction that upgrades
//     later can fail with SQLITE_BUSY without waiting, which would break concurrent claims.
//   - synchronous=NORMAL under WAL can lose the last commits to a power cut, never
//     corrupt the file, and is much faster than FULL.
//   - _stmt_cache_size: the ledger and unsubscribe transactions rerun the same statements.
//   - secure_delete zeroes deleted rows, so an erased address does not stay in the file.
const dsnParams = "_journal_mode=WAL&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL&_stmt_cache_size=64&_secure_delete=on"

// busyTimeout is how long a write waits for the write lock before it fails with
// newsletter.ErrBusy.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) the SQLite database at path, creating its
// directory, and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, busyTimeout)
}

func open(ctx context.Context, path string, timeout time.Duration) (_ *DB, err error) {
	if path == "" {
		return nil, errors.New("store: open: empty database path")
	}
	defer func() {
		if err != nil {
			err = explainOpen(path, err)
		}
	}()
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create directory: %w", err)
		}
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	// A file: URI with the path escaped, so that a '?' or '#' in a file name
	// cannot be mistaken for the start of the parameters.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + dsnParams
	sqlDB, err := sql.Open("sqlite3", dsn+fmt.Sprintf("&_busy_timeout=%d", timeout.Milliseconds()))
	if err != nil {
		return nil, err
	}
	// Idle connections kept for concurrent requests have run their pragmas and keep their statements.
	sqlDB.SetMaxIdleConns(8)
	writer, err := sql.Open("sqlite3", dsn+"&_busy_timeout=0")
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	// One connection, kept open, so its prepared statements stay cached.
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	db := &DB{db: sqlDB, writer: writer, writing: make(chan struct{}, 1), timeout: timeout}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	// The first connection runs the pragmas: this is where a file that is not
	// a database, or a place that cannot be written, shows up.
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, err
	}
	if err := db.migrateFS(ctx, migrationFiles, time.Now()); err != nil {
		return nil, err
	}
	// An up-to-date database was opened without writing: one try at the write lock gets
	// SQLite's error for a file that cannot be written. (Opening the files here to check
	// them would drop SQLite's fcntl locks when closed.)
	if tx, err := db.writer.BeginTx(ctx, nil); err == nil {
		_ = tx.Rollback()
	} else if !isBusy(err) {
		return nil, err
	}
	if db.legacy, err = db.applyLegacyJournal(ctx, path); err != nil {
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	if err := errors.Join(db.writer.Close(), db.db.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of the latest applied migration, 0 for none.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.scanRow(ctx, "schema version", []any{&v}, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	return v, err
}

type migration struct {
	version int
	name    string
}

// migrations lists the files NNNN_description.sql in version (NNNN) order.
func migrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]migration, 0, len(names))
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", base)
		}
		ms = append(ms, migration{version: v, name: name})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrateFS applies every migration in fsys not yet recorded, each in one transaction
// with its schema_migrations row, so a failing file leaves the schema as it was.
func (db *DB) migrateFS(ctx context.Context, fsys fs.FS, now time.Time) error {
	_, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := migrations(fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Read first: a database that is up to date is opened without taking the write lock,
	// so that a command that only reads does not wait for another process's writes.
	applied, err := queryAll(ctx, db.db, scanOne[int], `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		body, err := fs.ReadFile(fsys, m.name)
		if err == nil {
			err = db.inTx(ctx, func(tx *sql.Tx) error {
				// Checked inside the (immediate) transaction, so two processes opening
				// a new database at once do not both apply the same file.
				var n int
				err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n)
				if err != nil || n > 0 {
					return err
				}
				if _, err := tx.ExecContext(ctx, string(body)); err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, unix(now))
				return err
			})
		}
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction, committed when fn returns nil. A write lock not had
// within the busy timeout (behind this process's other writes, then others') is ErrBusy.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	deadline := time.Now().Add(db.timeout)
	wait := time.NewTimer(db.timeout)
	defer wait.Stop()
	select {
	case db.writing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return fmt.Errorf("%w: this process's other writes took the whole %s", newsletter.ErrBusy, db.timeout)
	}
	defer func() { <-db.writing }()
	tx, err := db.begin(ctx, deadline)
	if err != nil {
		return busy(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return busy(err)
	}
	return busy(tx.Commit())
}

// Polling bounds for begin.
const (
	lockPollMin = 100 * time.Microsecond
	lockPollMax = 500 * time.Microsecond
)

// begin starts a write transaction, polling until deadline while another process holds the
// lock: SQLite's busy handler sleeps up to 100 ms and misses the short gaps a send or an
// import, committing and beginning again at once, leaves in the lock.
func (db *DB) begin(ctx context.Context, deadline time.Time) (*sql.Tx, error) {
	poll := lockPollMin
	for {
		tx, err := db.writer.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		// Up to poll, at random, so that two processes polling do not keep meeting.
		d := poll/2 + rand.N(poll/2+1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
		poll = min(2*poll, lockPollMax)
	}
}

// busy marks SQLite's "database is locked" with newsletter.ErrBusy ("try again later").
func busy(err error) error {
	if err != nil && isBusy(err) {
		return fmt.Errorf("%w: %w", newsletter.ErrBusy, err)
	}
	return err
}

// Times are stored as INTEGER unix seconds, so that every time.Time fits, the zero one
// included; they are read back in UTC.
func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// affected returns how many rows an Exec changed: affected(tx.ExecContext(...)).
func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// exec runs one write on the pool and returns how many rows it changed; what names it.
func (db *DB) exec(ctx context.Context, what, query string, args ...any) (int, error) {
	n, err := affected(db.db.ExecContext(ctx, query, args...))
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return n, nil
}

// scanRow scans the row query returns into dest; what names it in errors, and no row is
// newsletter.ErrNotFound.
func (db *DB) scanRow(ctx context.Context, what string, dest []any, query string, args ...any) error {
	if err := db.db.QueryRowContext(ctx, query, args...).Scan(dest...); err != nil {
		return fmt.Errorf("store: %s: %w", what, notFound(err))
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and returns its rows as scan reads them.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// list is queryAll on the pool, its error named by what.
func list[T any](ctx context.Context, db *DB, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	out, err := queryAll(ctx, db.db, scan, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// queryMap runs a query of (key, value) rows into m; what names it in errors.
func queryMap[K comparable, V any](ctx context.Context, q querier, what string, m map[K]V, query string, args ...any) (map[K]V, error) {
	type pair struct {
		k K
		v V
	}
	pairs, err := queryAll(ctx, q, func(r rowScanner) (p pair, err error) {
		err = r.Scan(&p.k, &p.v)
		return p, err
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m, nil
}

// scanOne reads a row of one column.
func scanOne[T any](r rowScanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// scanWith appends extra destinations to a scan, so that a scan function can read a wider row.
type scanWith struct {
	r     rowScanner
	extra []any
}

func (s scanWith) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra...)...) }

// notFound is err with sql.ErrNoRows read as newsletter.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return newsletter.ErrNotFound
	}
	return err
}

// absent is err with no row (sql.ErrNoRows, or scanRow's ErrNotFound) read as no error, for
// a lookup whose answer may be none.
func absent(err error) error {
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, newsletter.ErrNotFound) {
		return nil
	}
	return err
}

// likePattern is a LIKE pattern matching s as a substring, % and _ escaped with \.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Backup writes a consistent copy of the database to path, which must not exist; VACUUM
// INTO reads one snapshot and under WAL does not block writers for long.
func (db *DB) Backup(ctx context.Context, path string) error {
	// Created first, private as the database is: VACUUM INTO fills an empty file.
	if err := createPrivate(path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: backup: %s already exists", path)
	} else if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// Ready reports whether the database answers (to the schema version's query) and every
// embedded migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	ms, err := migrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("store: ready: %w", err)
	}
	have, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if want := ms[len(ms)-1].version; have != want {
		return fmt.Errorf("store: ready: schema version %d, want %d", have, want)
	}
	return nil
}
