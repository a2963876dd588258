package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

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
