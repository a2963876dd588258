package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// HoldIssue stops an issue's delivery until ReleaseIssue; the reason is shown to operators.
func (db *DB) HoldIssue(ctx context.Context, issueID int64, reason string, now time.Time) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO issue_holds (issue_id, reason, held_at) VALUES (?, ?, ?)
		ON CONFLICT (issue_id) DO UPDATE SET reason = excluded.reason, held_at = excluded.held_at`,
		issueID, reason, unix(now))
	if err != nil {
		return fmt.Errorf("store: hold issue %d: %w", issueID, err)
	}
	return nil
}

// IssueHold returns the reason an issue is held, or "" when it is not.
func (db *DB) IssueHold(ctx context.Context, issueID int64) (string, error) {
	var reason string
	err := db.db.QueryRowContext(ctx, `SELECT reason FROM issue_holds WHERE issue_id = ?`, issueID).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: issue %d hold: %w", issueID, err)
	}
	return reason, nil
}

// ReleaseIssue lifts a hold; it reports whether there was one.
func (db *DB) ReleaseIssue(ctx context.Context, issueID int64) (bool, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM issue_holds WHERE issue_id = ?`, issueID)
	if err != nil {
		return false, fmt.Errorf("store: release issue %d: %w", issueID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
