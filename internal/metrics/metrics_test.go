package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"newsletter/internal/metrics"
	"newsletter/internal/newsletter"
)

// counts is a fixed Source; the package's own interface, so a tiny fake is enough here.
type counts struct{}

func (counts) CountSubscribers(context.Context) (map[newsletter.SubscriberStatus]int, error) {
	return map[newsletter.SubscriberStatus]int{newsletter.StatusActive: 5, newsletter.StatusUnsubscribed: 1}, nil
}

func (counts) LedgerCounts(context.Context) (map[newsletter.DeliveryStatus]int, error) {
	return map[newsletter.DeliveryStatus]int{newsletter.DeliverySent: 4, newsletter.DeliveryBounced: 1}, nil
}

func (counts) BounceCounts(context.Context) (map[string]int, error) {
	return map[string]int{"hard": 2, "complaint": 1}, nil
}

func TestScrape(t *testing.T) {
	m := metrics.New(counts{}, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /unsubscribe/{token}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("token") != "good" {
			w.WriteHeader(http.StatusNotFound)
		}
		_ = r.ParseForm() // as the web handler does
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(30 * time.Millisecond) })
	m.Register(mux)
	srv := httptest.NewServer(m.Instrument(mux))
	defer srv.Close()

	for _, req := range []struct{ method, path, form string }{
		{"GET", "/unsubscribe/secret-token-1", ""},
		{"GET", "/unsubscribe/secret-token-2", ""},
		{"POST", "/unsubscribe/secret-token-3", "List-Unsubscribe=One-Click"},
		{"POST", "/unsubscribe/good", "List-Unsubscribe=One-Click"},
		{"POST", "/unsubscribe/good", "action=unsubscribe"},
		{"POST", "/unsubscribe/good", "action=resubscribe"}, // the page's button to come back
		{"GET", "/nowhere", ""},
		{"GET", "/slow", ""},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader(req.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	m.ObserveSend(90 * time.Second)
	relay := m.Deliveries("smtp.example.org:587")
	for _, outcome := range []newsletter.DeliveryStatus{"sent", "sent", "bounced", "sent", "sent"} {
		relay.Outcome(outcome)
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		fam, ok := families[name]
		if !ok {
			t.Fatalf("no metric %s", name)
		}
	next:
		for _, m := range fam.Metric {
			for _, lp := range m.Label {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("no %s with %v", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"newsletter_http_requests_total", map[string]string{"route": "GET /unsubscribe/{token}", "code": "200"}, 2},
		{"newsletter_http_requests_total", map[string]string{"route": "POST /unsubscribe/{token}", "code": "404"}, 1},
		{"newsletter_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}, 1},
		{"newsletter_http_requests_total", map[string]string{"route": "POST /unsubscribe/{token}", "code": "200"}, 3},
		{"newsletter_unsubscribes_total", nil, 2},
		{"newsletter_subscribers", map[string]string{"status": "active"}, 5},
		{"newsletter_ledger_rows", map[string]string{"status": "bounced"}, 1},
		{"newsletter_bounces_total", map[string]string{"kind": "hard"}, 2},
		{"newsletter_bounces_total", map[string]string{"kind": "soft"}, 0},
		{"newsletter_complaints_total", nil, 1},
		{"newsletter_deliveries_total", map[string]string{"outcome": "sent", "relay": "smtp.example.org:587"}, 4},
		{"newsletter_deliveries_total", map[string]string{"outcome": "bounced", "relay": "smtp.example.org:587"}, 1},
		{"newsletter_send_duration_seconds", nil, 1},
		{"newsletter_http_request_duration_seconds", map[string]string{"route": "POST /unsubscribe/{token}"}, 4},
		{"newsletter_http_request_duration_seconds", map[string]string{"route": "unmatched"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for name, fam := range families {
		for _, m := range fam.Metric {
			for _, lp := range m.Label {
				if strings.Contains(lp.GetValue(), "secret-token") {
					t.Fatalf("%s leaks a token in a label: %s", name, lp.GetValue())
				}
			}
		}
	}
	// The handler that sleeps 30 ms is counted above the 20 ms bucket, not below it.
	buckets := map[float64]uint64{}
	for _, m := range families["newsletter_http_request_duration_seconds"].Metric {
		if len(m.Label) == 1 && m.Label[0].GetValue() == "GET /slow" {
			for _, b := range m.Histogram.Bucket {
				buckets[b.GetUpperBound()] = b.GetCumulativeCount()
			}
		}
	}
	if buckets[0.02] != 0 || buckets[5] != 1 {
		t.Errorf("GET /slow (30 ms) in buckets %v, want none up to 0.02 s and one by 5 s", buckets)
	}
}
