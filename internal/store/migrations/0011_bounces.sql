-- Bounces and complaints that arrive after the send (issue 17).

-- What a consent event was about, in a line: a bounce report's status and the
-- remote server's words, a complaint's feedback type.
ALTER TABLE consent_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- Every bounce or complaint report matched to a subscriber, once per message
-- and kind: soft bounces are counted within a window, and an issue's figures
-- come from here. ledger is 1 when the report turned the issue's delivery row
-- to bounced (then the ledger already counts it as a hard bounce).
CREATE TABLE bounce_events (
	id            INTEGER PRIMARY KEY,
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	issue_id      INTEGER REFERENCES issues (id) ON DELETE SET NULL,
	kind          TEXT    NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
	status        TEXT    NOT NULL DEFAULT '',
	reason        TEXT    NOT NULL DEFAULT '',
	source        TEXT    NOT NULL,
	ledger        INTEGER NOT NULL DEFAULT 0 CHECK (ledger IN (0, 1)),
	reported_at   INTEGER NOT NULL,
	received_at   INTEGER NOT NULL,
	report_id     TEXT    NOT NULL DEFAULT '' -- the report's own Message-ID
);
CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, kind, reported_at);
CREATE INDEX bounce_events_issue ON bounce_events (issue_id, kind);
