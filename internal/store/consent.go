package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// ConsentEvent is one line of a subscriber's consent log.
type ConsentEvent struct {
	Event  string // joined, confirmed, left, bounced, complained, resubscribed, suppressed, hard-bounce, soft-bounce
	Source string // web, cli, api, import, admin, email (one-click); dsn, arf, mailto (bounces process)
	IP     string // web sign-ups and confirmations only
	At     time.Time
	Detail string // what a bounce or complaint report said; empty for the rest
}

// Suppression reasons.
const (
	SuppressUnsubscribed = "unsubscribed"
	SuppressBounced      = "bounced"
	SuppressComplained   = "complained"
	SuppressManual       = "manual"
	SuppressErased       = "erased"
)

// Transition is one change of a subscriber's standing. Everything in it is
// written in one transaction, so the status, the suppression list and the
// consent log never disagree.
type Transition struct {
	ID     int64
	Status newsletter.SubscriberStatus // "" keeps the status
	Event  ConsentEvent                // logged when Event.Event is not empty
	Hash   []byte                      // the address's suppression hash
	// Suppress puts the address on the suppression list for this reason;
	// Unsuppress takes it off (a confirmed sign-up is fresh consent).
	Suppress   string
	Unsuppress bool
}

// ApplyTransition writes t in a transaction of its own and reports whether the status
// changed; when it returns nil, the change is committed.
func (db *DB) ApplyTransition(ctx context.Context, t Transition, now time.Time) (bool, error) {
	if err := validTransition(t); err != nil {
		return false, err
	}
	var changed bool
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		changed, err = transitionTx(ctx, tx, t, now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: subscriber %d: %w", t.ID, err)
	}
	return changed, nil
}

func validTransition(t Transition) error {
	if t.Status != "" {
		if err := validSubscriberStatus(t.Status); err != nil {
			return fmt.Errorf("store: subscriber %d: %w", t.ID, err)
		}
	}
	if (t.Suppress != "" || t.Unsuppress) && len(t.Hash) == 0 {
		return fmt.Errorf("store: subscriber %d: suppression change without a hash", t.ID)
	}
	return nil
}

// transitionTx writes t in tx; a subscriber that does not exist is newsletter.ErrNotFound,
// and then nothing is written. It runs as few statements as it can, since it holds the
// write lock that a sender's ledger waits for: a one-click unsubscribe is one UPDATE and
// two INSERTs.
func transitionTx(ctx context.Context, tx *sql.Tx, t Transition, now time.Time) (bool, error) {
	// The suppressed column's new value, NULL to keep it.
	var suppressed sql.NullString
	switch {
	case t.Suppress != "":
		suppressed = sql.NullString{String: t.Suppress, Valid: true}
	case t.Unsuppress:
		suppressed = sql.NullString{Valid: true}
	}
	changed := false
	if t.Status != "" {
		res, err := tx.ExecContext(ctx, `
			UPDATE subscribers SET status = ?1, updated_at = ?2,
				unsubscribed_at = CASE ?1
					WHEN 'unsubscribed' THEN ?2
					WHEN 'active' THEN NULL
					ELSE unsubscribed_at END,
				suppressed = COALESCE(?4, suppressed)
			WHERE id = ?3 AND status <> ?1`, t.Status, unix(now), t.ID, suppressed)
		n, err := affected(res, err)
		if err != nil {
			return false, err
		}
		changed = n > 0
	}
	if !changed {
		// The status stays (or no such subscriber): the suppression mark may still change.
		var n int
		if suppressed.Valid {
			res, err := tx.ExecContext(ctx, `UPDATE subscribers SET suppressed = ? WHERE id = ?`, suppressed.String, t.ID)
			if n, err = affected(res, err); err != nil {
				return false, err
			}
		} else {
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers WHERE id = ?`, t.ID).Scan(&n)
			if err != nil {
				return false, err
			}
		}
		if n == 0 {
			return false, newsletter.ErrNotFound
		}
	}
	switch {
	case t.Suppress != "":
		if err := addSuppression(ctx, tx, t.Hash, t.Suppress, now); err != nil {
			return false, err
		}
	case t.Unsuppress:
		if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE hash = ?`, t.Hash); err != nil {
			return false, err
		}
	}
	if t.Event.Event != "" && (changed || t.Status == "") {
		if err := logConsent(ctx, tx, t.ID, t.Event, now); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// AddSubscriberLogged is AddSubscriber with a consent event for a new row, in one transaction.
func (db *DB) AddSubscriberLogged(ctx context.Context, s newsletter.Subscriber, ev ConsentEvent, now time.Time) (newsletter.Subscriber, bool, error) {
	var out newsletter.Subscriber
	var created bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, created, err = addSubscriber(ctx, tx, s, now)
		if err != nil || !created || ev.Event == "" {
			return err
		}
		return logConsent(ctx, tx, out.ID, ev, now)
	})
	if err != nil {
		return newsletter.Subscriber{}, false, err
	}
	return out, created, nil
}

