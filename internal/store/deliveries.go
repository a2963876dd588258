package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// EnqueueDeliveries adds a pending ledger row for every active subscriber
// that has none for issue issueID yet, and returns how many it added. Calling
// it again adds only subscribers who became active since.
func (db *DB) EnqueueDeliveries(ctx context.Context, issueID int64, now time.Time) (int, error) {
	var added int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM issues WHERE id = ?`, issueID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return newsletter.ErrNotFound
			}
			return err
		}
		// The WHERE on the SELECT is required by SQLite's grammar to tell the
		// upsert's ON CONFLICT from a join's ON.
		res, err := tx.ExecContext(ctx, `
			INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, reply, updated_at)
			SELECT ?, id, 'pending', 0, '', ? FROM subscribers WHERE status = 'active'
			ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID, unix(now))
		if err != nil {
			return err
		}
		added, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: issue %d: enqueue deliveries: %w", issueID, err)
	}
	return int(added), nil
}

// ClaimDeliveries takes up to limit pending rows of issue issueID, in ledger
// order, marks them sending with one more attempt, and returns them with their
// subscriber. It runs in one immediate transaction, so concurrent callers
// (goroutines or processes) never get the same row. Rows whose subscriber is
// no longer active are marked skipped on the way and not returned; fewer than
// limit rows means no pending rows are left.
func (db *DB) ClaimDeliveries(ctx context.Context, issueID int64, limit int, now time.Time) ([]newsletter.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var claimed []newsletter.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		next, err := tx.PrepareContext(ctx, `
			SELECT d.id, d.attempts, s.id, s.email, s.name, s.status, s.source, s.created_at, s.updated_at
			FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
			WHERE d.issue_id = ? AND d.status = 'pending'
			ORDER BY d.id
			LIMIT ?`)
		if err != nil {
			return err
		}
		defer next.Close()
		claim, err := tx.PrepareContext(ctx, `
			UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer claim.Close()
		skip, err := tx.PrepareContext(ctx, `
			UPDATE deliveries SET status = 'skipped', reply = 'subscriber is ' || ?, updated_at = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer skip.Close()

		nowUnix := unix(now)
		// Skipped rows do not count towards limit, so keep reading until
		// limit rows are claimed or none are pending.
		for len(claimed) < limit {
			batch, err := pendingBatch(ctx, next, issueID, limit-len(claimed))
			if err != nil || len(batch) == 0 {
				return err
			}
			for _, d := range batch {
				if d.Subscriber.Status != newsletter.StatusActive {
					if _, err := skip.ExecContext(ctx, d.Subscriber.Status, nowUnix, d.ID); err != nil {
						return fmt.Errorf("delivery %d: %w", d.ID, err)
					}
					continue
				}
				if _, err := claim.ExecContext(ctx, nowUnix, d.ID); err != nil {
					return fmt.Errorf("delivery %d: %w", d.ID, err)
				}
				d.Status = newsletter.DeliverySending
				d.Attempts++
				d.UpdatedAt = fromUnix(nowUnix)
				claimed = append(claimed, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: issue %d: claim deliveries: %w", issueID, err)
	}
	return claimed, nil
}

// pendingBatch reads up to n pending rows; they are read in full before any of
// them is updated.
func pendingBatch(ctx context.Context, next *sql.Stmt, issueID int64, n int) ([]newsletter.Delivery, error) {
	rows, err := next.QueryContext(ctx, issueID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batch []newsletter.Delivery
	for rows.Next() {
		d := newsletter.Delivery{IssueID: issueID, Status: newsletter.DeliveryPending}
		s := &d.Subscriber
		var created, updated int64
		if err := rows.Scan(&d.ID, &d.Attempts, &s.ID, &s.Email, &s.Name, &s.Status, &s.Source, &created, &updated); err != nil {
			return nil, err
		}
		s.CreatedAt, s.UpdatedAt = fromUnix(created), fromUnix(updated)
		batch = append(batch, d)
	}
	return batch, rows.Err()
}

// Outcome is the result of one delivery attempt.
type Outcome struct {
	DeliveryID int64
	Status     newsletter.DeliveryStatus
	Reply      string // the server's answer or the error, for the record
}

func validDeliveryStatus(st newsletter.DeliveryStatus) error {
	switch st {
	case newsletter.DeliveryPending, newsletter.DeliverySending, newsletter.DeliverySent,
		newsletter.DeliveryFailed, newsletter.DeliveryBounced, newsletter.DeliverySkipped:
		return nil
	}
	return fmt.Errorf("delivery status %q is not valid", st)
}

// RecordDeliveries writes several outcomes in one transaction. A bounced
// delivery also marks its subscriber bounced (when active or pending: an
// address that unsubscribed stays unsubscribed), so later issues skip it. An
// unknown delivery ID fails the whole call with ErrNotFound.
func (db *DB) RecordDeliveries(ctx context.Context, outcomes []Outcome, now time.Time) error {
	for _, o := range outcomes {
		if err := validDeliveryStatus(o.Status); err != nil {
			return fmt.Errorf("store: record delivery %d: %w", o.DeliveryID, err)
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		record, err := tx.PrepareContext(ctx, `
			UPDATE deliveries SET status = ?, reply = ?, updated_at = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer record.Close()
		bounce, err := tx.PrepareContext(ctx, `
			UPDATE subscribers SET status = 'bounced', updated_at = ?
			WHERE id = (SELECT subscriber_id FROM deliveries WHERE id = ?)
			  AND status IN ('active', 'pending')`)
		if err != nil {
			return err
		}
		defer bounce.Close()
		nowUnix := unix(now)
		for _, o := range outcomes {
			res, err := record.ExecContext(ctx, o.Status, o.Reply, nowUnix, o.DeliveryID)
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.DeliveryID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err == nil {
					err = newsletter.ErrNotFound
				}
				return fmt.Errorf("delivery %d: %w", o.DeliveryID, err)
			}
			if o.Status == newsletter.DeliveryBounced {
				if _, err := bounce.ExecContext(ctx, nowUnix, o.DeliveryID); err != nil {
					return fmt.Errorf("delivery %d: mark subscriber bounced: %w", o.DeliveryID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record deliveries: %w", err)
	}
	return nil
}

// ResetInFlight moves the issue's sending rows back to pending, for use after
// a crash left them claimed with no outcome, and returns how many it moved.
// Their attempt counts are kept.
func (db *DB) ResetInFlight(ctx context.Context, issueID int64) (int, error) {
	n, err := db.moveDeliveries(ctx, issueID, newsletter.DeliverySending, newsletter.DeliveryPending)
	if err != nil {
		return 0, fmt.Errorf("store: issue %d: reset in-flight deliveries: %w", issueID, err)
	}
	return n, nil
}

// RequeueFailed moves the issue's failed rows back to pending and returns how
// many it moved.
func (db *DB) RequeueFailed(ctx context.Context, issueID int64) (int, error) {
	n, err := db.moveDeliveries(ctx, issueID, newsletter.DeliveryFailed, newsletter.DeliveryPending)
	if err != nil {
		return 0, fmt.Errorf("store: issue %d: requeue failed deliveries: %w", issueID, err)
	}
	return n, nil
}

func (db *DB) moveDeliveries(ctx context.Context, issueID int64, from, to newsletter.DeliveryStatus) (int, error) {
	res, err := db.db.ExecContext(ctx,
		`UPDATE deliveries SET status = ? WHERE issue_id = ? AND status = ?`, to, issueID, from)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeliveryCounts returns how many of the issue's ledger rows are in each
// status; every status is present in the map, with 0 when there are none.
func (db *DB) DeliveryCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error) {
	counts := map[newsletter.DeliveryStatus]int{
		newsletter.DeliveryPending: 0,
		newsletter.DeliverySending: 0,
		newsletter.DeliverySent:    0,
		newsletter.DeliveryFailed:  0,
		newsletter.DeliveryBounced: 0,
		newsletter.DeliverySkipped: 0,
	}
	rows, err := db.db.QueryContext(ctx,
		`SELECT status, COUNT(*) FROM deliveries WHERE issue_id = ? GROUP BY status`, issueID)
	if err != nil {
		return nil, fmt.Errorf("store: issue %d: delivery counts: %w", issueID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st newsletter.DeliveryStatus
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: issue %d: delivery counts: %w", issueID, err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: issue %d: delivery counts: %w", issueID, err)
	}
	return counts, nil
}
