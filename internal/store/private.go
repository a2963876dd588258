package store

import (
	"errors"
	"io/fs"
	"os"
)

// makePrivate creates the database file, empty and readable by its owner only, unless
// it exists, and gives -wal and -shm files left beside it the database file's mode.
// SQLite creates a database file 0644 whatever the umask, and its -wal and -shm with the
// database file's mode; the file holds every subscriber's address.
func makePrivate(path string) error {
	err := createPrivate(path)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
	default:
		if _, serr := os.Stat(path); serr != nil {
			return err // cannot create it, and it is not there
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		sst, err := os.Stat(side)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if sst.Mode().Perm()&^st.Mode().Perm() != 0 {
			if err := os.Chmod(side, st.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

// createPrivate creates an empty file at path, readable by its owner only; an error
// wrapping fs.ErrExist when there is one.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// The umask could have taken bits away, never added any; set the mode as meant.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
