package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// EnqueueDeliveries adds a pending ledger row for every active subscriber that has none
// for issue issueID yet (none to a compacted issue) and returns how many it added, with
// EnqueueDeliveriesAfter over the whole list.
func (db *DB) EnqueueDeliveries(ctx context.Context, issueID int64, now time.Time) (int, error) {
	total := 0
	for after := int64(0); ; {
		added, last, err := db.EnqueueDeliveriesAfter(ctx, issueID, after, enqueueAllChunk, now)
		total += added
		if err != nil || last == 0 {
			return total, err
		}
		after = last
	}
}

// enqueueAllChunk is how many subscribers one of EnqueueDeliveries' transactions looks at.
const enqueueAllChunk = 50000

// EnqueueDeliveriesAfter queues, in a short transaction, up to limit active subscribers
// with ids above after that have no row for the issue. It returns how many it added and
// the last id it looked at, the next after; 0 when none is left.
func (db *DB) EnqueueDeliveriesAfter(ctx context.Context, issueID, after int64, limit int, now time.Time) (added int, last int64, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if compacted, err := isCompacted(ctx, tx, issueID); err != nil || compacted {
			return err
		}
		var end sql.NullInt64
		if err := tx.QueryRowContext(ctx, `
			SELECT MAX(id) FROM (SELECT id FROM subscribers WHERE status = 'active' AND id > ? ORDER BY id LIMIT ?)`,
			after, limit).Scan(&end); err != nil {
			return err
		}
		if !end.Valid {
			return nil
		}
		last = end.Int64
		added, err = affected(tx.ExecContext(ctx, `
			INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, reply, updated_at)
			SELECT ?, id, 'pending', 0, '', ? FROM subscribers WHERE status = 'active' AND id > ? AND id <= ?
			ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID, unix(now), after, last))
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: issue %d: enqueue deliveries after subscriber %d: %w", issueID, after, err)
	}
	return added, last, nil
}

// isCompacted reports whether the issue's ledger was folded into totals: who got it is no
// longer known, so queueing anyone again would mail everyone twice.
func isCompacted(ctx context.Context, tx *sql.Tx, issueID int64) (bool, error) {
	var compacted bool
	err := tx.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM issue_totals WHERE issue_id = issues.id) FROM issues WHERE id = ?`, issueID).Scan(&compacted)
	return compacted, notFound(err)
}

// ClaimDeliveries marks up to limit pending rows of the issue sending, with one more
// attempt, and returns them with their subscriber, in one transaction so that no two
// callers get the same row. Rows whose subscriber is no longer active are skipped; fewer
// than limit rows means none is pending.
func (db *DB) ClaimDeliveries(ctx context.Context, issueID int64, limit int, now time.Time) ([]newsletter.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := db.SendingHeld(); err != nil {
		return nil, fmt.Errorf("store: issue %d: claim deliveries: %w", issueID, err)
	}
	var claimed []newsletter.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		claimed, err = claimTx(ctx, tx, issueID, limit, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: issue %d: claim deliveries: %w", issueID, err)
	}
	return claimed, nil
}

// RecordAndClaim records outcomes (as RecordDeliveries) and claims up to limit rows (as
// ClaimDeliveries) in one transaction: a worker's "done with that one, give me the next"
// costs one commit instead of two, and a crash keeps both or neither.
func (db *DB) RecordAndClaim(ctx context.Context, issueID int64, outcomes []Outcome, limit int, now time.Time) ([]newsletter.Delivery, error) {
	if err := validOutcomes(outcomes); err != nil {
		return nil, err
	}
	// The outcomes are recorded even when no more rows may be claimed.
	refused := db.SendingHeld()
	var claimed []newsletter.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		if err := recordTx(ctx, tx, outcomes, now); err != nil {
			return err
		}
		if limit > 0 && refused == nil {
			claimed, err = claimTx(ctx, tx, issueID, limit, now)
		}
		return err
	})
	if err == nil && limit > 0 {
		err = refused
	}
	if err != nil {
		return nil, fmt.Errorf("store: issue %d: record and claim: %w", issueID, err)
	}
	return claimed, nil
}

