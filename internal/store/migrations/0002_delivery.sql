-- Delivery retries. SQLite cannot change a CHECK constraint in place, so the ledger is
-- rebuilt with two more columns and the 'deferred' status:
--   deferred  a temporary failure (4xx, dropped connection, timeout), retried at next_attempt_at
--   failed    retries given up (max attempts or horizon reached); final
-- Rows that were 'failed' under 0001 meant "temporary, retry", so they become deferred and due now.
-- Nothing references deliveries yet, so dropping and renaming it keeps every foreign key.

CREATE TABLE deliveries_0002 (
	id               INTEGER PRIMARY KEY,
	issue_id         INTEGER NOT NULL REFERENCES issues (id),
	subscriber_id    INTEGER NOT NULL REFERENCES subscribers (id),
	status           TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'bounced', 'skipped')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	reply            TEXT    NOT NULL DEFAULT '',
	updated_at       INTEGER NOT NULL,
	first_attempt_at INTEGER, -- set by the first claim; the retry horizon counts from it
	next_attempt_at  INTEGER, -- deferred rows only: not before this time
	UNIQUE (issue_id, subscriber_id)
);

INSERT INTO deliveries_0002 (id, issue_id, subscriber_id, status, attempts, reply, updated_at, first_attempt_at, next_attempt_at)
SELECT id, issue_id, subscriber_id,
       CASE status WHEN 'failed' THEN 'deferred' ELSE status END,
       attempts, reply, updated_at,
       CASE WHEN attempts > 0 THEN updated_at END,
       CASE status WHEN 'failed' THEN updated_at END
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_0002 RENAME TO deliveries;

-- Claims walk (issue_id, status) in id order; the rowid at the end of the index gives that order for free.
CREATE INDEX deliveries_issue_status ON deliveries (issue_id, status);
-- Foreign-key checks on subscribers look deliveries up by subscriber; so does the bounce count.
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, status);
-- Due retries are found by time.
CREATE INDEX deliveries_retry ON deliveries (issue_id, next_attempt_at) WHERE status = 'deferred';
