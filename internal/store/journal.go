package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"newsletter/internal/newsletter"
)

// The transition journal is how `newsletter serve` takes a one-click unsubscribe (or the
// page's resubscribe) without waiting for SQLite's write lock. A request appends its
// transition to a file beside the database (PATH-transitions) and is answered; a
// goroutine applies what the file holds to the database, hundreds of transitions to a
// transaction, within about 50 ms (journalGather). The append is as durable as a commit here
// (synchronous=NORMAL: both reach the OS, neither is synced), so an answered request is
// never lost. What it buys:
//   - an unsubscribe never waits behind a send's ledger commits or checkpoints, and is
//     taken even while an import holds the write lock for seconds (it used to fail with a
//     500 once busy_timeout ran out);
//   - one transaction for hundreds of unsubscribes instead of one for each few; beside a
//     send the handler answered about 1.7 times as many requests a second.
//
// The file starts with a header naming its epoch (random, new each time the file is cut
// back); each record is a little-endian length, a CRC-32C of the payload, and the payload
// (JSON). The transaction that applies records also stores (epoch, end offset) in
// journal_state, so after a crash the records already in the database are skipped, not
// applied twice. One process owns the file (an exclusive flock); any other process that
// opens the database and finds the file unowned applies what it holds and cuts it back, so
// a crashed `serve` leaves nothing unapplied for the next `send`.

const (
	journalSuffix    = "-transitions"
	journalMagic     = "NLTJ1 "
	journalHeaderLen = len(journalMagic) + 32 + 1 // magic, hex epoch, newline
	recordHeaderLen  = 8                          // length, CRC-32C
	journalMaxRecord = 64 << 10
	journalBatch     = 1024    // records per applying transaction
	journalRotate    = 4 << 20 // cut the file back once it is this long and caught up
	journalFull      = 8 * journalRotate
	// journalLockWait is how long OpenJournal waits for another process's flock: as long
	// as that process may take to replay a journal into a busy database.
	journalLockWait = busyTimeout + time.Second
	journalGather   = 50 * time.Millisecond
	journalRetryMin = 50 * time.Millisecond
	journalRetryMax = 2 * time.Second
)

var (
	errJournalLocked = errors.New("the transition journal is in use by another process")
	errNotJournal    = errors.New("not an unsubscribe journal")
	crc32c           = crc32.MakeTable(crc32.Castagnoli)
)

// Journal is an open transition journal; see OpenJournal.
type Journal struct {
	db     *DB
	f      *os.File
	logger *slog.Logger
	drop   func(journalEntry, error) // logs a record that cannot be applied, then dropped

	mu       sync.Mutex
	epoch    string
	size     int64          // end of the file, where the next record goes
	pending  []journalEntry // in the file, not yet in the database, oldest first
	status   sync.Map       // subscriber id → pendingStatus: what the latest pending transition sets
	progress chan struct{}  // closed and replaced after each round of applying
	batch    int            // records per applying transaction: journalBatch
	// appended counts records since OpenJournal; those not pending are applied (or
	// dropped), and drain waits for that to reach what appended was when it began.
	appended uint64
	// closed stops appends: the journal is closing, or its file can no longer be trusted
	// to take them (a failed write); RecordTransition then reports false.
	closed bool

	wake chan struct{} // capacity 1: something to apply
	quit chan struct{}
	done chan struct{}
}

type journalEntry struct {
	end int64 // offset just past the record
	t   Transition
	now time.Time
}

type pendingStatus struct {
	status newsletter.SubscriberStatus
	end    int64
}

// journalRecord is a record's payload.
type journalRecord struct {
	ID         int64  `json:"id"`
	Status     string `json:"status,omitempty"`
	Event      string `json:"event,omitempty"`
	Source     string `json:"source,omitempty"`
	IP         string `json:"ip,omitempty"`
	EventAt    int64  `json:"event_at,omitempty"` // unix nanoseconds; 0: the zero time
	Hash       []byte `json:"hash,omitempty"`
	Suppress   string `json:"suppress,omitempty"`
	Unsuppress bool   `json:"unsuppress,omitempty"`
	At         int64  `json:"at"` // unix nanoseconds
}

