//go:build cgo

package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrBusy
}
