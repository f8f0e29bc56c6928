package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load generator sends well-formed events and counts answers; the
// no-op handler decodes them. Nothing here measures speed.
func TestDriveSendsEventsTheNoopHandlerTakes(t *testing.T) {
	for _, p := range []Pattern{NewTitles, RepeatTitles} {
		var (
			mu     sync.Mutex
			titles = map[string]int{}
		)
		noop := NoopHandler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ev struct {
				Title    string          `json:"title"`
				Severity string          `json:"severity"`
				Body     json.RawMessage `json:"body"`
			}
			body := new(strings.Builder)
			r.Body = readTee(r, body)
			noop.ServeHTTP(w, r)
			if err := json.Unmarshal([]byte(body.String()), &ev); err != nil || ev.Severity != "sev2" || len(ev.Body) == 0 {
				t.Errorf("event %q: %v", body.String(), err)
			}
			mu.Lock()
			titles[ev.Title]++
			mu.Unlock()
		}))
		res, err := Drive(context.Background(), Load{URL: srv.URL + "/x/push-events", Pattern: p, Titles: 5, Connections: 4, Requests: 200, Nonce: "t"})
		srv.Close() // waits for the handlers
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != 200 || res.Errors != 0 || res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
			t.Fatalf("%s: %+v", p, res)
		}
		switch {
		case p == NewTitles && len(titles) < 200:
			t.Fatalf("new titles: %d distinct titles for %d events", len(titles), res.Requests)
		case p == RepeatTitles && len(titles) != 5:
			t.Fatalf("repeating titles: %d distinct titles, want 5", len(titles))
		}
	}
}

func TestDriveCountsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(503)
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	res, err := Drive(context.Background(), Load{URL: srv.URL, Connections: 2, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.Errors == 0 || !strings.Contains(res.FirstErr, "503") {
		t.Fatalf("refusals: %+v", res)
	}
}

func TestNoopHandlerRefusesWhatIsNotAnObject(t *testing.T) {
	for body, want := range map[string]int{`{"title":"x"}`: 200, `null`: 400, `[1]`: 400, `{`: 400} {
		w := httptest.NewRecorder()
		NoopHandler().ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if w.Code != want {
			t.Errorf("%s: %d, want %d", body, w.Code, want)
		}
	}
}

func TestMedians(t *testing.T) {
	m := func(run int, target string, n int64) Measurement {
		return Measurement{Run: run, Target: target, Result: Result{Requests: n, Elapsed: time.Second}}
	}
	got := Medians([]Measurement{m(1, "no-op", 100), m(1, "new", 40), m(2, "no-op", 300), m(2, "new", 60), m(3, "no-op", 200), m(3, "new", 50)})
	if len(got) != 2 || got[0].Result.Requests != 200 || got[1].Result.Requests != 50 || got[1].Ratio != 0.25 {
		t.Fatalf("medians: %+v", got)
	}
}

// readTee copies what the handler reads of r's body into into.
func readTee(r *http.Request, into *strings.Builder) *teeBody {
	return &teeBody{r: r.Body, into: into}
}

type teeBody struct {
	r    interface{ Read([]byte) (int, error) }
	into *strings.Builder
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.into.Write(p[:n])
	return n, err
}

func (t *teeBody) Close() error { return nil }