func encodeRecord(t Transition, now time.Time) ([]byte, error) {
	r := journalRecord{ID: t.ID, Status: string(t.Status), Event: t.Event.Event, Source: t.Event.Source,
		IP: t.Event.IP, Hash: t.Hash, Suppress: t.Suppress, Unsuppress: t.Unsuppress, At: now.UnixNano()}
	if !t.Event.At.IsZero() {
		r.EventAt = t.Event.At.UnixNano()
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(payload) > journalMaxRecord {
		return nil, fmt.Errorf("journal record of %d bytes", len(payload))
	}
	buf := make([]byte, recordHeaderLen, recordHeaderLen+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(payload, crc32c))
	return append(buf, payload...), nil
}

// decodeJournal reads the records of data from offset start. It stops at the first record
// that is cut short or fails its checksum (a write torn by a power cut: the records before
// it are whole).
func decodeJournal(data []byte, start int64) (entries []journalEntry) {
	off := start
	for off < int64(len(data)) {
		rest := data[off:]
		if len(rest) < recordHeaderLen {
			return entries
		}
		n := int64(binary.LittleEndian.Uint32(rest))
		if n > journalMaxRecord || int64(len(rest)) < recordHeaderLen+n {
			return entries
		}
		payload := rest[recordHeaderLen : recordHeaderLen+n]
		if crc32.Checksum(payload, crc32c) != binary.LittleEndian.Uint32(rest[4:]) {
			return entries
		}
		var r journalRecord
		if err := json.Unmarshal(payload, &r); err != nil {
			return entries
		}
		off += recordHeaderLen + n
		e := journalEntry{end: off, now: time.Unix(0, r.At), t: Transition{ID: r.ID, Status: newsletter.SubscriberStatus(r.Status),
			Event: ConsentEvent{Event: r.Event, Source: r.Source, IP: r.IP}, Hash: r.Hash, Suppress: r.Suppress, Unsuppress: r.Unsuppress}}
		if r.EventAt != 0 {
			e.t.Event.At = time.Unix(0, r.EventAt)
		}
		entries = append(entries, e)
	}
	return entries
}

func newEpoch() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// readJournalHeader returns the epoch of a journal's header.
func readJournalHeader(data []byte) (string, error) {
	if len(data) < journalHeaderLen || !bytes.HasPrefix(data, []byte(journalMagic)) || data[journalHeaderLen-1] != '\n' {
		return "", fmt.Errorf("%w (it starts %q)", errNotJournal, data[:min(len(data), journalHeaderLen)])
	}
	epoch := string(data[len(journalMagic) : journalHeaderLen-1])
	if _, err := hex.DecodeString(epoch); err != nil {
		return "", fmt.Errorf("%w (epoch %q)", errNotJournal, epoch)
	}
	return epoch, nil
}

// startJournal empties f and writes a header with a fresh epoch.
func startJournal(f *os.File) (epoch string, err error) {
	if epoch, err = newEpoch(); err != nil {
		return "", err
	}
	if err := f.Truncate(0); err != nil {
		return "", err
	}
	// f is opened for appending: the header lands at the start of the emptied file.
	if _, err := f.Write([]byte(journalMagic + epoch + "\n")); err != nil {
		return "", err
	}
	return epoch, nil
}

// OpenJournal makes this handle the journal's owner: from now on RecordTransition appends
// to it and a goroutine applies it (see the top of this file), until Close. It first
// applies what an earlier owner left. Another process owning the journal is an error after
// waiting up to journalLockWait (or until ctx ends); so is a platform without flock.
func (db *DB) OpenJournal(ctx context.Context, logger *slog.Logger) error {
	if db.journal.Load() != nil {
		return errors.New("store: the transition journal is already open")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	path := db.path + journalSuffix
	f, err := lockJournal(ctx, path, journalLockWait)
	if err != nil {
		return fmt.Errorf("store: journal %s: %w", path, err)
	}
	fail := func(err error) error {
		_ = unlockJournal(f)
		return fmt.Errorf("store: journal %s: %w", path, err)
	}
	drop := func(e journalEntry, err error) {
		logger.Error("journal: a transition that cannot be applied is dropped", "subscriber_id", e.t.ID, "status", e.t.Status, "err", err)
	}
	n, err := db.replayJournal(ctx, f, drop)
	if err != nil {
		return fail(err)
	}
	if n > 0 {
		logger.Info("journal: applied the transitions an earlier run left", "transitions", n)
	}
	epoch, err := startJournal(f)
	if err != nil {
		return fail(err)
	}
	j := &Journal{db: db, f: f, logger: logger, drop: drop, epoch: epoch, size: int64(journalHeaderLen),
		progress: make(chan struct{}), batch: journalBatch,
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	db.journal.Store(j)
	go j.run()
	return nil
}

// replayUnownedJournal applies what a journal nobody owns holds: a `serve` that crashed
// left it. Every Open runs it, so no command goes on (a send, say) while answered
// unsubscribes wait in a file. A journal owned by a live process is its owner's to apply.
// Changes it cannot apply (the database busy, a file that is not a journal) are an error.
func (db *DB) replayUnownedJournal(ctx context.Context) error {
	path := db.path + journalSuffix
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return nil
	}
	f, err := lockJournal(ctx, path, 0)
	if errors.Is(err, errJournalLocked) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unsubscribe journal %s: %w", path, err)
	}
	defer unlockJournal(f)
	// A record that fails on its own is dropped, as its owner would (logging it), so that
	// it does not stop every command.
	_, err = db.replayJournal(ctx, f, func(journalEntry, error) {})
	if errors.Is(err, errNotJournal) {
		return fmt.Errorf("%s: %w; move it away if it is not newsletter's", path, err)
	}
	if err != nil {
		return fmt.Errorf("unsubscribe journal %s holds changes a stopped `serve` left, and applying them failed: %w", path, err)
	}
	return nil
}

// replayJournal applies the records of f that are not in the database yet, then empties
// f. drop hears of a record that fails on its own (see applyJournal), which is skipped. On
// an error f is left as it is; journal_state keeps what was applied from being applied
// again. It returns the number of records applied.
func (db *DB) replayJournal(ctx context.Context, f *os.File, drop func(journalEntry, error)) (int, error) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return 0, err
	}
	if len(data) == 0 {
		return 0, nil
	}
	epoch, err := readJournalHeader(data)
	if err != nil {
		return 0, err
	}
	start := int64(journalHeaderLen)
	var doneEpoch string
	var applied int64
	err = db.db.QueryRowContext(ctx, `SELECT epoch, applied FROM journal_state WHERE id = 1`).Scan(&doneEpoch, &applied)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if doneEpoch == epoch && applied > start {
		start = applied
	}
	// A torn or corrupt record ends what can be read: past it no record boundary can be
	// trusted. A power cut tears only the last write; anything else is damage.
	entries := decodeJournal(data, start)
	for i := 0; i < len(entries); i += journalBatch {
		if _, err := db.applyJournal(ctx, epoch, entries[i:min(i+journalBatch, len(entries))], drop); err != nil {
			return 0, err
		}
	}
	return len(entries), f.Truncate(0)
}

