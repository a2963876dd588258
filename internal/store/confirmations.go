package store

import (
	"context"
	"fmt"
	"time"
)

// QueuedConfirmation is a confirmation mail waiting to go out.
type QueuedConfirmation struct {
	SubscriberID int64
	Attempts     int // tries that failed so far
}

// QueueConfirmation asks for subscriber id's confirmation mail to go out from now on; asking
// again before it went out starts its tries over.
func (db *DB) QueueConfirmation(ctx context.Context, id int64, now time.Time) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO confirmation_queue (subscriber_id, due_at) VALUES (?, ?)
		ON CONFLICT (subscriber_id) DO UPDATE SET due_at = excluded.due_at, attempts = 0, last_error = ''`,
		id, unix(now))
	if err != nil {
		return fmt.Errorf("store: queue confirmation for subscriber %d: %w", id, busy(err))
	}
	return nil
}

// DueConfirmations returns up to limit queued confirmations due by now, oldest first.
func (db *DB) DueConfirmations(ctx context.Context, now time.Time, limit int) ([]QueuedConfirmation, error) {
	return list(ctx, db, "due confirmations", func(r rowScanner) (q QueuedConfirmation, err error) {
		err = r.Scan(&q.SubscriberID, &q.Attempts)
		return q, err
	}, `SELECT subscriber_id, attempts FROM confirmation_queue WHERE due_at <= ? ORDER BY due_at, subscriber_id LIMIT ?`,
		unix(now), limit)
}

// ClaimConfirmation takes subscriber id's due confirmation until until, so that two
// processes never both mail it; false when it is not due any more.
func (db *DB) ClaimConfirmation(ctx context.Context, id int64, now, until time.Time) (bool, error) {
	n, err := affected(db.db.ExecContext(ctx, `
		UPDATE confirmation_queue SET due_at = ? WHERE subscriber_id = ? AND due_at <= ?`,
		unix(until), id, unix(now)))
	if err != nil {
		return false, fmt.Errorf("store: claim confirmation for subscriber %d: %w", id, busy(err))
	}
	return n == 1, nil
}

// ConfirmationDone takes subscriber id's confirmation off the queue: sent, or no longer wanted.
func (db *DB) ConfirmationDone(ctx context.Context, id int64) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM confirmation_queue WHERE subscriber_id = ?`, id); err != nil {
		return fmt.Errorf("store: confirmation for subscriber %d done: %w", id, busy(err))
	}
	return nil
}

// ConfirmationFailed records a failed try of subscriber id's confirmation and when to try again.
func (db *DB) ConfirmationFailed(ctx context.Context, id int64, attempts int, retryAt time.Time, reason string) error {
	_, err := db.db.ExecContext(ctx, `
		UPDATE confirmation_queue SET attempts = ?, due_at = ?, last_error = ? WHERE subscriber_id = ?`,
		attempts, unix(retryAt), reason, id)
	if err != nil {
		return fmt.Errorf("store: confirmation for subscriber %d failed: %w", id, busy(err))
	}
	return nil
}
