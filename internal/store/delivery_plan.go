package store

import (
	"context"
	"fmt"
)

// DeliveryBacklog counts who a send of issue issueID would still mail: active subscribers
// without a ledger row yet, plus the rows pending, in flight or deferred (whose subscriber
// is still active). It changes nothing, for plans and dry runs.
func (db *DB) DeliveryBacklog(ctx context.Context, issueID int64) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `
		SELECT
		  (SELECT COUNT(*) FROM subscribers s
		   WHERE s.status = 'active'
		     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = ?1 AND d.subscriber_id = s.id))
		+ (SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		   WHERE d.issue_id = ?1 AND d.status IN ('pending', 'sending', 'deferred') AND s.status = 'active')`,
		issueID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: issue %d: delivery backlog: %w", issueID, err)
	}
	return n, nil
}
