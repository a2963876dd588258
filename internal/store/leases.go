package store

import (
	"context"
	"time"
)

// AcquireLease takes or renews the named lease for holder until now+ttl; false when
// another holder has it and it has not expired.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	n, err := db.exec(ctx, "lease "+name, `
		INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, unix(now.Add(ttl)), unix(now))
	return n == 1, err
}

// ReleaseLease gives the lease up if holder has it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.exec(ctx, "release lease "+name, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return err
}

// LeaseHolder returns who holds the lease and until when; ErrNotFound when nobody ever took it.
func (db *DB) LeaseHolder(ctx context.Context, name string) (holder string, expires time.Time, err error) {
	var exp int64
	err = db.scanRow(ctx, "lease "+name, []any{&holder, &exp}, `SELECT holder, expires_at FROM leases WHERE name = ?`, name)
	return holder, fromUnix(exp), err
}
