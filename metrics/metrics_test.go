package metrics_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"klaxon/internal/testkit"
	"klaxon/metrics"
	"klaxon/receiver"
)

func TestMetricsAreValidExposition(t *testing.T) {
	db, svc, integ := testkit.Service(t, "grafana")
	m := metrics.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	db.OnCommit(m.ObserveCommit)
	srv := httptest.NewServer(receiver.New(svc, receiver.Options{APIToken: "t", Observer: m, Metrics: m.Handler()}))
	defer srv.Close()
	post := func(body string) {
		resp, err := http.Post(srv.URL+"/"+integ.Token+"/push-events", "", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(`{"title":"a","severity":"sev1","priority":"p2"}`)
	post(`{"title":"a"}`)
	post(`{"title":"b"}`)
	post(`not json`)
	http.Post(srv.URL+"/nosuch/push-events", "", strings.NewReader(`{}`))

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not valid exposition: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		f := families[name]
		if f == nil {
			t.Fatalf("no %s", name)
		}
	next:
		for _, m := range f.Metric {
			for _, lp := range m.Label {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			return metricValue(m)
		}
		t.Fatalf("%s has no series %v", name, labels)
		return 0
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"klaxon_events_total", map[string]string{"integration": "grafana", "outcome": "created", "status": "200"}, 2},
		{"klaxon_events_total", map[string]string{"integration": "grafana", "outcome": "suppressed"}, 1},
		{"klaxon_events_total", map[string]string{"integration": "grafana", "outcome": "refused", "status": "400"}, 1},
		{"klaxon_events_total", map[string]string{"integration": "<unknown>", "status": "404"}, 1},
		{"klaxon_open_incidents", map[string]string{"severity": "sev1", "priority": "p2"}, 1},
		{"klaxon_open_incidents", map[string]string{"severity": "none", "priority": "none"}, 1},
		{"klaxon_journal_entries", nil, 5},
		{"klaxon_push_request_duration_seconds", nil, 5},
		{"klaxon_commit_batch_size", nil, 5}, // one commit per request, sent one at a time
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}
