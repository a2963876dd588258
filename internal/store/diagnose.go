package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// explainOpen wraps a failed Open's err with the cause it finds on disk, which SQLite's own
// message hides: on a read-only file system it says "unable to open database file: no such
// file or directory" of a file that is there, and of a -shm it cannot write, "attempt to
// write a readonly database" in the middle of a migration. The causes it looks for are a
// file of the database that cannot be written and a directory where its -wal and -shm
// cannot be created.
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
