package receiver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

// fixture reads a sender's real payload from testdata/senders, the token
// put where the sender puts it.
func fixture(t *testing.T, name, token string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "senders", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "ROUTING_KEY", token)
}

// send posts body with the given headers and decodes the JSON answer.
func (h *harness) send(method, path string, header map[string]string, body string) (int, map[string]any, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out, string(b)
}

func (h *harness) kind(name string, k incidents.Kind) *incidents.Integration {
	h.t.Helper()
	in, err := h.svc.CreateIntegration(context.Background(), name, "", "", k)
	if err != nil {
		h.t.Fatal(err)
	}
	return in
}

// all is every incident of an integration, any status, by dedup key.
func (h *harness) byKey(integ *incidents.Integration) map[string]*incidents.Incident {
	h.t.Helper()
	page, err := h.svc.ListIncidents(context.Background(), incidents.Filter{Status: "all", Integration: integ.Name, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]*incidents.Incident{}
	for _, in := range page.Items {
		if out[in.Key] != nil && out[in.Key].Status.Open() && in.Status.Open() {
			h.t.Fatalf("two open incidents for key %q", in.Key)
		}
		out[in.Key] = in
	}
	return out
}

// Alertmanager's real notifications (captured from Debian's 0.25): one
// incident per alert keyed on its fingerprint, titled by its summary, ranked
// by its severity label; a repeat folds; a resolved alert inside a firing
// group resolves only its own incident; then the rest resolve. One request
// is one journal entry listing each alert's outcome.
func TestAlertmanagerFixtures(t *testing.T) { onBoth(t, testAlertmanagerFixtures) }

func testAlertmanagerFixtures(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	am := h.kind("am", incidents.KindAlertmanager)
	auth := map[string]string{"Authorization": "Bearer " + am.Token, "Content-Type": "application/json"}

	st, out, raw := h.send("POST", "/push-events", auth, fixture(t, "alertmanager-firing.json", ""))
	if st != 200 || out["action"] != "created" {
		t.Fatalf("firing: %d %s", st, raw)
	}
	got := h.byKey(am)
	want := map[string]struct {
		title string
		sev   incidents.Severity
	}{
		"web-1:9100": {"p99 latency is 2.3s on web-1:9100", incidents.Sev1},
		"web-2:9100": {"p99 latency is 1.4s on web-2:9100", incidents.Sev2},
		"web-3:9100": {"p99 latency is 0.9s on web-3:9100", incidents.Sev3},
	}
	if len(got) != 3 {
		t.Fatalf("%d incidents, want 3: %v", len(got), got)
	}
	byInstance := map[string]*incidents.Incident{}
	for key, in := range got {
		if len(key) != 16 {
			t.Errorf("key %q is not Alertmanager's fingerprint", key)
		}
		for inst, w := range want {
			if in.Title == w.title {
				byInstance[inst] = in
				if in.Severity != w.sev {
					t.Errorf("%s: severity %q, want %q", inst, in.Severity, w.sev)
				}
				if !strings.Contains(string(in.Details), "above 500ms") {
					t.Errorf("%s: details %s, want the description annotation", inst, in.Details)
				}
			}
		}
	}
	if len(byInstance) != 3 {
		t.Fatalf("titles: %v", got)
	}
	j := h.lastRequest()
	if j.Kind != incidents.KindAlertmanager || len(j.Alerts) != 3 || j.Path != "/push-events" {
		t.Fatalf("journal: kind %q, %d alerts, path %q", j.Kind, len(j.Alerts), j.Path)
	}

	// The same notification again (Alertmanager's repeat_interval) folds.
	if st, out, raw = h.send("POST", "/push-events", auth, fixture(t, "alertmanager-firing.json", "")); st != 200 || out["action"] != "suppressed" {
		t.Fatalf("repeat: %d %s", st, raw)
	}
	// web-3 resolves while the group still fires.
	st, out, raw = h.send("POST", "/push-events", auth, fixture(t, "alertmanager-partial-resolve.json", ""))
	if st != 200 || out["action"] != "mixed" || out["summary"] != "2 suppressed, 1 resolved" {
		t.Fatalf("partial resolve: %d %s", st, raw)
	}
	for inst, in := range byInstance {
		now := h.incident(in.ID)
		if wantResolved := inst == "web-3:9100"; (now.Status == incidents.Resolved) != wantResolved {
			t.Errorf("%s is %s after web-3 resolved", inst, now.Status)
		}
		if now.Title != in.Title {
			t.Errorf("%s: title changed to %q", inst, now.Title)
		}
	}
	if st, _, raw = h.send("POST", "/push-events", auth, fixture(t, "alertmanager-resolved.json", "")); st != 200 {
		t.Fatalf("resolved: %d %s", st, raw)
	}
	for inst, in := range byInstance {
		if now := h.incident(in.ID); now.Status != incidents.Resolved || now.ResolvedBy != incidents.ByWebhook {
			t.Errorf("%s is %s (by %q) after all resolved", inst, now.Status, now.ResolvedBy)
		}
	}
	// A resolve of what is no longer open is ignored, not refused.
	if st, out, raw = h.send("POST", "/push-events", auth, fixture(t, "alertmanager-resolved.json", "")); st != 200 || out["action"] != "ignored" {
		t.Fatalf("resolved again: %d %s", st, raw)
	}
}

// What Alertmanager cannot be refused for (it drops a notification on any
// 4xx): odd severities, missing summaries, labels of the wrong type are
// warnings; only a body that is not an Alertmanager notification is 400.
func TestAlertmanagerOddAlerts(t *testing.T) { onBoth(t, testAlertmanagerOddAlerts) }

func testAlertmanagerOddAlerts(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	am := h.kind("am", incidents.KindAlertmanager)
	url := h.url(am)
	cases := []struct {
		name, body        string
		status            int
		title, warn       string
		sev               incidents.Severity
		prio              incidents.Priority
		incidentsExpected int
	}{
		{"odd severity", `{"alerts":[{"status":"firing","labels":{"alertname":"A","severity":"disaster"},"fingerprint":"f1"}]}`,
			200, "A", `disaster`, "", "", 1},
		{"no summary: alertname and what tells it apart", `{"commonLabels":{"alertname":"Disk","job":"node"},"alerts":[
			{"status":"firing","labels":{"alertname":"Disk","job":"node","device":"sda","severity":"warning"},"fingerprint":"f2"},
			{"status":"firing","labels":{"alertname":"Disk","job":"node","device":"sdb","severity":"page"},"fingerprint":"f3"}]}`,
			200, "Disk device=sda", "", incidents.Sev2, "", 2},
		{"priority label", `{"alerts":[{"status":"firing","labels":{"alertname":"P","priority":"P2","severity":"error"},"fingerprint":"f4"}]}`,
			200, "P", "", incidents.Sev1, "p2", 1},
		{"label of the wrong type", `{"alerts":[{"status":"firing","labels":{"alertname":"N","code":500},"fingerprint":"f5"}]}`,
			200, "N", "labels.code is not a string", "", "", 1},
		{"no fingerprint: the label set is the key", `{"alerts":[{"status":"firing","labels":{"alertname":"L"}}]}`,
			200, "L", "", "", "", 1},
		{"an alert that is not an object is left out, with a word", `{"alerts":[7,{"status":"firing","labels":{"alertname":"O"},"fingerprint":"f6"}]}`,
			200, "O", "alert 1 is not readable", "", "", 1},
		{"no alerts", `{"version":"4","status":"firing","alerts":[]}`, 200, "", "holds no alerts", "", "", 0},
		{"Spike's format at an alertmanager integration", `{"title":"x"}`, 400, "", "", "", "", 0},
		{"alerts not an array", `{"alerts":{}}`, 400, "", "", "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(h.byKey(am))
			st, out, raw := h.send("POST", strings.TrimPrefix(url, h.srv.URL), map[string]string{"Content-Type": "application/json"}, c.body)
			if st != c.status {
				t.Fatalf("%d, want %d: %s", st, c.status, raw)
			}
			if c.warn != "" && !strings.Contains(raw, c.warn) {
				t.Errorf("answer lacks the warning %q: %s", c.warn, raw)
			}
			after := h.byKey(am)
			if len(after)-before != c.incidentsExpected {
				t.Fatalf("%d new incidents, want %d", len(after)-before, c.incidentsExpected)
			}
			if c.title == "" {
				return
			}
			id := int64(out["alerts"].([]any)[len(out["alerts"].([]any))-1].(map[string]any)["incident"].(float64))
			in := h.incident(id)
			if c.incidentsExpected == 2 {
				in = h.incident(int64(out["alerts"].([]any)[0].(map[string]any)["incident"].(float64)))
			}
			if in.Title != c.title || in.Severity != c.sev || in.Priority != c.prio {
				t.Errorf("incident %q %q %q, want %q %q %q", in.Title, in.Severity, in.Priority, c.title, c.sev, c.prio)
			}
		})
	}
	// A huge group (Alertmanager's max_alerts is unbounded by default): one
	// request, one transaction, one journal entry.
	var b strings.Builder
	b.WriteString(`{"alerts":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"status":"firing","labels":{"alertname":"Big","i":"` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `"},"fingerprint":"big` + string(rune('a'+i/26)) + string(rune('a'+i%26)) + `"}`)
	}
	b.WriteString(`]}`)
	st, out, raw := h.send("POST", strings.TrimPrefix(url, h.srv.URL), nil, b.String())
	if st != 200 || len(out["alerts"].([]any)) != 500 {
		t.Fatalf("500 alerts: %d %.300s", st, raw)
	}
	if j := h.lastRequest(); len(j.Alerts) != 500 {
		t.Fatalf("journal lists %d alerts", len(j.Alerts))
	}
}

