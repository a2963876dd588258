// Command newsletter gathers a publication's feeds into a weekly issue, renders it and
// sends it to the subscribers kept in SQLite; `newsletter serve` answers unsubscribe links.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"newsletter/internal/store"
)

// Exit codes, part of the contract with operators' scripts.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2 // bad usage or configuration
	exitDeferred = 3 // some deliveries failed temporarily and wait for a retry
	// exitTempFail is sysexits' EX_TEMPFAIL, for a failure that may pass with nothing of the
	// message applied: Postfix's and Exim's pipe transports keep the message and try later,
	// where exit 1 would bounce the report and lose it.
	exitTempFail = 75
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, time.Now)
	stop()
	os.Exit(code)
}

// env is what every subcommand gets from the outside world.
type env struct {
	stdin          io.Reader
	config         string // --config given before the command
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// logFormat and logLevel shape the logger: serve's come from its flags; one-shot commands
	// log text at warn (nil) so that their own output stays readable.
	logFormat string
	logLevel  slog.Leveler
}

// command is a line of a usage table and what runs it; a subcommand's name is followed by
// its arguments.
type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "gather the feeds, build this week's issue and send it to every subscriber not yet sent", cmdRun},
		{"preview", "print this week's issue as HTML, plain text or a whole .eml", cmdPreview},
		{"send", "send or resume one saved issue (--issue N), or a test copy of it (--test ADDRESSES)", cmdSend},
		{"build", "gather the feeds and create or refresh this week's draft, keeping the editors' edits", cmdBuild},
		{"draft", "show, shape, test or approve this week's draft: show, set-subject, pin, exclude, move, add, approve, ...", cmdDraft},
		{"serve", "run the scheduler and the HTTP side: unsubscribe, sign-up, preview, admin, archive, webhooks, health", cmdServe},
		{"subscribers", "manage the list: add, remove, erase, suppress, show, list, import, export, stats", cmdSubscribers},
		{"bounces", "apply bounce reports and spam complaints: process [FILE] (a message, an mbox or a Maildir), poll (the mailbox)", cmdBounces},
		{"migrate", "create or upgrade the database and print its schema version", cmdMigrate},
		{"status", "show the schedule, the current issue and its delivery ledger", cmdStatus},
		{"backup", "write a consistent copy of the database to a file, even while serving", cmdBackup},
		{"compact", "fold old per-recipient delivery rows into per-issue totals", cmdCompact},
	}
}

// run is main without the process: testable end to end.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) int {
	e := env{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: now}
	args, err := globalConfig(&e, args)
	if err != nil {
		return exitCode(stderr, err)
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(stderr, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "newsletter: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// globalConfig takes --config FILE given before the command, as in
// `newsletter --config FILE status`: the command's --config defaults to it.
func globalConfig(e *env, args []string) ([]string, error) {
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if !strings.HasPrefix(args[0], "-") || name != "config" {
			break
		}
		if !hasValue {
			if len(args) < 2 {
				return nil, usagef("%s needs a FILE", args[0])
			}
			value, args = args[1], args[1:]
		}
		e.config, args = value, args[1:]
	}
	return args, nil
}

// version is the module version and the commit the binary was built from, as Go recorded them.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "newsletter (unknown version)"
	}
	v := "newsletter " + bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += " " + rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "+modified"
		}
		if t := settings["vcs.time"]; t != "" {
			v += " " + t
		}
	}
	return v + " " + bi.GoVersion
}

// group runs one of a command's subcommands, or prints their usage with the note under it.
func group(ctx context.Context, e env, name string, args []string, subs []command, note string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		groupUsage(e.stdout, name, subs, note)
		return flag.ErrHelp
	}
	for _, c := range subs {
		if name, _, _ := strings.Cut(c.name, " "); len(args) > 0 && name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	groupUsage(e.stderr, name, subs, note)
	if len(args) == 0 {
		return usagef("%s: missing subcommand", name)
	}
	return usagef("%s: unknown subcommand %q", name, args[0])
}

func groupUsage(w io.Writer, name string, subs []command, note string) {
	fmt.Fprintf(w, "Usage: newsletter %s SUBCOMMAND [flags]\n\nSubcommands:\n", name)
	for _, c := range subs {
		fmt.Fprintf(w, "  %s\n      %s\n", c.name, strings.ReplaceAll(c.summary, "\n", "\n      "))
	}
	fmt.Fprintf(w, "\n%sEvery subcommand takes --config FILE and --help.\n", note)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: newsletter COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config FILE (default $NEWSLETTER_CONFIG, else config.yaml, else config.example.yaml, else built-in defaults), before or after it, and --help.\nnewsletter --version prints the version.")
}

// exitError ends the process with its code rather than 1: exitUsage, exitDeferred or exitTempFail.
type exitError struct {
	code int
	err  error
}

func (x exitError) Error() string { return x.err.Error() }
func (x exitError) Unwrap() error { return x.err }

// usagef is a usage or configuration error: exit 2.
func usagef(format string, args ...any) error {
	return exitError{exitUsage, fmt.Errorf(format, args...)}
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) { // --help printed the usage
		return exitOK
	}
	fmt.Fprintln(stderr, "newsletter:", err)
	if x := (exitError{}); errors.As(err, &x) {
		return x.code
	}
	if errors.Is(err, store.ErrJournalDamaged) {
		fmt.Fprintln(stderr, store.JournalDamagedHint)
	}
	return exitFailure
}
