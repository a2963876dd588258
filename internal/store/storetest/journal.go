// Package storetest writes, for tests only, the files an older version of the store left
// beside its database.
package storetest

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"testing"
	"time"
)

// JournalRecord is one answered unsubscribe in an older version's journal.
type JournalRecord struct {
	ID       int64
	Status   string
	Event    string
	Source   string
	Hash     []byte
	Suppress string
	At       time.Time
}

// WriteOldJournal writes the unsubscribe journal an older version kept at path (the
// database's path + "-transitions"): a header with epoch (32 hex digits), then per record
// a little-endian length, a little-endian CRC-32C and a JSON payload. It returns the offset
// at which each record starts, so a test can damage one.
func WriteOldJournal(tb testing.TB, path, epoch string, recs ...JournalRecord) []int64 {
	tb.Helper()
	buf := []byte("NLTJ1 " + epoch + "\n")
	offsets := make([]int64, 0, len(recs))
	table := crc32.MakeTable(crc32.Castagnoli)
	for _, r := range recs {
		payload, err := json.Marshal(map[string]any{"id": r.ID, "status": r.Status, "event": r.Event,
			"source": r.Source, "hash": r.Hash, "suppress": r.Suppress, "at": r.At.UnixNano()})
		if err != nil {
			tb.Fatal(err)
		}
		offsets = append(offsets, int64(len(buf)))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, table))
		buf = append(buf, payload...)
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		tb.Fatal(err)
	}
	return offsets
}
