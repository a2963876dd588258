package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"newsletter/internal/newsletter"
)

// Older versions answered one-click unsubscribes into PATH-transitions and applied it to
// the database later, so a crash could leave answered unsubscribes in it. Open applies
// such a file once (journal_state records how far) and removes it; when part of it is
// damaged, it stays and deliveries are refused until DropLegacyJournal removes it.
//
// The file: "NLTJ1 " + 32 hex digits (its epoch) + "\n", then records, each a little-endian
// uint32 length, a little-endian CRC-32C of the payload, and the payload, a JSON object.
const (
	legacyMagic     = "NLTJ1 "
	legacyHeaderLen = len(legacyMagic) + 32 + 1
	legacyRecHeader = 8
	legacyMaxRecord = 64 << 10
	legacyBatch     = 1000 // records per transaction
)

// ErrJournalDamaged is wrapped by the error of a delivery claim while an older version's
// journal with damaged records is beside the database.
var ErrJournalDamaged = errors.New("an older version's unsubscribe journal is damaged")

// JournalDamagedHint tells the operator how to get past ErrJournalDamaged.
const JournalDamagedHint = "Check the subscribers the damaged records may name (listed above when they could be read), " +
	"unsubscribe them by hand if need be (newsletter subscribers remove ADDRESS), then run " +
	"`newsletter migrate --drop-damaged-transitions` to remove the file and send again."

// JournalDamage is a stretch of an old journal that could not be applied.
type JournalDamage struct {
	Offset int64 // bytes from the start of the file
	Length int64
	Reason string
}

// LegacyJournal is what Open found of an older version's journal.
type LegacyJournal struct {
	Path    string // "" when there was none
	Applied int    // records this Open applied
	Damaged []JournalDamage
	Named   []string // the subscribers whose ids can be read in the damaged bytes
}

// Error describes the damage, naming the file and where in it.
func (j LegacyJournal) Error() string {
	parts := make([]string, 0, len(j.Damaged))
	for _, d := range j.Damaged {
		parts = append(parts, fmt.Sprintf("offset %d, %d bytes: %s", d.Offset, d.Length, d.Reason))
	}
	named := ""
	if len(j.Named) > 0 {
		const most = 20 // a whole file damaged must not become a message of every address in it
		named = "; they may name " + strings.Join(j.Named[:min(len(j.Named), most)], ", ")
		if len(j.Named) > most {
			named += fmt.Sprintf(" and %d more", len(j.Named)-most)
		}
	}
	return fmt.Sprintf("%s: %s (%s%s): the unsubscribes in those bytes could not be applied, "+
		"so nothing is sent until the file is removed", j.Path, ErrJournalDamaged, strings.Join(parts, "; "), named)
}

func (j LegacyJournal) Unwrap() error { return ErrJournalDamaged }

// LegacyJournal reports what Open found of an older version's journal.
func (db *DB) LegacyJournal() LegacyJournal {
	return db.legacy
}

