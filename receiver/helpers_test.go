package receiver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

const testAPIToken = "test-api-token"

// onBoth runs test once on each backend klaxon runs on, as the subtests
// sqlite and postgres (go test -run /postgres picks one): what the
// receiver and the API promise holds on both. The postgres one needs
// KLAXON_TEST_DATABASE (see testkit.PostgresURL). Each run has a database
// of its own, so such tests run in parallel with each other: PostgreSQL's
// time goes mostly to waiting (a fresh schema, its migrations, commits).
func onBoth(t *testing.T, test func(t *testing.T, b testkit.Backend)) {
	t.Helper()
	t.Parallel()
	for _, b := range testkit.Backends() {
		t.Run(b.Name, func(t *testing.T) { test(t, b) })
	}
}

// harness is a receiver serving over loopback HTTP on a fresh database of
// one backend, with two integrations: checkout's webhook and a healthchecks.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	db     testkit.Store
	svc    *incidents.Service
	integ  *incidents.Integration
	health *incidents.Integration
}

func newHarness(t *testing.T, b testkit.Backend, opts Options) *harness {
	t.Helper()
	db := b.Open(t)
	svc := incidents.NewService(db, nil)
	h := &harness{t: t, db: db, svc: svc}
	ctx := context.Background()
	var err error
	if h.integ, err = svc.CreateIntegration(ctx, "default", "checkout", "", incidents.KindWebhook); err != nil {
		t.Fatal(err)
	}
	if h.health, err = svc.CreateIntegration(ctx, "hc", "", "", incidents.KindHealthchecks); err != nil {
		t.Fatal(err)
	}
	opts.APIToken = testAPIToken
	h.srv = httptest.NewUnstartedServer(nil)
	opts.BaseURL = "http://" + h.srv.Listener.Addr().String()
	rs := New(svc, opts)
	h.srv.Config = rs.HTTPServer("", nil)
	h.srv.Start()
	t.Cleanup(func() {
		rs.CloseStreams()
		h.srv.Close()
		db.Close()
	})
	return h
}

func (h *harness) url(integ *incidents.Integration) string {
	return h.srv.URL + "/" + integ.Token + "/push-events"
}

type answer struct {
	Status   int
	OK       bool     `json:"ok"`
	Action   string   `json:"action"`
	Incident int64    `json:"incident"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
	Header   http.Header
	Raw      string
}

func (h *harness) do(method, url, contentType, body string) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer sender-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		h.t.Fatalf("%s %s: answer is not JSON: %q", method, url, b)
	}
	a.Status, a.Header, a.Raw = resp.StatusCode, resp.Header, string(b)
	return a
}

// post sends body as JSON to the default integration.
func (h *harness) post(body string) answer {
	h.t.Helper()
	return h.do("POST", h.url(h.integ), "application/json", body)
}

func (h *harness) incident(id int64) *incidents.Incident {
	h.t.Helper()
	in, err := h.svc.Incident(context.Background(), id)
	if err != nil {
		h.t.Fatalf("incident #%d: %v", id, err)
	}
	return in
}

func (h *harness) lastRequest() *incidents.Request {
	h.t.Helper()
	page, err := h.svc.Requests(context.Background(), 1, "")
	if err != nil || len(page.Items) == 0 {
		h.t.Fatalf("journal: %v (%d entries)", err, len(page.Items))
	}
	return page.Items[0]
}

func (h *harness) api(method, path, body string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		h.t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out
}
