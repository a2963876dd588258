package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// openError is a failed Open with the cause found on disk, which SQLite's own message
// hides: on a read-only file system it says "unable to open database file: no such file
// or directory" of a file that is there, and of a -shm it cannot write, "attempt to write
// a readonly database" in the middle of a migration.
type openError struct {
	path, cause string
	err         error
}

func (e *openError) Error() string {
	said := strings.TrimPrefix(e.err.Error(), "store: open "+e.path+": ")
	return "store: open " + e.path + ": " + e.cause + " (SQLite: " + said + ")"
}

func (e *openError) Unwrap() error { return e.err }

// explainOpen looks for why the database at path could not be opened: a file of it that
// cannot be written, or a directory where its -wal and -shm cannot be created. It returns
// err with the cause, or err as it is when it finds none.
func explainOpen(path string, err error) error {
	if cause := writeProblem(path); cause != "" {
		return &openError{path: path, cause: cause, err: err}
	}
	return err
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
