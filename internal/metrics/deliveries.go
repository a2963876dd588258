package metrics

import "newsletter/internal/newsletter"

// Deliveries counts each outcome of a send under relay as it is recorded: it implements
// delivery.Progress, so the counter follows a long send.
func (m *Metrics) Deliveries(relay string) Deliveries { return Deliveries{m: m, relay: relay} }

// Deliveries is a send's progress as counters; see Metrics.Deliveries.
type Deliveries struct {
	m     *Metrics
	relay string
}

// Start implements delivery.Progress; a round's size is not counted.
func (Deliveries) Start(int) {}

// Outcome implements delivery.Progress.
func (d Deliveries) Outcome(st newsletter.DeliveryStatus) { d.m.ObserveDelivery(string(st), d.relay) }
