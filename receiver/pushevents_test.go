package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
	"klaxon/storage"
)

// Each status code of SPEC §2, with the answer's shape and the journal entry.
func TestStatusCodes(t *testing.T) { onBoth(t, testStatusCodes) }

func testStatusCodes(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{BodyLimit: 1024})
	wrongToken := h.srv.URL + "/nosuchtoken/push-events"
	tests := []struct {
		name        string
		method, url string
		ctype, body string
		status      int
		errorHas    string
		journalPath string
	}{
		{"created", "POST", h.url(h.integ), "application/json", `{"title":"a"}`, 200, "", "/default/push-events"},
		{"empty body", "POST", h.url(h.integ), "application/json", "  \n", 400, "body is empty", "/default/push-events"},
		{"invalid json", "POST", h.url(h.integ), "application/json", `{"title":"a",}`, 400, "line 1, column 14", ""},
		{"null", "POST", h.url(h.integ), "application/json", `null`, 400, "null", ""},
		{"array", "POST", h.url(h.integ), "application/json", `[{"title":"a"}]`, 400, "array", ""},
		{"number", "POST", h.url(h.integ), "application/json", `42`, 400, "number", ""},
		{"two objects", "POST", h.url(h.integ), "application/json", `{"title":"a"}{"title":"b"}`, 400, "more after its JSON object", ""},
		{"truncated", "POST", h.url(h.integ), "application/json", `{"title":"a`, 400, "ends too soon", ""},
		{"object title", "POST", h.url(h.integ), "application/json", `{"title":{"x":1}}`, 400, "object", ""},
		{"array title", "POST", h.url(h.integ), "application/json", `{"title":[1]}`, 400, "array", ""},
		{"unknown token", "POST", wrongToken, "application/json", `{"title":"a"}`, 404, "no integration has this token", "/<unknown>/push-events"},
		{"missing /push-events", "POST", h.srv.URL + "/" + h.integ.Token, "application/json", `{"title":"a"}`, 404, "lacks /push-events", "/default"},
		{"GET", "GET", h.url(h.integ), "", "", 405, "POST", ""},
		{"PUT", "PUT", h.url(h.integ), "application/json", `{"title":"a"}`, 405, "POST", ""},
		{"too large", "POST", h.url(h.integ), "application/json", `{"title":"` + strings.Repeat("x", 2000) + `"}`, 413, "over 1024 bytes", ""},
		{"resolve without title", "POST", h.url(h.integ), "application/json", `{"status":"resolve"}`, 422, "needs the title", ""},
		{"healthchecks up without key", "POST", h.url(h.health), "application/json", `{"status":"up"}`, 422, "check_id", "/hc/push-events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.do(tt.method, tt.url, tt.ctype, tt.body)
			if a.Status != tt.status {
				t.Fatalf("status = %d, want %d (%s)", a.Status, tt.status, a.Raw)
			}
			if tt.status == 200 {
				if !a.OK || a.Action != "created" || a.Incident == 0 || a.Warnings == nil {
					t.Fatalf("answer = %s", a.Raw)
				}
			} else {
				if a.OK || !strings.Contains(a.Error, tt.errorHas) || !strings.HasPrefix(a.Raw, `{"ok":false,"error":`) {
					t.Fatalf("answer = %s, want ok:false and an error containing %q", a.Raw, tt.errorHas)
				}
			}
			if tt.status == 405 && a.Header.Get("Allow") != "POST" {
				t.Fatalf("405 without Allow: POST")
			}
			j := h.lastRequest()
			if j.Status != tt.status || j.Method != tt.method {
				t.Fatalf("journal: status %d method %s, want %d %s", j.Status, j.Method, tt.status, tt.method)
			}
			if tt.journalPath != "" && j.Path != tt.journalPath {
				t.Fatalf("journal path = %q, want %q", j.Path, tt.journalPath)
			}
			if strings.Contains(j.Path, h.integ.Token) || strings.Contains(j.Path, h.health.Token) {
				t.Fatalf("journal path shows a token: %q", j.Path)
			}
			if got := j.Headers["Authorization"]; len(got) != 1 || got[0] != "[redacted]" {
				t.Fatalf("journal Authorization = %v, want redacted", got)
			}
			if tt.status != 200 && (j.Error == "" || j.Outcome != incidents.OutcomeError) {
				t.Fatalf("journal of a refusal: %+v", j)
			}
			if tt.status == 413 && (!j.Truncated || len(j.Body) != 1024) {
				t.Fatalf("413 journal body: truncated=%v len=%d", j.Truncated, len(j.Body))
			}
		})
	}
}

