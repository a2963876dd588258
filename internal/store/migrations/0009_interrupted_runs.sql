-- A scheduled run can end "interrupted" (its process was stopped or died mid-slot), and each
-- run names the process that handles it, so that a run left "running" by a process that is
-- gone can be told apart from one still going. SQLite cannot change a CHECK in place: the
-- table is rebuilt with the same rows.
CREATE TABLE schedule_runs_new (
	id           INTEGER PRIMARY KEY,
	kind         TEXT    NOT NULL CHECK (kind IN ('build', 'send')),
	scheduled_at INTEGER NOT NULL,
	week         TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL CHECK (outcome IN ('running', 'done', 'skipped', 'missed', 'held', 'failed', 'interrupted')),
	detail       TEXT    NOT NULL DEFAULT '',
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER,
	holder       TEXT    NOT NULL DEFAULT '',
	UNIQUE (kind, scheduled_at)
);
INSERT INTO schedule_runs_new (id, kind, scheduled_at, week, outcome, detail, started_at, finished_at)
	SELECT id, kind, scheduled_at, week, outcome, detail, started_at, finished_at FROM schedule_runs;
DROP TABLE schedule_runs;
ALTER TABLE schedule_runs_new RENAME TO schedule_runs;
