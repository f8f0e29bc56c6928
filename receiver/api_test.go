package receiver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

func TestAPINeedsToken(t *testing.T) { onBoth(t, testAPINeedsToken) }

func testAPINeedsToken(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	for _, auth := range []string{"", "Bearer wrong", "Basic " + testAPIToken, testAPIToken} {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/incidents", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	resp, _ := http.Get(h.srv.URL + "/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestAPIListFiltersAndPaging(t *testing.T) { onBoth(t, testAPIListFiltersAndPaging) }

func testAPIListFiltersAndPaging(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	h.post(`{"title":"db slow","severity":"sev2","priority":"p3","body":{"host":"db-7"}}`)
	h.post(`{"title":"web down","severity":"sev1"}`)
	h.post(`{"title":"cron late"}`)
	resolved := h.post(`{"title":"old"}`)
	h.post(`{"title":"old","status":"resolve"}`)

	titles := func(out map[string]any) string {
		var ts []string
		for _, in := range out["incidents"].([]any) {
			ts = append(ts, in.(map[string]any)["title"].(string))
		}
		return strings.Join(ts, ",")
	}
	tests := []struct{ query, want string }{
		{"", "web down,db slow,cron late"},
		{"?status=open", "web down,db slow,cron late"},
		{"?status=resolved", "old"},
		{"?status=all", "web down,db slow,old,cron late"},
		{"?severity=sev2", "db slow"},
		{"?severity=none", "cron late"},
		{"?priority=P3", "db slow"},
		{"?priority=none&severity=sev1", "web down"},
		{"?q=DB-7", "db slow"},
		{"?q=DEFAULT&status=all&limit=2", "web down,db slow"},
		{"?integration=nope", ""},
	}
	for _, tt := range tests {
		status, out := h.api("GET", "/api/v1/incidents"+tt.query, "")
		if status != 200 || titles(out) != tt.want {
			t.Errorf("%s: %d %q, want %q", tt.query, status, titles(out), tt.want)
		}
	}
	// Paging by cursor walks everything once.
	var seen []string
	cursor := ""
	for i := 0; i < 10; i++ {
		_, out := h.api("GET", "/api/v1/incidents?status=all&limit=1&cursor="+cursor, "")
		seen = append(seen, titles(out))
		cursor, _ = out["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "web down,db slow,old,cron late" {
		t.Fatalf("paged: %v", seen)
	}
	for _, bad := range []string{"?limit=0", "?limit=x", "?cursor=zzz", "?status=closed", "?severity=sev9", "?priority=p0"} {
		if status, out := h.api("GET", "/api/v1/incidents"+bad, ""); status != 400 || out["error"] == "" {
			t.Errorf("%s: %d %v, want 400", bad, status, out)
		}
	}
	if status, out := h.api("GET", "/api/v1/incidents?limit=5000", ""); status != 200 || len(out["incidents"].([]any)) != 4-1 {
		t.Errorf("limit=5000: %d", status)
	}
	_ = resolved
}

func TestAPIIncidentActions(t *testing.T) { onBoth(t, testAPIIncidentActions) }

func testAPIIncidentActions(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	id := h.post(`{"title":"x","severity":"sev3"}`).Incident
	path := fmt.Sprintf("/api/v1/incidents/%d", id)
	status, in := h.api("GET", path, "")
	if status != 200 || in["title"] != "x" || len(in["timeline"].([]any)) != 1 || in["priority"] != nil {
		t.Fatalf("get: %d %v", status, in)
	}
	if !strings.HasSuffix(in["first_seen"].(string), "Z") || len(in["first_seen"].(string)) != len("2026-11-27T03:00:00.000Z") {
		t.Fatalf("time format: %v", in["first_seen"])
	}
	if status, in = h.api("POST", path+"/acknowledge", ""); status != 200 || in["status"] != "acknowledged" || in["acknowledged_at"] == nil {
		t.Fatalf("ack: %d %v", status, in)
	}
	if status, in = h.api("POST", path+"/unacknowledge", ""); status != 200 || in["status"] != "triggered" {
		t.Fatalf("unack: %d %v", status, in)
	}
	if status, in = h.api("PATCH", path, `{"severity":"sev1","priority":"p2"}`); status != 200 || in["severity"] != "sev1" || in["priority"] != "p2" {
		t.Fatalf("patch: %d %v", status, in)
	}
	if status, _ = h.api("PATCH", path, `{"severity":"sev7"}`); status != 400 {
		t.Fatalf("bad patch: %d", status)
	}
	if status, in = h.api("POST", path+"/resolve", ""); status != 200 || in["status"] != "resolved" || in["resolved_by"] != "api" {
		t.Fatalf("resolve: %d %v", status, in)
	}
	var kinds []string
	for _, e := range in["timeline"].([]any) {
		m := e.(map[string]any)
		if m["by"] != "webhook" && m["by"] != "api" {
			t.Fatalf("entry by %v", m["by"])
		}
		kinds = append(kinds, m["kind"].(string))
	}
	if strings.Join(kinds, ",") != "triggered,acknowledged,unacknowledged,severity_changed,priority_changed,resolved" {
		t.Fatalf("timeline: %v", kinds)
	}
	for _, p := range []string{path + "/acknowledge", path + "/resolve"} {
		if status, out := h.api("POST", p, ""); status != 409 || out["error"] == "" {
			t.Fatalf("%s on resolved: %d", p, status)
		}
	}
	if status, _ = h.api("PATCH", path, `{"priority":"p1"}`); status != 409 {
		t.Fatalf("patch resolved: %d", status)
	}
	if status, _ = h.api("GET", "/api/v1/incidents/999", ""); status != 404 {
		t.Fatalf("unknown id: %d", status)
	}
	if status, _ = h.api("POST", path+"/explode", ""); status != 404 {
		t.Fatalf("unknown action: %d", status)
	}
}

func TestAPISuppressedRequestsIntegrations(t *testing.T) {
	onBoth(t, testAPISuppressedRequestsIntegrations)
}

func testAPISuppressedRequestsIntegrations(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	first := h.post(`{"title":"flap"}`)
	h.post(`{"title":"flap"}`)
	h.post(`{"title":"flap"}`)
	h.post(`not json`)
	_, out := h.api("GET", "/api/v1/suppressed?limit=1", "")
	events := out["events"].([]any)
	if len(events) != 1 || out["next_cursor"] == "" {
		t.Fatalf("suppressed page: %v", out)
	}
	e := events[0].(map[string]any)
	if int64(e["incident"].(float64)) != first.Incident || e["title"] != "flap" || e["repeats"].(float64) != 2 {
		t.Fatalf("suppressed event: %v", e)
	}
	_, out = h.api("GET", "/api/v1/suppressed?cursor="+out["next_cursor"].(string), "")
	if len(out["events"].([]any)) != 1 {
		t.Fatalf("second page: %v", out)
	}
	_, out = h.api("GET", "/api/v1/requests", "")
	reqs := out["requests"].([]any)
	newest := reqs[0].(map[string]any)
	if len(reqs) != 4 || newest["status"].(float64) != 400 || newest["body"] != "not json" || newest["error"] == "" || newest["outcome"] != "refused" {
		t.Fatalf("requests: %v", newest)
	}
	status, out := h.api("POST", "/api/v1/integrations", `{"name":"grafana","service":"api","kind":"healthchecks"}`)
	integ, _ := out["integration"].(map[string]any)
	if status != 201 || integ["kind"] != "healthchecks" || !strings.HasSuffix(integ["url"].(string), integ["token"].(string)+"/push-events") {
		t.Fatalf("create: %d %v", status, out)
	}
	if status, _ = h.api("POST", "/api/v1/integrations", `{"name":"grafana"}`); status != 400 {
		t.Fatalf("duplicate name: %d", status)
	}
	if status, _ = h.api("POST", "/api/v1/integrations", `{"name":"x","kind":"nagios"}`); status != 400 {
		t.Fatalf("unknown kind: %d", status)
	}
	_, out = h.api("GET", "/api/v1/integrations", "")
	if n := len(out["integrations"].([]any)); n != 3 {
		t.Fatalf("integrations: %d", n)
	}
	// The new integration takes webhooks at once.
	a := h.do("POST", integ["url"].(string), "", `{"check_id":"c1","title":"T","status":"down"}`)
	if a.Action != "created" {
		t.Fatal(a.Raw)
	}
}

func TestStream(t *testing.T) { onBoth(t, testStream) }

func testStream(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	a := h.post(`{"title":"live"}`)
	h.svc.Acknowledge(context.Background(), a.Incident, incidents.ByAPI)
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() && len(got) < 2 {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var in map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &in); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(in["title"], "/", in["status"]))
	}
	if strings.Join(got, " ") != "live/triggered live/acknowledged" {
		t.Fatalf("stream events: %v", got)
	}
}

func TestIntegrationTimersThroughTheAPI(t *testing.T) { onBoth(t, testIntegrationTimersThroughTheAPI) }

func testIntegrationTimersThroughTheAPI(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	status, out := h.api("POST", "/api/v1/integrations", `{"name":"timed","ack_timeout_seconds":1800}`)
	integ := out["integration"].(map[string]any)
	if status != 201 || integ["ack_timeout_seconds"].(float64) != 1800 || integ["resolve_after_seconds"].(float64) != 0 {
		t.Fatalf("create: %d %v", status, out)
	}
	status, out = h.api("PATCH", "/api/v1/integrations/timed", `{"resolve_after_seconds":3600}`)
	integ = out["integration"].(map[string]any)
	if status != 200 || integ["ack_timeout_seconds"].(float64) != 1800 || integ["resolve_after_seconds"].(float64) != 3600 {
		t.Fatalf("patch: %d %v", status, out)
	}
	if status, _ = h.api("PATCH", "/api/v1/integrations/nope", `{"resolve_after_seconds":1}`); status != 404 {
		t.Fatalf("patch unknown: %d", status)
	}
	if status, _ = h.api("PATCH", "/api/v1/integrations/timed", `{}`); status != 400 {
		t.Fatalf("empty patch: %d", status)
	}
	a := h.do("POST", integ["url"].(string), "", `{"title":"timed one"}`)
	id := a.Incident
	_, in := h.api("GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
	if in["auto_resolves_at"] == nil || in["unacknowledges_at"] != nil {
		t.Fatalf("timers on a triggered incident: %v", in)
	}
	_, in = h.api("POST", fmt.Sprintf("/api/v1/incidents/%d/acknowledge", id), "")
	if in["unacknowledges_at"] == nil {
		t.Fatalf("timers on an acknowledged incident: %v", in)
	}
}