// Grafana: unified alerting (Alertmanager-like, per alert) and legacy
// alerting (one rule: ok resolves).
func TestGrafanaFixtures(t *testing.T) { onBoth(t, testGrafanaFixtures) }

func testGrafanaFixtures(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	g := h.kind("grafana", incidents.KindGrafana)
	path := strings.TrimPrefix(h.url(g), h.srv.URL)
	if st, _, raw := h.send("POST", path, nil, fixture(t, "grafana-firing.json", "")); st != 200 {
		t.Fatalf("firing: %d %s", st, raw)
	}
	got := h.byKey(g)
	if len(got) != 3 {
		t.Fatalf("%d incidents, want one per alert", len(got))
	}
	sevs := map[incidents.Severity]int{}
	for _, in := range got {
		sevs[in.Severity]++
	}
	if sevs[incidents.Sev1] != 1 || sevs[incidents.Sev2] != 1 || sevs[incidents.Sev3] != 1 {
		t.Errorf("severities %v", sevs)
	}
	if st, _, raw := h.send("POST", path, nil, fixture(t, "grafana-resolved.json", "")); st != 200 {
		t.Fatalf("resolved: %d %s", st, raw)
	}
	for _, in := range h.byKey(g) {
		if in.Status != incidents.Resolved {
			t.Errorf("%q is %s after Grafana resolved it", in.Title, in.Status)
		}
	}

	legacy := h.kind("grafana7", incidents.KindGrafana)
	path = strings.TrimPrefix(h.url(legacy), h.srv.URL)
	st, out, raw := h.send("POST", path, nil, fixture(t, "grafana-legacy-alerting.json", ""))
	if st != 200 || out["action"] != "created" {
		t.Fatalf("legacy alerting: %d %s", st, raw)
	}
	in := h.incident(int64(out["incident"].(float64)))
	if in.Title != "HighLatency" || in.Severity != incidents.Sev1 || in.Key != "7/2" {
		t.Errorf("legacy incident %q %q key %q", in.Title, in.Severity, in.Key)
	}
	if st, out, raw = h.send("POST", path, nil, fixture(t, "grafana-legacy-ok.json", "")); st != 200 || out["action"] != "resolved" {
		t.Fatalf("legacy ok: %d %s", st, raw)
	}
}

