// Package metrics exposes klaxon's Prometheus metrics: events by integration
// and outcome, open incidents by severity and priority, push-events latency,
// commit batch sizes and the journal's size.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"klaxon/storage"
)

// Metrics holds klaxon's collectors in their own registry.
type Metrics struct {
	reg     *prometheus.Registry
	events  *prometheus.CounterVec
	latency prometheus.Histogram
	batches prometheus.Histogram
}

// Store is what the scrape-time gauges read.
type Store interface {
	OpenCounts(ctx context.Context) ([]storage.OpenCount, error)
	CountRequests(ctx context.Context) (int, error)
}

// New registers klaxon's metrics; gauges read store when scraped.
func New(store Store, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_events_total",
			Help: "Requests to push-events URLs by integration, outcome (created, suppressed, resolved, ignored, refused) and HTTP status.",
		}, []string{"integration", "outcome", "status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_push_request_duration_seconds",
			Help:    "Time from a push-events request's arrival to its answer (including the commit for a 200).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "klaxon_commit_batch_size",
			Help:    "Writes committed together in one transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
	}
	m.reg.MustRegister(m.events, m.latency, m.batches,
		&storeCollector{store: store, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveEvent counts one push-events request and its latency.
func (m *Metrics) ObserveEvent(integration, outcome string, status int, took time.Duration) {
	if integration == "" {
		integration = "<unknown>"
	}
	m.events.WithLabelValues(integration, outcome, strconv.Itoa(status)).Inc()
	m.latency.Observe(took.Seconds())
}

// ObserveCommit records the size of one committed batch.
func (m *Metrics) ObserveCommit(batch int) { m.batches.Observe(float64(batch)) }

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// storeCollector reads open incidents and the journal's size at scrape time,
// so the figures are the database's, not a counter that could drift.
type storeCollector struct {
	store Store
	log   *slog.Logger
}

var (
	openDesc = prometheus.NewDesc("klaxon_open_incidents", "Open (triggered or acknowledged) incidents by severity and priority (none when unset).",
		[]string{"severity", "priority"}, nil)
	journalDesc = prometheus.NewDesc("klaxon_journal_entries", "Requests kept in the request journal.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- journalDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.OpenCounts(ctx)
	if err != nil {
		c.log.Warn("metrics: count open incidents", "error", err)
	}
	for _, oc := range counts {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(oc.N), orNone(oc.Severity), orNone(oc.Priority))
	}
	if n, err := c.store.CountRequests(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(journalDesc, prometheus.GaugeValue, float64(n))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
