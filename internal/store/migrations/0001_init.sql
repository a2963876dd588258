-- Times are INTEGER unix seconds, UTC. Text columns that may be empty are
-- NOT NULL DEFAULT '' so that Go code never has to scan a NULL string.

CREATE TABLE subscribers (
	id              INTEGER PRIMARY KEY,
	email           TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	name            TEXT    NOT NULL DEFAULT '',
	status          TEXT    NOT NULL CHECK (status IN ('active', 'pending', 'unsubscribed', 'bounced')),
	source          TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	unsubscribed_at INTEGER
);
CREATE INDEX subscribers_status ON subscribers (status);

CREATE TABLE stories (
	id           INTEGER PRIMARY KEY,
	guid         TEXT    NOT NULL UNIQUE,
	url          TEXT    NOT NULL UNIQUE,
	title        TEXT    NOT NULL DEFAULT '',
	summary      TEXT    NOT NULL DEFAULT '',
	content_html TEXT    NOT NULL DEFAULT '',
	author       TEXT    NOT NULL DEFAULT '',
	section      TEXT    NOT NULL DEFAULT '',
	categories   TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	image_url    TEXT    NOT NULL DEFAULT '',
	image_alt    TEXT    NOT NULL DEFAULT '',
	read_minutes INTEGER NOT NULL DEFAULT 0,
	published_at INTEGER NOT NULL,
	feed_url     TEXT    NOT NULL DEFAULT '',
	pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
	fetched_at   INTEGER NOT NULL
);
CREATE INDEX stories_published_at ON stories (published_at);

CREATE TABLE feeds (
	url           TEXT    PRIMARY KEY,
	etag          TEXT    NOT NULL DEFAULT '',
	last_modified TEXT    NOT NULL DEFAULT '',
	fetched_at    INTEGER NOT NULL,
	last_error    TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE issues (
	id           INTEGER PRIMARY KEY,
	week         TEXT    NOT NULL UNIQUE, -- ISO week, 2026-W19
	subject      TEXT    NOT NULL DEFAULT '',
	preheader    TEXT    NOT NULL DEFAULT '',
	window_start INTEGER NOT NULL,
	cutoff       INTEGER NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('draft', 'sending', 'sent')),
	html         TEXT    NOT NULL DEFAULT '',
	text         TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	sent_at      INTEGER
);
CREATE INDEX issues_cutoff ON issues (cutoff);

-- A story goes out in one issue only: story_id is UNIQUE.
CREATE TABLE issue_stories (
	issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
	story_id INTEGER NOT NULL UNIQUE REFERENCES stories (id),
	position INTEGER NOT NULL,
	PRIMARY KEY (issue_id, position)
);

CREATE TABLE deliveries (
	id            INTEGER PRIMARY KEY,
	issue_id      INTEGER NOT NULL REFERENCES issues (id),
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
	status        TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced', 'skipped')),
	attempts      INTEGER NOT NULL DEFAULT 0,
	reply         TEXT    NOT NULL DEFAULT '',
	updated_at    INTEGER NOT NULL,
	UNIQUE (issue_id, subscriber_id)
);
-- Claims walk (issue_id, status) in id order; the rowid at the end of the index gives that order for free.
CREATE INDEX deliveries_issue_status ON deliveries (issue_id, status);
-- Foreign-key checks on subscribers look deliveries up by subscriber.
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
