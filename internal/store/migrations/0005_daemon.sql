-- One sender at a time: a named lease with a holder and an expiry, renewed while held,
-- so a crashed holder's lease can be taken over once it expires.
CREATE TABLE leases (
	name       TEXT    PRIMARY KEY,
	holder     TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);

-- Every scheduled slot the daemon handled, once: the UNIQUE key is what makes a send
-- happen once even when two daemons share the database.
CREATE TABLE schedule_runs (
	id           INTEGER PRIMARY KEY,
	kind         TEXT    NOT NULL CHECK (kind IN ('build', 'send')),
	scheduled_at INTEGER NOT NULL,
	week         TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL CHECK (outcome IN ('running', 'done', 'skipped', 'missed', 'held', 'failed')),
	detail       TEXT    NOT NULL DEFAULT '',
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	UNIQUE (kind, scheduled_at)
);

-- Per-issue delivery totals that outlive the per-recipient ledger rows (newsletter compact).
CREATE TABLE issue_totals (
	issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
	status   TEXT    NOT NULL,
	count    INTEGER NOT NULL,
	PRIMARY KEY (issue_id, status)
);
