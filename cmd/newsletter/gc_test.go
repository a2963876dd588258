package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestTuneGCLeavesTheEnvironmentsSettings: serve sets its collector's pace unless GOGC or
// GOMEMLIMIT is set, which Go itself has already applied.
func TestTuneGCLeavesTheEnvironmentsSettings(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(1 << 40)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	tuneGC(func(k string) string { return map[string]string{"GOGC": "100", "GOMEMLIMIT": "1TiB"}[k] })
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 100 || l != 1<<40 {
		t.Errorf("with GOGC and GOMEMLIMIT set: percent %d, limit %d; want them untouched", p, l)
	}
	debug.SetGCPercent(100)
	tuneGC(func(string) string { return "" })
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != serveGCPercent || l != serveMemoryLimit {
		t.Errorf("without them: percent %d, limit %d; want %d and %d", p, l, serveGCPercent, serveMemoryLimit)
	}
	debug.SetGCPercent(serveGCPercent)
}

// TestTuneProcs: serve runs a spare P unless GOMAXPROCS is set, as often as it starts in one
// process (the tests start it many times), and reports GOMAXPROCS as Go set it at start.
func TestTuneProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	runtime.GOMAXPROCS(startProcs)
	if got := tuneProcs(func(k string) string { return map[string]string{"GOMAXPROCS": "2"}[k] }); got != startProcs || runtime.GOMAXPROCS(0) != startProcs {
		t.Errorf("with GOMAXPROCS set: returned %d, GOMAXPROCS %d; want both %d", got, runtime.GOMAXPROCS(0), startProcs)
	}
	for range 2 {
		if got := tuneProcs(func(string) string { return "" }); got != startProcs || runtime.GOMAXPROCS(0) != startProcs+serveSpareProcs {
			t.Errorf("without it: returned %d, GOMAXPROCS %d; want %d and %d", got, runtime.GOMAXPROCS(0), startProcs, startProcs+serveSpareProcs)
		}
	}
}
