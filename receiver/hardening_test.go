package receiver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/internal/testkit"
)

// Anyone who can reach the port can post to an unknown token: the journal
// keeps a short prefix of such a body, never all of it.
func TestUnknownTokenBodiesAreCut(t *testing.T) { onBoth(t, testUnknownTokenBodiesAreCut) }

func testUnknownTokenBodiesAreCut(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	big := `{"title":"` + strings.Repeat("x", 400<<10) + `"}`
	if a := h.do("POST", h.srv.URL+"/no-such-token-here/push-events", "", big); a.Status != 404 {
		t.Fatalf("%d", a.Status)
	}
	j := h.lastRequest()
	if len(j.Body) > unknownBodyKept || !j.Truncated {
		t.Fatalf("journal kept %d bytes of an unknown token's body (truncated %v)", len(j.Body), j.Truncated)
	}
	// A known integration's refused body is kept whole, for debugging.
	if a := h.post(`{"title":` + strings.Repeat("[", 10) + `}`); a.Status != 400 {
		t.Fatalf("%d", a.Status)
	}
	if j := h.lastRequest(); !strings.HasPrefix(j.Body, `{"title":[[[[`) || j.Truncated {
		t.Fatalf("known integration's body: %q", j.Body)
	}
}

// A token repeated in a Referer, a proxy header or the query never reaches
// the journal.
func TestTokenRedactedFromSideDoors(t *testing.T) { onBoth(t, testTokenRedactedFromSideDoors) }

func testTokenRedactedFromSideDoors(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	url := h.url(h.integ)
	req, _ := http.NewRequest("POST", url+"?x="+h.integ.Token+"&from="+h.integ.Token, strings.NewReader(`{"title":"side doors"}`))
	req.Header.Set("Referer", url)
	req.Header.Set("X-Original-URI", "/"+h.integ.Token+"/push-events")
	req.Header.Set("X-Forwarded-Uri", "/"+h.integ.Token+"/push-events")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	j := h.lastRequest()
	all := j.Path + j.Body
	for k, vs := range j.Headers {
		all += k + strings.Join(vs, ",")
	}
	if strings.Contains(all, h.integ.Token) {
		t.Fatalf("the journal holds the token: path %q headers %v", j.Path, j.Headers)
	}
	if !strings.Contains(j.Headers["Referer"][0], "[redacted]") {
		t.Fatalf("Referer: %v", j.Headers["Referer"])
	}
}

// Bodies in flight are bounded in bytes: past the budget klaxon answers 503
// with Retry-After at once, journaled, instead of reading more.
func TestBodyBudget(t *testing.T) { onBoth(t, testBodyBudget) }

func testBodyBudget(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	b := newByteBudget(1000)
	if !b.take(600) || b.take(600) {
		t.Fatal("a budget of 1000 took 600 twice")
	}
	b.give(600)
	if !b.take(5000) {
		t.Fatal("a body over the whole budget must pass when nothing else is in flight")
	}
	b.give(5000)

	// Through HTTP: hold the budget with slow bodies, then send one more.
	srv := New(h.svc, Options{APIToken: testAPIToken, BodyBudget: 2 << 10, BaseURL: h.srv.URL})
	held := make(chan struct{})
	var wg sync.WaitGroup
	pr, pw := io.Pipe()
	wg.Add(1)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("POST", "/"+h.integ.Token+"/push-events", pr)
		req.ContentLength = 2 << 10
		rec := httptest.NewRecorder()
		close(held)
		srv.ServeHTTP(rec, req)
	}()
	<-held
	waitUntil(t, func() bool { return srv.budget.free() < srv.budget.limit })
	req, _ := http.NewRequest("POST", "/"+h.integ.Token+"/push-events", strings.NewReader(`{"title":"one more"}`))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the budget: %d %s", rec.Code, rec.Body.String())
	}
	if j := h.lastRequest(); j.Status != 503 || !strings.Contains(j.Error, "too many large bodies") {
		t.Fatalf("journal: %d %q", j.Status, j.Error)
	}
	pw.Write([]byte(`{"title":"slow"}`))
	pw.Close()
	wg.Wait()
	if srv.budget.free() != srv.budget.limit {
		t.Fatalf("budget not given back: %d of %d", srv.budget.free(), srv.budget.limit)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Plain HTTP sent to klaxon's HTTPS port is answered in JSON with the URL
// to use, not Go's text; TLS clients are untouched. On one backend: only
// /healthz is asked, and storage plays no part in the answer.
func TestPlainHTTPOnTheTLSPort(t *testing.T) {
	h := newHarness(t, testkit.SQLite, Options{})
	srv := httptest.NewUnstartedServer(New(h.svc, Options{APIToken: testAPIToken}))
	srv.Listener = PlainHTTPOnTLS(srv.Listener, "https://"+srv.Listener.Addr().String())
	srv.StartTLS()
	defer srv.Close()
	resp, err := http.Get("http://" + srv.Listener.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(b), `"error":"this klaxon speaks HTTPS: send to https://`) {
		t.Fatalf("plain HTTP: %d %s", resp.StatusCode, b)
	}
	resp, err = srv.Client().Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPS: %v %v", err, resp)
	}
	resp.Body.Close()
}
