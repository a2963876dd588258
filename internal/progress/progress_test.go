package progress_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/progress"
)

// Off a terminal the printer writes a line at the start and one every tenth of the round.
func TestLinesEveryTenth(t *testing.T) {
	tests := []struct {
		name  string
		ready int
		want  string
	}{
		{"nothing ready", 0, ""},
		{"three", 3, "  sending 3 message(s)…\n  1/3 done\n  2/3 done\n  3/3 done\n"},
		{"twenty", 20, "  sending 20 message(s)…\n" + lines(20, 2)},
		{"twenty-five", 25, "  sending 25 message(s)…\n" + lines(25, 2) + "  25/25 done\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := progress.New(&out, "2026-W19", time.UTC, nil)
			p.Start(tc.ready)
			for range tc.ready {
				p.Outcome(newsletter.DeliverySent)
			}
			p.Finish()
			if out.String() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}

func lines(total, step int) string {
	var s string
	for n := step; n <= total; n += step {
		s += fmt.Sprintf("  %d/%d done\n", n, total)
	}
	return s
}

// A relay that stops answering is told in one line, without the mailer's prefix, with
// whether this run still retries it.
func TestRelayDown(t *testing.T) {
	now := time.Date(2026, 5, 11, 8, 0, 0, 0, time.UTC)
	ist := time.FixedZone("+03", 3*3600)
	cause := errors.New("connection refused")
	err := fmt.Errorf("mailer: smtp://relay: %w", cause)
	tests := []struct {
		name  string
		until time.Time
		want  string
	}{
		{"retrying", now.Add(5 * time.Minute), "  relay smtp://relay does not answer (connection refused); retrying until Mon 11:05:00 +03 (delivery.retry_wait); nothing is lost\n"},
		{"giving up", now, "  relay smtp://relay does not answer (connection refused); not retrying in this run (delivery.retry_wait); nothing is lost\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := progress.New(&out, "2026-W19", ist, func() time.Time { return now })
			p.RelayDown("smtp://relay", err, tc.until)
			if out.String() != tc.want {
				t.Fatalf("got  %q\nwant %q", out.String(), tc.want)
			}
		})
	}
}
