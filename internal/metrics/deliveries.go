package metrics

import (
	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
	"newsletter/internal/newsletter"
)

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

// Outcome implements delivery.Progress: it counts one outcome (sent, deferred, bounced,
// failed) as it is made, so that the counter follows a long send instead of jumping at its end.
func (d Deliveries) Outcome(st newsletter.DeliveryStatus) {
	d.m.deliveries.WithLabelValues(string(st), d.relay).Inc()
}

// RelayLabel is the relay label of a send's counters: the relay's name when it is the one
// SMTP relay, "all" when there are several (outcomes are counted for the whole send), and
// "outbox" for the outbox, whose folder is no label.
func RelayLabel(relays []delivery.Relay) string {
	if len(relays) > 1 {
		return "all"
	}
	if len(relays) == 1 {
		if _, outbox := relays[0].Transport.(*mailer.Outbox); !outbox {
			return relays[0].Transport.String()
		}
	}
	return "outbox"
}
