package weekly_test

import (
	"errors"
	"testing"

	"newsletter/internal/weekly"
)

func TestAllFailed(t *testing.T) {
	bad := errors.New("timeout")
	for _, tc := range []struct {
		name    string
		reports []weekly.FeedReport
		want    string
	}{
		{"no feeds", nil, ""},
		{"one of two failed", []weekly.FeedReport{{Source: "a", Err: bad}, {Source: "b"}}, ""},
		{"every feed failed", []weekly.FeedReport{{Source: "a", Err: bad}, {Source: "b", Err: bad}}, "every feed failed: a, b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := weekly.AllFailed(tc.reports); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