func TestStorageFailureIs503(t *testing.T) { onBoth(t, testStorageFailureIs503) }

func testStorageFailureIs503(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	h.svc.Integrations(context.Background()) // warm the token cache
	if _, err := h.svc.IntegrationByToken(context.Background(), h.integ.Token); err != nil {
		t.Fatal(err)
	}
	h.db.Close()
	a := h.post(`{"title":"during shutdown"}`)
	if a.Status != 503 || a.OK || a.Header.Get("Retry-After") == "" {
		t.Fatalf("answer %d %s, Retry-After %q; want 503 with Retry-After", a.Status, a.Raw, a.Header.Get("Retry-After"))
	}
}

func TestDedupAndResolveRules(t *testing.T) { onBoth(t, testDedupAndResolveRules) }

func testDedupAndResolveRules(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	first := h.post(`{"title":"  api down  ","severity":"sev2","body":"first"}`)
	if first.Action != "created" {
		t.Fatal(first.Raw)
	}
	// Trimmed titles match; the duplicate moves severity and priority.
	dup := h.post(`{"title":"api down","severity":"SEV1","priority":"P3","body":"second"}`)
	if dup.Action != "suppressed" || dup.Incident != first.Incident {
		t.Fatalf("duplicate: %s", dup.Raw)
	}
	in := h.incident(first.Incident)
	if in.Suppressed != 1 || in.Severity != "sev1" || in.Priority != "p3" || in.Title != "api down" || string(in.Details) != `"first"` {
		t.Fatalf("after duplicate: %+v", in)
	}
	if !in.LastSeen.After(in.FirstSeen) && !in.LastSeen.Equal(in.FirstSeen) {
		t.Fatal("last_seen did not move")
	}
	// Case-sensitive: another incident.
	if a := h.post(`{"title":"API DOWN"}`); a.Action != "created" || a.Incident == first.Incident {
		t.Fatalf("case-different title: %s", a.Raw)
	}
	// Acknowledged still suppresses.
	h.svc.Acknowledge(context.Background(), first.Incident, incidents.ByAPI)
	if a := h.post(`{"title":"api down"}`); a.Action != "suppressed" {
		t.Fatalf("on acknowledged: %s", a.Raw)
	}
	// Resolve (any case, "resolved" too), then a trigger opens a new incident.
	if a := h.post(`{"title":"api down","status":"RESOLVED"}`); a.Action != "resolved" || a.Incident != first.Incident {
		t.Fatalf("resolve: %s", a.Raw)
	}
	if in := h.incident(first.Incident); in.Status != "resolved" || in.ResolvedBy != "webhook" {
		t.Fatalf("resolved incident: %+v", in)
	}
	if a := h.post(`{"title":"api down","status":"resolve"}`); a.Action != "ignored" || a.Incident != 0 || strings.Contains(a.Raw, `"incident"`) {
		t.Fatalf("resolve with nothing open: %s", a.Raw)
	}
	if a := h.post(`{"title":"api down"}`); a.Action != "created" || a.Incident == first.Incident {
		t.Fatalf("after resolve: %s", a.Raw)
	}
	// Untitled and white-space titles are never grouped.
	a1, a2, a3 := h.post(`{"body":"x"}`), h.post(`{"body":"x"}`), h.post(`{"title":"   "}`)
	if a1.Action != "created" || a2.Action != "created" || a3.Action != "created" || a1.Incident == a2.Incident {
		t.Fatalf("untitled: %s %s %s", a1.Raw, a2.Raw, a3.Raw)
	}
	// Other integrations have their own keys.
	other, _ := h.svc.CreateIntegration(context.Background(), "other", "", "", incidents.KindWebhook)
	if a := h.do("POST", h.url(other), "", `{"title":"api down"}`); a.Action != "created" {
		t.Fatalf("other integration: %s", a.Raw)
	}
}

