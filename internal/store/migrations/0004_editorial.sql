-- Editorial workflow (issue 5). The issues.status CHECK cannot be widened without rebuilding
-- the table (and a rebuild would cascade into issue_stories), so approval lives beside it:
-- a draft with an issue_approvals row reads as status "approved".
CREATE TABLE issue_approvals (
	issue_id    INTEGER PRIMARY KEY REFERENCES issues (id) ON DELETE CASCADE,
	approved_by TEXT    NOT NULL DEFAULT '',
	approved_at INTEGER NOT NULL
);

-- Every editor action on a week's draft, in order. The draft's shape (subject, intro, pins,
-- exclusions, order, manual picks) is the replay of this log, so a rebuild from the feeds
-- keeps every edit, and the log doubles as the "who, when, what" shown under the draft.
CREATE TABLE editorial_edits (
	id         INTEGER PRIMARY KEY,
	week       TEXT    NOT NULL, -- ISO week, 2026-W19
	editor     TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	story_id   INTEGER REFERENCES stories (id),
	value      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX editorial_edits_week ON editorial_edits (week, id);