// PagerDuty Events API v2 at /v2/enqueue, as Alertmanager's pagerduty_config
// and PagerDuty's own documentation send it, answered as PagerDuty answers.
func TestPagerDutyEvents(t *testing.T) { onBoth(t, testPagerDutyEvents) }

func testPagerDutyEvents(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	pd := h.kind("pd", incidents.KindPagerDuty)
	ct := map[string]string{"Content-Type": "application/json"}

	st, out, raw := h.send("POST", "/v2/enqueue", ct, fixture(t, "pagerduty-alertmanager-trigger.json", pd.Token))
	if st != 202 || out["status"] != "success" || out["message"] != "Event processed" || out["dedup_key"] == "" {
		t.Fatalf("trigger: %d %s", st, raw)
	}
	key := out["dedup_key"].(string)
	in := h.byKey(pd)[key]
	if in == nil || in.Title != "[FIRING:3] HighLatency (api)" || in.Severity != incidents.Sev1 {
		t.Fatalf("incident %+v", in)
	}
	if !strings.Contains(string(in.Details), "custom_details") || !strings.Contains(string(in.Details), "Alertmanager") {
		t.Errorf("details %s lack source and custom_details", in.Details)
	}
	j := h.lastRequest()
	if strings.Contains(j.Body, pd.Token) || !strings.Contains(j.Body, "[redacted]") || j.Kind != incidents.KindPagerDuty {
		t.Errorf("journal: kind %q, body keeps the routing key: %.200s", j.Kind, j.Body)
	}
	tl, _ := h.svc.Incident(context.Background(), in.ID)
	for _, e := range tl.Timeline {
		if strings.Contains(string(e.Event), pd.Token) {
			t.Errorf("the timeline keeps the routing key")
		}
	}
	// Repeat folds; resolve resolves.
	if st, _, _ = h.send("POST", "/v2/enqueue", ct, fixture(t, "pagerduty-alertmanager-trigger.json", pd.Token)); st != 202 || h.incident(in.ID).Suppressed != 1 {
		t.Fatalf("repeat: %d, suppressed %d", st, h.incident(in.ID).Suppressed)
	}
	if st, _, raw = h.send("POST", "/v2/enqueue", ct, fixture(t, "pagerduty-alertmanager-resolve.json", pd.Token)); st != 202 || h.incident(in.ID).Status != incidents.Resolved {
		t.Fatalf("resolve: %d %s → %s", st, raw, h.incident(in.ID).Status)
	}

	// A trigger without dedup_key gets one made up, and returned; the sender's
	// acknowledge acknowledges by webhook.
	st, out, raw = h.send("POST", "/v2/enqueue", ct, fixture(t, "pagerduty-trigger-no-dedup.json", pd.Token))
	if st != 202 || out["dedup_key"] == "" {
		t.Fatalf("no dedup_key: %d %s", st, raw)
	}
	made := out["dedup_key"].(string)
	ack := strings.Replace(fixture(t, "pagerduty-acknowledge.json", pd.Token), `"dedup_key": "`, `"dedup_key": "`+made+`", "was": "`, 1)
	if st, _, raw = h.send("POST", "/v2/enqueue", ct, ack); st != 202 {
		t.Fatalf("acknowledge: %d %s", st, raw)
	}
	acked := h.byKey(pd)[made]
	if acked.Status != incidents.Acknowledged {
		t.Fatalf("after the sender's acknowledge: %s", acked.Status)
	}
	full, _ := h.svc.Incident(context.Background(), acked.ID)
	if last := full.Timeline[len(full.Timeline)-1]; last.Kind != incidents.EntryAcknowledged || last.By != incidents.ByWebhook {
		t.Errorf("timeline ends with %s by %s", last.Kind, last.By)
	}

	// Refusals in PagerDuty's shape.
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"unknown routing key", `{"routing_key":"nope-nope-nope","event_action":"trigger","payload":{"summary":"x","source":"y","severity":"info"}}`, 404},
		{"no routing key", `{"event_action":"trigger","payload":{"summary":"x"}}`, 401},
		{"bad action", `{"routing_key":"` + pd.Token + `","event_action":"explode"}`, 400},
		{"resolve without dedup_key", `{"routing_key":"` + pd.Token + `","event_action":"resolve"}`, 400},
		{"not JSON", `routing_key=` + pd.Token, 400},
	} {
		st, out, raw := h.send("POST", "/v2/enqueue", ct, c.body)
		if st != c.status || out["status"] == nil || out["message"] == "" || out["errors"] == nil {
			t.Errorf("%s: %d %s, want %d in PagerDuty's shape", c.name, st, raw, c.status)
		}
		if j := h.lastRequest(); strings.Contains(j.Body, pd.Token) || j.Status != c.status {
			t.Errorf("%s: journal %d, body %q", c.name, j.Status, j.Body)
		}
	}
}