func TestFieldRules(t *testing.T) { onBoth(t, testFieldRules) }

func testFieldRules(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	tests := []struct {
		name, ctype, body string
		title, details    string
		sev, prio         string
		warnings          int
	}{
		{"body string", "application/json", `{"title":"t1","body":"disk at 99%"}`, "t1", `"disk at 99%"`, "", "", 0},
		{"body object verbatim", "application/json", `{"title":"t2","body":{"b": 1,  "a":[true]}}`, "t2", `{"b": 1,  "a":[true]}`, "", "", 0},
		{"message fallback", "application/json", `{"title":"t3","message":"from apprise"}`, "t3", `"from apprise"`, "", "", 0},
		{"description fallback", "application/json", `{"title":"t4","description":"from keep"}`, "t4", `"from keep"`, "", "", 0},
		{"body wins", "application/json", `{"title":"t5","body":"b","message":"m"}`, "t5", `"b"`, "", "", 0},
		{"no details", "application/json", `{"title":"t6"}`, "t6", ``, "", "", 0},
		{"number title", "application/json", `{"title":404}`, "404", ``, "", "", 0},
		{"bool title", "application/json", `{"title":true}`, "true", ``, "", "", 0},
		{"severity any case", "application/json", `{"title":"t7","severity":"Sev3","priority":"p5"}`, "t7", ``, "sev3", "p5", 0},
		{"bad severity warns", "application/json", `{"title":"t8","severity":"critical","priority":"P1"}`, "t8", ``, "", "p1", 1},
		{"bad priority warns", "application/json", `{"title":"t9","severity":"sev2","priority":"urgent"}`, "t9", ``, "sev2", "", 1},
		{"number severity warns", "application/json", `{"title":"t10","severity":1}`, "t10", ``, "", "", 1},
		{"text/plain is JSON", "text/plain", `{"title":"t11"}`, "t11", ``, "", "", 0},
		{"no content type", "", `{"title":"t12"}`, "t12", ``, "", "", 0},
		{"form fields", "application/x-www-form-urlencoded", `title=t13&severity=sev1&body=hello+world`, "t13", `"hello world"`, "sev1", "", 0},
		{"form-labelled JSON", "application/x-www-form-urlencoded", ` {"title":"t14"}`, "t14", ``, "", "", 0},
		{"status CRITICAL triggers", "application/json", `{"title":"t15","status":"CRITICAL"}`, "t15", ``, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.do("POST", h.url(h.integ), tt.ctype, tt.body)
			if a.Status != 200 || a.Action != "created" {
				t.Fatalf("answer %d %s", a.Status, a.Raw)
			}
			if len(a.Warnings) != tt.warnings {
				t.Fatalf("warnings = %v, want %d", a.Warnings, tt.warnings)
			}
			in := h.incident(a.Incident)
			if in.Title != tt.title || string(in.Details) != tt.details || string(in.Severity) != tt.sev || string(in.Priority) != tt.prio {
				t.Fatalf("incident: title %q details %s sev %q prio %q", in.Title, in.Details, in.Severity, in.Priority)
			}
			if len(in.Timeline) == 0 || len(in.Timeline[0].Event) == 0 {
				t.Fatal("raw event not stored")
			}
			if tt.warnings > 0 && len(h.lastRequest().Warnings) != tt.warnings {
				t.Fatal("warnings not journaled")
			}
		})
	}
}

func TestHealthchecksKind(t *testing.T) { onBoth(t, testHealthchecksKind) }

