package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// legacyID finds a subscriber id in a record's JSON, which may still be readable in a record
// whose checksum does not match.
var legacyID = regexp.MustCompile(`"id"\s*:\s*(\d+)`)

// damagedNames lists the subscribers whose ids can be read in the damaged stretches of data,
// by address, or by id when the id is not on the list, so that the operator can check them.
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