// DropLegacyJournal removes a damaged journal the operator has dealt with, so that
// deliveries go on.
func (db *DB) DropLegacyJournal() error {
	if db.legacy.Path == "" {
		return nil
	}
	if err := os.Remove(db.legacy.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	db.legacy.Damaged = nil
	return nil
}

// SendingHeld wraps ErrJournalDamaged while a damaged journal refuses deliveries. It costs
// at most a stat, so a readiness probe may ask on every poll, and sees another process's drop.
func (db *DB) SendingHeld() error {
	if len(db.legacy.Damaged) == 0 {
		return nil
	}
	if _, err := os.Stat(db.legacy.Path); errors.Is(err, fs.ErrNotExist) {
		return nil // removed meanwhile, by another process
	}
	return db.legacy
}

// HeldReason is what a public readiness probe answers while SendingHeld, "" otherwise; the
// path and the addresses stay in the log.
func (db *DB) HeldReason() string {
	if db.SendingHeld() == nil {
		return ""
	}
	return "sending is held: the unsubscribe journal an older version left beside the database " +
		"(DATABASE-transitions) has damaged records; see the log, then run `newsletter migrate --drop-damaged-transitions`"
}

// legacyRecord is an old journal record's payload.
type legacyRecord struct {
	ID         int64  `json:"id"`
	Status     string `json:"status,omitempty"`
	Event      string `json:"event,omitempty"`
	Source     string `json:"source,omitempty"`
	IP         string `json:"ip,omitempty"`
	EventAt    int64  `json:"event_at,omitempty"` // unix nanoseconds
	Hash       []byte `json:"hash,omitempty"`
	Suppress   string `json:"suppress,omitempty"`
	Unsuppress bool   `json:"unsuppress,omitempty"`
	At         int64  `json:"at"` // unix nanoseconds
}

type legacyEntry struct {
	end int64 // offset just past the record
	t   Transition
	now time.Time
}

// applyLegacyJournal applies the journal an older version left beside the database at
// dbPath, if any, and removes it unless part of it is damaged.
func (db *DB) applyLegacyJournal(ctx context.Context, dbPath string) (LegacyJournal, error) {
	// The old version's lock file for taking turns at the write lock holds no data.
	_ = os.Remove(dbPath + "-writers")
	path := dbPath + "-transitions"
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return LegacyJournal{}, nil
	}
	if err != nil {
		return LegacyJournal{}, fmt.Errorf("unsubscribe journal of an older version: %w", err)
	}
	lj := LegacyJournal{Path: path}
	epoch, entries, damaged := decodeLegacy(data)
	lj.Damaged = damaged
	if lj.Named, err = db.damagedNames(ctx, data, damaged); err != nil {
		return lj, fmt.Errorf("unsubscribe journal of an older version: %w", err)
	}
	for i := 0; i < len(entries); i += legacyBatch {
		n, err := db.applyLegacy(ctx, epoch, entries[i:min(i+legacyBatch, len(entries))])
		lj.Applied += n
		if err != nil {
			return lj, fmt.Errorf("unsubscribe journal of an older version, %s: %w", path, err)
		}
	}
	if len(damaged) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return lj, fmt.Errorf("unsubscribe journal of an older version: %w", err)
		}
	}
	return lj, nil
}