func testHealthchecksKind(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	down := `{"check_id":"8a1c3f","title":"Foo & Bar is DOWN (success signal did not arrive on time, grace time passed)","message":"Foo is DOWN.\nLast ping was 10 minutes ago.","status":"down"}`
	a := h.do("POST", h.url(h.health), "application/json", down)
	if a.Action != "created" {
		t.Fatal(a.Raw)
	}
	in := h.incident(a.Incident)
	if !strings.HasPrefix(in.Title, "Foo & Bar is DOWN") || !strings.Contains(string(in.Details), "Last ping") {
		t.Fatalf("incident: %+v", in)
	}
	// Another reason, same check: folded, and the title stays the opener's.
	if b := h.do("POST", h.url(h.health), "", `{"check_id":"8a1c3f","title":"Foo is DOWN (ping failed)","status":"down"}`); b.Action != "suppressed" || b.Incident != a.Incident {
		t.Fatal(b.Raw)
	}
	if b := h.do("POST", h.url(h.health), "", `{"check_id":"8a1c3f","title":"Foo & Bar is UP","message":"ok","status":"UP"}`); b.Action != "resolved" || b.Incident != a.Incident {
		t.Fatal(b.Raw)
	}
	if b := h.do("POST", h.url(h.health), "", `{"check_id":"8a1c3f","title":"Foo is UP","status":"up"}`); b.Action != "ignored" {
		t.Fatal(b.Raw)
	}
	// Without a check_id the title is the key.
	h.do("POST", h.url(h.health), "", `{"title":"Bar is DOWN","status":"down"}`)
	if b := h.do("POST", h.url(h.health), "", `{"title":"Bar is DOWN","status":"resolve"}`); b.Action != "resolved" {
		t.Fatal(b.Raw)
	}
}

// The senders of senders.md, as fixtures.
func TestRealSenders(t *testing.T) { onBoth(t, testRealSenders) }

func testRealSenders(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	tests := []struct {
		name, ctype, body string
		status            int
		action            string
	}{
		{"spike docs", "application/json", `{"title":"CPU high","body":{"host":"db-1"},"severity":"sev1","priority":"p2"}`, 200, "created"},
		{"spike docs resolve", "application/json", `{"title":"CPU high","status":"resolve"}`, 200, "resolved"},
		{"healthchecks generic webhook", "", `{"title": "nightly-backup", "severity":"sev1"}`, 200, "created"},
		{"apprise", "application/json", `{"version":"1.0","title":"Backup failed","message":"disk quota","attachments":[],"type":"info","severity":"sev2"}`, 200, "created"},
		{"apprise resolve", "application/json", `{"version":"1.0","title":"Backup failed","message":"ok","attachments":[],"type":"success","status":"resolve"}`, 200, "resolved"},
		{"jenkins failure", "application/json", `{"title":"deploy - Build #41 Failed","status":"failure"}`, 200, "created"},
		{"jenkins success never matches", "application/json", `{"title":"deploy - Build #42","status":"resolve"}`, 200, "ignored"},
		{"nodeping comment", "application/json", "{\"title\":\"web check\",\n \"status\":\"fail\" // this will help auto-resolve on Spike\n}", 400, ""},
		{"checkmk broken quoting", "application/json", `{"title":"CPU load "WARN" on db-1"}`, 400, ""},
		{"uptime kuma json", "application/json", `{"heartbeat":{"status":0,"msg":"timeout"},"monitor":{"name":"shop"},"msg":"[shop] [🔴 Down] timeout"}`, 200, "created"},
		{"uptime kuma mislabelled", "application/x-www-form-urlencoded", `{"heartbeat":{"status":0},"monitor":{"name":"shop"},"msg":"[shop] [🔴 Down]"}`, 200, "created"},
		{"keep", "application/json", `{"title":"High latency","description":"p99 2s","severity":"critical"}`, 200, "created"},
		{"dashboard app", "application/json", `{"title":"Queue stuck","message":"m","status":"CRITICAL","priority":"P1","source":"app","timestamp":"2026-01-01T00:00:00Z","metadata":{"q":"jobs"}}`, 200, "created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.do("POST", h.url(h.integ), tt.ctype, tt.body)
			if a.Status != tt.status || a.Action != tt.action {
				t.Fatalf("got %d %s", a.Status, a.Raw)
			}
			if tt.status == 400 {
				if !strings.Contains(a.Error, "line ") || h.lastRequest().Body != tt.body {
					t.Fatalf("refusal must name the position and keep the raw body: %s", a.Raw)
				}
			}
		})
	}
	nodeping := h.do("POST", h.url(h.integ), "application/json", "{\"title\":\"x\", // c\n}")
	if !strings.Contains(nodeping.Error, "comment") {
		t.Fatalf("nodeping hint: %s", nodeping.Raw)
	}
	// The dashboard app's extra fields are kept in the raw event.
	page, _ := h.svc.ListIncidents(context.Background(), incidents.Filter{Query: "Queue stuck"})
	if len(page.Items) != 1 || page.Items[0].Priority != "p1" {
		t.Fatalf("dashboard incident: %+v", page.Items)
	}
	in := h.incident(page.Items[0].ID)
	if !strings.Contains(string(in.Timeline[0].Event), `"metadata":{"q":"jobs"}`) {
		t.Fatalf("extra fields not kept: %s", in.Timeline[0].Event)
	}
}

