package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"newsletter/internal/newsletter"
)

// AddEdit appends one editor action to its week's log and returns it with its ID.
func (db *DB) AddEdit(ctx context.Context, e newsletter.Edit) (newsletter.Edit, error) {
	if e.Week.IsZero() || e.Action == "" {
		return newsletter.Edit{}, errors.New("store: add edit: week and action are required")
	}
	story := sql.NullInt64{Int64: e.StoryID, Valid: e.StoryID != 0}
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

// Edits returns the week's editor actions, oldest first.
func (db *DB) Edits(ctx context.Context, week newsletter.Week) ([]newsletter.Edit, error) {
	return list(ctx, db, fmt.Sprintf("edits of %s", week), func(r rowScanner) (newsletter.Edit, error) {
		e := newsletter.Edit{Week: week}
		var at int64
		err := r.Scan(&e.ID, &e.Editor, &e.Action, &e.StoryID, &e.Value, &at)
		e.At = fromUnix(at)
		return e, err
	}, `SELECT id, editor, action, COALESCE(story_id, 0), value, created_at
		FROM editorial_edits WHERE week = ? ORDER BY id`, week.String())
}
