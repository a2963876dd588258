// Package metrics exposes the daemon's Prometheus metrics: HTTP requests by route and
// code and their handling time by route, send durations and delivery outcomes, and gauges
// read from the database at scrape time (subscribers by status, ledger rows by status).
package metrics

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"newsletter/internal/newsletter"
)

// Source reads the current counts from the database at scrape time.
type Source interface {
	CountSubscribers(ctx context.Context) (map[newsletter.SubscriberStatus]int, error)
	// LedgerCounts counts the delivery ledger's rows by status.
	LedgerCounts(ctx context.Context) (map[newsletter.DeliveryStatus]int, error)
	// BounceCounts counts the bounce and complaint reports recorded after sends, by kind
	// (hard, soft, complaint).
	BounceCounts(ctx context.Context) (map[string]int, error)
}

// Metrics owns one registry; nothing is registered globally.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	handling     *prometheus.HistogramVec
	sendDuration prometheus.Histogram
	deliveries   *prometheus.CounterVec
	unsubscribes prometheus.Counter
}

// New registers the collectors. source may be nil (no database gauges).
func New(source Source, logger *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsletter_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		// The buckets put the unsubscribe target (p99 under 100 ms) on a bucket's edge.
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newsletter_http_request_duration_seconds",
			Help:    "Time from a request's headers read to its handler's return by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		sendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "newsletter_send_duration_seconds",
			Help:    "Duration of one issue send run.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsletter_deliveries_total",
			Help: "Delivery outcomes recorded by this process as they are made, by outcome (sent, deferred, bounced, failed) and relay.",
		}, []string{"outcome", "relay"}),
		unsubscribes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsletter_unsubscribes_total",
			Help: "Unsubscribe requests answered 200 (one-click POSTs and the page's button to leave).",
		}),
	}
	m.reg.MustRegister(m.requests, m.handling, m.sendDuration, m.deliveries, m.unsubscribes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if source != nil {
		m.reg.MustRegister(&dbCollector{source: source, logger: logger})
	}
	return m
}

// ObserveSend records the duration of one send run.
func (m *Metrics) ObserveSend(took time.Duration) {
	m.sendDuration.Observe(took.Seconds())
}

// Register adds GET /metrics, open to all, to a route table (it satisfies web.Registrar).
func (m *Metrics) Register(mux *http.ServeMux) {
	mux.Handle(Route, m.Handler())
}

// Route is the pattern of the metrics page.
const Route = "GET /metrics"

// Handler serves the metrics page, for a caller that puts it behind authentication.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// UnsubscribeRoute is the route pattern whose 200 answers count as unsubscribes.
const UnsubscribeRoute = "POST " + newsletter.UnsubscribePath + "{token}"

// Instrument counts and times every request by the route pattern the mux matched (not the
// raw path, which would leak tokens into labels and explode their number).
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		route := cmp.Or(r.Pattern, "unmatched")
		m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		m.handling.WithLabelValues(route).Observe(took.Seconds())
		if route == UnsubscribeRoute && rec.code == http.StatusOK && !resubscribe(r) {
			m.unsubscribes.Inc()
		}
	})
}

// resubscribe reports whether r, whose form the handler has read, was the unsubscribe
// page's button to come back rather than a way to leave.
func resubscribe(r *http.Request) bool {
	return r.PostForm.Get("action") == "resubscribe" && r.PostForm.Get("List-Unsubscribe") != "One-Click"
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var (
	subscribersDesc = prometheus.NewDesc("newsletter_subscribers", "Subscribers by status.", []string{"status"}, nil)
	ledgerDesc      = prometheus.NewDesc("newsletter_ledger_rows", "Delivery ledger rows of all issues by status.", []string{"status"}, nil)
	bouncesDesc     = prometheus.NewDesc("newsletter_bounces_total",
		"Bounce reports that arrived after the send (DSNs), by kind (hard, soft), as recorded in the database.", []string{"kind"}, nil)
	complaintsDesc = prometheus.NewDesc("newsletter_complaints_total",
		"Spam complaints (ARF reports) recorded in the database.", nil, nil)
)

// dbCollector reads gauges from the database on each scrape.
type dbCollector struct {
	source Source
	logger *slog.Logger
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- subscribersDesc
	ch <- ledgerDesc
	ch <- bouncesDesc
	ch <- complaintsDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if counts, err := c.source.CountSubscribers(ctx); err == nil {
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(n), string(st))
		}
	} else if c.logger != nil {
		c.logger.Error("metrics: subscriber counts", "err", err)
	}
	if counts, err := c.source.LedgerCounts(ctx); err == nil {
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(ledgerDesc, prometheus.GaugeValue, float64(n), string(st))
		}
	} else if c.logger != nil {
		c.logger.Error("metrics: ledger counts", "err", err)
	}
	// Counters read from the database: `bounces process` records them in another process.
	if counts, err := c.source.BounceCounts(ctx); err == nil {
		for _, kind := range []string{"hard", "soft"} {
			ch <- prometheus.MustNewConstMetric(bouncesDesc, prometheus.CounterValue, float64(counts[kind]), kind)
		}
		ch <- prometheus.MustNewConstMetric(complaintsDesc, prometheus.CounterValue, float64(counts["complaint"]))
	} else if c.logger != nil {
		c.logger.Error("metrics: bounce counts", "err", err)
	}
}