// recordError is a record's own failure inside a batch.
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }

// applyJournal applies entries in one transaction that also stores how far the journal of
// epoch is applied, and returns how many of them (a prefix) are committed. A record that
// fails a constraint (its own fault: retrying cannot help) rolls the batch back; then each
// record goes in a transaction of its own, and one that fails alone is given to drop and
// skipped. Any other failure (the database busy, a full disk) is returned, to try again.
func (db *DB) applyJournal(ctx context.Context, epoch string, entries []journalEntry, drop func(journalEntry, error)) (int, error) {
	err := db.applyJournalTx(ctx, epoch, entries, entries[len(entries)-1].end)
	if err == nil {
		return len(entries), nil
	}
	var re *recordError
	if !errors.As(err, &re) {
		return 0, err
	}
	for i, e := range entries {
		err := db.applyJournalTx(ctx, epoch, []journalEntry{e}, e.end)
		if errors.As(err, &re) {
			drop(e, re.err)
			err = db.applyJournalTx(ctx, epoch, nil, e.end) // past it, applying nothing
		}
		if err != nil {
			return i, err
		}
	}
	return len(entries), nil
}

// applyJournalTx applies entries and records the journal of epoch as applied up to end.
func (db *DB) applyJournalTx(ctx context.Context, epoch string, entries []journalEntry, end int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range entries {
			_, err := transitionTx(ctx, tx, e.t, e.now)
			switch {
			case err == nil || errors.Is(err, newsletter.ErrNotFound):
			case isConstraint(err):
				return &recordError{err: fmt.Errorf("subscriber %d: %w", e.t.ID, err)}
			default:
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO journal_state (id, epoch, applied) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, applied = excluded.applied`,
			epoch, end)
		return err
	})
}

// RecordTransition appends t to the journal when this handle owns one (OpenJournal) and
// reports true: t is then as safe as committed, and in the database within about 50 ms;
// SubscriberByID shows its status meanwhile. Without an open journal it writes nothing
// and reports false, for the caller to use ApplyTransition.
func (db *DB) RecordTransition(ctx context.Context, t Transition, now time.Time) (bool, error) {
	j := db.journal.Load()
	if j == nil {
		return false, nil
	}
	if err := validTransition(t); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	rec, err := encodeRecord(t, now)
	if err != nil {
		return false, fmt.Errorf("store: subscriber %d: %w", t.ID, err)
	}
	return j.append(t, now, rec)
}

func (j *Journal) append(t Transition, now time.Time, rec []byte) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || j.size >= journalFull {
		// Closing, broken, or so far behind (the database locked for long) that the file
		// should not grow further: the caller writes directly, after what is pending.
		return false, nil
	}
	if _, err := j.f.Write(rec); err != nil {
		// Cut off what a short write left, so that later records stay readable; if even
		// that fails, take no more records into this file.
		if terr := j.f.Truncate(j.size); terr != nil {
			j.closed = true
			j.logger.Error("journal: cannot cut off a failed write; unsubscribes are written directly from now on", "err", terr)
		}
		return false, fmt.Errorf("store: journal: %w", err)
	}
	j.size += int64(len(rec))
	j.appended++
	j.pending = append(j.pending, journalEntry{end: j.size, t: t, now: now})
	if t.Status != "" {
		j.status.Store(t.ID, pendingStatus{status: t.Status, end: j.size})
	}
	j.nudge()
	return true, nil
}

func (j *Journal) nudge() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// JournalPending is how many transitions this handle's journal holds that are not in the
// database yet; 0 without a journal.
func (db *DB) JournalPending() int {
	j := db.journal.Load()
	if j == nil {
		return 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.pending)
}

// pendingStatus is the status a transition not yet applied gives subscriber id.
func (j *Journal) pendingStatus(id int64) (newsletter.SubscriberStatus, bool) {
	// A sync.Map, read without j.mu: every unsubscribe request looks here.
	p, ok := j.status.Load(id)
	if !ok {
		return "", false
	}
	return p.(pendingStatus).status, true
}

// drain waits until every transition appended before it began is in the database (those
// appended meanwhile may still be pending).
func (j *Journal) drain(ctx context.Context) error {
	return j.waitApplied(ctx, j.mark())
}

// mark is the count of records appended so far.
func (j *Journal) mark() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.appended
}

// appliedLocked is the count of records since OpenJournal no longer pending.
func (j *Journal) appliedLocked() uint64 { return j.appended - uint64(len(j.pending)) }

// waitApplied waits until target records are applied.
func (j *Journal) waitApplied(ctx context.Context, target uint64) error {
	for {
		j.mu.Lock()
		caughtUp, progress := j.appliedLocked() >= target, j.progress
		j.mu.Unlock()
		if caughtUp {
			return nil
		}
		j.nudge()
		select {
		case <-progress:
		case <-j.done:
			j.mu.Lock()
			caughtUp = j.appliedLocked() >= target
			j.mu.Unlock()
			if caughtUp {
				return nil
			}
			return errors.New("the transition journal stopped with changes not yet applied")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// run applies the journal as it grows, until close.
func (j *Journal) run() {
	defer close(j.done)

	ctx := context.Background()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	wait := journalRetryMin
	for {
		select {
		case <-j.wake:
		case <-retry.C:
		case <-j.quit:
			j.finish(ctx)
			return
		}
		// Let transitions gather: one transaction for many costs less than many, and no
		// request waits for it (a direct change, ApplyTransition, may: up to this long).
		select {
		case <-time.After(journalGather):
		case <-j.quit:
		}
		more, err := j.applyRound(ctx)
		if err != nil {
			// The database is busy or failing; the transitions stay in the file and here.
			j.logger.Warn("journal: applying transitions failed; trying again", "retry_in", wait, "err", err)
			retry.Reset(wait)
			wait = min(2*wait, journalRetryMax)
			continue
		}
		wait = journalRetryMin
		if more {
			j.nudge()
		}
	}
}

// finish applies what is left when the journal closes, trying for up to busyTimeout.
func (j *Journal) finish(ctx context.Context) {
	deadline := time.Now().Add(busyTimeout)
	for {
		more, err := j.applyRound(ctx)
		switch {
		case err == nil && !more:
			return
		case err != nil && time.Now().After(deadline):
			j.logger.Warn("journal: transitions left in the journal for the next start", "err", err)
			return
		case err != nil:
			time.Sleep(journalRetryMin)
		}
	}
}

// applyRound applies the oldest pending transitions, up to journalBatch, and reports
// whether more wait. Once all are applied and the file is long, it cuts the file back to a
// new header.
func (j *Journal) applyRound(ctx context.Context) (bool, error) {
	j.mu.Lock()
	n := min(len(j.pending), j.batch)
	batch, epoch := j.pending[:n:n], j.epoch
	j.mu.Unlock()
	var done int
	var err error
	if n > 0 {
		done, err = j.db.applyJournal(ctx, epoch, batch, j.drop)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if done > 0 {
		// Even when a later record failed: those committed are never applied again.
		j.pending = j.pending[done:]
		if len(j.pending) == 0 {
			j.pending = nil
		}
		end := batch[done-1].end
		for _, e := range batch[:done] {
			if p, ok := j.status.Load(e.t.ID); ok && p.(pendingStatus).end <= end {
				j.status.CompareAndDelete(e.t.ID, p)
			}
		}
	}
	if err == nil && len(j.pending) == 0 && j.size >= journalRotate {
		j.rotateLocked()
	}
	close(j.progress)
	j.progress = make(chan struct{})
	return len(j.pending) > 0, err
}

// rotateLocked empties the file, everything in it being applied, under a new epoch. If that
// fails, the file's content is no longer known: no more records go into it.
func (j *Journal) rotateLocked() {
	epoch, err := startJournal(j.f)
	if err != nil {
		j.closed = true
		j.logger.Error("journal: cannot cut the file back; unsubscribes are written directly from now on", "err", err)
		return
	}
	j.epoch, j.size = epoch, int64(journalHeaderLen)
}

// close stops appends (RecordTransition reports false from then on), applies what is
// pending, empties the file when all of it is applied and lets the journal go. What cannot
// be applied stays in the file for the next Open.
func (j *Journal) close() error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	close(j.quit)
	<-j.done
	var err error
	if len(j.pending) == 0 {
		err = j.f.Truncate(0)
	}
	return errors.Join(err, unlockJournal(j.f))
}
