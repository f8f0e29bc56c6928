package storage

import (
	"context"
	"fmt"
	"testing"

	"klaxon/incidents"
)

// TallyIncidents reads the sort key's first character as the severity; this
// holds it to what CountIncidents says, whatever the schema becomes.
func TestTallyIncidentsAgreesWithCountIncidents(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	sevs := []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity}
	prios := []incidents.Priority{"p1", "p5", incidents.NoPriority}
	for i := 0; i < 40; i++ {
		ingest(t, db, integ, incidents.Event{Title: fmt.Sprint("t", i), Severity: sevs[i%4], Priority: prios[i%3]})
	}
	for i := 0; i < 40; i += 3 {
		ingest(t, db, integ, incidents.Event{Title: fmt.Sprint("t", i), Action: incidents.Resolve})
	}
	ingest(t, db, integ, incidents.Event{Title: "t1"}) // a suppressed repeat
	tally, err := db.TallyIncidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, sev := range sevs {
		want, err := db.CountIncidents(ctx, incidents.Filter{Status: "open", Severity: &sev})
		if err != nil {
			t.Fatal(err)
		}
		if tally.Open[sev] != want || want == 0 {
			t.Errorf("open %q: tally %d, count %d", sev, tally.Open[sev], want)
		}
	}
	if want, _ := db.CountIncidents(ctx, incidents.Filter{Status: "resolved"}); tally.Resolved != want || want == 0 {
		t.Errorf("resolved: tally %d, count %d", tally.Resolved, want)
	}
	if n, err := db.CountSuppressed(ctx); err != nil || n != 1 {
		t.Errorf("suppressed %d, %v", n, err)
	}
	if n, err := db.CountRequests(ctx); err != nil || n != 55 {
		t.Errorf("requests %d, %v", n, err)
	}
}
