package delivery

import (
	"testing"
	"time"
)

func TestPolicyDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Policy
		want Policy
	}{
		{"nothing configured", Policy{}, DefaultPolicy()},
		{"configured values kept", Policy{InDoubt: InDoubtSkip, MaxAttempts: 3, Horizon: time.Hour, RetryBase: 2 * time.Minute,
			Wait: time.Minute, BounceLimit: 2, Rate: 5, DomainRate: 1},
			Policy{InDoubt: InDoubtSkip, MaxAttempts: 3, Horizon: time.Hour, RetryBase: 2 * time.Minute,
				Wait: time.Minute, BounceLimit: 2, Rate: 5, DomainRate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Fatalf("withDefaults() =\n%+v, want\n%+v", got, tc.want)
			}
		})
	}
}
