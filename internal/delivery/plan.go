package delivery

import "time"

// Plan is what a send is about to do, for the summary printed before it starts.
type Plan struct {
	Backlog    int     // subscribers still to send
	Relays     []Relay // the ways out, with their connections, rates and weights
	Rate       float64 // Policy.Rate; 0 for no overall limit
	DomainRate float64 // Policy.DomainRate; 0 for no cap
	// Limit is the messages per second the send cannot exceed: the relays' own rates
	// together, or Rate when lower; 0 when a relay without a rate and no Rate leave it open.
	Limit float64
	// Duration is Backlog at Limit, to the second; 0 when there is no limit or nothing to send.
	Duration time.Duration
}

// Plan estimates a send of backlog messages with this Sender's relays and policy.
func (s *Sender) Plan(backlog int) Plan {
	p := Plan{Backlog: backlog, Relays: s.relays, Rate: s.opt.Rate, DomainRate: s.opt.DomainRate}
	for _, r := range s.relays {
		if r.Rate <= 0 { // a relay without a rate leaves the sum open
			p.Limit = 0
			break
		}
		p.Limit += r.Rate
	}
	if p.Rate > 0 && (p.Limit == 0 || p.Rate < p.Limit) {
		p.Limit = p.Rate
	}
	if p.Limit > 0 && backlog > 0 {
		p.Duration = time.Duration(float64(backlog) / p.Limit * float64(time.Second)).Round(time.Second)
	}
	return p
}
