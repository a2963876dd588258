package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/newsletter"
	"newsletter/internal/store/storetest"
)

// oldJournal writes the unsubscribe journal of the older version holding ts, and returns
// the offset at which each record starts.
func oldJournal(t *testing.T, path, epoch string, ts ...Transition) []int64 {
	t.Helper()
	recs := make([]storetest.JournalRecord, len(ts))
	for i, tr := range ts {
		recs[i] = storetest.JournalRecord{ID: tr.ID, Status: string(tr.Status), Event: tr.Event.Event,
			Source: tr.Event.Source, Hash: tr.Hash, Suppress: tr.Suppress, At: t0}
	}
	return storetest.WriteOldJournal(t, path, epoch, recs...)
}

const epochA = "0123456789abcdef0123456789abcdef"

func status(t *testing.T, db *DB, id int64) newsletter.SubscriberStatus {
	t.Helper()
	s, err := db.SubscriberByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status
}

// TestUpgradeAppliesAnIntactJournal: the records an older version left are applied once
// (those journal_state says were applied are not applied again), a record for a subscriber
// erased since is nothing, and the file and the old lock file are removed.
func TestUpgradeAppliesAnIntactJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "up.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 4)
	offsets := oldJournal(t, path+"-transitions", epochA, leave(ids[0]), leave(ids[1]), leave(99999), leave(ids[2]))
	// The old version had applied the first record before it stopped.
	if _, err := db.db.ExecContext(ctx, `INSERT INTO journal_state (id, epoch, applied) VALUES (1, ?, ?)`, epochA, offsets[1]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-writers", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openAt(t, path)
	lj := db.LegacyJournal()
	if lj.Path != path+"-transitions" || lj.Applied != 3 || len(lj.Damaged) != 0 {
		t.Fatalf("LegacyJournal %+v, want 3 applied (the two left and the erased one), no damage", lj)
	}
	// The first record is not applied again (the subscriber came back since, say); the
	// fourth subscriber was in no record.
	for _, id := range []int64{ids[0], ids[3]} {
		if st := status(t, db, id); st != newsletter.StatusActive {
			t.Errorf("subscriber %d: %s, want active", id, st)
		}
	}
	db.Close()
	checkLeft(t, path, ids[1:3])
	for _, f := range []string{path + "-transitions", path + "-writers"} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the upgrade: %v", f, err)
		}
	}
}

// TestUpgradeWithADamagedJournal: the intact records around a damaged one are applied;
// the damaged one is reported by file and offset, deliveries are refused while the file
// stays, and opening again applies nothing twice. Dropping the file lets them go on.
func TestUpgradeWithADamagedJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dmg.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 4)
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Cutoff: t0, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	journal := path + "-transitions"
	offsets := oldJournal(t, journal, epochA, leave(ids[0]), leave(ids[1]), leave(ids[2]))
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	raw[offsets[1]+20] ^= 0x20 // one byte inside the second record's payload
	if err := os.WriteFile(journal, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		db = openAt(t, path)
		lj := db.LegacyJournal()
		wantApplied := 2
		if round == 1 {
			wantApplied = 0
		}
		if lj.Applied != wantApplied || len(lj.Damaged) != 1 || lj.Damaged[0].Offset != offsets[1] || lj.Damaged[0].Length != offsets[2]-offsets[1] {
			t.Fatalf("round %d: LegacyJournal %+v, want %d applied and the damage at offset %d, %d bytes", round, lj, wantApplied, offsets[1], offsets[2]-offsets[1])
		}
		if msg := lj.Error(); !strings.Contains(msg, journal) || !strings.Contains(msg, fmt.Sprintf("offset %d,", offsets[1])) {
			t.Errorf("the report does not name the file and offset: %s", msg)
		}
		if st := status(t, db, ids[1]); st != newsletter.StatusActive {
			t.Errorf("round %d: the damaged record's subscriber is %s", round, st)
		}
		if _, err := db.EnqueueDeliveries(ctx, is.ID, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimDeliveries(ctx, is.ID, 5, t0); !errors.Is(err, ErrJournalDamaged) {
			t.Fatalf("round %d: claim with a damaged journal: %v, want ErrJournalDamaged", round, err)
		}
		if _, err := db.RecordAndClaim(ctx, is.ID, nil, 5, t0); !errors.Is(err, ErrJournalDamaged) {
			t.Fatalf("round %d: record and claim with a damaged journal: %v, want ErrJournalDamaged", round, err)
		}
		if _, err := os.Stat(journal); err != nil {
			t.Fatalf("round %d: the damaged journal was not kept: %v", round, err)
		}
		if r := db.HeldReason(); !strings.Contains(r, "sending is held") || strings.Contains(r, journal) {
			t.Errorf("round %d: HeldReason %q, want the hold said without the file's path", round, r)
		}
		db.Close()
	}
	checkLeft(t, path, []int64{ids[0], ids[2]})

	db = openAt(t, path)
	if err := db.DropLegacyJournal(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal after DropLegacyJournal: %v", err)
	}
	if r := db.HeldReason(); r != "" {
		t.Errorf("HeldReason after the drop: %q, want none", r)
	}
	rows, err := db.ClaimDeliveries(ctx, is.ID, 5, t0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("claim after the drop: %d rows, %v; want the 2 still active", len(rows), err)
	}
}