func logConsent(ctx context.Context, tx *sql.Tx, id int64, ev ConsentEvent, now time.Time) error {
	at := ev.At
	if at.IsZero() {
		at = now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO consent_events (subscriber_id, event, source, ip, at, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		id, ev.Event, ev.Source, ev.IP, unix(at), ev.Detail)
	return err
}

func addSuppression(ctx context.Context, tx *sql.Tx, hash []byte, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO suppressions (hash, reason, created_at) VALUES (?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET reason = excluded.reason`, hash, reason, unix(now))
	return err
}

// ConsentLog returns a subscriber's consent events, oldest first.
func (db *DB) ConsentLog(ctx context.Context, id int64) ([]ConsentEvent, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT event, source, ip, at, detail FROM consent_events WHERE subscriber_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: consent log %d: %w", id, err)
	}
	defer rows.Close()
	var out []ConsentEvent
	for rows.Next() {
		var ev ConsentEvent
		var at int64
		if err := rows.Scan(&ev.Event, &ev.Source, &ev.IP, &at, &ev.Detail); err != nil {
			return nil, fmt.Errorf("store: consent log %d: %w", id, err)
		}
		ev.At = fromUnix(at)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: consent log %d: %w", id, err)
	}
	return out, nil
}

// Suppression returns the reason hash is on the suppression list, "" when it is not.
func (db *DB) Suppression(ctx context.Context, hash []byte) (string, error) {
	var reason string
	err := db.db.QueryRowContext(ctx, `SELECT reason FROM suppressions WHERE hash = ?`, hash).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: suppression: %w", err)
	}
	return reason, nil
}

// SubscriberSuppression returns why subscriber id may not be mailed, "" when it may.
func (db *DB) SubscriberSuppression(ctx context.Context, id int64) (string, error) {
	var reason string
	err := db.db.QueryRowContext(ctx, `SELECT suppressed FROM subscribers WHERE id = ?`, id).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: subscriber %d: %w", id, newsletter.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: subscriber %d: %w", id, err)
	}
	return reason, nil
}

// SuppressionSet returns every suppression hash with its reason, for checking
// an import in memory (the list is small next to the subscribers).
func (db *DB) SuppressionSet(ctx context.Context) (map[string]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT hash, reason FROM suppressions`)
	if err != nil {
		return nil, fmt.Errorf("store: suppressions: %w", err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var h []byte
		var reason string
		if err := rows.Scan(&h, &reason); err != nil {
			return nil, fmt.Errorf("store: suppressions: %w", err)
		}
		out[string(h)] = reason
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: suppressions: %w", err)
	}
	return out, nil
}

// Suppress puts a hash on the suppression list without a subscriber row (an
// operator suppressing an address that never joined).
func (db *DB) Suppress(ctx context.Context, hash []byte, reason string, now time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return addSuppression(ctx, tx, hash, reason, now) })
}

