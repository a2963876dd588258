package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"newsletter/internal/newsletter"
)

// issueStatus reads an issue's status: a draft with an approval row reads as approved (see
// migration 0004: the status CHECK of 0001 does not know that state).
const issueStatus = `CASE WHEN status = 'draft' AND EXISTS (SELECT 1 FROM issue_approvals a WHERE a.issue_id = issues.id)
		THEN 'approved' ELSE status END`

const issueColumns = `id, week, subject, preheader, window_start, cutoff, ` + issueStatus + `,
	created_at, COALESCE(sent_at, 0),
	COALESCE((SELECT approved_by FROM issue_approvals a WHERE a.issue_id = issues.id), '')`

func scanIssue(r rowScanner) (newsletter.Issue, error) {
	var is newsletter.Issue
	var week string
	var windowStart, cutoff, created, sent int64
	err := r.Scan(&is.ID, &week, &is.Subject, &is.Preheader, &windowStart, &cutoff, &is.Status, &created, &sent, &is.ApprovedBy)
	if err != nil {
		return newsletter.Issue{}, err
	}
	if is.Week, err = newsletter.ParseWeek(week); err != nil {
		return newsletter.Issue{}, fmt.Errorf("issue %d: %w", is.ID, err)
	}
	is.WindowStart, is.Cutoff, is.CreatedAt = fromUnix(windowStart), fromUnix(cutoff), fromUnix(created)
	if sent != 0 {
		is.SentAt = fromUnix(sent)
	}
	return is, nil
}

// issue loads the issue matched by where, with its content and stories; what names it.
func (db *DB) issue(ctx context.Context, what, where string, args ...any) (newsletter.Issue, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+issueColumns+`, html, text FROM issues `+where, args...)
	var html, text string
	is, err := scanIssue(scanWith{row, []any{&html, &text}})
	if err != nil {
		return newsletter.Issue{}, fmt.Errorf("store: issue %s: %w", what, notFound(err))
	}
	is.HTML, is.Text = html, text
	is.Stories, err = queryAll(ctx, db.db, scanStory, `
		SELECT `+storyColumns+`
		FROM issue_stories i JOIN stories s ON s.id = i.story_id
		WHERE i.issue_id = ?
		ORDER BY i.position`, is.ID)
	if err != nil {
		return newsletter.Issue{}, fmt.Errorf("store: issue %s: stories: %w", what, err)
	}
	return is, nil
}

// IssueByWeek returns the issue of week, with its stories in order.
func (db *DB) IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error) {
	return db.issue(ctx, week.String(), `WHERE week = ?`, week.String())
}

// IssueByID returns issue id, with its stories in order.
func (db *DB) IssueByID(ctx context.Context, id int64) (newsletter.Issue, error) {
	return db.issue(ctx, fmt.Sprint(id), `WHERE id = ?`, id)
}

// PreviousIssue returns the latest issue of a week before week that is sending or sent,
// with its stories; ErrNotFound when there is none.
func (db *DB) PreviousIssue(ctx context.Context, week newsletter.Week) (newsletter.Issue, error) {
	return db.issue(ctx, "before "+week.String(),
		`WHERE week < ? AND status IN ('sending', 'sent') ORDER BY week DESC LIMIT 1`, week.String())
}

// IssueReport returns the inclusion report saved with issue id's last build.
func (db *DB) IssueReport(ctx context.Context, id int64) ([]newsletter.Verdict, error) {
	return list(ctx, db, fmt.Sprintf("issue %d: report", id), func(r rowScanner) (v newsletter.Verdict, err error) {
		err = r.Scan(&v.StoryID, &v.Included, &v.Reason)
		return v, err
	}, `SELECT story_id, included, reason FROM issue_report WHERE issue_id = ? ORDER BY story_id`, id)
}

// ErrIssueFrozen is wrapped by SaveIssue's and ApproveIssue's errors for a frozen issue.
var ErrIssueFrozen = errors.New("issue is no longer a draft")

