package store

import (
	"context"
	"fmt"
)

// DeliveryBacklog counts who a send of issue issueID would still mail: the active
// subscribers, less those whose ledger row for the issue is final (sent, failed, bounced,
// skipped). That is the active subscribers without a row yet plus the rows pending, in
// flight or deferred, counted without looking each subscriber up in the ledger. It changes
// nothing, for plans, dry runs and progress. A compacted issue owes nobody (see
// EnqueueDeliveries).
func (db *DB) DeliveryBacklog(ctx context.Context, issueID int64) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `
		SELECT CASE WHEN EXISTS (SELECT 1 FROM issue_totals WHERE issue_id = ?1) THEN 0 ELSE
		  (SELECT COUNT(*) FROM subscribers WHERE status = 'active')
		- (SELECT COUNT(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		   WHERE d.issue_id = ?1 AND d.status IN ('sent', 'failed', 'bounced', 'skipped') AND s.status = 'active')
		END`,
		issueID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: issue %d: delivery backlog: %w", issueID, err)
	}
	return n, nil
}
