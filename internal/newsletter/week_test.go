package newsletter

import (
	"testing"
	"time"
)

func TestParseWeek(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Week
		wantErr bool
	}{
		{"plain", "2026-W48", Week{2026, 48}, false},
		{"lower case", "2026-w01", Week{2026, 1}, false},
		{"week 53 exists in 2026", "2026-W53", Week{2026, 53}, false},
		{"week 53 missing in 2025", "2025-W53", Week{}, true},
		{"week zero", "2026-W00", Week{}, true},
		{"no W", "2026-48", Week{}, true},
		{"trailing junk", "2026-W481", Week{}, true},
		{"empty", "", Week{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWeek(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseWeek(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("ParseWeek(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestWeekStart(t *testing.T) {
	ist, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		week Week
		want string
	}{
		{Week{2026, 1}, "2025-12-29"},
		{Week{2026, 48}, "2026-11-23"},
		{Week{2026, 19}, "2026-05-04"},
		{Week{2021, 1}, "2021-01-04"},
	}
	for _, tc := range tests {
		t.Run(tc.week.String(), func(t *testing.T) {
			got := tc.week.Start(ist)
			if got.Format("2006-01-02 15:04") != tc.want+" 00:00" || got.Weekday() != time.Monday {
				t.Fatalf("Start = %v, want %s Monday 00:00", got, tc.want)
			}
			if WeekOf(got) != tc.week || WeekOf(got.Add(-time.Second)) == tc.week {
				t.Fatalf("Start %v is not the first instant of %v", got, tc.week)
			}
		})
	}
}

func TestWeekPrevNext(t *testing.T) {
	tests := []struct {
		name       string
		week, prev Week
	}{
		{"mid-year", Week{2026, 20}, Week{2026, 19}},
		{"into a 52-week year", Week{2026, 1}, Week{2025, 52}},
		{"into a 53-week year", Week{2027, 1}, Week{2026, 53}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.week.Prev(); got != tc.prev {
				t.Errorf("%v.Prev() = %v, want %v", tc.week, got, tc.prev)
			}
			if got := tc.prev.Next(); got != tc.week {
				t.Errorf("%v.Next() = %v, want %v", tc.prev, got, tc.week)
			}
		})
	}
}