// SaveIssue stores is (an empty Status is draft) with its stories and report in one
// transaction and returns it with its and its stories' IDs. The week's draft is replaced,
// keeping its ID; an approved, sending or sent one is refused with ErrIssueFrozen.
// Stories must be stored already; one with ID 0 is looked up by GUID, then URL. A story
// that another frozen issue carries is refused (a story goes out once); one that another
// plain draft holds moves to this issue.
func (db *DB) SaveIssue(ctx context.Context, is newsletter.Issue) (newsletter.Issue, error) {
	if is.Week.IsZero() {
		return newsletter.Issue{}, errors.New("store: save issue: no week")
	}
	week := is.Week.String()
	is.Status = cmp.Or(is.Status, newsletter.IssueDraft)
	switch is.Status {
	case newsletter.IssueDraft, newsletter.IssueSending, newsletter.IssueSent:
	default:
		return newsletter.Issue{}, fmt.Errorf("store: save issue %s: status %q is not valid", week, is.Status)
	}
	is.Stories = append([]newsletter.Story(nil), is.Stories...) // IDs are filled in below; leave the caller's slice alone

	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var status newsletter.IssueStatus
		err := tx.QueryRowContext(ctx, `SELECT id, `+issueStatus+` FROM issues WHERE week = ?`, week).Scan(&id, &status)
		switch {
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case err == nil && status != newsletter.IssueDraft:
			return fmt.Errorf("issue %d is %s: %w", id, status, ErrIssueFrozen)
		}
		// A new week's issue, or the week's draft replaced in place, keeping its id.
		err = tx.QueryRowContext(ctx, `
			INSERT INTO issues (week, subject, preheader, window_start, cutoff, status, html, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (week) DO UPDATE SET subject = excluded.subject, preheader = excluded.preheader,
				window_start = excluded.window_start, cutoff = excluded.cutoff, status = excluded.status,
				html = excluded.html, text = excluded.text, created_at = excluded.created_at
			RETURNING id`,
			week, is.Subject, is.Preheader, unix(is.WindowStart), unix(is.Cutoff), is.Status,
			is.HTML, is.Text, unix(is.CreatedAt)).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM issue_stories WHERE issue_id = ?`, id); err != nil {
			return err
		}
		is.ID = id
		if err := saveIssueStories(ctx, tx, id, is.Stories); err != nil {
			return err
		}
		return saveIssueReport(ctx, tx, id, is.Report)
	})
	if err != nil {
		return newsletter.Issue{}, fmt.Errorf("store: save issue %s: %w", week, err)
	}
	return is, nil
}

// saveIssueStories writes the story list of issue id, filling in missing story IDs.
func saveIssueStories(ctx context.Context, tx *sql.Tx, id int64, stories []newsletter.Story) error {
	for i := range stories {
		st := &stories[i]
		if st.ID == 0 {
			err := tx.QueryRowContext(ctx, `
				SELECT id FROM stories WHERE guid = ?1
				UNION ALL
				SELECT id FROM stories WHERE url = ?2
				LIMIT 1`, cmp.Or(st.GUID, st.URL), st.URL).Scan(&st.ID)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("story %s: %w (save it first)", st.URL, newsletter.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("story %s: %w", st.URL, err)
			}
		}
		for _, q := range []string{staleDraft, releaseStory} {
			if _, err := tx.ExecContext(ctx, q, st.ID, id); err != nil {
				return fmt.Errorf("story %d (%s): %w", st.ID, st.URL, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_stories (issue_id, story_id, position) VALUES (?, ?, ?)`, id, st.ID, i); err != nil {
			var inOther int64
			if tx.QueryRowContext(ctx, `SELECT issue_id FROM issue_stories WHERE story_id = ?`, st.ID).Scan(&inOther) == nil {
				return fmt.Errorf("story %d (%s) is already in issue %d", st.ID, st.URL, inOther)
			}
			return fmt.Errorf("story %d (%s): %w", st.ID, st.URL, err)
		}
	}
	return nil
}

// staleDraft and releaseStory take story ?1 from the plain drafts other than issue ?2 that
// hold it; such a draft loses its rendered email too, so it must be built again.
const (
	staleDraft = `
		UPDATE issues SET html = '', text = ''
		WHERE id IN (SELECT i.issue_id FROM issue_stories i JOIN issues o ON o.id = i.issue_id
			WHERE i.story_id = ?1 AND i.issue_id <> ?2 AND NOT ` + frozenIssue + `)`
	releaseStory = `
		DELETE FROM issue_stories WHERE story_id = ?1 AND issue_id <> ?2
		  AND issue_id IN (SELECT o.id FROM issues o WHERE NOT ` + frozenIssue + `)`
)

func saveIssueReport(ctx context.Context, tx *sql.Tx, id int64, report []newsletter.Verdict) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM issue_report WHERE issue_id = ?`, id); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, v := range report {
		if v.StoryID == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO issue_report (issue_id, story_id, included, reason) VALUES (?, ?, ?, ?)
			ON CONFLICT (issue_id, story_id) DO NOTHING`, id, v.StoryID, v.Included, v.Reason); err != nil {
			return fmt.Errorf("report: story %d: %w", v.StoryID, err)
		}
	}
	return nil
}

