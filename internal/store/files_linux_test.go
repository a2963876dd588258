package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// makeReadOnly makes p (a file or a directory) read-only until the test ends: as root,
// which file modes do not stop, by bind-mounting it read-only over itself; else by its mode.
func makeReadOnly(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o444)
		if st.IsDir() {
			mode = 0o555
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(p, st.Mode().Perm()) })
		return
	}
	if err := syscall.Mount(p, p, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount %s: %v", p, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(p, 0); err != nil {
			t.Errorf("unmount %s: %v", p, err)
		}
	})
	if err := syscall.Mount(p, p, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount %s read-only: %v", p, err)
	}
}

// TestOpenNamesWhatCannotBeWritten: where SQLite says "unable to open database file: no
// such file or directory" of a file that is there, or "attempt to write a readonly
// database" inside a migration, Open names the file or directory and the cause.
func TestOpenNamesWhatCannotBeWritten(t *testing.T) {
	tests := []struct {
		name     string
		readOnly func(dir, path string) string // makes something read-only, returns what the error must name
		want     []string
	}{
		{"read-only directory", func(dir, path string) string { return dir }, []string{"cannot be written", "no file can be created in"}},
		{"leftover read-only -shm", func(dir, path string) string {
			if err := os.WriteFile(path+"-shm", nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return path + "-shm"
		}, []string{"-shm cannot be written"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			path := filepath.Join(dir, "nl.db")
			db, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			target := tt.readOnly(dir, path)
			makeReadOnly(t, target)
			db, err = Open(context.Background(), path)
			if err == nil {
				db.Close()
				t.Fatal("opened a database it cannot write")
			}
			msg := err.Error()
			named := false
			for _, w := range tt.want {
				named = named || strings.Contains(msg, w)
			}
			if !named || !strings.Contains(msg, filepath.Base(target)) {
				t.Fatalf("error %q does not name %s and the cause (%q)", msg, target, tt.want)
			}
			if !strings.Contains(msg, "SQLite: ") {
				t.Errorf("error %q lost SQLite's own message", msg)
			}
		})
	}
}
