package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
	"newsletter/internal/metrics"
	"newsletter/internal/newsletter"
)

func TestDeliveriesCountEachOutcome(t *testing.T) {
	m := metrics.New(counts{}, nil)
	p := m.Deliveries("all")
	p.Start(3)
	for _, st := range []newsletter.DeliveryStatus{newsletter.DeliverySent, newsletter.DeliveryBounced, newsletter.DeliverySent} {
		p.Outcome(st)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	page, _ := io.ReadAll(rec.Result().Body)
	for _, want := range []string{
		`newsletter_deliveries_total{outcome="sent",relay="all"} 2`,
		`newsletter_deliveries_total{outcome="bounced",relay="all"} 1`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

func TestRelayLabel(t *testing.T) {
	smtp := func(host string) delivery.Relay {
		return delivery.Relay{Transport: mailer.NewSMTP(mailer.SMTPConfig{Host: host, Port: 25, TLS: "none"})}
	}
	for _, tc := range []struct {
		name   string
		relays []delivery.Relay
		want   string
	}{
		{"outbox", delivery.Single(&mailer.Outbox{Dir: "/var/spool/newsletter"}, 4), "outbox"},
		{"one relay", []delivery.Relay{smtp("a.example.org")}, "smtp://a.example.org:25?tls=none"},
		{"two relays", []delivery.Relay{smtp("a.example.org"), smtp("b.example.org")}, "all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.RelayLabel(tc.relays); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
