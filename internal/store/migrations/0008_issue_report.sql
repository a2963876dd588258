-- Each issue's inclusion report: every story its last build considered, in or out and why.
-- Rewritten with the issue on every rebuild, so a sent issue keeps the report it went out with.
CREATE TABLE issue_report (
	issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
	story_id INTEGER NOT NULL REFERENCES stories (id),
	included INTEGER NOT NULL CHECK (included IN (0, 1)),
	reason   TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (issue_id, story_id)
);
CREATE INDEX issue_report_story ON issue_report (story_id);
