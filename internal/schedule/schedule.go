// Package schedule decides when the weekly build and send happen and runs them: cron
// expressions in an IANA time zone, correct across daylight-saving changes, one handler
// at a time across processes (a lease), each slot handled once, and a missed-run policy.
package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Kind names what a slot does.
type Kind string

// Slot kinds.
const (
	Build Kind = "build" // gather the feeds and build or refresh the week's draft
	Send  Kind = "send"  // send the week's issue
)

// Slot is one scheduled moment.
type Slot struct {
	Kind Kind
	At   time.Time
	// Until is when a held send slot stops being retried (At plus the grace period); zero
	// for a build slot.
	Until time.Time
	// Retry is true when the slot was held before and this is another try.
	Retry bool
}

// DefaultGrace is how late a send slot may still go out when no grace period is given.
const DefaultGrace = 12 * time.Hour

// Missed reports whether a send slot at at is more than grace late at now, so the scheduler
// no longer sends it; a grace of zero means DefaultGrace. The runner and the weekly build
// both decide with it, so an issue the build counts as missed is one the runner will not send.
func Missed(at, now time.Time, grace time.Duration) bool {
	if grace <= 0 {
		grace = DefaultGrace
	}
	return now.Sub(at) > grace
}

// Schedule holds the build and send expressions of one publication.
type Schedule struct {
	loc         *time.Location
	build, send cron.Schedule
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse reads standard five-field cron expressions (or descriptors such as @weekly),
// evaluated on the wall clock of loc.
func Parse(build, send string, loc *time.Location) (*Schedule, error) {
	b, err := parser.Parse(build)
	if err != nil {
		return nil, &SpecError{Kind: Build, Spec: build, Err: err}
	}
	s, err := parser.Parse(send)
	if err != nil {
		return nil, &SpecError{Kind: Send, Spec: send, Err: err}
	}
	// The expressions run on a naive wall clock (see next), so they are evaluated in UTC.
	for _, c := range []cron.Schedule{b, s} {
		if spec, ok := c.(*cron.SpecSchedule); ok {
			spec.Location = time.UTC
		}
	}
	return &Schedule{loc: loc, build: b, send: s}, nil
}

// Next returns the first slot of kind strictly after t.
//
// Cron is evaluated on the local wall clock and the result mapped back to an instant, so a
// 02:30 job still runs once on the day clocks spring forward past 02:30 (at 03:30, the
// first instant after the gap) and once, not twice, on the day they fall back.
// robfig/cron alone skips the first and repeats the second.
func (s *Schedule) Next(k Kind, t time.Time) time.Time {
	c := s.send
	if k == Build {
		c = s.build
	}
	wall := naive(t.In(s.loc))
	for range 1000 {
		wall = c.Next(wall)
		if wall.IsZero() {
			return time.Time{}
		}
		if at := s.instant(wall); at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// Last returns the latest slot of kind at or before t, looking back at most lookback;
// ok is false when there is none in that span.
func (s *Schedule) Last(k Kind, t time.Time, lookback time.Duration) (time.Time, bool) {
	var last time.Time
	for at := s.Next(k, t.Add(-lookback)); !at.IsZero() && !at.After(t); at = s.Next(k, at) {
		last = at
	}
	return last, !last.IsZero()
}

// instant maps a naive wall-clock time to a real instant in the schedule's zone. A time that
// occurs twice (clocks fall back) maps to its first occurrence; a time that does not occur
// (clocks spring forward) maps to the same distance past the gap, 02:30 → 03:30. time.Date
// leaves both cases unspecified, so the offsets on either side of the day decide.
func (s *Schedule) instant(wall time.Time) time.Time {
	probe := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, s.loc)
	_, before := probe.Add(-24 * time.Hour).Zone()
	_, after := probe.Add(24 * time.Hour).Zone()
	first := time.Unix(wall.Unix()-int64(before), 0).In(s.loc)
	if naive(first).Equal(wall) {
		return first
	}
	second := time.Unix(wall.Unix()-int64(after), 0).In(s.loc)
	if naive(second).Equal(wall) {
		return second
	}
	return first // in the gap: shifted forward by its length
}

// naive re-labels a wall-clock time as UTC, so arithmetic on it ignores offsets.
func naive(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
