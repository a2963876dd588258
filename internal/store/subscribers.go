package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

const subscriberColumns = `id, email, name, status, source, created_at, updated_at`

func scanSubscriber(r rowScanner) (newsletter.Subscriber, error) {
	var s newsletter.Subscriber
	var created, updated int64
	if err := r.Scan(&s.ID, &s.Email, &s.Name, &s.Status, &s.Source, &created, &updated); err != nil {
		return newsletter.Subscriber{}, err
	}
	s.CreatedAt, s.UpdatedAt = fromUnix(created), fromUnix(updated)
	return s, nil
}

// validSubscriberStatus accepts a status as stored, or "" (kept, or the default).
func validSubscriberStatus(st newsletter.SubscriberStatus) error {
	if parsed, err := newsletter.ParseSubscriberStatus(string(st)); st != "" && (err != nil || parsed != st) {
		return fmt.Errorf("subscriber status %q is not valid", st)
	}
	return nil
}

// AddSubscriber inserts s (an empty Status is active, a zero CreatedAt now, the address
// already normalised) and returns it with created true; an address already on the list
// (case-insensitively) is returned unchanged with created false.
func (db *DB) AddSubscriber(ctx context.Context, s newsletter.Subscriber, now time.Time) (newsletter.Subscriber, bool, error) {
	return addSubscriber(ctx, db.db, s, now)
}

func addSubscriber(ctx context.Context, q querier, s newsletter.Subscriber, now time.Time) (newsletter.Subscriber, bool, error) {
	if s.Email == "" {
		return newsletter.Subscriber{}, false, errors.New("store: add subscriber: empty email")
	}
	s.Status = cmp.Or(s.Status, newsletter.StatusActive)
	if err := validSubscriberStatus(s.Status); err != nil {
		return newsletter.Subscriber{}, false, fmt.Errorf("store: add subscriber %s: %w", s.Email, err)
	}
	row := q.QueryRowContext(ctx, insertStatement(1)+` ON CONFLICT (email) DO NOTHING RETURNING `+subscriberColumns,
		insertArgs(nil, s, now)...)
	added, err := scanSubscriber(row)
	if err == nil {
		return added, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return newsletter.Subscriber{}, false, fmt.Errorf("store: add subscriber %s: %w", s.Email, err)
	}
	existing, err := subscriber(ctx, q, s.Email, `email = ?`, s.Email)
	return existing, false, err
}

// SubscriberByEmail looks a subscriber up by address, case-insensitively.
func (db *DB) SubscriberByEmail(ctx context.Context, email string) (newsletter.Subscriber, error) {
	return subscriber(ctx, db.db, email, `email = ?`, email)
}

// SubscriberByID looks a subscriber up by id.
func (db *DB) SubscriberByID(ctx context.Context, id int64) (newsletter.Subscriber, error) {
	return subscriber(ctx, db.db, fmt.Sprint(id), `id = ?`, id)
}

