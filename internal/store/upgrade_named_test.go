package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
