package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"klaxon/incidents"
)

func TestPruneKeepsOpenIncidents(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	ctx := context.Background()
	var resolvedIDs []int64
	for i := 0; i < 8; i++ {
		title := fmt.Sprintf("r%d", i)
		ingest(t, db, integ, incidents.Event{Title: title})
		r := ingest(t, db, integ, incidents.Event{Title: title, Action: incidents.Resolve})
		resolvedIDs = append(resolvedIDs, r.Incident.ID)
	}
	open := ingest(t, db, integ, incidents.Event{Title: "still open"}).Incident.ID
	old := ingest(t, db, integ, incidents.Event{Title: "old but open"}).Incident.ID
	_ = old
	db.Journal(ctx, &incidents.Request{At: clock.Add(-30 * 24 * time.Hour), Status: 400, Response: json.RawMessage(`{}`)})

	// By count: keep the 3 newest resolved.
	gone, reqs, err := db.Prune(ctx, Retention{ResolvedCount: 3}, clock)
	if err != nil || gone != 5 || reqs != 0 {
		t.Fatalf("prune by count: %d incidents, %d requests, %v", gone, reqs, err)
	}
	for i, id := range resolvedIDs {
		_, err := db.Incident(ctx, id)
		if kept := err == nil; kept != (i >= 5) {
			t.Fatalf("resolved #%d kept=%v", id, kept)
		}
	}
	// By age: everything resolved before now+1h goes; open ones stay; the old journal entry goes.
	gone, reqs, err = db.Prune(ctx, Retention{ResolvedFor: time.Hour, JournalFor: 24 * time.Hour}, clock.Add(2*time.Hour))
	if err != nil || gone != 3 || reqs != 1 {
		t.Fatalf("prune by age: %d incidents, %d requests, %v", gone, reqs, err)
	}
	n, _ := db.CountIncidents(ctx, incidents.Filter{Status: "all"})
	if n != 2 {
		t.Fatalf("left %d incidents, want the 2 open ones", n)
	}
	if in, err := db.Incident(ctx, open); err != nil || in.Status != incidents.Triggered {
		t.Fatalf("open incident: %v", err)
	}
	var orphans int
	db.reader.QueryRow(`SELECT count(*) FROM timeline WHERE incident_id NOT IN (SELECT id FROM incidents)`).Scan(&orphans)
	if orphans != 0 {
		t.Fatalf("%d timeline entries outlived their incident", orphans)
	}
}
