package delivery

import (
	"testing"
	"time"
)

func TestPolicyDefaultsAndRetryCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Policy
		want Policy
	}{
		{"nothing configured", Policy{}, DefaultPolicy()},
		{"configured values kept", Policy{InDoubt: InDoubtSkip, MaxAttempts: 3, Horizon: time.Hour, RetryBase: 2 * time.Minute,
			RetryMax: 10 * time.Minute, Wait: time.Minute, BounceLimit: 2, Rate: 5, DomainRate: 1},
			Policy{InDoubt: InDoubtSkip, MaxAttempts: 3, Horizon: time.Hour, RetryBase: 2 * time.Minute,
				RetryMax: 10 * time.Minute, Wait: time.Minute, BounceLimit: 2, Rate: 5, DomainRate: 1}},
		{"a first wait longer than the default cap is not cut", Policy{RetryBase: 3 * time.Hour},
			func() Policy { p := DefaultPolicy(); p.RetryBase, p.RetryMax = 3*time.Hour, 3*time.Hour; return p }()},
		{"a cap under the first wait is raised to it", Policy{RetryBase: 10 * time.Minute, RetryMax: time.Minute},
			func() Policy {
				p := DefaultPolicy()
				p.RetryBase, p.RetryMax = 10*time.Minute, 10*time.Minute
				return p
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Fatalf("withDefaults() =\n%+v, want\n%+v", got, tc.want)
			}
		})
	}
}
