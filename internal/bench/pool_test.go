package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A paced load over loopback reuses idle connections, opens more only while
// all are busy, and sends what the receiver takes.
func TestConnPoolReusesConnections(t *testing.T) {
	var events atomic.Int64
	noop := NoopHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events.Add(1)
		noop.ServeHTTP(w, r)
	}))
	defer srv.Close()
	pool, err := newConnPool(srv.URL + "/x/push-events")
	if err != nil {
		t.Fatal(err)
	}
	res, err := DrivePaced(context.Background(), Paced{Pattern: NewTitles, Rate: 1000, Workers: 100,
		Duration: 300 * time.Millisecond, Nonce: "pool", Send: pool.send})
	if err != nil {
		t.Fatal(err)
	}
	opened := pool.opened()
	pool.close()
	if res.Errors != 0 || res.Requests < 100 || events.Load() < res.Requests {
		t.Fatalf("%+v, %d events received", res, events.Load())
	}
	// 300 events at 1 ms intervals to a handler that answers in well under
	// that: a few connections, not one per worker or per event.
	if opened >= 50 {
		t.Fatalf("%d connections for %d events", opened, events.Load())
	}
	if _, err := newConnPool("https://example.com/"); err == nil {
		t.Fatal("an https URL")
	}
}

// A stalled receiver shows in the latency of every event that fell due
// while it stalled, and a load generator that falls behind counts what it
// never sent.
func TestDrivePacedCountsStallsAndUnsent(t *testing.T) {
	var stalled atomic.Bool
	send := func(ctx context.Context, body []byte) (int, error) {
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			return 0, err
		}
		if stalled.CompareAndSwap(false, true) {
			time.Sleep(100 * time.Millisecond)
		}
		return 200, nil
	}
	res, err := DrivePaced(context.Background(), Paced{Rate: 1000, Workers: 1, Duration: 200 * time.Millisecond, Send: send})
	if err != nil {
		t.Fatal(err)
	}
	// One worker: the stall of the first event delays the next hundred.
	if res.P99 < 50*time.Millisecond || res.Max < 90*time.Millisecond {
		t.Fatalf("the stall does not show: %+v", res)
	}
	if res.Requests+res.Unsent > 201 || res.Requests+res.Unsent < 199 {
		t.Fatalf("200 events fell due; %d answered and %d unsent", res.Requests, res.Unsent)
	}
}

// The window is told when it opens, after the warm-up, and when it closes,
// so what the server used is read over the counted window alone. (On a busy
// machine the goroutine that tells it may run a little late.)
func TestWindowIsTheCountedWindow(t *testing.T) {
	srv := httptest.NewServer(NoopHandler())
	defer srv.Close()
	type mark struct {
		end bool
		at  time.Time
	}
	for _, paced := range []bool{false, true} {
		var marks []mark
		window := func(end bool) { marks = append(marks, mark{end, time.Now()}) }
		start := time.Now()
		var err error
		if paced {
			pool, _ := newConnPool(srv.URL)
			_, err = DrivePaced(context.Background(), Paced{Rate: 200, Workers: 4, Warmup: 100 * time.Millisecond,
				Duration: 200 * time.Millisecond, Send: pool.send, Window: window})
			pool.close()
		} else {
			_, err = Drive(context.Background(), Load{URL: srv.URL, Connections: 2, Warmup: 100 * time.Millisecond,
				Duration: 200 * time.Millisecond, Window: window})
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) != 2 || marks[0].end || !marks[1].end {
			t.Fatalf("paced %v: %+v", paced, marks)
		}
		if from, took := marks[0].at.Sub(start), marks[1].at.Sub(marks[0].at); from < 100*time.Millisecond || took < 100*time.Millisecond || from+took < 300*time.Millisecond || took > time.Second {
			t.Fatalf("paced %v: the window opened after %v and lasted %v", paced, from, took)
		}
	}
}