// subscriber loads the one subscriber matched by where; what names it in errors.
func subscriber(ctx context.Context, q querier, what, where string, arg any) (newsletter.Subscriber, error) {
	s, err := scanSubscriber(q.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE `+where, arg))
	if err != nil {
		return newsletter.Subscriber{}, fmt.Errorf("store: subscriber %s: %w", what, notFound(err))
	}
	return s, nil
}

// ImportOptions controls ImportSubscribers.
type ImportOptions struct {
	Resubscribe bool // let rows re-activate addresses that unsubscribed or bounced
	// DryRun computes the result chunk by chunk, rolling each chunk back. A row repeating
	// an address of an earlier chunk is counted against the list as it is, not as the
	// earlier row would have left it.
	DryRun bool
}

// ImportResult counts, once each, the rows an import wrote (or, dry, would write).
type ImportResult struct {
	Added     int // new addresses
	Updated   int // existing addresses whose name or status changed
	Unchanged int // existing addresses the row agreed with
	Kept      int // unsubscribed or bounced addresses not re-activated (and not otherwise touched)
}

// Rows is how many rows the result counts.
func (r ImportResult) Rows() int { return r.Added + r.Updated + r.Unchanged + r.Kept }

// SubscriberStream calls yield for each row in order and returns the first error, yield's
// or its own (a read failure, a rejected file).
type SubscriberStream func(yield func(newsletter.Subscriber) error) error

// ImportSubscribers adds or updates a stream's rows, ImportChunk rows to a transaction, so
// that no transaction holds the write lock for long, letting other writers in between.
// A new address gets the row's status (active when empty), CreatedAt (now when zero) and
// Source ("import" when empty), and a "joined" consent event. An existing address takes
// the row's non-empty name and status, but unsubscribed or bounced is only re-activated
// with opt.Resubscribe; a changed status is logged from "import". A later row for the
// same address updates what the earlier one wrote, so importing again changes nothing.
// An error from rows, a bad row (empty email, invalid status) or a cancelled ctx stops
// the import: the chunks before it are committed and counted in the result returned
// with the error; the one it was in is not.
func (db *DB) ImportSubscribers(ctx context.Context, rows SubscriberStream, opt ImportOptions, now time.Time) (ImportResult, error) {
	var res ImportResult
	imp := &importer{
		opt:   opt,
		now:   now,
		args:  make([]any, max(ImportChunk, maxInsertRows*insertWidth)),
		known: make(map[string]knownSubscriber, ImportChunk),
		added: make([]newsletter.Subscriber, 0, ImportChunk),
	}
	chunk := make([]newsletter.Subscriber, 0, ImportChunk)
	flush := func() error {
		committed := res // what a failed chunk leaves counted
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			err := imp.chunk(ctx, tx, chunk, &res)
			if err == nil && opt.DryRun {
				err = errDryRun
			}
			return err
		})
		if err != nil && !errors.Is(err, errDryRun) {
			res = committed
			return err
		}
		chunk = chunk[:0]
		return db.betweenChunks(ctx)
	}
	n := 0
	err := rows(func(r newsletter.Subscriber) error {
		n++
		if r.Email == "" {
			return fmt.Errorf("row %d: empty email", n)
		}
		if err := validSubscriberStatus(r.Status); err != nil {
			return fmt.Errorf("%s: %w", r.Email, err)
		}
		chunk = append(chunk, r)
		if len(chunk) < ImportChunk {
			return nil
		}
		return flush()
	})
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			// database/sql rolls back a transaction whose context ends, so the statement
			// that notices fails with "statement is closed": report the cancellation.
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return res, fmt.Errorf("store: import subscribers: %w", err)
	}
	return res, nil
}

// betweenChunks checkpoints the WAL after each chunk, so that other writers' short
// transactions do not copy the import's pages in their COMMIT's auto-checkpoint; lasting
// at least begin's longest poll, it is also the gap in which a polling writer gets the lock.
func (db *DB) betweenChunks(ctx context.Context) error {
	start := time.Now()
	// PASSIVE neither waits for nor blocks other connections; it copies what it can.
	var busy, logged, copied int
	if err := db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d := lockPollMax - time.Since(start); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return nil
}

// errDryRun makes inTx roll a dry-run chunk back.
var errDryRun = errors.New("dry run")

// ImportChunk is how many rows one import transaction writes and its one lookup asks
// for: per-statement overhead outweighs SQLite's work, and an unchanged row costs none.
const ImportChunk = 500

// maxInsertRows is the most new addresses one INSERT writes: 128 rows of 7 values stay
// under 999, the smallest limit on bound parameters SQLite has had.
const maxInsertRows = 128

// insertColumns are a new subscriber's columns, in insertArgs' order.
const insertColumns = `email, name, status, source, created_at, updated_at, unsubscribed_at`

const insertWidth = 7 // values per row of insertColumns

// importer writes an import's chunks, each in a transaction of its own (chunk).
type importer struct {
	opt  ImportOptions
	now  time.Time
	args []any
	// known maps a folded address to its state in the current chunk, found or written,
	// so that a second row for an address updates what the first wrote.
	known map[string]knownSubscriber
	// added holds the chunk's new addresses not yet inserted, written together; flush empties it.
	added []newsletter.Subscriber
}

type knownSubscriber struct {
	id     int64 // 0: added by this chunk, id not yet looked up
	name   string
	status newsletter.SubscriberStatus
	// fresh is an address this chunk adds: its "joined" event stands for later changes.
	fresh bool
}

// The statements of a chunk; email IN (...) uses the column's NOCASE index.
var (
	importLookup = `SELECT id, email, name, status FROM subscribers WHERE email IN (?` +
		strings.Repeat(`, ?`, ImportChunk-1) + `)`
	importUpdate = `
		UPDATE subscribers SET name = ?1, status = ?2, updated_at = ?3,
			unsubscribed_at = CASE ?2
				WHEN 'unsubscribed' THEN COALESCE(unsubscribed_at, ?3)
				WHEN 'active' THEN NULL
				ELSE unsubscribed_at END,
			suppressed = CASE WHEN ?2 IN ('active', 'pending') THEN '' ELSE suppressed END
		WHERE id = ?4`
)

// importEvent names the consent event of an import row that changes an address's status.
func importEvent(st newsletter.SubscriberStatus) string {
	switch st {
	case newsletter.StatusUnsubscribed:
		return "left"
	case newsletter.StatusBounced:
		return "bounced"
	}
	return "resubscribed"
}

func (imp *importer) chunk(ctx context.Context, tx *sql.Tx, rows []newsletter.Subscriber, res *ImportResult) error {
	var lastID int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM subscribers`).Scan(&lastID); err != nil {
		return err
	}
	// A short last chunk repeats its last address to fill the IN list.
	for i := range ImportChunk {
		imp.args[i] = rows[min(i, len(rows)-1)].Email
	}
	clear(imp.known)
	type row struct {
		email string
		k     knownSubscriber
	}
	found, err := queryAll(ctx, tx, func(r rowScanner) (f row, err error) {
		err = r.Scan(&f.k.id, &f.email, &f.k.name, &f.k.status)
		return f, err
	}, importLookup, imp.args[:ImportChunk]...)
	if err != nil {
		return err
	}
	for _, f := range found {
		imp.known[foldEmail(f.email)] = f.k
	}

	for _, r := range rows {
		key := foldEmail(r.Email)
		k, ok := imp.known[key]
		if !ok {
			imp.added = append(imp.added, r)
			imp.known[key] = knownSubscriber{name: r.Name, status: cmp.Or(r.Status, newsletter.StatusActive), fresh: true}
			res.Added++
			continue
		}
		status := k.status
		if r.Status != "" && r.Status != k.status {
			gone := k.status == newsletter.StatusUnsubscribed || k.status == newsletter.StatusBounced
			back := r.Status == newsletter.StatusActive || r.Status == newsletter.StatusPending
			if gone && back && !imp.opt.Resubscribe {
				res.Kept++
				continue
			}
			status = r.Status
		}
		name := cmp.Or(r.Name, k.name)
		if name == k.name && status == k.status {
			res.Unchanged++
			continue
		}
		if k.id == 0 {
			// A second row for an address this chunk adds (rare): insert, look the id up.
			if err := imp.flush(ctx, tx); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email = ?`, r.Email).Scan(&k.id); err != nil {
				return fmt.Errorf("%s: %w", r.Email, err)
			}
		}
		if _, err := tx.ExecContext(ctx, importUpdate, name, status, unix(imp.now), k.id); err != nil {
			return fmt.Errorf("%s: %w", r.Email, err)
		}
		if status != k.status && !k.fresh {
			ev := ConsentEvent{Event: importEvent(status), Source: "import"}
			if err := logConsent(ctx, tx, k.id, ev, imp.now); err != nil {
				return fmt.Errorf("%s: %w", r.Email, err)
			}
		}
		imp.known[key] = knownSubscriber{id: k.id, name: name, status: status, fresh: k.fresh}
		res.Updated++
	}
	if err := imp.flush(ctx, tx); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO consent_events (subscriber_id, event, source, at)
		SELECT id, 'joined', source, created_at FROM subscribers WHERE id > ?`, lastID)
	return err
}

// flush inserts imp.added, in order, in statements of up to maxInsertRows rows.
func (imp *importer) flush(ctx context.Context, tx *sql.Tx) error {
	rest := imp.added
	for len(rest) > 0 {
		n := maxInsertRows
		for n > len(rest) {
			n /= 2
		}
		args := imp.args[:0]
		for _, r := range rest[:n] {
			r.Status, r.Source = cmp.Or(r.Status, newsletter.StatusActive), cmp.Or(r.Source, "import")
			args = insertArgs(args, r, imp.now)
		}
		if _, err := tx.ExecContext(ctx, insertStatement(n), args...); err != nil {
			return fmt.Errorf("add %s and %d more: %w", rest[0].Email, n-1, err)
		}
		rest = rest[n:]
	}
	imp.added = imp.added[:0]
	return nil
}

// insertStatement inserts n addresses; n is a power of two, so the statement cache keeps all.
func insertStatement(n int) string {
	row := `(?` + strings.Repeat(`, ?`, insertWidth-1) + `)`
	return `INSERT INTO subscribers (` + insertColumns + `) VALUES ` + row + strings.Repeat(`, `+row, n-1)
}

// insertArgs appends insertColumns' values for s, whose Status is set; zero CreatedAt is now.
func insertArgs(args []any, s newsletter.Subscriber, now time.Time) []any {
	created := s.CreatedAt
	if created.IsZero() {
		created = now
	}
	unsubscribedAt := sql.NullInt64{Int64: unix(now), Valid: s.Status == newsletter.StatusUnsubscribed}
	return append(args, s.Email, s.Name, s.Status, s.Source, unix(created), unix(now), unsubscribedAt)
}

// foldEmail lower-cases ASCII letters only, as subscribers.email's NOCASE collation does.
func foldEmail(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// SubscriberFilter selects subscribers for ListSubscribers and EachSubscriber.
type SubscriberFilter struct {
	Status     newsletter.SubscriberStatus // "" for all
	Search     string                      // substring of the address or name, case-insensitive (ASCII), taken literally
	Suppressed bool                        // only unsubscribed, bounced or suppressed addresses
	Limit      int                         // 0 for no limit
	Offset     int
}

func (f SubscriberFilter) query() (string, []any) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, f.Status)
	}
	if f.Suppressed {
		where = append(where, `(status IN ('unsubscribed', 'bounced') OR suppressed <> '')`)
	}
	if f.Search != "" {
		p := likePattern(f.Search)
		where = append(where, `(email LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\')`)
		args = append(args, p, p)
	}
	q := `SELECT ` + subscriberColumns + ` FROM subscribers`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id`
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = -1 // SQLite: no limit
		}
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, max(f.Offset, 0))
	}
	return q, args
}

// CountMatching counts the subscribers matching f, ignoring its Limit and Offset.
func (db *DB) CountMatching(ctx context.Context, f SubscriberFilter) (int, error) {
	f.Limit, f.Offset = 0, 0
	q, args := f.query()
	var n int
	err := db.scanRow(ctx, "count subscribers", []any{&n}, `SELECT COUNT(*) FROM (`+q+`)`, args...)
	return n, err
}

// ListSubscribers returns the subscribers matching f, in id order.
func (db *DB) ListSubscribers(ctx context.Context, f SubscriberFilter) ([]newsletter.Subscriber, error) {
	q, args := f.query()
	return list(ctx, db, "list subscribers", scanSubscriber, q, args...)
}

// EachSubscriber calls fn for every subscriber matching f, in id order, one row at a time
// so that exports of millions stay small; fn's error stops it and is returned as is.
func (db *DB) EachSubscriber(ctx context.Context, f SubscriberFilter, fn func(newsletter.Subscriber) error) error {
	q, args := f.query()
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: list subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSubscriber(rows)
		if err != nil {
			return fmt.Errorf("store: list subscribers: %w", err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list subscribers: %w", err)
	}
	return nil
}

// CountSubscribers counts subscribers by status, every status in the map.
func (db *DB) CountSubscribers(ctx context.Context) (map[newsletter.SubscriberStatus]int, error) {
	return queryMap(ctx, db.db, "count subscribers", map[newsletter.SubscriberStatus]int{
		newsletter.StatusActive:       0,
		newsletter.StatusPending:      0,
		newsletter.StatusUnsubscribed: 0,
		newsletter.StatusBounced:      0,
	}, `SELECT status, COUNT(*) FROM subscribers GROUP BY status`)
}

// EraseSubscriber deletes subscriber id (0 for an address with no row) with its ledger
// rows and consent log (GDPR erase) and keeps hash on the suppression list, in one
// transaction.
func (db *DB) EraseSubscriber(ctx context.Context, id int64, hash []byte, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if id > 0 {
			for _, q := range []string{
				`DELETE FROM deliveries WHERE subscriber_id = ?`,
				`DELETE FROM consent_events WHERE subscriber_id = ?`,
				`DELETE FROM subscribers WHERE id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return err
				}
			}
		}
		return addSuppression(ctx, tx, hash, SuppressErased, now)
	})
	if err != nil {
		return fmt.Errorf("store: erase subscriber %d: %w", id, err)
	}
	if err := db.clearWAL(ctx); err != nil {
		return fmt.Errorf("store: erase subscriber %d: erased, but %w", id, err)
	}
	return nil
}