func claimTx(ctx context.Context, tx *sql.Tx, issueID int64, limit int, now time.Time) ([]newsletter.Delivery, error) {
	var claimed []newsletter.Delivery
	nowUnix := unix(now)
	// Skipped rows do not count towards limit, so keep reading until
	// limit rows are claimed or none are pending.
	for len(claimed) < limit {
		batch, err := pendingBatch(ctx, tx, issueID, limit-len(claimed))
		if err != nil || len(batch) == 0 {
			return claimed, err
		}
		for _, d := range batch {
			if d.Subscriber.Status != newsletter.StatusActive {
				_, err := tx.ExecContext(ctx, `
					UPDATE deliveries SET status = 'skipped', reply = 'subscriber is ' || ?, updated_at = ? WHERE id = ?`,
					d.Subscriber.Status, nowUnix, d.ID)
				if err != nil {
					return nil, fmt.Errorf("delivery %d: %w", d.ID, err)
				}
				continue
			}
			_, err := tx.ExecContext(ctx, `
				UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = ?1,
					first_attempt_at = COALESCE(first_attempt_at, ?1), next_attempt_at = NULL
				WHERE id = ?2`, nowUnix, d.ID)
			if err != nil {
				return nil, fmt.Errorf("delivery %d: %w", d.ID, err)
			}
			d.Status = newsletter.DeliverySending
			d.Attempts++
			d.UpdatedAt = fromUnix(nowUnix)
			if d.FirstAttemptAt.IsZero() {
				d.FirstAttemptAt = d.UpdatedAt
			}
			claimed = append(claimed, d)
		}
	}
	return claimed, nil
}

// pendingBatch reads up to n pending rows, all of them before any is updated.
func pendingBatch(ctx context.Context, tx *sql.Tx, issueID int64, n int) ([]newsletter.Delivery, error) {
	return queryAll(ctx, tx, func(r rowScanner) (newsletter.Delivery, error) {
		d := newsletter.Delivery{IssueID: issueID, Status: newsletter.DeliveryPending}
		var first int64
		s, err := scanSubscriber(scanWith{r, []any{&d.ID, &d.Attempts, &first}})
		d.Subscriber = s
		if first != 0 {
			d.FirstAttemptAt = fromUnix(first)
		}
		return d, err
	}, `
		SELECT s.id, s.email, s.name, s.status, s.source, s.created_at, s.updated_at, d.id, d.attempts, COALESCE(d.first_attempt_at, 0)
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.issue_id = ? AND d.status = 'pending'
		ORDER BY d.id
		LIMIT ?`, issueID, n)
}

// Outcome is the result of one delivery attempt.
type Outcome = newsletter.Outcome

func validOutcomes(outcomes []Outcome) error {
	for _, o := range outcomes {
		switch o.Status {
		case newsletter.DeliveryPending, newsletter.DeliverySending, newsletter.DeliverySent,
			newsletter.DeliveryDeferred, newsletter.DeliveryFailed, newsletter.DeliveryBounced,
			newsletter.DeliverySkipped:
		default:
			return fmt.Errorf("store: record delivery %d: delivery status %q is not valid", o.DeliveryID, o.Status)
		}
	}
	return nil
}

// RecordDeliveries writes outcomes in one transaction; an unknown delivery ID fails it all
// with ErrNotFound. A bounce that brings an active or pending subscriber's hard bounces to
// its BounceLimit marks the subscriber bounced.
func (db *DB) RecordDeliveries(ctx context.Context, outcomes []Outcome, now time.Time) error {
	if err := validOutcomes(outcomes); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error { return recordTx(ctx, tx, outcomes, now) })
	if err != nil {
		return fmt.Errorf("store: record deliveries: %w", err)
	}
	return nil
}

