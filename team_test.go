package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

// Two klaxon nodes (real processes) on one PostgreSQL are one klaxon: an
// integration made on one works on the other; a trigger on one and a
// repeat on the other fold; 400 concurrent events over 20 titles spread
// over both make exactly 20 incidents whose counters add up; an event
// stream on B sees an event sent to A within 2 s; an acknowledge on A shows
// on B; SIGKILL of A under load loses no answered event, B keeps taking
// them, and A restarted lists the same incidents.
func TestTwoNodesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	db := testkit.PostgresURL(t)
	bin := buildKlaxon(t)
	t.Setenv("KLAXON_API_TOKEN", "team-api-token") // one token for the team's nodes
	dirA, dirB := t.TempDir(), t.TempDir()
	nodeA, baseA := startServe(t, bin, dirA, "--database", db)
	_, baseB := startServe(t, bin, dirB, "--database", db)
	a := klaxonAPI{t: t, base: baseA, token: "team-api-token"}
	b := klaxonAPI{t: t, base: baseB, token: "team-api-token"}

	token := a.integration("team", incidents.KindWebhook)
	post := func(base, title string) (int, map[string]any) {
		resp, err := http.Post(base+"/"+token+"/push-events", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	// Made on A, used on B at once.
	if st, out := post(baseB, "disk full on db-1"); st != 200 || out["action"] != "created" {
		t.Fatalf("B with A's new integration: %d %v", st, out)
	}
	if st, out := post(baseA, "disk full on db-1"); st != 200 || out["action"] != "suppressed" {
		t.Fatalf("the repeat on A: %d %v", st, out)
	}

	// B's event stream hears what A takes.
	req, _ := http.NewRequest("GET", baseB+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer team-api-token")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	heard := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			heard <- sc.Text()
		}
	}()
	sent := time.Now()
	post(baseA, "heard across nodes")
	deadline := time.After(2 * time.Second)
wait:
	for {
		select {
		case line := <-heard:
			if strings.Contains(line, "heard across nodes") {
				t.Logf("B's stream heard A's event after %s", time.Since(sent).Round(time.Millisecond))
				break wait
			}
		case <-deadline:
			t.Fatal("B's stream did not hear A's event within 2 s")
		}
	}

	// 400 events over 20 titles, spread over both nodes, all at once.
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := []string{baseA, baseB}[i%2]
			if st, _ := post(base, fmt.Sprintf("storm title %02d", i%20)); st != 200 {
				failed.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of 400 events were not taken", failed.Load())
	}
	var page struct{ Incidents []*incidents.Incident }
	b.do("GET", "/api/v1/incidents?q=storm+title&limit=1000", nil, &page)
	var total int64
	for _, in := range page.Incidents {
		total += 1 + in.Suppressed
	}
	if len(page.Incidents) != 20 || total != 400 {
		t.Fatalf("%d incidents for 20 titles, events counted %d of 400", len(page.Incidents), total)
	}

	// An acknowledge on A shows on B.
	id := page.Incidents[0].ID
	if st := a.do("POST", fmt.Sprintf("/api/v1/incidents/%d/acknowledge", id), nil, nil); st != 200 {
		t.Fatalf("ack on A: %d", st)
	}
	var onB incidents.Incident
	b.do("GET", fmt.Sprintf("/api/v1/incidents/%d", id), nil, &onB)
	if onB.Status != incidents.Acknowledged {
		t.Fatalf("B sees #%d as %s after A acknowledged it", id, onB.Status)
	}

	// SIGKILL of A while both take load: every 200 is in the database, and
	// B keeps answering.
	var (
		mu       sync.Mutex
		answered []string
		stop     = make(chan struct{})
		bAfter   atomic.Int64
		killed   atomic.Bool
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				base := []string{baseA, baseB}[w%2]
				title := fmt.Sprintf("kill %d-%d", w, i)
				if st, _ := post(base, title); st == 200 {
					mu.Lock()
					answered = append(answered, title)
					mu.Unlock()
					if base == baseB && killed.Load() {
						bAfter.Add(1)
					}
				}
			}
		}(w)
	}
	time.Sleep(700 * time.Millisecond)
	nodeA.Process.Kill()
	nodeA.Wait()
	killed.Store(true)
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	if bAfter.Load() == 0 {
		t.Fatal("B took no event after A was killed")
	}
	_, baseA2 := startServe(t, bin, dirA, "--database", db)
	a2 := klaxonAPI{t: t, base: baseA2, token: "team-api-token"}
	have := map[string]bool{}
	for cursor := ""; ; {
		var page struct {
			Incidents  []*incidents.Incident
			NextCursor string `json:"next_cursor"`
		}
		a2.do("GET", "/api/v1/incidents?q=kill&limit=1000&cursor="+url.QueryEscape(cursor), nil, &page)
		for _, in := range page.Incidents {
			have[in.Title] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	lost := 0
	for _, title := range answered {
		if !have[title] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d answered events are missing after A was killed", lost, len(answered))
	}
	t.Logf("SIGKILL of A under load: %d answered 200 (%d by B after the kill), 0 lost; A restarted lists them", len(answered), bAfter.Load())
	var again struct{ Incidents []*incidents.Incident }
	a2.do("GET", "/api/v1/incidents?q=storm+title&limit=1000", nil, &again)
	if len(again.Incidents) != 20 {
		t.Fatalf("A restarted lists %d storm incidents, want 20", len(again.Incidents))
	}
}
