package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSyncLatency(t *testing.T) {
	p50, p99, err := syncLatency(t.TempDir(), 4, 20)
	if err != nil {
		t.Fatal(err)
	}
	if p50 <= 0 || p99 < p50 {
		t.Fatalf("p50 %v, p99 %v", p50, p99)
	}
}

func TestCommitStatsReadTheReceiversMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "# HELP klaxon_commit_batch_size x\nklaxon_commit_batch_size_bucket{le=\"+Inf\"} 4\n"+
			"klaxon_commit_batch_size_sum 90\nklaxon_commit_batch_size_count 4\n")
	}))
	defer srv.Close()
	commits, writes, ok := commitStats(srv.URL + "/tok/push-events")
	if !ok || commits != 4 || writes != 90 {
		t.Fatalf("commits %v writes %v ok %v, want 4 90 true", commits, writes, ok)
	}
	if _, _, ok := commitStats(srv.URL + "/nothing-here"); !ok {
		t.Fatal("the path of the webhook URL should not matter")
	}
	noop := httptest.NewServer(http.NotFoundHandler())
	defer noop.Close()
	if _, _, ok := commitStats(noop.URL + "/"); ok {
		t.Fatal("a server without /metrics has no commit stats")
	}
}
