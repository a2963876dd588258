package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnknownFlagReportedOnce(t *testing.T) {
	c := newCLI(t)
	code, out, errOut := c.run("status", "--bogus")
	if code != exitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if want := "newsletter: status: flag provided but not defined: -bogus (see newsletter status --help)\n"; errOut != want {
		t.Fatalf("stderr\n%q\nwant\n%q", errOut, want)
	}
}

func TestVersion(t *testing.T) {
	c := newCLI(t)
	for _, arg := range []string{"--version", "version"} {
		code, out, errOut := c.run(arg)
		if code != exitOK || !strings.HasPrefix(out, "newsletter ") || !strings.Contains(out, "go1.") || errOut != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
}

// TestConfigBeforeCommand: --config goes before the command as users type it, and wins
// over $NEWSLETTER_CONFIG as it does after the command.
func TestConfigBeforeCommand(t *testing.T) {
	c := newCLI(t)
	good := c.env["NEWSLETTER_CONFIG"]
	broken := filepath.Join(c.dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("nonsense: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env["NEWSLETTER_CONFIG"] = broken
	for _, args := range [][]string{
		{"--config", good, "status"},
		{"--config=" + good, "status"},
		{"-config", good, "subscribers", "add", "ada@example.com"},
		{"--config", good, "subscribers", "list", "--search", "ada"},
	} {
		code, out, errOut := c.run(args...)
		if code != exitOK {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if code, _, errOut := c.run("--config"); code != exitUsage || !strings.Contains(errOut, "--config needs a FILE") {
		t.Errorf("--config alone: exit %d, %q", code, errOut)
	}
}

// TestConfigErrorsNameKeyAndLine runs a command on broken configurations: each error names
// the file, the line, the key's path and what is wrong, on one line, exit 2. That holds for
// the checks the configuration leaves to the packages that own the rules (cron, subject)
// too. A want ending in "..." is the line's start (the rest is the cron parser's).
func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "publication:\n  nam: x\n", "FILE:2: publication.nam: unknown key"},
		{"not a number", "delivery:\n  workers: many\n", `FILE:2: delivery.workers: not a number: "many"`},
		{"out of range", "\ndelivery:\n  workers: 0\n", "FILE:3: delivery.workers: must be between 1 and 256, got 0"},
		{"smtp scheme", "smtp_url: smtpx://relay.example:25\n", `FILE:1: smtp_url: scheme "smtpx" not supported, want smtp`},
		{"smtp port", "smtp_url: smtp://relay.example:99999\n", `FILE:1: smtp_url: port "99999" out of range 1-65535`},
		{"smtp tls", "smtp_url: smtp://relay.example:25?tls=maybe\n", `FILE:1: smtp_url: tls="maybe", want none, starttls or tls`},
		{"second relay", "smtp_url: smtp://a.example,smtp://b.example:0\n", `FILE:1: smtp_url (relay 2 of 2): port "0" out of range 1-65535`},
		{"bad build cron", "schedule:\n  build: every friday\n",
			`FILE:2: schedule.build: "every friday" is not a cron expression like "0 12 * * FRI": ...`},
		{"bad send cron", "\nschedule:\n  send: 0 25 * * MON\n",
			`FILE:3: schedule.send: "0 25 * * MON" is not a cron expression like "0 8 * * MON": ...`},
		{"subject too long", "issue:\n  subject: " + strings.Repeat("x", 201) + "\n", "FILE:2: issue.subject: at most 200 characters"},
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
			want, prefix := strings.CutSuffix("newsletter: "+strings.Replace(tt.want, "FILE:", path+":", 1), "...")
			if !prefix {
				want += "\n"
			}
			if code != exitUsage || !strings.HasPrefix(errOut, want) || (!prefix && errOut != want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr\n%s\nwant\n%s", code, errOut, want)
			}
		})
	}
}

// TestGroupUsage: a command group prints its subcommands' table on --help (exit 0) and on
// a missing or unknown subcommand (stderr, exit 2).
func TestGroupUsage(t *testing.T) {
	c := newCLI(t)
	tests := []struct {
		args       []string
		code       int
		out, err   string
		subcommand string
	}{
		{[]string{"subscribers", "--help"}, exitOK, "Usage: newsletter subscribers SUBCOMMAND", "", "import FILE [--dry-run]"},
		{[]string{"subscribers", "help"}, exitOK, "filters also take suppressed", "", "stats [--weeks N]"},
		{[]string{"bounces"}, exitUsage, "", "bounces: missing subcommand", "process [FILE]"},
		{[]string{"bounces", "frob"}, exitUsage, "", `bounces: unknown subcommand "frob"`, "75 (EX_TEMPFAIL"},
	}
	for _, tt := range tests {
		code, out, errOut := c.run(tt.args...)
		usage := out
		if tt.code != exitOK {
			usage = errOut
		}
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) ||
			!strings.Contains(usage, tt.subcommand) || !strings.Contains(usage, "Every subcommand takes --config FILE") {
			t.Errorf("%q: exit %d, stdout\n%s\nstderr\n%s", tt.args, code, out, errOut)
		}
	}
}
