package mailbox_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"newsletter/internal/mailbox"
)

type got struct {
	name, body string
}

// readAll runs ReadPath and returns what it handed over and what it skipped.
func readAll(t *testing.T, path string, maxBytes int64) ([]got, []string, error) {
	t.Helper()
	var handed []got
	var skipped []string
	err := mailbox.ReadPath(context.Background(), path, maxBytes,
		func(_ context.Context, name string, r io.Reader) error {
			b, err := io.ReadAll(r)
			handed = append(handed, got{filepath.Base(name), string(b)})
			return err
		},
		func(name string, err error) { skipped = append(skipped, filepath.Base(name)+": "+err.Error()) })
	return handed, skipped, err
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadPath(t *testing.T) {
	dir := t.TempDir()
	mbox := "From MAILER-DAEMON Mon May  4 08:00:00 2026\nSubject: one\n\nbody one\nFrom inside a line is kept\n>From escaped\n\n" +
		"From MAILER-DAEMON Mon May  4 08:01:00 2026\nSubject: two\n\n" + strings.Repeat("x", 200) + "\n\n" +
		"From MAILER-DAEMON Mon May  4 08:02:00 2026\nSubject: three\n\nbody three\n"
	maildir := filepath.Join(dir, "Maildir")
	write(t, filepath.Join(maildir, "new", "2.b"), "Subject: new 2\n\n")
	write(t, filepath.Join(maildir, "new", "1.a"), "Subject: new 1\n\n")
	write(t, filepath.Join(maildir, "new", ".hidden"), "Subject: skipped\n\n")
	write(t, filepath.Join(maildir, "cur", "0.z:2,S"), "Subject: cur\n\n")
	for _, tc := range []struct {
		name     string
		path     string
		maxBytes int64
		want     []got
		skipped  []string
	}{
		{name: "one message", path: write(t, filepath.Join(dir, "one.eml"), "Subject: hi\n\nbody\n"),
			want: []got{{"one.eml", "Subject: hi\n\nbody\n"}}},
		{name: "mbox, From_ only after a blank line, >From unescaped", path: write(t, filepath.Join(dir, "a.mbox"), mbox), maxBytes: 1 << 20,
			want: []got{
				{"a.mbox#1", "Subject: one\n\nbody one\nFrom inside a line is kept\nFrom escaped\n\n"},
				{"a.mbox#2", "Subject: two\n\n" + strings.Repeat("x", 200) + "\n\n"},
				{"a.mbox#3", "Subject: three\n\nbody three\n"},
			}},
		{name: "mbox message over the cap is skipped, the rest handed over", path: filepath.Join(dir, "a.mbox"), maxBytes: 100,
			want: []got{
				{"a.mbox#1", "Subject: one\n\nbody one\nFrom inside a line is kept\nFrom escaped\n\n"},
				{"a.mbox#3", "Subject: three\n\nbody three\n"},
			},
			skipped: []string{"a.mbox#2: mailbox: message too large: over 100 bytes"}},
		{name: "Maildir: new then cur, in name order, no dot files", path: maildir,
			want: []got{{"1.a", "Subject: new 1\n\n"}, {"2.b", "Subject: new 2\n\n"}, {"0.z:2,S", "Subject: cur\n\n"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handed, skipped, err := readAll(t, tc.path, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(handed, tc.want) {
				t.Errorf("handed over\n%q\nwant\n%q", handed, tc.want)
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %q, want %q", skipped, tc.skipped)
			}
		})
	}
}

func TestReadPathErrors(t *testing.T) {
	dir := t.TempDir()
	stop := errors.New("stop")
	write(t, filepath.Join(dir, "two.mbox"), "From a\nSubject: 1\n\nFrom b\nSubject: 2\n")
	if err := os.Mkdir(filepath.Join(dir, "plain"), 0o750); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
		handle           mailbox.Handle
	}{
		{"missing path", filepath.Join(dir, "missing"), "no such file", nil},
		{"a directory that is not a Maildir", filepath.Join(dir, "plain"), "not a Maildir (no readable new/)", nil},
		{"the handler's error stops the reading", filepath.Join(dir, "two.mbox"), "stop",
			func(context.Context, string, io.Reader) error { return stop }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			handle := func(ctx context.Context, name string, r io.Reader) error {
				calls++
				if tc.handle != nil {
					return tc.handle(ctx, name, r)
				}
				return nil
			}
			err := mailbox.ReadPath(context.Background(), tc.path, 0, handle, func(string, error) {})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if calls > 1 {
				t.Errorf("%d messages handed over after the error", calls)
			}
		})
	}
}
