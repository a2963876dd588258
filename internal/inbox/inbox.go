// Package inbox applies the reports that come back by mail (bounces, complaints, mails to
// the unsubscribe address), one message at a time, printing a line for each.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"

	"newsletter/internal/bounce"
	"newsletter/internal/editorial"
	"newsletter/internal/mailbox"
	"newsletter/internal/roster"
)

// Applier records a parsed report against the list (roster.Service).
type Applier interface {
	ApplyReport(ctx context.Context, rep bounce.Report, rules roster.BounceRules) (roster.BounceOutcome, error)
}

// Options configure a Run.
type Options struct {
	Applier Applier
	// Issues names a report's issue in the line and gives the complaint figures.
	Issues editorial.Reports
	Parse  bounce.Options
	Rules  roster.BounceRules
	// Notice tells the editors when a complaint takes its issue over the alarm; nil when
	// editorial.editors_email is not set.
	Notice *editorial.Notice
	Out    io.Writer
}

// Run applies messages and counts those it could not read; one per pass over the input.
type Run struct {
	opt Options
	// Seen and Unreadable count the messages read and those that could not be.
	Seen, Unreadable int
}

// New returns a Run.
func New(opt Options) *Run { return &Run{opt: opt} }

// Err says how many of the messages seen could not be read; nil when all could.
func (r *Run) Err() error {
	if r.Unreadable == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d message(s) could not be read", r.Unreadable, r.Seen)
}

// Path applies every message of a Maildir, an mbox or a single message file.
func (r *Run) Path(ctx context.Context, name string) error {
	var handleErr error // already says "bounces process"
	err := mailbox.ReadPath(ctx, name, r.opt.Parse.MaxBytes,
		func(ctx context.Context, label string, body io.Reader) error {
			handleErr = r.Message(ctx, label, body)
			return handleErr
		},
		func(label string, err error) {
			r.Seen++
			r.Unreadable++
			fmt.Fprintf(r.opt.Out, "%s: cannot read: %v; nothing changed\n", label, err)
		})
	if err != nil && handleErr == nil {
		return fmt.Errorf("bounces process: %w", err)
	}
	return err
}

// Message parses and applies one message and prints what it did. A message that cannot be
// read is counted and said, not returned; an error is a *NotRecordedError when the list
// could not be updated, else the complaint alarm failing after the report was recorded.
func (r *Run) Message(ctx context.Context, label string, body io.Reader) error {
	r.Seen++
	rep, err := bounce.Parse(body, r.opt.Parse)
	if err != nil {
		if label == "stdin" && errors.Is(err, bounce.ErrTooLarge) {
			// Read the rest, without keeping it, so that the MTA's pipe does not fail first.
			_, _ = io.Copy(io.Discard, body)
		}
		r.Unreadable++
		fmt.Fprintf(r.opt.Out, "%s: cannot read: %v; nothing changed\n", label, err)
		return nil
	}
	out, err := r.opt.Applier.ApplyReport(ctx, rep, r.opt.Rules)
	if err != nil {
		return &NotRecordedError{Label: label, Err: err}
	}
	week := ""
	if out.IssueID > 0 {
		if is, err := r.opt.Issues.IssueByID(ctx, out.IssueID); err == nil {
			week = is.Week.String()
		}
	}
	fmt.Fprintf(r.opt.Out, "%s: %s\n", label, out.Describe(rep, week, r.opt.Rules))
	return r.Recorded(ctx, rep, out)
}

// NotRecordedError is a message that was read but whose report the list could not record
// (the database busy past its timeout, full, or failing): ApplyReport writes in one
// transaction, so nothing of it was applied and giving the same message again later is safe.
type NotRecordedError struct {
	Label string
	Err   error
}

func (e *NotRecordedError) Error() string {
	return fmt.Sprintf("bounces process: %s: %v", e.Label, e.Err)
}

func (e *NotRecordedError) Unwrap() error { return e.Err }

// Recorded tells the editors when out recorded a complaint that takes its issue over the
// line (editorial.Alarm), and prints the line that says so; other outcomes need nothing.
// A webhook calls it for each report it records.
func (r *Run) Recorded(ctx context.Context, rep bounce.Report, out roster.BounceOutcome) error {
	if !out.Recorded || rep.Kind != bounce.Complaint || out.IssueID <= 0 {
		return nil
	}
	line, err := editorial.Alarm(ctx, r.opt.Issues, out.IssueID, r.opt.Notice)
	if line != "" {
		fmt.Fprintf(r.opt.Out, "  %s\n", line)
	}
	return err
}
