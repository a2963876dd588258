package editorial_test

import (
	"strings"
	"testing"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
)

func TestComplaints(t *testing.T) {
	w := newsletter.Week{Year: 2026, Num: 19}
	for _, tc := range []struct {
		name                  string
		complaints, delivered int
		over, crossed         bool
	}{
		{"nothing delivered", 1, 0, false, false},
		{"none", 0, 5000, false, false},
		{"at the line", 5, 5000, false, false},
		{"the one that crosses it", 6, 5000, true, true},
		{"past it already", 7, 5000, true, false},
		{"one of five", 1, 5, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := editorial.Complaints{Week: w, Complaints: tc.complaints, Delivered: tc.delivered}
			if c.Over() != tc.over || c.Crossed() != tc.crossed {
				t.Fatalf("Over %v, Crossed %v; want %v, %v", c.Over(), c.Crossed(), tc.over, tc.crossed)
			}
		})
	}
	c := editorial.Complaints{Week: w, Complaints: 1, Delivered: 5}
	if got, want := c.Summary(), "Issue 2026-W19: 1 complaint(s) of 5 delivered messages (20.00%), over 0.1%."; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	subject, body := c.Notice()
	if subject != "Complaints over 0.1%: issue 2026-W19" || !strings.HasPrefix(body, c.Summary()) ||
		!strings.Contains(body, "newsletter status --issue 2026-W19") {
		t.Errorf("Notice = %q\n%s", subject, body)
	}
}