func recordTx(ctx context.Context, tx *sql.Tx, outcomes []Outcome, now time.Time) error {
	nowUnix := unix(now)
	for _, o := range outcomes {
		retry := sql.NullInt64{Int64: unix(o.RetryAt), Valid: o.Status == newsletter.DeliveryDeferred}
		n, err := affected(tx.ExecContext(ctx, `
			UPDATE deliveries SET status = ?, reply = ?, updated_at = ?, next_attempt_at = ? WHERE id = ?`,
			o.Status, o.Reply, nowUnix, retry, o.DeliveryID))
		if err == nil && n == 0 {
			err = newsletter.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delivery %d: %w", o.DeliveryID, err)
		}
		if o.Status == newsletter.DeliveryBounced {
			_, err := tx.ExecContext(ctx, `
				UPDATE subscribers SET status = 'bounced', updated_at = ?1
				WHERE id = (SELECT subscriber_id FROM deliveries WHERE id = ?2)
				  AND status IN ('active', 'pending')
				  AND (SELECT COUNT(*) FROM deliveries b
				       WHERE b.subscriber_id = subscribers.id AND b.status = 'bounced') >= ?3`,
				nowUnix, o.DeliveryID, max(o.BounceLimit, 1))
			if err != nil {
				return fmt.Errorf("delivery %d: mark subscriber bounced: %w", o.DeliveryID, err)
			}
		}
	}
	return nil
}

// ResetInFlight moves the issue's sending rows, which a crash left without an outcome, back
// to pending with their attempts (the "resend" policy) and returns how many it moved.
func (db *DB) ResetInFlight(ctx context.Context, issueID int64) (int, error) {
	return db.exec(ctx, fmt.Sprintf("issue %d: reset in-flight deliveries", issueID),
		`UPDATE deliveries SET status = 'pending' WHERE issue_id = ? AND status = 'sending'`, issueID)
}

// SkipInFlight marks the issue's sending rows skipped (the "skip" policy: a loss beats a
// duplicate) and returns how many it marked.
func (db *DB) SkipInFlight(ctx context.Context, issueID int64, now time.Time) (int, error) {
	return db.exec(ctx, fmt.Sprintf("issue %d: skip in-flight deliveries", issueID), `
		UPDATE deliveries SET status = 'skipped', updated_at = ?,
			reply = 'in doubt after an interrupted run; not resent (in_doubt: skip)'
		WHERE issue_id = ? AND status = 'sending'`, unix(now), issueID)
}

// RequeueDue moves the issue's deferred rows due by now back to pending, returning how many.
func (db *DB) RequeueDue(ctx context.Context, issueID int64, now time.Time) (int, error) {
	return db.exec(ctx, fmt.Sprintf("issue %d: requeue due deliveries", issueID), `
		UPDATE deliveries SET status = 'pending', next_attempt_at = NULL
		WHERE issue_id = ? AND status = 'deferred' AND next_attempt_at <= ?`, issueID, unix(now))
}

// NextRetry returns the earliest retry time of the issue's deferred rows; ok is false when
// none is deferred.
func (db *DB) NextRetry(ctx context.Context, issueID int64) (at time.Time, ok bool, err error) {
	var next sql.NullInt64
	err = db.scanRow(ctx, fmt.Sprintf("issue %d: next retry", issueID), []any{&next},
		`SELECT MIN(next_attempt_at) FROM deliveries WHERE issue_id = ? AND status = 'deferred'`, issueID)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return fromUnix(next.Int64), true, nil
}