// clearWAL checkpoints and truncates the WAL, which holds the pages as they were before
// secure_delete zeroed them; it tries for two seconds, since readers can hold it off.
func (db *DB) clearWAL(ctx context.Context) error {
	const tries, pause = 40, 50 * time.Millisecond
	for range tries {
		var busy, frames, done int
		if err := db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("the WAL was not cleared: %w", err)
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the WAL was not cleared: %w", ctx.Err())
		case <-time.After(pause):
		}
	}
	return errors.New("the WAL still holds the old pages: other connections kept reading; erase again when fewer are")
}

// WeekCount is one week of the trend: addresses that joined and that left.
type WeekCount struct {
	Start  time.Time // Monday 00:00 UTC
	Joined int
	Left   int
}

// mondayOffset is the unix time of Monday 1970-01-05 00:00 UTC; the epoch was a Thursday.
const mondayOffset = 4 * 86400

const weekSeconds = 7 * 86400

// WeeklyTrend counts joins (created_at) and departures (unsubscribed_at) in each of the
// weeks UTC weeks up to now's, oldest first.
func (db *DB) WeeklyTrend(ctx context.Context, weeks int, now time.Time) ([]WeekCount, error) {
	if weeks <= 0 {
		return nil, nil
	}
	first := (unix(now)-mondayOffset)/weekSeconds - int64(weeks) + 1
	out := make([]WeekCount, weeks)
	for i := range out {
		out[i].Start = fromUnix((first+int64(i))*weekSeconds + mondayOffset)
	}
	for k, col := range []string{"created_at", "unsubscribed_at"} {
		counts, err := queryMap(ctx, db.db, "weekly trend", map[int64]int{}, `SELECT (`+col+` - ?1) / ?2, COUNT(*) FROM subscribers
			WHERE `+col+` >= ?3 GROUP BY 1`, mondayOffset, weekSeconds, out[0].Start.Unix())
		if err != nil {
			return nil, err
		}
		for w, n := range counts {
			if i := w - first; i >= 0 && i < int64(weeks) {
				if k == 0 {
					out[i].Joined = n
				} else {
					out[i].Left = n
				}
			}
		}
	}
	return out, nil
}