// SetIssueStatus moves issue id to sending or sent; moving to sent records now as the
// send time. Moving to approved approves it anonymously (see ApproveIssue).
func (db *DB) SetIssueStatus(ctx context.Context, id int64, st newsletter.IssueStatus, now time.Time) error {
	switch st {
	case newsletter.IssueApproved:
		return db.ApproveIssue(ctx, id, "", now)
	case newsletter.IssueSending, newsletter.IssueSent:
	default:
		return fmt.Errorf("store: issue %d: status %q is not valid", id, st)
	}
	n, err := db.exec(ctx, fmt.Sprintf("issue %d: set status", id), `
		UPDATE issues SET status = ?1,
			sent_at = CASE WHEN ?1 = 'sent' THEN COALESCE(sent_at, ?2) ELSE NULL END
		WHERE id = ?3`, st, unix(now), id)
	if err == nil && n == 0 {
		err = fmt.Errorf("store: issue %d: %w", id, newsletter.ErrNotFound)
	}
	return err
}

// ListIssues returns every issue, newest week first, without stories or content.
func (db *DB) ListIssues(ctx context.Context) ([]newsletter.Issue, error) {
	return list(ctx, db, "list issues", scanIssue, `SELECT `+issueColumns+` FROM issues ORDER BY week DESC`)
}

// ApproveIssue freezes draft id, which then reads as approved; approving again changes
// nothing, and an issue sending or sent is refused with ErrIssueFrozen.
func (db *DB) ApproveIssue(ctx context.Context, id int64, by string, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var status newsletter.IssueStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM issues WHERE id = ?`, id).Scan(&status)
		if err != nil {
			return notFound(err)
		}
		if status != newsletter.IssueDraft {
			return fmt.Errorf("it is %s: %w", status, ErrIssueFrozen)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO issue_approvals (issue_id, approved_by, approved_at) VALUES (?, ?, ?)
			ON CONFLICT (issue_id) DO NOTHING`, id, by, unix(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: approve issue %d: %w", id, err)
	}
	return nil
}

// SentIssues returns the sent issues, newest first, with stories and content: the archive.
func (db *DB) SentIssues(ctx context.Context) ([]newsletter.Issue, error) {
	weeks, err := queryAll(ctx, db.db, scanOne[string], `SELECT week FROM issues WHERE status = 'sent' ORDER BY week DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: sent issues: %w", err)
	}
	out := make([]newsletter.Issue, 0, len(weeks))
	for _, w := range weeks {
		is, err := db.issue(ctx, w, `WHERE week = ?`, w)
		if err != nil {
			return nil, err
		}
		out = append(out, is)
	}
	return out, nil
}

// HoldIssue stops an issue's delivery until ReleaseIssue, with a reason to show.
func (db *DB) HoldIssue(ctx context.Context, issueID int64, reason string, now time.Time) error {
	_, err := db.exec(ctx, fmt.Sprintf("hold issue %d", issueID), `
		INSERT INTO issue_holds (issue_id, reason, held_at) VALUES (?, ?, ?)
		ON CONFLICT (issue_id) DO UPDATE SET reason = excluded.reason, held_at = excluded.held_at`,
		issueID, reason, unix(now))
	return err
}

// IssueHold returns the reason an issue is held, or "" when it is not.
func (db *DB) IssueHold(ctx context.Context, issueID int64) (string, error) {
	var reason string
	err := db.scanRow(ctx, fmt.Sprintf("issue %d hold", issueID), []any{&reason},
		`SELECT reason FROM issue_holds WHERE issue_id = ?`, issueID)
	return reason, absent(err)
}

// ReleaseIssue lifts a hold; it reports whether there was one.
func (db *DB) ReleaseIssue(ctx context.Context, issueID int64) (bool, error) {
	n, err := db.exec(ctx, fmt.Sprintf("release issue %d", issueID), `DELETE FROM issue_holds WHERE issue_id = ?`, issueID)
	return n > 0, err
}

// UnapproveIssue withdraws the approval of issue id unless its send has started, in one
// statement so that a send starting at once sees the approval or none, and reports
// whether it withdrew one.
func (db *DB) UnapproveIssue(ctx context.Context, id int64) (bool, error) {
	var n int
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		n, err = affected(tx.ExecContext(ctx, `
			DELETE FROM issue_approvals WHERE issue_id = ?1
			AND (SELECT status FROM issues WHERE id = ?1) = 'draft'`, id))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: unapprove issue %d: %w", id, err)
	}
	return n > 0, nil
}

// FreezeForSend moves draft id to sending, in one statement with the check that it is
// still approved when needApproval, so that an unapprove lands before the send or not at
// all; false when it is not a draft or not approved.
func (db *DB) FreezeForSend(ctx context.Context, id int64, needApproval bool, now time.Time) (bool, error) {
	n, err := db.exec(ctx, fmt.Sprintf("issue %d: freeze for send", id), `
		UPDATE issues SET status = 'sending'
		WHERE id = ?1 AND status = 'draft'
		  AND (?2 = 0 OR EXISTS (SELECT 1 FROM issue_approvals a WHERE a.issue_id = ?1))`, id, needApproval)
	return n == 1, err
}
