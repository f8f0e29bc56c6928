package receiver

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

// Each data line of the stream is the incident's JSON as before, with one
// field added: the change, what happened to it.
func TestStreamSaysWhatHappened(t *testing.T) { onBoth(t, testStreamSaysWhatHappened) }

func testStreamSaysWhatHappened(t *testing.T, backend testkit.Backend) {
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
	a := h.post(`{"title":"live","severity":"sev1"}`)
	h.post(`{"title":"live","severity":"sev1"}`)
	in, err := h.svc.Acknowledge(context.Background(), a.Incident, incidents.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	h.svc.Realerted(in)
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() && len(got) < 4 {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var v struct {
			ID       int64  `json:"id"`
			Title    string `json:"title"`
			Status   string `json:"status"`
			Severity string `json:"severity"`
			Change   string `json:"change"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if v.ID != a.Incident || v.Title != "live" || v.Severity != "sev1" {
			t.Fatalf("the line is not the incident: %s", line)
		}
		got = append(got, v.Change+"/"+v.Status)
	}
	if want := "created/triggered suppressed/triggered acknowledged/acknowledged realert/acknowledged"; strings.Join(got, " ") != want {
		t.Fatalf("stream: %v, want %s", got, want)
	}
}
