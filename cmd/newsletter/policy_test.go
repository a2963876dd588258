package main

import (
	"testing"

	"newsletter/internal/config"
	"newsletter/internal/delivery"
)

// TestConfigDefaultsAreDeliveryPolicy keeps the configuration's built-in delivery values
// those of delivery.DefaultPolicy, the one home of the policy: config only supplies them.
func TestConfigDefaultsAreDeliveryPolicy(t *testing.T) {
	d := config.Defaults().Delivery
	p := delivery.DefaultPolicy()
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"delivery.in_doubt", d.InDoubt, p.InDoubt},
		{"delivery.max_attempts", d.MaxAttempts, p.MaxAttempts},
		{"delivery.retry_horizon", d.RetryHorizon, p.Horizon},
		{"delivery.retry_backoff", d.RetryBackoff, p.RetryBase},
		{"delivery.bounce_limit", d.BounceLimit, p.BounceLimit},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("config default %v, delivery.DefaultPolicy %v", tc.got, tc.want)
			}
		})
	}
}
