package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
)

// TestIncidentsSayWhatTheyLeaveOut: klaxon incidents lists 1,000 by
// default and says on stderr how many it left out; --limit N and --limit 0
// (all, paging through the API's cursor) list that many; --json carries the
// next cursor and the total, and --cursor takes up where it stopped. Against
// the data directory and against a running klaxon alike.
func TestIncidentsSayWhatTheyLeaveOut(t *testing.T) {
	const n = 5004
	addr, dir := freeAddr(t), t.TempDir()
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		app, err := OpenApp(ctx, Config{Listen: addr, DataDir: dir}, &syncBuffer{})
		if err != nil {
			t.Fatal(err)
		}
		evs := make([]incidents.Event, n)
		for i := range evs {
			evs[i] = incidents.Event{Key: fmt.Sprintf("disk %d", i), Title: fmt.Sprintf("disk %d full", i), Action: incidents.Trigger}
		}
		if _, err := app.Service.IngestAll(ctx, app.Default, evs, &incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"}, nil); err != nil {
			t.Fatal(err)
		}
		cancel()
		app.Run(ctx)
		app.Close()
	}()
	common := []string{"--listen", addr, "--data-dir", dir}
	check := func(t *testing.T) {
		code, out, errOut := run(t, append([]string{"incidents"}, common...)...)
		if rows := strings.Count(out, "\n") - 1; code != 0 || rows != 1000 {
			t.Fatalf("incidents: %d, %d rows; %q", code, rows, errOut)
		}
		if want := "showing 1,000 of 5,004 (--limit 0 for all)\n"; errOut != want {
			t.Fatalf("stderr %q, want %q", errOut, want)
		}
		code, out, errOut = run(t, append([]string{"incidents", "--limit", "0"}, common...)...)
		if rows := strings.Count(out, "\n") - 1; code != 0 || rows != n || errOut != "" {
			t.Fatalf("--limit 0: %d, %d rows; %q", code, rows, errOut)
		}
		code, out, errOut = run(t, append([]string{"incidents", "--limit", "5004"}, common...)...)
		if rows := strings.Count(out, "\n") - 1; code != 0 || rows != n || errOut != "" {
			t.Fatalf("--limit 5004: %d, %d rows; %q", code, rows, errOut)
		}
		code, out, errOut = run(t, append([]string{"incidents", "--format", "ndjson", "--limit", "7"}, common...)...)
		if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(errOut, "showing 7 of 5,004") {
			t.Fatalf("ndjson --limit 7: %d %q", code, errOut)
		}

		type page struct {
			Incidents  []incidents.Incident
			NextCursor *string `json:"next_cursor"`
			Total      *int
		}
		code, out, errOut = run(t, append([]string{"incidents", "--json", "--limit", "1003"}, common...)...)
		var first page
		if err := json.Unmarshal([]byte(out), &first); code != 0 || err != nil || len(first.Incidents) != 1003 ||
			first.Total == nil || *first.Total != n || first.NextCursor == nil || *first.NextCursor == "" {
			t.Fatalf("--json --limit 1003: %d %v, %d incidents, total %v, cursor %v; %q", code, err, len(first.Incidents), first.Total, first.NextCursor, errOut)
		}
		code, out, _ = run(t, append([]string{"incidents", "--json", "--limit", "0", "--cursor", *first.NextCursor}, common...)...)
		var rest page
		if err := json.Unmarshal([]byte(out), &rest); code != 0 || err != nil || len(rest.Incidents) != n-1003 ||
			rest.NextCursor == nil || *rest.NextCursor != "" || rest.Total == nil || *rest.Total != n {
			t.Fatalf("--cursor: %d %v, %d incidents, cursor %v, total %v", code, err, len(rest.Incidents), rest.NextCursor, rest.Total)
		}
		seen := map[int64]bool{}
		for _, in := range append(first.Incidents, rest.Incidents...) {
			if seen[in.ID] {
				t.Fatalf("#%d listed twice across the cursor", in.ID)
			}
			seen[in.ID] = true
		}
		if len(seen) != n {
			t.Fatalf("%d incidents across both pages, want %d", len(seen), n)
		}
		code, out, _ = run(t, append([]string{"incidents", "--json", "--limit", "0"}, common...)...)
		var all page
		if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil || len(all.Incidents) != n || all.Total == nil || *all.Total != n {
			t.Fatalf("--json --limit 0: %d %v %d", code, err, len(all.Incidents))
		}
		if code, _, errOut := run(t, append([]string{"incidents", "--limit", "-1"}, common...)...); code != 2 || !strings.Contains(errOut, "--limit") {
			t.Fatalf("--limit -1: %d %q", code, errOut)
		}
	}
	t.Run("the data directory", check)
	startServe(t, addr, dir)
	t.Run("a running klaxon", check)
}
