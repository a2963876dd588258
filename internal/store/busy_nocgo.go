//go:build !cgo

package store

// isBusy is false without cgo, where go-sqlite3 is a stand-in that opens no database.
func isBusy(error) bool { return false }