// Opsgenie's Alert API as Alertmanager's opsgenie_config sends it.
func TestOpsgenieAlerts(t *testing.T) { onBoth(t, testOpsgenieAlerts) }

func testOpsgenieAlerts(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	og := h.kind("og", incidents.KindOpsgenie)
	auth := map[string]string{"Content-Type": "application/json", "Authorization": "GenieKey " + og.Token}

	st, out, raw := h.send("POST", "/v2/alerts", auth, fixture(t, "opsgenie-alertmanager-create-configured.json", ""))
	if st != 202 || out["result"] != "Request will be processed" || out["requestId"] == "" {
		t.Fatalf("create: %d %s", st, raw)
	}
	var create struct {
		Alias, Message, Priority string
	}
	json.Unmarshal([]byte(fixture(t, "opsgenie-alertmanager-create-configured.json", "")), &create)
	in := h.byKey(og)[create.Alias]
	if in == nil || in.Title != create.Message || string(in.Priority) != strings.ToLower(create.Priority) {
		t.Fatalf("incident %+v from %+v", in, create)
	}
	if st, _, _ = h.send("POST", "/v2/alerts", auth, fixture(t, "opsgenie-alertmanager-create-configured.json", "")); st != 202 || h.incident(in.ID).Suppressed != 1 {
		t.Fatalf("repeat: %d", st)
	}
	if st, _, raw = h.send("POST", "/v2/alerts/"+create.Alias+"/acknowledge?identifierType=alias", auth, `{"source":"x"}`); st != 202 || h.incident(in.ID).Status != incidents.Acknowledged {
		t.Fatalf("acknowledge: %d %s", st, raw)
	}
	if st, _, raw = h.send("POST", "/v2/alerts/"+create.Alias+"/close?identifierType=alias", auth, fixture(t, "opsgenie-alertmanager-close.json", "")); st != 202 || h.incident(in.ID).Status != incidents.Resolved {
		t.Fatalf("close: %d %s", st, raw)
	}
	if j := h.lastRequest(); j.Kind != incidents.KindOpsgenie || j.Outcome != incidents.ResolvedBy || j.Path != "/v2/alerts/"+create.Alias+"/close?identifierType=alias" {
		t.Errorf("journal: %q %q %q", j.Kind, j.Outcome, j.Path)
	}
	for _, c := range []struct {
		name, path, auth, body string
		status                 int
	}{
		{"no key", "/v2/alerts", "", `{"message":"x"}`, 401},
		{"unknown key", "/v2/alerts", "GenieKey nope-nope-nope", `{"message":"x"}`, 404},
		{"no message", "/v2/alerts", "GenieKey " + og.Token, `{"alias":"a"}`, 422},
		{"unknown verb", "/v2/alerts/a/explode", "GenieKey " + og.Token, `{}`, 404},
	} {
		st, out, raw := h.send("POST", c.path, map[string]string{"Authorization": c.auth}, c.body)
		if st != c.status || out["message"] == "" || out["requestId"] == nil {
			t.Errorf("%s: %d %s, want %d in Opsgenie's shape", c.name, st, raw, c.status)
		}
	}
}

