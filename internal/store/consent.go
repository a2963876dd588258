package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// ConsentEvent is one line of a subscriber's consent log.
type ConsentEvent struct {
	Event  string // joined, confirmed, left, bounced, complained, resubscribed, suppressed, hard-bounce, soft-bounce
	Source string // web, cli, api, import, admin, email (one-click); dsn, arf, mailto; webhook:PROVIDER
	IP     string // web sign-ups and confirmations only
	At     time.Time
	Detail string // what a bounce or complaint report said; empty for the rest
}

// Transition is one change of a subscriber's standing, written in one transaction so that
// the status, the suppression list and the consent log never disagree.
type Transition struct {
	ID     int64
	Status newsletter.SubscriberStatus // "" keeps the status
	Event  ConsentEvent                // logged when Event.Event is not empty
	Hash   []byte                      // the address's suppression hash
	// Suppress puts the address on the suppression list for this reason;
	// Unsuppress takes it off (a confirmed sign-up is fresh consent).
	Suppress   string
	Unsuppress bool
	// From, when set, is the only status the change may start from, and Unless a
	// suppression reason that forbids it; when either does not hold, nothing is written
	// and the error is newsletter.ErrRefused. Both are read under the write lock.
	From   newsletter.SubscriberStatus
	Unless string
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
	if err := validSubscriberStatus(t.Status); err != nil {
		return fmt.Errorf("store: subscriber %d: %w", t.ID, err)
	}
	if (t.Suppress != "" || t.Unsuppress) && len(t.Hash) == 0 {
		return fmt.Errorf("store: subscriber %d: suppression change without a hash", t.ID)
	}
	return nil
}

// transitionTx writes t in tx, or nothing with ErrNotFound for no such subscriber, in as
// few statements as it can: the ledger's writes wait for the lock it holds.
func transitionTx(ctx context.Context, tx *sql.Tx, t Transition, now time.Time) (bool, error) {
	// The suppressed column's new value, NULL to keep it.
	suppressed := sql.NullString{String: t.Suppress, Valid: t.Suppress != "" || t.Unsuppress}
	if t.From != "" || t.Unless != "" {
		var status newsletter.SubscriberStatus
		var reason string
		err := tx.QueryRowContext(ctx, `SELECT status, suppressed FROM subscribers WHERE id = ?`, t.ID).Scan(&status, &reason)
		switch {
		case err != nil:
			return false, notFound(err)
		case status == t.Status:
			// Already there: the change below is a no-op.
		case (t.From != "" && status != t.From) || (t.Unless != "" && reason == t.Unless):
			return false, fmt.Errorf("%w: status %s, suppressed %q", newsletter.ErrRefused, status, reason)
		}
	}
	changed := false
	if t.Status != "" {
		n, err := affected(tx.ExecContext(ctx, `
			UPDATE subscribers SET status = ?1, updated_at = ?2,
				unsubscribed_at = CASE ?1
					WHEN 'unsubscribed' THEN ?2
					WHEN 'active' THEN NULL
					ELSE unsubscribed_at END,
				suppressed = COALESCE(?4, suppressed)
			WHERE id = ?3 AND status <> ?1`, t.Status, unix(now), t.ID, suppressed))
		if err != nil {
			return false, err
		}
		changed = n > 0
	}
	if !changed {
		// The status stays (or no such subscriber): the suppression mark may still change.
		var n int
		var err error
		if suppressed.Valid {
			n, err = affected(tx.ExecContext(ctx, `UPDATE subscribers SET suppressed = ? WHERE id = ?`, suppressed.String, t.ID))
		} else {
			err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers WHERE id = ?`, t.ID).Scan(&n)
		}
		if err != nil {
			return false, err
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
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
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

// ConsentLog returns a subscriber's consent events, oldest first.
func (db *DB) ConsentLog(ctx context.Context, id int64) ([]ConsentEvent, error) {
	return list(ctx, db, fmt.Sprintf("consent log %d", id), func(r rowScanner) (ev ConsentEvent, err error) {
		var at int64
		err = r.Scan(&ev.Event, &ev.Source, &ev.IP, &at, &ev.Detail)
		ev.At = fromUnix(at)
		return ev, err
	}, `SELECT event, source, ip, at, detail FROM consent_events WHERE subscriber_id = ? ORDER BY id`, id)
}