// TestUpgradeDamageShapes: where the damage is, as reported.
func TestUpgradeDamageShapes(t *testing.T) {
	dir := t.TempDir()
	header := "NLTJ1 " + epochA + "\n"
	tests := []struct {
		name    string
		mangle  func(b []byte, offsets []int64) []byte
		applied int
		damage  func(offsets []int64, size int64) []JournalDamage
	}{
		{"torn tail", func(b []byte, o []int64) []byte { return b[:len(b)-5] }, 1,
			func(o []int64, size int64) []JournalDamage {
				return []JournalDamage{{Offset: o[1], Length: size - o[1]}}
			}},
		{"bad header", func(b []byte, o []int64) []byte { b[0] = 'X'; return b }, 0,
			func(o []int64, size int64) []JournalDamage { return []JournalDamage{{Offset: 0, Length: size}} }},
		{"length", func(b []byte, o []int64) []byte { b[o[0]+3] = 0x7f; return b }, 1,
			func(o []int64, size int64) []JournalDamage {
				return []JournalDamage{{Offset: o[0], Length: o[1] - o[0]}}
			}},
		{"empty", func(b []byte, o []int64) []byte { return b[:0] }, 0,
			func([]int64, int64) []JournalDamage { return nil }},
		{"header only", func(b []byte, o []int64) []byte { return b[:len(header)] }, 0,
			func([]int64, int64) []JournalDamage { return nil }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".db")
			db := openAt(t, path)
			ids := addSubscribers(t, db, "reader", 2)
			db.Close()
			offsets := oldJournal(t, path+"-transitions", epochA, leave(ids[0]), leave(ids[1]))
			raw, err := os.ReadFile(path + "-transitions")
			if err != nil {
				t.Fatal(err)
			}
			raw = tc.mangle(raw, offsets)
			if err := os.WriteFile(path+"-transitions", raw, 0o600); err != nil {
				t.Fatal(err)
			}
			db = openAt(t, path)
			lj := db.LegacyJournal()
			want := tc.damage(offsets, int64(len(raw)))
			got := lj.Damaged
			for j := range got {
				got[j].Reason = "" // checked by eye in the error message
			}
			if lj.Applied != tc.applied || len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
				t.Fatalf("case %d: applied %d, damage %+v; want %d and %+v", i, lj.Applied, lj.Damaged, tc.applied, want)
			}
			_, statErr := os.Stat(path + "-transitions")
			if kept := statErr == nil; kept != (len(want) > 0) {
				t.Fatalf("file kept %v (%v), want %v", kept, statErr, len(want) > 0)
			}
		})
	}
}

// TestDamagedJournalNamesItsSubscribers: the report of a damaged record names the
// addresses whose ids can still be read in its bytes, so that the operator can check them
// without decoding the file by hand.
func TestDamagedJournalNamesItsSubscribers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "named.db")
	db := openAt(t, path)
	ids := addSubscribers(t, db, "reader", 3)
	db.Close()
	journal := path + "-transitions"
	offsets := oldJournal(t, journal, epochA, leave(ids[0]), leave(ids[1]), leave(ids[2]))
	raw, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	raw[offsets[1]+10] ^= 0x01 // inside the second record's "at", its id left readable
	if err := os.WriteFile(journal, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path)
	lj := db.LegacyJournal()
	if len(lj.Damaged) != 1 {
		t.Fatalf("damage %+v, want one stretch", lj.Damaged)
	}
	second, err := db.SubscriberByID(t.Context(), ids[1])
	if err != nil {
		t.Fatal(err)
	}
	msg := lj.Error()
	if !strings.Contains(msg, second.Email) {
		t.Errorf("the report does not name %s, whose record is damaged:\n%s", second.Email, msg)
	}
	for _, id := range []int64{ids[0], ids[2]} {
		s, err := db.SubscriberByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(msg, s.Email) {
			t.Errorf("the report names %s, whose record was applied:\n%s", s.Email, msg)
		}
	}
}
