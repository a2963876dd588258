package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"newsletter/internal/newsletter"
)

// AcquireLease takes or renews the named lease for holder until now+ttl. It succeeds when
// the lease is free, expired, or already held by holder; otherwise it returns false.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `
		INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, unix(now.Add(ttl)), unix(now))
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease up if holder has it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// Lease describes who holds a lease.
type Lease struct {
	Name, Holder string
	ExpiresAt    time.Time
}

// LeaseHolder returns the lease's current row; ErrNotFound when nobody ever took it.
func (db *DB) LeaseHolder(ctx context.Context, name string) (Lease, error) {
	l := Lease{Name: name}
	var exp int64
	err := db.db.QueryRowContext(ctx, `SELECT holder, expires_at FROM leases WHERE name = ?`, name).Scan(&l.Holder, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("store: lease %s: %w", name, newsletter.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("store: lease %s: %w", name, err)
	}
	l.ExpiresAt = fromUnix(exp)
	return l, nil
}

// ScheduleRun is one handled slot of the schedule.
type ScheduleRun struct {
	ID          int64
	Kind        string // build or send
	ScheduledAt time.Time
	Week        string
	Outcome     string // running, done, skipped, missed, held, failed, interrupted
	Detail      string
	Holder      string // the process that handled it (see schedule.Holder)
	StartedAt   time.Time
	FinishedAt  time.Time // zero while running
}

// StartRun records that holder is handling a slot. It returns false when the slot was
// already recorded (by this or another process): the caller must not run it again.
func (db *DB) StartRun(ctx context.Context, kind string, scheduledAt time.Time, week, holder string, now time.Time) (int64, bool, error) {
	res, err := db.db.ExecContext(ctx, `
		INSERT INTO schedule_runs (kind, scheduled_at, week, outcome, started_at, holder) VALUES (?, ?, ?, 'running', ?, ?)
		ON CONFLICT (kind, scheduled_at) DO NOTHING`, kind, unix(scheduledAt), week, unix(now), holder)
	if err != nil {
		return 0, false, fmt.Errorf("store: start %s run: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, false, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, false, fmt.Errorf("store: start %s run: %w", kind, err)
	}
	return id, true, nil
}

// FinishRun records a slot's outcome.
func (db *DB) FinishRun(ctx context.Context, id int64, outcome, detail string, now time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE schedule_runs SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?`, outcome, detail, unix(now), id)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", id, err)
	}
	return nil
}

// InterruptRuns marks every run still "running" under another holder than holder as
// interrupted, with detail, and returns how many. The caller holds the sender lease, so
// no other process is handling a slot: such runs were left by a process that died.
func (db *DB) InterruptRuns(ctx context.Context, holder, detail string, now time.Time) (int, error) {
	res, err := db.db.ExecContext(ctx, `
		UPDATE schedule_runs SET outcome = 'interrupted', detail = ?, finished_at = ?
		WHERE outcome = 'running' AND holder <> ?`, detail, unix(now), holder)
	if err != nil {
		return 0, fmt.Errorf("store: interrupt runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: interrupt runs: %w", err)
	}
	return int(n), nil
}

// RecentRuns returns the latest handled slots, newest first.
func (db *DB) RecentRuns(ctx context.Context, limit int) ([]ScheduleRun, error) {
	rows, err := db.db.QueryContext(ctx, `
		SELECT id, kind, scheduled_at, week, outcome, detail, started_at, finished_at, holder
		FROM schedule_runs ORDER BY scheduled_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent runs: %w", err)
	}
	defer rows.Close()
	var out []ScheduleRun
	for rows.Next() {
		var r ScheduleRun
		var sched, started int64
		var finished sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Kind, &sched, &r.Week, &r.Outcome, &r.Detail, &started, &finished, &r.Holder); err != nil {
			return nil, fmt.Errorf("store: recent runs: %w", err)
		}
		r.ScheduledAt, r.StartedAt = fromUnix(sched), fromUnix(started)
		if finished.Valid {
			r.FinishedAt = fromUnix(finished.Int64)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recent runs: %w", err)
	}
	return out, nil
}

// CompactResult says what Compact folded.
type CompactResult struct {
	Issues int // issues whose ledger was folded into totals
	Rows   int // per-recipient rows removed
}

// Compact folds the per-recipient ledger of sent issues whose send finished before
// olderThan into per-issue totals, one issue per transaction, so a long list stays small
// on disk year after year. Issues still sending are never touched.
func (db *DB) Compact(ctx context.Context, olderThan time.Time) (CompactResult, error) {
	var res CompactResult
	rows, err := db.db.QueryContext(ctx, `
		SELECT id FROM issues
		WHERE status = 'sent' AND sent_at IS NOT NULL AND sent_at < ?
		  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = issues.id)
		ORDER BY id`, unix(olderThan))
	if err != nil {
		return res, fmt.Errorf("store: compact: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, fmt.Errorf("store: compact: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("store: compact: %w", err)
	}
	for _, id := range ids {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO issue_totals (issue_id, status, count)
				SELECT issue_id, status, COUNT(*) FROM deliveries WHERE issue_id = ? GROUP BY status
				ON CONFLICT (issue_id, status) DO UPDATE SET count = issue_totals.count + excluded.count`, id)
			if err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE issue_id = ?`, id)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.Rows += int(n)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("store: compact issue %d: %w", id, err)
		}
		res.Issues++
	}
	return res, nil
}

// IssueTotals returns the folded totals of a compacted issue (empty when not compacted).
func (db *DB) IssueTotals(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error) {
	return db.statusCounts(ctx, "issue totals", `SELECT status, count FROM issue_totals WHERE issue_id = ?`, issueID)
}

// statusCounts runs a query of (status, count) rows into a map.
func (db *DB) statusCounts(ctx context.Context, what, query string, args ...any) (map[newsletter.DeliveryStatus]int, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[newsletter.DeliveryStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out[newsletter.DeliveryStatus(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// Backup writes a consistent copy of the database to path with VACUUM INTO, which reads
// one snapshot and does not block writers for long under WAL. path must not exist.
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

// Ready reports whether the database answers and every embedded migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.Ping(ctx); err != nil {
		return err
	}
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

// LedgerCounts counts ledger rows of every issue by status, plus compacted totals.
func (db *DB) LedgerCounts(ctx context.Context) (map[newsletter.DeliveryStatus]int, error) {
	return db.statusCounts(ctx, "ledger counts", `
		SELECT status, SUM(n) FROM (
			SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status
			UNION ALL
			SELECT status, SUM(count) AS n FROM issue_totals GROUP BY status
		) GROUP BY status`)
}
