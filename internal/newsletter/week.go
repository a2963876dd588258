package newsletter

import (
	"fmt"
	"time"
)

// Week is an ISO 8601 week, written 2026-W48. Issues are named by the week they are sent in.
type Week struct {
	Year int
	Num  int
}

// WeekOf returns the ISO week containing t (in t's location).
func WeekOf(t time.Time) Week {
	y, w := t.ISOWeek()
	return Week{Year: y, Num: w}
}

// ParseWeek parses "2026-W48" (case-insensitive W).
func ParseWeek(s string) (Week, error) {
	var w Week
	var sep rune
	n, err := fmt.Sscanf(s, "%4d-%c%02d", &w.Year, &sep, &w.Num)
	if err != nil || n != 3 || (sep != 'W' && sep != 'w') || len(s) != 8 {
		return Week{}, fmt.Errorf("week %q: want the form 2026-W48", s)
	}
	if w.Num < 1 || w.Num > 53 || WeekOf(w.Start(time.UTC)) != w {
		return Week{}, fmt.Errorf("week %q: year %d has no week %d", s, w.Year, w.Num)
	}
	return w, nil
}

// String formats the week as 2026-W48.
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// IsZero reports whether w is the zero Week.
func (w Week) IsZero() bool { return w == Week{} }

// Start returns Monday 00:00 of the week in loc.
func (w Week) Start(loc *time.Location) time.Time {
	// January 4th is always in week 1.
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, loc)
	offset := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(w.Year, time.January, 4-offset+7*(w.Num-1), 0, 0, 0, 0, loc)
}

// Next returns the week after w.
func (w Week) Next() Week { return WeekOf(w.Start(time.UTC).AddDate(0, 0, 7)) }

// Prev returns the week before w.
func (w Week) Prev() Week { return WeekOf(w.Start(time.UTC).AddDate(0, 0, -7)) }

// Before reports whether w comes before v.
func (w Week) Before(v Week) bool {
	return w.Year < v.Year || (w.Year == v.Year && w.Num < v.Num)
}
