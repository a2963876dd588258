package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ScheduleRun is one handled slot of the schedule.
type ScheduleRun struct {
	ID          int64
	Kind        string // build or send
	ScheduledAt time.Time
	Week        string
	Outcome     string // running, done, skipped, missed, held, failed, interrupted
	Detail      string
	Holder      string // the process that handled it
	StartedAt   time.Time
	FinishedAt  time.Time // zero while running
}

// StartRun records that holder is handling a slot. It returns false when the slot was
// already recorded (by this or another process): it must not run again.
func (db *DB) StartRun(ctx context.Context, kind string, scheduledAt time.Time, week, holder string, now time.Time) (int64, bool, error) {
	var id int64
	err := db.scanRow(ctx, "start "+kind+" run", []any{&id}, `
		INSERT INTO schedule_runs (kind, scheduled_at, week, outcome, started_at, holder) VALUES (?, ?, ?, 'running', ?, ?)
		ON CONFLICT (kind, scheduled_at) DO NOTHING
		RETURNING id`, kind, unix(scheduledAt), week, unix(now), holder)
	return id, id != 0, absent(err)
}

// RetryRun takes a slot held back for holder to try again, returning its id and detail;
// false when it is not held (any more). Only one caller gets a held slot back.
func (db *DB) RetryRun(ctx context.Context, kind string, scheduledAt time.Time, holder string, now time.Time) (int64, string, bool, error) {
	var id int64
	var detail string
	err := db.scanRow(ctx, "retry "+kind+" run", []any{&id, &detail}, `
		UPDATE schedule_runs SET outcome = 'running', holder = ?, started_at = ?, finished_at = NULL
		WHERE kind = ? AND scheduled_at = ? AND outcome = 'held'
		RETURNING id, detail`, holder, unix(now), kind, unix(scheduledAt))
	return id, detail, id != 0, absent(err)
}

// FinishRun records a slot's outcome.
func (db *DB) FinishRun(ctx context.Context, id int64, outcome, detail string, now time.Time) error {
	_, err := db.exec(ctx, fmt.Sprintf("finish run %d", id),
		`UPDATE schedule_runs SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?`, outcome, detail, unix(now), id)
	return err
}

// InterruptRuns marks the runs of other holders still "running" interrupted, with detail,
// and returns how many; for the schedule lease's holder, to whom they are a dead process's.
func (db *DB) InterruptRuns(ctx context.Context, holder, detail string, now time.Time) (int, error) {
	return db.exec(ctx, "interrupt runs", `
		UPDATE schedule_runs SET outcome = 'interrupted', detail = ?, finished_at = ?
		WHERE outcome = 'running' AND holder <> ?`, detail, unix(now), holder)
}

// RecentRuns returns the latest handled slots, newest first.
func (db *DB) RecentRuns(ctx context.Context, limit int) ([]ScheduleRun, error) {
	return list(ctx, db, "recent runs", func(row rowScanner) (r ScheduleRun, err error) {
		var sched, started int64
		var finished sql.NullInt64
		err = row.Scan(&r.ID, &r.Kind, &sched, &r.Week, &r.Outcome, &r.Detail, &started, &finished, &r.Holder)
		r.ScheduledAt, r.StartedAt = fromUnix(sched), fromUnix(started)
		if finished.Valid {
			r.FinishedAt = fromUnix(finished.Int64)
		}
		return r, err
	}, `SELECT id, kind, scheduled_at, week, outcome, detail, started_at, finished_at, holder
		FROM schedule_runs ORDER BY scheduled_at DESC, id DESC LIMIT ?`, limit)
}