func TestAcceptAnyToken(t *testing.T) { onBoth(t, testAcceptAnyToken) }

func testAcceptAnyToken(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{AcceptAnyToken: true})
	a := h.do("POST", h.srv.URL+"/my-dev-token/push-events", "", `{"title":"x"}`)
	if a.Status != 200 {
		t.Fatal(a.Raw)
	}
	in := h.incident(a.Incident)
	if in.Integration != incidents.AdoptedName("my-dev-token") || strings.Contains(in.Integration, "my-dev-token") {
		t.Fatalf("integration = %q: an adopted integration must not be named after its token", in.Integration)
	}
	if b := h.do("POST", h.srv.URL+"/my-dev-token/push-events", "", `{"title":"x"}`); b.Action != "suppressed" {
		t.Fatal(b.Raw)
	}
	if b := h.do("POST", h.srv.URL+"/..%2F..%2Fetc/push-events", "", `{"title":"x"}`); b.Status != 404 {
		t.Fatalf("odd token adopted: %s", b.Raw)
	}
	// Adoption is bounded: past MaxAdopted, unknown tokens are 404 again.
	for i := 1; i < incidents.MaxAdopted; i++ {
		if b := h.do("POST", h.srv.URL+"/dev-token-"+strconv.Itoa(i)+"/push-events", "", `{"title":"x"}`); b.Status != 200 {
			t.Fatalf("adoption %d: %s", i, b.Raw)
		}
	}
	b := h.do("POST", h.srv.URL+"/one-too-many/push-events", "", `{"title":"x"}`)
	if b.Status != 404 || !strings.Contains(b.Error, "adopted") {
		t.Fatalf("adoption %d: %d %s", incidents.MaxAdopted+1, b.Status, b.Raw)
	}
}

// 50 identical triggers at once: one incident, 49 suppressed, all 200.
func TestConcurrentIdenticalTriggers(t *testing.T) { onBoth(t, testConcurrentIdenticalTriggers) }

func testConcurrentIdenticalTriggers(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	actions := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Post(h.url(h.integ), "application/json", strings.NewReader(`{"title":"storm"}`))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var a answer
			json.NewDecoder(resp.Body).Decode(&a)
			statuses[i], actions[i] = resp.StatusCode, a.Action
		}(i)
	}
	wg.Wait()
	count := map[string]int{}
	for i := range statuses {
		if statuses[i] != 200 {
			t.Fatalf("request %d: status %d", i, statuses[i])
		}
		count[actions[i]]++
	}
	if count["created"] != 1 || count["suppressed"] != n-1 {
		t.Fatalf("actions = %v", count)
	}
	page, _ := h.svc.ListIncidents(context.Background(), incidents.Filter{})
	if len(page.Items) != 1 || page.Items[0].Suppressed != n-1 {
		t.Fatalf("incidents: %d, suppressed %d", len(page.Items), page.Items[0].Suppressed)
	}
	reqs, _ := h.svc.Requests(context.Background(), 1000, "")
	if len(reqs.Items) != n {
		t.Fatalf("journal has %d entries, want %d", len(reqs.Items), n)
	}
}

