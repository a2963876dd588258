package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

// AddEdit appends one editor action to its week's log and returns it with its ID.
func (db *DB) AddEdit(ctx context.Context, e newsletter.Edit) (newsletter.Edit, error) {
	if e.Week.IsZero() || e.Action == "" {
		return newsletter.Edit{}, errors.New("store: add edit: week and action are required")
	}
	var story sql.NullInt64
	if e.StoryID != 0 {
		story = sql.NullInt64{Int64: e.StoryID, Valid: true}
	}
	err := db.db.QueryRowContext(ctx, `
		INSERT INTO editorial_edits (week, editor, action, story_id, value, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Week.String(), e.Editor, e.Action, story, e.Value, unix(e.At)).Scan(&e.ID)
	if err != nil {
		return newsletter.Edit{}, fmt.Errorf("store: add edit to %s: %w", e.Week, err)
	}
	e.At = fromUnix(unix(e.At))
	return e, nil
}

// UnapproveIssue withdraws the approval of issue id while its send has not started, in one
// statement so that a send starting at the same moment either sees the approval or none.
// It reports whether an approval was withdrawn: false when the issue had none or its send
// has started (its status is no longer draft).
func (db *DB) UnapproveIssue(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM issue_approvals WHERE issue_id = ?1
			AND (SELECT status FROM issues WHERE id = ?1) = 'draft'`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: unapprove issue %d: %w", id, err)
	}
	return n > 0, nil
}

// FreezeForSend moves draft id to sending, in one statement with the check that it is
// still approved when needApproval; false when it is not a draft any more or an editor
// withdrew the approval, so an unapprove either lands before the send or is refused.
func (db *DB) FreezeForSend(ctx context.Context, id int64, needApproval bool, now time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `
		UPDATE issues SET status = 'sending'
		WHERE id = ?1 AND status = 'draft'
		  AND (?2 = 0 OR EXISTS (SELECT 1 FROM issue_approvals a WHERE a.issue_id = ?1))`, id, needApproval)
	if err != nil {
		return false, fmt.Errorf("store: issue %d: freeze for send: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: issue %d: freeze for send: %w", id, err)
	}
	return n == 1, nil
}

// Edits returns the week's editor actions, oldest first.
func (db *DB) Edits(ctx context.Context, week newsletter.Week) ([]newsletter.Edit, error) {
	rows, err := db.db.QueryContext(ctx, `
		SELECT id, editor, action, COALESCE(story_id, 0), value, created_at
		FROM editorial_edits WHERE week = ? ORDER BY id`, week.String())
	if err != nil {
		return nil, fmt.Errorf("store: edits of %s: %w", week, err)
	}
	defer rows.Close()
	var out []newsletter.Edit
	for rows.Next() {
		e := newsletter.Edit{Week: week}
		var at int64
		if err := rows.Scan(&e.ID, &e.Editor, &e.Action, &e.StoryID, &e.Value, &at); err != nil {
			return nil, fmt.Errorf("store: edits of %s: %w", week, err)
		}
		e.At = fromUnix(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: edits of %s: %w", week, err)
	}
	return out, nil
}

// offerColumns follows storyColumns with the week of the frozen issue (other than ?1) that
// carries the story.
const offerColumns = storyColumns + `,
	COALESCE((SELECT o.week FROM issue_stories i JOIN issues o ON o.id = i.issue_id
		WHERE i.story_id = s.id AND i.issue_id <> ?1 AND ` + frozenIssue + `), '')`

func queryOffers(ctx context.Context, db *sql.DB, query string, args ...any) ([]newsletter.Offer, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []newsletter.Offer
	for rows.Next() {
		var week string
		st, err := scanStory(scanWith{rows, &week})
		if err != nil {
			return nil, err
		}
		o := newsletter.Offer{Story: st}
		if week != "" {
			if o.IssueWeek, err = newsletter.ParseWeek(week); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// scanWith appends extra destinations to a scan, so that scanStory can read a wider row.
type scanWith struct {
	r     rowScanner
	extra any
}

func (s scanWith) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra)...) }

// OfferedStories returns every story published or fetched after since, each with the week of
// an issue other than exceptIssueID that carries it, newest first: what the feeds offered
// for an issue whose window opens at since.
func (db *DB) OfferedStories(ctx context.Context, since time.Time, exceptIssueID int64) ([]newsletter.Offer, error) {
	offers, err := queryOffers(ctx, db.db, `
		SELECT `+offerColumns+`
		FROM stories s
		WHERE s.published_at > ?2 OR s.fetched_at > ?2
		ORDER BY s.published_at DESC, s.id DESC`, exceptIssueID, unix(since))
	if err != nil {
		return nil, fmt.Errorf("store: offered stories: %w", err)
	}
	return offers, nil
}

// StoriesByID returns the stories with the given IDs (missing ones are left out), each with
// the week of an issue other than exceptIssueID that carries it.
func (db *DB) StoriesByID(ctx context.Context, ids []int64, exceptIssueID int64) ([]newsletter.Offer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{exceptIssueID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	offers, err := queryOffers(ctx, db.db, `
		SELECT `+offerColumns+`
		FROM stories s WHERE s.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: stories by id: %w", err)
	}
	return offers, nil
}

// StoryByURL returns the story stored under url (as its URL or GUID).
func (db *DB) StoryByURL(ctx context.Context, url string) (newsletter.Story, error) {
	st, err := scanStory(db.db.QueryRowContext(ctx, `
		SELECT `+storyColumns+` FROM stories s WHERE s.url = ?1 OR s.guid = ?1 LIMIT 1`, url))
	if errors.Is(err, sql.ErrNoRows) {
		return newsletter.Story{}, fmt.Errorf("store: story %s: %w", url, newsletter.ErrNotFound)
	}
	if err != nil {
		return newsletter.Story{}, fmt.Errorf("store: story %s: %w", url, err)
	}
	return st, nil
}
