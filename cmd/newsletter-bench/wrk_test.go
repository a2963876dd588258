package main

import (
	"testing"
	"time"
)

func TestWrkResultParse(t *testing.T) {
	out := "Running 10s test @ http://127.0.0.1:1\n  2 threads and 32 connections\n" +
		"WRK requests=30000 duration_us=10000000 p50_us=650 p99_us=14250 max_us=40100 connect=0 read=1 write=2 status=3 timeout=4 late=5\n"
	var r wrkResult
	if err := r.parse(out); err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 30000, read: 1, write: 2, status: 3, timeout: 4, late: 5, duration: 10 * time.Second,
		p50: 650 * time.Microsecond, p99: 14250 * time.Microsecond, max: 40100 * time.Microsecond}
	if r != want {
		t.Errorf("parse = %+v, want %+v", r, want)
	}
	if r.rate() != 3000 || r.errors() != 10 {
		t.Errorf("rate %v errors %d, want 3000 and 10", r.rate(), r.errors())
	}
	if err := new(wrkResult).parse("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parse of wrk's output without a result line: no error")
	}
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{nil, "-"},
		{[]float64{3}, "3.0 / 3.0 / 3.0"},
		{[]float64{9, 1, 5}, "1.0 / 5.0 / 9.0"},
		{[]float64{4, 1, 2, 9}, "1.0 / 3.0 / 9.0"},
	} {
		if got := statsf(tc.in, "%.1f"); got != tc.want {
			t.Errorf("statsf(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