// applyLegacy applies the entries journal_state, read in the same transaction, does not
// record as applied, and returns how many it applied.
func (db *DB) applyLegacy(ctx context.Context, epoch string, entries []legacyEntry) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		var doneEpoch string
		var applied int64
		err := tx.QueryRowContext(ctx, `SELECT epoch, applied FROM journal_state WHERE id = 1`).Scan(&doneEpoch, &applied)
		if err := absent(err); err != nil {
			return err
		}
		if doneEpoch != epoch {
			applied = 0
		}
		for _, e := range entries {
			if e.end <= applied {
				continue
			}
			// A subscriber erased since is nothing to apply.
			if _, err := transitionTx(ctx, tx, e.t, e.now); err != nil && !errors.Is(err, newsletter.ErrNotFound) {
				return fmt.Errorf("record ending at offset %d: %w", e.end, err)
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO journal_state (id, epoch, applied) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, applied = excluded.applied`,
			epoch, max(applied, entries[len(entries)-1].end))
		return err
	})
	return n, err
}

// decodeLegacy reads an old journal's epoch, intact records and damaged stretches. Past
// damage it looks for the next intact record byte by byte: a length and a CRC-32C that
// match a JSON payload do not happen by chance.
func decodeLegacy(data []byte) (epoch string, entries []legacyEntry, damaged []JournalDamage) {
	if len(data) == 0 {
		return "", nil, nil
	}
	if len(data) < legacyHeaderLen || string(data[:len(legacyMagic)]) != legacyMagic || data[legacyHeaderLen-1] != '\n' {
		return "", nil, []JournalDamage{{Offset: 0, Length: int64(len(data)), Reason: "not an unsubscribe journal (bad header)"}}
	}
	epoch = string(data[len(legacyMagic) : legacyHeaderLen-1])
	if _, err := hex.DecodeString(epoch); err != nil {
		return "", nil, []JournalDamage{{Offset: 0, Length: int64(len(data)), Reason: "not an unsubscribe journal (bad epoch)"}}
	}
	bad := int64(-1) // start of the damaged stretch being skipped, -1 for none
	var badReason string
	closeBad := func(end int64) {
		if bad >= 0 {
			damaged = append(damaged, JournalDamage{Offset: bad, Length: end - bad, Reason: badReason})
			bad = -1
		}
	}
	for off := int64(legacyHeaderLen); off < int64(len(data)); {
		e, n, reason := readLegacyRecord(data[off:])
		if n == 0 {
			if bad < 0 {
				bad, badReason = off, reason
			}
			off++
			continue
		}
		closeBad(off)
		if reason == "" {
			e.end = off + n
			entries = append(entries, e)
		} else { // intact but not a change that can be applied
			damaged = append(damaged, JournalDamage{Offset: off, Length: n, Reason: reason})
		}
		off += n
	}
	closeBad(int64(len(data)))
	return epoch, entries, damaged
}

// readLegacyRecord reads the record at the start of b. n is its length when it is intact
// (then reason, if any, says why it cannot be applied), 0 when it is not (reason says why).
func readLegacyRecord(b []byte) (e legacyEntry, n int64, reason string) {
	if len(b) < legacyRecHeader {
		return e, 0, "cut short"
	}
	size := int64(binary.LittleEndian.Uint32(b))
	if size > legacyMaxRecord || int64(len(b)) < legacyRecHeader+size {
		return e, 0, "cut short or bad length"
	}
	payload := b[legacyRecHeader : legacyRecHeader+size]
	if size == 0 || payload[0] != '{' || crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)) != binary.LittleEndian.Uint32(b[4:]) {
		return e, 0, "checksum mismatch"
	}
	var r legacyRecord
	if err := json.Unmarshal(payload, &r); err != nil {
		return e, 0, "unreadable record"
	}
	n = legacyRecHeader + size
	e.now = time.Unix(0, r.At)
	e.t = Transition{ID: r.ID, Status: newsletter.SubscriberStatus(r.Status),
		Event: ConsentEvent{Event: r.Event, Source: r.Source, IP: r.IP}, Hash: r.Hash, Suppress: r.Suppress, Unsuppress: r.Unsuppress}
	if r.EventAt != 0 {
		e.t.Event.At = time.Unix(0, r.EventAt)
	}
	if err := validTransition(e.t); err != nil {
		return e, n, err.Error()
	}
	switch r.Suppress {
	case "", SuppressUnsubscribed, SuppressBounced, SuppressComplained, SuppressManual, SuppressErased:
	default:
		return e, n, fmt.Sprintf("subscriber %d: unknown suppression reason %q", r.ID, r.Suppress)
	}
	return e, n, ""
}

// legacyID finds a subscriber id in a record's JSON, readable in a bad checksum's record too.
var legacyID = regexp.MustCompile(`"id"\s*:\s*(\d+)`)

// damagedNames lists, by address or else id, the subscribers whose ids can be read in the
// damaged stretches of data, for the operator to check.
func (db *DB) damagedNames(ctx context.Context, data []byte, damaged []JournalDamage) ([]string, error) {
	var ids []int64
	for _, d := range damaged {
		for _, m := range legacyID.FindAllSubmatch(data[d.Offset:d.Offset+d.Length], -1) {
			if id, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		var email string
		err := db.db.QueryRowContext(ctx, `SELECT email FROM subscribers WHERE id = ?`, id).Scan(&email)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			names = append(names, fmt.Sprintf("subscriber id %d (not on the list)", id))
		case err != nil:
			return nil, err
		default:
			names = append(names, email)
		}
	}
	return names, nil
}
