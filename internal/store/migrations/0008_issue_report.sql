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

-- Issues sent before reports were kept decided the stories their builds saw: mark every story
-- no issue carries, published up to the latest sent issue's cutoff, as decided by that issue,
-- so that the next issue is not offered the weeks before it again.
INSERT INTO issue_report (issue_id, story_id, included, reason)
SELECT l.id, s.id, 0, 'considered before inclusion reports were kept'
FROM stories s,
	(SELECT id, cutoff FROM issues WHERE status IN ('sending', 'sent') ORDER BY week DESC LIMIT 1) l
WHERE s.published_at <= l.cutoff
  AND NOT EXISTS (SELECT 1 FROM issue_stories i WHERE i.story_id = s.id);
