package web

import (
	"sync"
	"time"
)

// RateLimiter allows each key (an IP, an address) at most Limit requests per Window,
// refilled continuously (a token bucket), with the clock injected for tests.
type RateLimiter struct {
	limit  float64
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the memory a flood of distinct keys can take; past it, buckets
// that have refilled completely (and so carry no information) are dropped.
const maxBuckets = 100_000

// NewRateLimiter returns a limiter over a positive window; a limit of 0 or less allows everything.
func NewRateLimiter(limit int, window time.Duration, now func() time.Time) *RateLimiter {
	return &RateLimiter{limit: float64(limit), window: window, now: now, buckets: make(map[string]*bucket)}
}

// Allow takes one request from key's bucket and reports whether there was one.
func (l *RateLimiter) Allow(key string) bool {
	if l.limit <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.limit, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.limit, b.tokens+now.Sub(b.last).Seconds()*l.limit/l.window.Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *RateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.limit/l.window.Seconds() >= l.limit {
			delete(l.buckets, k)
		}
	}
	// Still full: every key is busy. Forgetting them all fails open for a moment, which
	// beats growing without bound.
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}
