package bench

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// A paced load sends no more events than fall due, each a well-formed event,
// counts refusals, and times each event from when it fell due.
func TestDrivePaced(t *testing.T) {
	var (
		mu     sync.Mutex
		titles = map[string]bool{}
	)
	send := func(ctx context.Context, body []byte) (int, error) {
		var ev struct{ Title string }
		if err := json.Unmarshal(body, &ev); err != nil || ev.Title == "" {
			t.Errorf("event %q: %v", body, err)
		}
		mu.Lock()
		titles[ev.Title] = true
		mu.Unlock()
		return 200, nil
	}
	res, err := DrivePaced(context.Background(), Paced{Pattern: NewTitles, Rate: 1000, Workers: 8, Duration: 300 * time.Millisecond, Nonce: "p", Send: send})
	if err != nil {
		t.Fatal(err)
	}
	// 300 events fall due in the window; an instant receiver takes most of
	// them however the machine schedules the workers.
	if res.Requests > 301 || res.Requests < 100 || res.Errors != 0 || len(titles) < int(res.Requests) {
		t.Fatalf("%+v, %d distinct titles", res, len(titles))
	}

	refuse := func(context.Context, []byte) (int, error) { return 503, nil }
	if res, _ := DrivePaced(context.Background(), Paced{Rate: 500, Workers: 2, Duration: 100 * time.Millisecond, Send: refuse}); res.Errors == 0 || res.Requests != 0 || res.FirstErr != "answered 503" {
		t.Fatalf("refusals: %+v", res)
	}

	// Two workers that take 10 ms each cannot keep up with 1,000 events a
	// second: the events wait behind the schedule, and it shows.
	slow := func(context.Context, []byte) (int, error) {
		time.Sleep(10 * time.Millisecond)
		return 200, nil
	}
	res, err = DrivePaced(context.Background(), Paced{Rate: 1000, Workers: 2, Duration: 300 * time.Millisecond, Send: slow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests > 62 || res.P99 < 100*time.Millisecond || res.Unsent < 200 {
		t.Fatalf("a receiver that falls behind: %+v", res)
	}

	if _, err := DrivePaced(context.Background(), Paced{Send: send}); err == nil {
		t.Fatal("a paced load without a rate")
	}
}
