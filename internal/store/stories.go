package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

const storyColumns = `s.id, s.guid, s.url, s.title, s.summary, s.content_html, s.author, s.section,
	s.categories, s.image_url, s.image_alt, s.read_minutes, s.published_at, s.feed_url, s.pinned, s.fetched_at`

func scanStory(r rowScanner) (newsletter.Story, error) {
	var st newsletter.Story
	var categories string
	var published, seen int64
	err := r.Scan(&st.ID, &st.GUID, &st.URL, &st.Title, &st.Summary, &st.ContentHTML, &st.Author, &st.Section,
		&categories, &st.ImageURL, &st.ImageAlt, &st.ReadMinutes, &published, &st.FeedURL, &st.Pinned, &seen)
	if err != nil {
		return newsletter.Story{}, err
	}
	if err := json.Unmarshal([]byte(categories), &st.Categories); err != nil {
		return newsletter.Story{}, fmt.Errorf("story %d: categories: %w", st.ID, err)
	}
	if len(st.Categories) == 0 {
		st.Categories = nil
	}
	st.Published, st.FirstSeen = fromUnix(published), fromUnix(seen)
	return st, nil
}

// SaveStories stores, in one transaction, the stories whose GUID (the URL when empty) and
// URL (required) are not stored yet, so feeds can be fetched again and again, and returns
// how many it stored.
func (db *DB) SaveStories(ctx context.Context, stories []newsletter.Story, now time.Time) (int, error) {
	added := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, st := range stories {
			if st.URL == "" {
				return fmt.Errorf("story %q: empty URL", st.Title)
			}
			categories := st.Categories
			if categories == nil {
				categories = []string{}
			}
			cats, err := json.Marshal(categories)
			if err != nil {
				return fmt.Errorf("story %s: categories: %w", st.URL, err)
			}
			n, err := affected(tx.ExecContext(ctx, `
				INSERT INTO stories (guid, url, title, summary, content_html, author, section, categories,
					image_url, image_alt, read_minutes, published_at, feed_url, pinned, fetched_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, // any UNIQUE: guid or url
				cmp.Or(st.GUID, st.URL), st.URL, st.Title, st.Summary, st.ContentHTML, st.Author, st.Section,
				string(cats), st.ImageURL, st.ImageAlt, st.ReadMinutes, unix(st.Published), st.FeedURL, st.Pinned, unix(now)))
			if err != nil {
				return fmt.Errorf("story %s: %w", st.URL, err)
			}
			added += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: save stories: %w", err)
	}
	return added, nil
}

// frozenIssue is true of the issue aliased o when it is approved, sending or sent: its
// stories are taken. A plain draft takes nothing; another draft may claim its stories.
const frozenIssue = `(o.status <> 'draft' OR EXISTS (SELECT 1 FROM issue_approvals a WHERE a.issue_id = o.id))`

// UnsentStories returns the stories an issue may carry, pinned first, then newest: published
// up to upTo and not decided by a frozen issue other than exceptIssueID (the one rebuilt).
// A frozen issue decides every story its last build considered (carried, or in its report),
// so a story first seen after that build, whatever its date, is still on offer.
func (db *DB) UnsentStories(ctx context.Context, upTo time.Time, exceptIssueID int64) ([]newsletter.Story, error) {
	return list(ctx, db, "unsent stories", scanStory, `
		SELECT `+storyColumns+`
		FROM stories s
		WHERE s.published_at <= ?1
		  AND NOT EXISTS (SELECT 1 FROM issue_stories i JOIN issues o ON o.id = i.issue_id
			WHERE i.story_id = s.id AND i.issue_id <> ?2 AND `+frozenIssue+`)
		  AND NOT EXISTS (SELECT 1 FROM issue_report r JOIN issues o ON o.id = r.issue_id
			WHERE r.story_id = s.id AND r.issue_id <> ?2 AND `+frozenIssue+`)
		ORDER BY s.pinned DESC, s.published_at DESC, s.id DESC`,
		unix(upTo), exceptIssueID)
}

// DraftHolds returns, for each story that a plain draft other than exceptIssueID holds,
// that draft's week.
func (db *DB) DraftHolds(ctx context.Context, exceptIssueID int64) (map[int64]newsletter.Week, error) {
	weeks, err := queryMap(ctx, db.db, "draft holds", map[int64]string{}, `
		SELECT i.story_id, o.week FROM issue_stories i JOIN issues o ON o.id = i.issue_id
		WHERE i.issue_id <> ? AND NOT `+frozenIssue, exceptIssueID)
	if err != nil {
		return nil, err
	}
	holds := make(map[int64]newsletter.Week, len(weeks))
	for id, week := range weeks {
		w, err := newsletter.ParseWeek(week)
		if err != nil {
			return nil, fmt.Errorf("store: draft holds: story %d: %w", id, err)
		}
		holds[id] = w
	}
	return holds, nil
}

// offerColumns adds to storyColumns the week of the frozen issue (not ?1) carrying the story.
const offerColumns = storyColumns + `,
	COALESCE((SELECT o.week FROM issue_stories i JOIN issues o ON o.id = i.issue_id
		WHERE i.story_id = s.id AND i.issue_id <> ?1 AND ` + frozenIssue + `), '')`

func scanOffer(r rowScanner) (newsletter.Offer, error) {
	var week string
	st, err := scanStory(scanWith{r, []any{&week}})
	if err != nil || week == "" {
		return newsletter.Offer{Story: st}, err
	}
	w, err := newsletter.ParseWeek(week)
	return newsletter.Offer{Story: st, IssueWeek: w}, err
}

// OfferedStories returns every story published or fetched after since, newest first, each
// with the week of an issue other than exceptIssueID that carries it.
func (db *DB) OfferedStories(ctx context.Context, since time.Time, exceptIssueID int64) ([]newsletter.Offer, error) {
	return list(ctx, db, "offered stories", scanOffer, `
		SELECT `+offerColumns+`
		FROM stories s
		WHERE s.published_at > ?2 OR s.fetched_at > ?2
		ORDER BY s.published_at DESC, s.id DESC`, exceptIssueID, unix(since))
}

// StoriesByID returns the stories with the given IDs (missing ones are left out), each with
// the week of an issue other than exceptIssueID that carries it.
func (db *DB) StoriesByID(ctx context.Context, ids []int64, exceptIssueID int64) ([]newsletter.Offer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{exceptIssueID}
	for _, id := range ids {
		args = append(args, id)
	}
	return list(ctx, db, "stories by id", scanOffer, `
		SELECT `+offerColumns+`
		FROM stories s WHERE s.id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
}

// StoryByURL returns the story stored under url (as its URL or GUID).
func (db *DB) StoryByURL(ctx context.Context, url string) (newsletter.Story, error) {
	st, err := scanStory(db.db.QueryRowContext(ctx, `
		SELECT `+storyColumns+` FROM stories s WHERE s.url = ?1 OR s.guid = ?1 LIMIT 1`, url))
	if err != nil {
		return newsletter.Story{}, fmt.Errorf("store: story %s: %w", url, notFound(err))
	}
	return st, nil
}
