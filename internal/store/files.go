package store

// The database's files on disk: private modes, and why they cannot be opened.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// makePrivate creates the database file, empty and readable by its owner only, unless
// it exists, and gives -wal and -shm files left beside it the database file's mode.
// SQLite creates a database file 0644 whatever the umask, and its -wal and -shm with the
// database file's mode; the file holds every subscriber's address.
func makePrivate(path string) error {
	created := createPrivate(path)
	st, err := os.Stat(path)
	if err != nil {
		if created != nil && !errors.Is(created, fs.ErrExist) {
			return created // cannot create it, and it is not there
		}
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

// explainOpen wraps a failed Open's err with what it finds on disk (a file of the database
// that cannot be written, a directory where -wal and -shm cannot be created): SQLite's own
// message hides it, saying "no such file or directory" of a file on a read-only file system
// and "attempt to write a readonly database" of a -shm it cannot write.
func explainOpen(path string, err error) error {
	if cause := writeProblem(path); cause != "" {
		return fmt.Errorf("store: open %s: %s (SQLite: %w)", path, cause, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

func writeProblem(path string) string {
	missing := false
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			missing = true
			continue
		}
		if err != nil {
			cause := p + " cannot be written: " + reason(err)
			if p != path {
				cause += "; one left by another user or a copy stops every start: remove it while nothing has the database open, or give it the database file's owner and mode"
			}
			return cause
		}
		f.Close()
	}
	if !missing {
		return ""
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".newsletter-probe-*")
	if err != nil {
		return "no file can be created in " + dir + ": " + reason(err) + "; SQLite keeps " +
			filepath.Base(path) + "-wal and " + filepath.Base(path) + "-shm beside the database"
	}
	f.Close()
	os.Remove(f.Name())
	return ""
}

// reason is err without the path an *fs.PathError repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