// RemoveSuppressions takes hashes off the suppression list (an import with
// --resubscribe), in one transaction.
func (db *DB) RemoveSuppressions(ctx context.Context, hashes [][]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `DELETE FROM suppressions WHERE hash = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, h := range hashes {
			if _, err := st.ExecContext(ctx, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: remove suppressions: %w", err)
	}
	return nil
}

// EraseSubscriber deletes subscriber id with its delivery ledger rows and
// consent log (GDPR erase) and keeps hash on the suppression list, in one
// transaction. Erasing an address that has no row still records the hash.
func (db *DB) EraseSubscriber(ctx context.Context, id int64, hash []byte, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if id > 0 {
			for _, q := range []string{
				`DELETE FROM deliveries WHERE subscriber_id = ?`,
				`DELETE FROM consent_events WHERE subscriber_id = ?`,
				`DELETE FROM subscribers WHERE id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return err
				}
			}
		}
		return addSuppression(ctx, tx, hash, SuppressErased, now)
	})
	if err != nil {
		return fmt.Errorf("store: erase subscriber %d: %w", id, err)
	}
	if err := db.clearWAL(ctx); err != nil {
		return fmt.Errorf("store: erase subscriber %d: erased, but %w", id, err)
	}
	return nil
}

// clearWAL copies the WAL into the database file and truncates it. secure_delete zeroes
// what a transaction deletes, in the pages it writes; the WAL still holds the earlier
// images of those pages until it is checkpointed and cut back. A reader, or a checkpoint
// of another connection, can hold it off for a moment: it tries for up to two seconds.
func (db *DB) clearWAL(ctx context.Context) error {
	const tries, pause = 40, 50 * time.Millisecond
	for range tries {
		var busy, frames, done int
		if err := db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("the WAL was not cleared: %w", err)
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the WAL was not cleared: %w", ctx.Err())
		case <-time.After(pause):
		}
	}
	return errors.New("the WAL still holds the old pages: other connections kept reading; erase again when fewer are")
}

// SuppressionCounts counts the suppression list by reason.
func (db *DB) SuppressionCounts(ctx context.Context) (map[string]int, error) {
	return db.countsBy(ctx, "suppression counts", `SELECT reason, COUNT(*) FROM suppressions GROUP BY reason`)
}

// WeekCount is one week of the trend: addresses that joined and that left.
type WeekCount struct {
	Start  time.Time // Monday 00:00 UTC
	Joined int
	Left   int
}

// mondayOffset is the unix time of Monday 1970-01-05 00:00 UTC; the epoch was a Thursday.
const mondayOffset = 4 * 86400

const weekSeconds = 7 * 86400

// WeeklyTrend returns joins (created_at) and departures (unsubscribed_at) per
// UTC week for the weeks weeks up to and including now's, oldest first, every
// week present.
func (db *DB) WeeklyTrend(ctx context.Context, weeks int, now time.Time) ([]WeekCount, error) {
	if weeks <= 0 {
		return nil, nil
	}
	cur := (unix(now) - mondayOffset) / weekSeconds
	first := cur - int64(weeks) + 1
	from := first*weekSeconds + mondayOffset
	out := make([]WeekCount, weeks)
	for i := range out {
		out[i].Start = fromUnix((first+int64(i))*weekSeconds + mondayOffset)
	}
	for _, q := range []struct {
		col  string
		left bool
	}{{"created_at", false}, {"unsubscribed_at", true}} {
		rows, err := db.db.QueryContext(ctx, `SELECT (`+q.col+` - ?1) / ?2, COUNT(*) FROM subscribers
			WHERE `+q.col+` >= ?3 GROUP BY 1`, mondayOffset, weekSeconds, from)
		if err != nil {
			return nil, fmt.Errorf("store: weekly trend: %w", err)
		}
		for rows.Next() {
			var w int64
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: weekly trend: %w", err)
			}
			if i := w - first; i >= 0 && i < int64(weeks) {
				if q.left {
					out[i].Left = n
				} else {
					out[i].Joined = n
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: weekly trend: %w", err)
		}
	}
	return out, nil
}
