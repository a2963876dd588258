package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A dry run prints the plan and the size of one message built in full, and sends nothing:
// no outbox file, no ledger row, no approval.
func TestDryRunSendsNothing(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	message := regexp.MustCompile(`(?m)^  message: ".*The Technerdo Weekly.*", [1-9][0-9]* KB$`)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"run", []string{"run", "--week", "2026-W19", "--dry-run"}},
		{"send", []string{"send", "--issue", "2026-W19", "--dry-run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := c.mustRun(tc.args...)
			for _, want := range []string{
				"Plan for 2026-W19: 5 recipient(s) still to send.",
				"Dry run: would send issue 2026-W19 to 5 subscriber(s). Nothing was sent; the ledger is unchanged.",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if !message.MatchString(out) {
				t.Errorf("output lacks the sample message line:\n%s", out)
			}
			if n := len(emlFiles(t, filepath.Join(c.dir, "outbox"))); n != 0 {
				t.Fatalf("a dry run wrote %d message(s)", n)
			}
		})
	}
	if out := c.mustRun("status", "--issue", "2026-W19"); !strings.Contains(out, "Issue 2026-W19: draft,") || !strings.Contains(out, "ledger: empty") {
		t.Fatalf("after the dry runs the issue should be an unsent draft with an empty ledger:\n%s", out)
	}
}
