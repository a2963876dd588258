//go:build unix

package store

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// withUmask runs the test under umask m, the process's, restored after.
func withUmask(t *testing.T, m int) {
	old := syscall.Umask(m)
	t.Cleanup(func() { syscall.Umask(old) })
}

func modeOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestOpenCreatesPrivateFiles: the database and its -wal and -shm, which hold every
// subscriber's address, are the owner's only, whatever the umask.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	for _, umask := range []int{0o022, 0o000, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", umask), func(t *testing.T) {
			withUmask(t, umask)
			path := filepath.Join(t.TempDir(), "data", "nl.db")
			db, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, _, err := db.AddSubscriber(context.Background(), newsletter.Subscriber{Email: "ada@example.com", Status: newsletter.StatusActive}, time.Now()); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if m := modeOf(t, p); m != 0o600 {
					t.Errorf("%s: mode %v, want 0600", filepath.Base(p), m)
				}
			}
		})
	}
}

// TestOpenTightensLeftoverSideFiles: -wal and -shm files left from before the database
// file was made private take its mode at the next open.
func TestOpenTightensLeftoverSideFiles(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "nl.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.WriteFile(path+side, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path+side, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := modeOf(t, p); m != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), m)
		}
	}
}

// TestBackupIsPrivate: a backup holds what the database holds.
func TestBackupIsPrivate(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	db, err := Open(context.Background(), filepath.Join(dir, "nl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, backup); m != 0o600 {
		t.Errorf("backup: mode %v, want 0600", m)
	}
	if err := db.Backup(context.Background(), backup); err == nil {
		t.Error("a second backup over the first succeeded")
	}
}
