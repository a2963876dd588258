package delivery

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer holds the limits shared by all workers of one round: the global rate, each relay's
// rate (its own cap, and its weighted share of the global rate among the healthy relays),
// an optional cap per recipient domain, and the health of each relay.
type pacer struct {
	global     *rate.Limiter // nil: no global limit
	globalRate float64
	domainRate float64

	mu      sync.Mutex
	relays  []relayState
	domains map[string]*rate.Limiter
}

type relayState struct {
	Relay                   // its own rate and weight
	limiter   *rate.Limiter // nil: no limit of its own and no global share
	failures  int           // consecutive connection-level failures
	restUntil time.Time     // zero when not resting
	lastErr   string        // the last failure; "relay failing" until one has an error
	down      bool          // its rest has been announced; a working session ends it
}

func newPacer(relays []Relay, globalRate, domainRate float64) *pacer {
	p := &pacer{globalRate: globalRate, domainRate: domainRate, domains: map[string]*rate.Limiter{}}
	if globalRate > 0 {
		p.global = rate.NewLimiter(rate.Limit(globalRate), 1)
	}
	p.relays = make([]relayState, len(relays))
	for i, r := range relays {
		p.relays[i] = relayState{Relay: r, lastErr: "relay failing"}
		if r.Rate > 0 || (globalRate > 0 && len(relays) > 1) {
			p.relays[i].limiter = rate.NewLimiter(rate.Inf, 1)
		}
	}
	p.reshare(time.Now())
	return p
}

// reshare sets each relay's limit: its own rate, and with a global rate and several relays,
// at most its weighted share of it among the relays not resting. Call with p.mu held
// (or before p is shared).
func (p *pacer) reshare(now time.Time) {
	total := 0
	for _, r := range p.relays {
		if !r.resting(now) {
			total += r.Weight
		}
	}
	for i := range p.relays {
		r := &p.relays[i]
		if r.limiter == nil {
			continue
		}
		limit := rate.Inf
		if r.Rate > 0 {
			limit = rate.Limit(r.Rate)
		}
		if p.globalRate > 0 && len(p.relays) > 1 && total > 0 && !r.resting(now) {
			limit = min(limit, rate.Limit(p.globalRate*float64(r.Weight)/float64(total)))
		}
		r.limiter.SetLimit(limit)
	}
}

func (r *relayState) resting(now time.Time) bool {
	return !r.restUntil.IsZero() && now.Before(r.restUntil)
}

// wait blocks until the global limit and relay i's limit allow one more message.
func (p *pacer) wait(ctx context.Context, i int) error {
	if p.global != nil {
		if err := p.global.Wait(ctx); err != nil {
			return err
		}
	}
	if l := p.relays[i].limiter; l != nil { // set by newPacer only: no lock needed
		return l.Wait(ctx)
	}
	return nil
}

// limited reports whether a worker of relay i may have to wait for a limit.
func (p *pacer) limited(i int) bool {
	return p.global != nil || p.relays[i].limiter != nil || p.domainRate > 0
}

// waitDomain blocks until the per-domain cap allows one more message to addr's domain.
func (p *pacer) waitDomain(ctx context.Context, addr string) error {
	if p.domainRate <= 0 {
		return nil
	}
	_, domain, _ := strings.Cut(addr, "@")
	domain = strings.ToLower(domain)
	p.mu.Lock()
	l, ok := p.domains[domain]
	if !ok {
		l = rate.NewLimiter(rate.Limit(p.domainRate), 1)
		p.domains[domain] = l
	}
	p.mu.Unlock()
	return l.Wait(ctx)
}

// ok records a session that works: the relay's failure streak ends.
func (p *pacer) ok(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &p.relays[i]
	if r.failures == 0 && r.restUntil.IsZero() {
		return
	}
	r.failures, r.restUntil, r.down = 0, time.Time{}, false
	p.reshare(time.Now())
}

// relayRest is a failing relay's first rest, doubled per further failure up to relayRestMax.
const relayRest, relayRestMax = 2 * time.Second, 2 * time.Minute

// fail records a connection-level failure of relay i and err, when not nil, as its last
// error. From the second in a row the relay rests, rest doubled per further failure up to
// relayRestMax, with jitter; wentDown is true for the first rest since it last worked.
func (p *pacer) fail(i int, err error, now time.Time, rest time.Duration) (wentDown bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &p.relays[i]
	r.failures++
	if err != nil {
		r.lastErr = err.Error()
	}
	if r.failures < 2 {
		return false
	}
	wentDown, r.down = !r.down, true
	d := rest
	for n := 2; n < r.failures && d < relayRestMax; n++ {
		d *= 2
	}
	d = min(d, relayRestMax)
	d = d - d/4 + rand.N(d/4+1) // jitter: several workers of one relay do not knock together
	if until := now.Add(d); until.After(r.restUntil) {
		r.restUntil = until
	}
	p.reshare(now)
	return wentDown
}

// rest is when relay i's rest ends (zero when it is not resting) and its last error.
func (p *pacer) rest(i int) (until time.Time, lastErr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.relays[i].restUntil, p.relays[i].lastErr
}

// healthyOther reports whether a relay other than i is not resting at now.
func (p *pacer) healthyOther(i int, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for j := range p.relays {
		if j != i && !p.relays[j].resting(now) {
			return true
		}
	}
	return false
}
