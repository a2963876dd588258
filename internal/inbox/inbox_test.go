package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/bounce"
	"newsletter/internal/inbox"
	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

// applier records every report as recorded against issue 7 for reader@example.org; the
// roster's own rules are tested in roster, this package only routes and prints.
type applier struct{ got []bounce.Kind }

func (a *applier) ApplyReport(_ context.Context, rep bounce.Report, _ roster.BounceRules) (roster.BounceOutcome, error) {
	a.got = append(a.got, rep.Kind)
	return roster.BounceOutcome{Subscriber: newsletter.Subscriber{ID: 1, Email: "reader@example.org"}, IssueID: 7,
		By: roster.ByMessageID, Recorded: true,
		Result: store.BounceResult{Status: newsletter.StatusBounced, Suppressed: store.SuppressComplained}}, nil
}

// issues is issue 7 of week 2026-W20, delivered to 100 people, with one complaint: over the alarm.
type issues struct{}

func (issues) IssueByID(context.Context, int64) (newsletter.Issue, error) {
	return newsletter.Issue{ID: 7, Week: newsletter.Week{Year: 2026, Num: 20}}, nil
}

func (issues) IssueCounts(context.Context, int64) (map[newsletter.DeliveryStatus]int, error) {
	return map[newsletter.DeliveryStatus]int{newsletter.DeliverySent: 100}, nil
}

func (issues) IssueBounces(context.Context, int64) (newsletter.IssueReports, error) {
	return newsletter.IssueReports{Complaints: 1}, nil
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "bounce", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		maxBytes   int64
		unreadable int
		want       []string
	}{
		{"complaint over the alarm", "yahoo-arf.eml", 0, 0, []string{
			"stdin: complaint", "reader@example.org (by message-id, issue 2026-W20)",
			"  Issue 2026-W20: 1 complaint(s) of 100 delivered messages", "(set editorial.editors_email to be told by mail)"}},
		{"too large", "postfix-hard.eml", 100, 1, []string{"stdin: cannot read: bounce: message too large: over 100 bytes; nothing changed\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			a := &applier{}
			r := inbox.New(inbox.Options{Applier: a, Issues: issues{}, Parse: bounce.Options{MaxBytes: tc.maxBytes}, Out: &out})
			body := bytes.NewReader(fixture(t, tc.file))
			if err := r.Message(context.Background(), "stdin", body); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if r.Seen != 1 || r.Unreadable != tc.unreadable {
				t.Errorf("seen %d, unreadable %d; want 1, %d", r.Seen, r.Unreadable, tc.unreadable)
			}
			if err := r.Err(); (err != nil) != (tc.unreadable > 0) || err != nil && err.Error() != "1 of 1 message(s) could not be read" {
				t.Errorf("Err() = %v with %d unreadable", err, tc.unreadable)
			}
			if tc.unreadable > 0 && (len(a.got) != 0 || body.Len() != 0) {
				t.Errorf("an unreadable message reached the list (%v) or stdin was not drained (%d bytes left)", a.got, body.Len())
			}
		})
	}
}

// A Maildir's messages are applied one by one, and one that cannot be read is counted.
func TestPathMaildir(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, file := range map[string]string{"1.a": "postfix-hard.eml", "2.b": "yahoo-arf.eml"} {
		if err := os.WriteFile(filepath.Join(dir, "new", name), fixture(t, file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	a := &applier{}
	r := inbox.New(inbox.Options{Applier: a, Issues: issues{}, Out: &out})
	if err := r.Path(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if r.Seen != 2 || r.Unreadable != 0 || len(a.got) != 2 {
		t.Fatalf("seen %d, unreadable %d, applied %v; want 2, 0 and both\n%s", r.Seen, r.Unreadable, a.got, out.String())
	}
	if err := r.Path(context.Background(), filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "bounces process: ") {
		t.Fatalf("missing path: %v", err)
	}
}

// Recorded, what a webhook calls, sounds the alarm only for a recorded complaint about an issue.
func TestRecorded(t *testing.T) {
	tests := []struct {
		name  string
		kind  bounce.Kind
		out   roster.BounceOutcome
		alarm bool
	}{
		{"complaint", bounce.Complaint, roster.BounceOutcome{Recorded: true, IssueID: 7}, true},
		{"hard bounce", bounce.Hard, roster.BounceOutcome{Recorded: true, IssueID: 7}, false},
		{"complaint not recorded", bounce.Complaint, roster.BounceOutcome{IssueID: 7}, false},
		{"complaint of no issue", bounce.Complaint, roster.BounceOutcome{Recorded: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := inbox.New(inbox.Options{Applier: &applier{}, Issues: issues{}, Out: &out})
			if err := r.Recorded(context.Background(), bounce.Report{Kind: tc.kind}, tc.out); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out.String(), "Issue 2026-W20: 1 complaint(s)"); got != tc.alarm {
				t.Errorf("alarm printed %v, want %v:\n%s", got, tc.alarm, out.String())
			}
		})
	}
}

// busyApplier applies reports like applier until its fail-th call, which fails as the
// store does when the write lock stays taken.
type busyApplier struct {
	applier
	fail int
}

func (a *busyApplier) ApplyReport(ctx context.Context, rep bounce.Report, rules roster.BounceRules) (roster.BounceOutcome, error) {
	if len(a.got)+1 == a.fail {
		return roster.BounceOutcome{}, fmt.Errorf("store: record bounce: %w", newsletter.ErrBusy)
	}
	return a.applier.ApplyReport(ctx, rep, rules)
}

// A report the list cannot record stops the pass with a *NotRecordedError naming its
// message; those before it stay applied, those after it are not read.
func TestPathNotRecorded(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, file := range map[string]string{"1.a": "postfix-hard.eml", "2.b": "yahoo-arf.eml", "3.c": "postfix-hard.eml"} {
		if err := os.WriteFile(filepath.Join(dir, "new", name), fixture(t, file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	a := &busyApplier{fail: 2}
	r := inbox.New(inbox.Options{Applier: a, Issues: issues{}, Out: &out})
	err := r.Path(context.Background(), dir)
	var nr *inbox.NotRecordedError
	if !errors.As(err, &nr) || !errors.Is(err, newsletter.ErrBusy) || !strings.HasPrefix(err.Error(), "bounces process: "+filepath.Join(dir, "new", "2.b")+": store: record bounce: database busy") {
		t.Fatalf("err = %v, want a NotRecordedError for 2.b", err)
	}
	if len(a.got) != 1 || r.Seen != 2 || !strings.Contains(out.String(), "1.a: hard bounce") || strings.Contains(out.String(), "2.b") || strings.Contains(out.String(), "3.c") {
		t.Fatalf("applied %v, seen %d:\n%s", a.got, r.Seen, out.String())
	}
}