func TestJournalSecrets(t *testing.T) { onBoth(t, testJournalSecrets) }

func testJournalSecrets(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	req, _ := http.NewRequest("POST", h.url(h.integ)+"?api_key=s3cret&env=prod", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("X-Api-Key", "k")
	req.Header.Set("X-Request-Id", "r-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	j := h.lastRequest()
	all := fmt.Sprint(j.Path, j.Headers)
	for _, secret := range []string{"s3cret", "abc", h.integ.Token} {
		if strings.Contains(all, secret) {
			t.Fatalf("journal shows %q: %s", secret, all)
		}
	}
	if j.Headers["X-Request-Id"][0] != "r-1" || !strings.Contains(j.Path, "env=prod") {
		t.Fatalf("journal lost harmless data: %s", all)
	}
}

// Path tricks are answered (never redirected), journaled, and never show a token.
func TestPathTricks(t *testing.T) { onBoth(t, testPathTricks) }

func testPathTricks(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	tok := h.integ.Token
	tests := []struct{ path, journal string }{
		{"/../" + tok + "/push-events", "/<unknown>/<redacted>/push-events"},
		{"/a/../" + tok + "/push-events", "/<unknown>/../<redacted>/push-events"},
		{"//push-events", "/<unknown>"}, // parsed as a host, with no path
		{"/%2e%2e/push-events", "/<unknown>/push-events"},
		{"/" + tok + "%2Fx/push-events", "/<unknown>/push-events"},
		{"/" + strings.Repeat("a", 5000) + "/push-events", "/<unknown>/push-events"},
		{"/" + tok + "/push-event", "/default/push-event"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", h.srv.URL, strings.NewReader(`{"title":"x"}`))
		req.URL.Opaque = tt.path // sent as is, not cleaned by the client
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%.40s: status %d, want 404", tt.path, resp.StatusCode)
			continue
		}
		j := h.lastRequest()
		if j.Path != tt.journal || strings.Contains(j.Path, tok) {
			t.Errorf("%.40s: journal path %q, want %q", tt.path, j.Path, tt.journal)
		}
	}
}

// A full disk answers 503 with Retry-After, never 200, and klaxon takes
// events again by itself once there is room. SQLite only: it fills the
// disk with SQLite's max_page_count, which PostgreSQL has no counterpart
// of (pgstore's TestRecoversWhenConnectionsAreCut is its outage).
func TestDiskFullIs503AndRecovers(t *testing.T) {
	h := newHarness(t, testkit.SQLite, Options{})
	db := h.db.(*storage.DB)
	ctx := context.Background()
	h.post(`{"title":"before"}`)
	if _, err := db.SetMaxPageCount(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var full answer
	for i := 0; i < 5000; i++ {
		full = h.post(fmt.Sprintf(`{"title":"filling %d","body":"%s"}`, i, strings.Repeat("x", 2000)))
		if full.Status != 200 {
			break
		}
	}
	if full.Status != 503 || full.Header.Get("Retry-After") == "" || !strings.Contains(full.Error, "full") {
		t.Fatalf("full disk: %d %s (Retry-After %q)", full.Status, full.Raw, full.Header.Get("Retry-After"))
	}
	if _, err := db.SetMaxPageCount(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if a := h.post(`{"title":"after"}`); a.Status != 200 || a.Action != "created" {
		t.Fatalf("after room returned: %s", a.Raw)
	}
}

// Input classes that must each get their own clear answer.
func TestHostileBodies(t *testing.T) { onBoth(t, testHostileBodies) }

func testHostileBodies(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	tests := []struct {
		name, body string
		status     int
		has        string
	}{
		{"deeply nested", `{"title":"n","body":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400, "depth"},
		{"65 levels: one past the nesting limit", `{"title":"n","body":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, 400, "depth 65"},
		{"64 levels: at the nesting limit", `{"title":"n64","body":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`, 200, ""},
		{"brackets inside strings do not count", `{"title":"` + strings.Repeat("[", 100) + `"}`, 200, ""},
		{"raw NUL in a string", "{\"title\":\"a\x00b\"}", 400, "line 1"},
		{"escaped NUL", `{"title":"a\u0000b"}`, 200, ""},
		{"non-UTF-8", "{\"title\":\"caf\xe9\"}", 200, ""},
		{"duplicate keys: last wins", `{"title":"first","title":"second"}`, 200, ""},
		{"binary junk", "\x00\x01\x02\xff", 400, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := h.post(tt.body)
			if a.Status != tt.status || !strings.Contains(a.Error, tt.has) {
				t.Fatalf("%d %s", a.Status, a.Raw)
			}
			if j := h.lastRequest(); j.Status != tt.status {
				t.Fatalf("journal status %d", j.Status)
			}
		})
	}
	page, _ := h.svc.ListIncidents(context.Background(), incidents.Filter{Query: "second"})
	if len(page.Items) != 1 {
		t.Fatal("duplicate key: the last title should win")
	}
	page, _ = h.svc.ListIncidents(context.Background(), incidents.Filter{Query: "a␀b"})
	if len(page.Items) != 1 {
		t.Fatal("escaped NUL: the title should show it as ␀")
	}
}

func TestRateLimit(t *testing.T) { onBoth(t, testRateLimit) }

func testRateLimit(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{RateLimit: 3})
	statuses := map[int]int{}
	var limited answer
	for i := 0; i < 10; i++ {
		a := h.post(`{"title":"burst"}`)
		statuses[a.Status]++
		if a.Status == 429 {
			limited = a
		}
	}
	if statuses[200] < 3 || statuses[429] == 0 {
		t.Fatalf("statuses %v: want the first 3 taken and later ones 429", statuses)
	}
	if limited.Header.Get("Retry-After") == "" || !strings.Contains(limited.Error, "rate limit") {
		t.Fatalf("429: %s", limited.Raw)
	}
	if j := h.lastRequest(); j.Status != 429 {
		t.Fatal("429 not journaled")
	}
	// Another integration has its own budget.
	if a := h.do("POST", h.url(h.health), "", `{"title":"other"}`); a.Status != 200 {
		t.Fatalf("other integration: %s", a.Raw)
	}
}

// On one backend: the server's limits are the receiver's alone.
func TestServerLimits(t *testing.T) {
	h := newHarness(t, testkit.SQLite, Options{})
	srv := New(h.svc, Options{}).HTTPServer(":0", nil)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Fatalf("server limits: %+v", srv)
	}
}

// SQLite only, as TestDiskFullIs503AndRecovers: it fills the disk with
// max_page_count.
func TestHealthFollowsTheDisk(t *testing.T) {
	h := newHarness(t, testkit.SQLite, Options{})
	db := h.db.(*storage.DB)
	changes, cancel := h.svc.Subscribe()
	defer cancel()
	ctx := context.Background()
	if !h.svc.Health().OK {
		t.Fatal("unhealthy at start")
	}
	db.SetMaxPageCount(ctx, 1)
	for i := 0; i < 5000 && h.svc.Health().OK; i++ {
		h.post(fmt.Sprintf(`{"title":"fill %d","body":"%s"}`, i, strings.Repeat("y", 2000)))
	}
	if hl := h.svc.Health(); hl.OK || !strings.Contains(hl.Problem, "full") {
		t.Fatalf("health on a full disk: %+v", hl)
	}
	// /healthz says so too, without a token, so a load balancer stops
	// sending here.
	resp, err := http.Get(h.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "full") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("/healthz on a full disk: %d %s", resp.StatusCode, b)
	}
	db.SetMaxPageCount(ctx, 1<<30)
	h.post(`{"title":"room again"}`)
	if !h.svc.Health().OK {
		t.Fatal("health did not recover")
	}
	var flips []bool
	for len(changes) > 0 {
		if c := <-changes; c.Health != nil {
			flips = append(flips, c.Health.OK)
		}
	}
	if fmt.Sprint(flips) != "[false true]" {
		t.Fatalf("health changes published: %v, want [false true]", flips)
	}
}