// POST /push-events takes the token from Authorization, for every kind, so
// that it never stands in a URL a sender logs.
func TestTokenInHeader(t *testing.T) { onBoth(t, testTokenInHeader) }

func testTokenInHeader(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	for _, c := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"bearer", map[string]string{"Authorization": "Bearer " + h.integ.Token}, 200},
		{"bearer any case", map[string]string{"Authorization": "bearer " + h.integ.Token}, 200},
		{"no token", nil, 401},
		{"wrong token", map[string]string{"Authorization": "Bearer wrong-token-123"}, 404},
	} {
		st, _, raw := h.send("POST", "/push-events", c.header, `{"title":"via header"}`)
		if st != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, st, raw, c.status)
		}
		if j := h.lastRequest(); strings.Contains(j.Path+j.Body, h.integ.Token) {
			t.Errorf("%s: the journal holds the token", c.name)
		}
	}
	req, _ := http.NewRequest("POST", h.srv.URL+"/push-events", strings.NewReader(`{"title":"basic"}`))
	req.SetBasicAuth("alertmanager", h.integ.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("basic auth password as the token: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}

// Chaos answers a share of an integration's requests with its status,
// stores nothing, and journals them as chaos.
func TestChaos(t *testing.T) { onBoth(t, testChaos) }

func testChaos(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	c, err := incidents.ParseChaos("status=503,share=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SetChaos(context.Background(), "default", c); err != nil {
		t.Fatal(err)
	}
	a := h.post(`{"title":"chaos"}`)
	if a.Status != 503 || a.Header.Get("Retry-After") == "" || !strings.Contains(a.Error, "chaos") {
		t.Fatalf("%d %s", a.Status, a.Raw)
	}
	if n, _ := h.svc.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); n != 0 {
		t.Fatalf("%d incidents stored under chaos", n)
	}
	if j := h.lastRequest(); j.Outcome != incidents.Chaosed || j.Status != 503 || j.Kind != incidents.KindWebhook {
		t.Fatalf("journal: %s %d", j.Outcome, j.Status)
	}
	h.svc.SetChaos(context.Background(), "default", incidents.Chaos{})
	if a := h.post(`{"title":"calm"}`); a.Status != 200 {
		t.Fatalf("chaos off: %d", a.Status)
	}
}

// A sender pointed at the wrong kind of integration is told so: an
// Alertmanager notification at a webhook integration is stored (nothing is
// lost) with a warning naming the kind to make.
func TestWrongKindIsExplained(t *testing.T) { onBoth(t, testWrongKindIsExplained) }

func testWrongKindIsExplained(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	st, out, raw := h.send("POST", strings.TrimPrefix(h.url(h.integ), h.srv.URL), nil, fixture(t, "alertmanager-firing.json", ""))
	if st != 200 || !strings.Contains(raw, "--kind alertmanager") {
		t.Fatalf("%d %s", st, raw)
	}
	_ = out
	st, _, raw = h.send("POST", "/v2/enqueue", nil, fixture(t, "pagerduty-alertmanager-trigger.json", h.integ.Token))
	if st != 202 || !strings.Contains(raw, "of kind webhook") {
		t.Fatalf("PagerDuty event with a webhook integration's key: %d %s", st, raw)
	}
}
