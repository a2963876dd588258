package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Suppression reasons.
const (
	SuppressUnsubscribed = "unsubscribed"
	SuppressBounced      = "bounced"
	SuppressComplained   = "complained"
	SuppressManual       = "manual"
	SuppressErased       = "erased"
)

func addSuppression(ctx context.Context, tx *sql.Tx, hash []byte, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO suppressions (hash, reason, created_at) VALUES (?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET reason = excluded.reason`, hash, reason, unix(now))
	return err
}

// Suppression returns the reason hash is on the suppression list, "" when it is not.
func (db *DB) Suppression(ctx context.Context, hash []byte) (string, error) {
	var reason string
	err := db.scanRow(ctx, "suppression", []any{&reason}, `SELECT reason FROM suppressions WHERE hash = ?`, hash)
	return reason, absent(err)
}

// SubscriberSuppression returns why subscriber id may not be mailed, "" when it may.
func (db *DB) SubscriberSuppression(ctx context.Context, id int64) (string, error) {
	var reason string
	err := db.scanRow(ctx, fmt.Sprintf("subscriber %d", id), []any{&reason},
		`SELECT suppressed FROM subscribers WHERE id = ?`, id)
	return reason, err
}

// SuppressionSet returns every suppression hash with its reason, to check many addresses.
func (db *DB) SuppressionSet(ctx context.Context) (map[string]string, error) {
	return queryMap(ctx, db.db, "suppressions", map[string]string{}, `SELECT hash, reason FROM suppressions`)
}

// Suppress puts a hash on the suppression list, whether or not it is a subscriber's.
func (db *DB) Suppress(ctx context.Context, hash []byte, reason string, now time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return addSuppression(ctx, tx, hash, reason, now) })
}

// RemoveSuppressions takes hashes off the suppression list, in one transaction.
func (db *DB) RemoveSuppressions(ctx context.Context, hashes [][]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE hash = ?`, h); err != nil {
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

// SuppressionCounts counts the suppression list by reason.
func (db *DB) SuppressionCounts(ctx context.Context) (map[string]int, error) {
	return queryMap(ctx, db.db, "suppression counts", map[string]int{}, `SELECT reason, COUNT(*) FROM suppressions GROUP BY reason`)
}
