package main

import (
	"testing"

	"newsletter/internal/config"
	"newsletter/internal/schedule"
)

// The configuration's default grace is the one the scheduler falls back to.
func TestDefaultGraceIsTheSchedulers(t *testing.T) {
	if got := config.Defaults().Schedule.Grace; got != schedule.DefaultGrace {
		t.Fatalf("config default grace %s, schedule.DefaultGrace %s", got, schedule.DefaultGrace)
	}
}
