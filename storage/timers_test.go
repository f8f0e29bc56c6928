package storage

import (
	"context"
	"testing"
	"time"

	"klaxon/incidents"
)

func TestTimers(t *testing.T) {
	db := openTemp(t, Options{})
	ctx := context.Background()
	integ := &incidents.Integration{Name: "timed", Service: "s", Kind: incidents.KindWebhook, Token: incidents.NewToken(),
		CreatedAt: clock, AckTimeout: 30 * time.Minute}
	if err := db.CreateIntegration(ctx, integ); err != nil {
		t.Fatal(err)
	}
	untimed := mustIntegration(t, db, "untimed")
	acked := ingest(t, db, integ, incidents.Event{Title: "acked"}).Incident
	quiet := ingest(t, db, integ, incidents.Event{Title: "quiet"}).Incident
	other := ingest(t, db, untimed, incidents.Event{Title: "no timers"}).Incident
	db.Act(ctx, acked.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock)
	db.Act(ctx, other.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock)

	// Not yet due.
	if changed, err := db.ApplyTimers(ctx, clock.Add(29*time.Minute)); err != nil || len(changed) != 0 {
		t.Fatalf("early: %v %v", changed, err)
	}
	changed, err := db.ApplyTimers(ctx, clock.Add(31*time.Minute))
	if err != nil || len(changed) != 1 || changed[0].ID != acked.ID || changed[0].Status != incidents.Triggered {
		t.Fatalf("ack timeout: %+v %v", changed, err)
	}
	in, _ := db.Incident(ctx, acked.ID)
	last := in.Timeline[len(in.Timeline)-1]
	if last.Kind != incidents.EntryUnacknowledged || last.By != incidents.ByTimer {
		t.Fatalf("timeline: %+v", last)
	}

	// Resolve timer: 1h after last seen; a repeat moves it.
	if err := db.SetTimers(ctx, "timed", incidents.Timers{ResolveAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(50 * time.Minute)
	ingest(t, db, integ, incidents.Event{Title: "quiet"}) // seen again
	changed, _ = db.ApplyTimers(ctx, clock.Add(30*time.Minute))
	if len(changed) != 1 || changed[0].ID != acked.ID || changed[0].Status != incidents.Resolved || changed[0].ResolvedBy != incidents.ByTimer {
		t.Fatalf("resolve timer: %+v", changed)
	}
	changed, _ = db.ApplyTimers(ctx, clock.Add(61*time.Minute))
	if len(changed) != 1 || changed[0].ID != quiet.ID {
		t.Fatalf("resolve after quiet: %+v", changed)
	}
	if in, _ := db.Incident(ctx, other.ID); in.Status != incidents.Acknowledged {
		t.Fatal("an integration without timers was touched")
	}
	if err := db.SetTimers(ctx, "nope", incidents.Timers{}); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("unknown integration: %v", err)
	}
	all, _ := db.Integrations(ctx)
	if all[0].ResolveAfter != time.Hour || all[0].AckTimeout != 0 {
		t.Fatalf("stored timers: %+v", all[0])
	}
}
