package roster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/roster"
)

func TestExportFile(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.svc.Import(ctx, strings.NewReader("email,name,status\na@example.com,A,active\nb@example.com,B,unsubscribed\n"), roster.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(path, []byte("the earlier export\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		filter roster.Filter
		want   []string
		n      int
	}{
		{"replaces the earlier file", roster.Filter{}, []string{"a@example.com", "b@example.com"}, 2},
		{"filtered", roster.Filter{Status: "active"}, []string{"a@example.com"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := f.svc.ExportFile(ctx, path, tc.filter)
			if err != nil || n != tc.n {
				t.Fatalf("ExportFile = %d, %v; want %d", n, err, tc.n)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "earlier") || strings.Count(string(data), "@") != len(tc.want) {
				t.Fatalf("file holds:\n%s", data)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("file lacks %s:\n%s", w, data)
				}
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("the directory holds %d entries (%v), want only list.csv: no temporary file left", len(entries), err)
	}
	if _, err := f.svc.ExportFile(ctx, filepath.Join(dir, "missing", "x.csv"), roster.Filter{}); err == nil {
		t.Error("export into a missing directory did not fail")
	}
}