// DeliveryCounts counts the issue's ledger rows by status, every status in the map.
func (db *DB) DeliveryCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error) {
	return queryMap(ctx, db.db, fmt.Sprintf("issue %d: delivery counts", issueID), map[newsletter.DeliveryStatus]int{
		newsletter.DeliveryPending:  0,
		newsletter.DeliverySending:  0,
		newsletter.DeliverySent:     0,
		newsletter.DeliveryDeferred: 0,
		newsletter.DeliveryFailed:   0,
		newsletter.DeliveryBounced:  0,
		newsletter.DeliverySkipped:  0,
	}, `SELECT status, COUNT(*) FROM deliveries WHERE issue_id = ? GROUP BY status`, issueID)
}

// Compact folds the ledger of issues sent before olderThan into per-issue totals, one
// issue per transaction, so that a long list stays small on disk year after year.
func (db *DB) Compact(ctx context.Context, olderThan time.Time) (newsletter.CompactResult, error) {
	var res newsletter.CompactResult
	ids, err := queryAll(ctx, db.db, scanOne[int64], `
		SELECT id FROM issues
		WHERE status = 'sent' AND sent_at IS NOT NULL AND sent_at < ?
		  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = issues.id)
		ORDER BY id`, unix(olderThan))
	if err != nil {
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
			n, err := affected(tx.ExecContext(ctx, `DELETE FROM deliveries WHERE issue_id = ?`, id))
			res.Rows += n
			return err
		})
		if err != nil {
			return res, fmt.Errorf("store: compact issue %d: %w", id, err)
		}
		res.Issues++
	}
	return res, nil
}

// IssueCounts counts an issue's ledger by status, compacted totals included.
func (db *DB) IssueCounts(ctx context.Context, issueID int64) (map[newsletter.DeliveryStatus]int, error) {
	return queryMap(ctx, db.db, "issue counts", map[newsletter.DeliveryStatus]int{}, `
		SELECT status, SUM(n) FROM (
			SELECT status, COUNT(*) AS n FROM deliveries WHERE issue_id = ? GROUP BY status
			UNION ALL
			SELECT status, count AS n FROM issue_totals WHERE issue_id = ?
		) GROUP BY status`, issueID, issueID)
}

// LedgerCounts counts ledger rows of every issue by status, plus compacted totals.
func (db *DB) LedgerCounts(ctx context.Context) (map[newsletter.DeliveryStatus]int, error) {
	return queryMap(ctx, db.db, "ledger counts", map[newsletter.DeliveryStatus]int{}, `
		SELECT status, SUM(n) FROM (
			SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status
			UNION ALL
			SELECT status, SUM(count) AS n FROM issue_totals GROUP BY status
		) GROUP BY status`)
}

// DeliveryBacklog counts who a send of the issue would still mail: the active subscribers
// less those whose row is final (sent, failed, bounced, skipped); none for a compacted issue.
func (db *DB) DeliveryBacklog(ctx context.Context, issueID int64) (int, error) {
	var n int
	err := db.scanRow(ctx, fmt.Sprintf("issue %d: delivery backlog", issueID), []any{&n}, `
		SELECT CASE WHEN EXISTS (SELECT 1 FROM issue_totals WHERE issue_id = ?1) THEN 0 ELSE
		  (SELECT COUNT(*) FROM subscribers WHERE status = 'active')
		- (SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		   WHERE d.issue_id = ?1 AND d.status IN ('sent', 'failed', 'bounced', 'skipped') AND s.status = 'active')
		END`, issueID)
	return n, err
}

// DeliveryStatus returns the status of the issue's row for a subscriber; ErrNotFound when
// there is none (never sent, or compacted).
func (db *DB) DeliveryStatus(ctx context.Context, issueID, subscriberID int64) (newsletter.DeliveryStatus, error) {
	var st newsletter.DeliveryStatus
	err := db.scanRow(ctx, fmt.Sprintf("delivery of issue %d to subscriber %d", issueID, subscriberID), []any{&st},
		`SELECT status FROM deliveries WHERE issue_id = ? AND subscriber_id = ?`, issueID, subscriberID)
	return st, err
}
