package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/config"
	"newsletter/internal/schedule"
)

// TestOwnedChecksNameKeyAndLine covers the checks the configuration leaves to the packages
// that own the rules (the cron expressions, the subject): the error still names the file,
// the line and the key, and the exit code is 2.
func TestOwnedChecksNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"bad build cron", "schedule:\n  build: every friday\n",
			`FILE:2: schedule.build: "every friday" is not a cron expression like "0 12 * * FRI": `},
		{"bad send cron", "\nschedule:\n  send: 0 25 * * MON\n",
			`FILE:3: schedule.send: "0 25 * * MON" is not a cron expression like "0 8 * * MON": `},
		{"subject too long", "issue:\n  subject: " + strings.Repeat("x", 201) + "\n",
			"FILE:2: issue.subject: at most 200 characters\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			c.env["NEWSLETTER_DATABASE"] = filepath.Join(c.dir, "nl.db")
			path := filepath.Join(c.dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := c.run("status", "--config", path)
			want := "newsletter: " + strings.Replace(tt.want, "FILE:", path+":", 1)
			if code != exitUsage || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr\n%s\nwant one line starting\n%s", code, errOut, want)
			}
		})
	}
}

// The configuration's default grace is the one the scheduler falls back to.
func TestDefaultGraceIsTheSchedulers(t *testing.T) {
	if got := config.Defaults().Schedule.Grace; got != schedule.DefaultGrace {
		t.Fatalf("config default grace %s, schedule.DefaultGrace %s", got, schedule.DefaultGrace)
	}
}
