-- Suppression and consent (issue 4).

-- Why an address must not be mailed again, kept on the subscriber so that
-- `list --status suppressed` is a plain query: unsubscribed, bounced,
-- complained or manual; '' when the address may be mailed.
ALTER TABLE subscribers ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';

-- The suppression list proper, keyed by a keyed hash (HMAC-SHA256 with the
-- server secret) of the lower-cased address. It outlives the subscriber row:
-- a GDPR erase deletes the row and its history but keeps the hash, so that no
-- later import or operator add can mail the address again.
CREATE TABLE suppressions (
	hash       BLOB    PRIMARY KEY,
	reason     TEXT    NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual', 'erased')),
	created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Consent log: when and how each subscriber joined, confirmed and left.
-- ip is set for web sign-ups only. Deleted with the subscriber (erase).
CREATE TABLE consent_events (
	id            INTEGER PRIMARY KEY,
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	event         TEXT    NOT NULL,
	source        TEXT    NOT NULL DEFAULT '',
	ip            TEXT    NOT NULL DEFAULT '',
	at            INTEGER NOT NULL
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id, id);
