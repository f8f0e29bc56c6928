package incidents_test

import (
	"context"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

// nextIncidentChange returns the next change about an incident on ch,
// skipping journal entries.
func nextIncidentChange(t *testing.T, ch <-chan incidents.Change) incidents.Change {
	t.Helper()
	for {
		select {
		case c := <-ch:
			if c.Incident != nil || c.Resync {
				return c
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change")
		}
	}
}

// Every change names what happened, so that a subscriber never guesses it
// from the incident's fields.
func TestChangesNameWhatHappened(t *testing.T) {
	_, svc, integ := testkit.Service(t, "default")
	ctx := context.Background()
	ch, cancel := svc.Subscribe()
	defer cancel()
	ingest := func(action incidents.Action) *incidents.Incident {
		t.Helper()
		res, err := svc.Ingest(ctx, integ, incidents.Event{Key: "disk full", Title: "disk full", Severity: incidents.Sev1, Action: action},
			&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Incident
	}
	expect := func(what string, want incidents.ChangeKind) incidents.Change {
		t.Helper()
		c := nextIncidentChange(t, ch)
		if c.Kind != want {
			t.Fatalf("%s: change %q, want %q", what, c.Kind, want)
		}
		return c
	}

	in := ingest(incidents.Trigger)
	expect("a new incident", incidents.ChangeCreated)
	ingest(incidents.Trigger)
	if c := expect("a repeat", incidents.ChangeSuppressed); c.Incident.Suppressed != 1 {
		t.Fatalf("the repeat's change carries %d suppressed", c.Incident.Suppressed)
	}
	svc.Realerted(in)
	if c := expect("a re-alert", incidents.ChangeRealert); c.Incident.ID != in.ID {
		t.Fatalf("re-alert of #%d, want #%d", c.Incident.ID, in.ID)
	}
	for _, a := range []struct {
		kind incidents.EntryKind
		want incidents.ChangeKind
	}{
		{incidents.EntryAcknowledged, incidents.ChangeAcknowledged},
		{incidents.EntryUnacknowledged, incidents.ChangeUnacknowledged},
		{incidents.EntrySeverityChanged, incidents.ChangeSeverity},
		{incidents.EntryPriorityChanged, incidents.ChangePriority},
	} {
		action := incidents.PersonAction{Kind: a.kind, By: incidents.ByConsole, Severity: incidents.Sev2, Priority: "p2"}
		if _, err := svc.Act(ctx, in.ID, action); err != nil {
			t.Fatal(err)
		}
		expect(string(a.kind), a.want)
	}
	ingest(incidents.Resolve)
	expect("a sender's resolve", incidents.ChangeResolved)
}

func TestPublishNamesAChangeFromItsOutcome(t *testing.T) {
	b := incidents.NewBroker()
	ch, cancel := b.Subscribe()
	defer cancel()
	b.Publish(incidents.Change{Incident: &incidents.Incident{ID: 1}, Outcome: incidents.AckedBy})
	b.Publish(incidents.Change{Incident: &incidents.Incident{ID: 1}, Outcome: incidents.Folded, Kind: incidents.ChangeRealert})
	if c := <-ch; c.Kind != incidents.ChangeAcknowledged {
		t.Fatalf("an acknowledging event's change is %q", c.Kind)
	}
	if c := <-ch; c.Kind != incidents.ChangeRealert {
		t.Fatalf("a named change was renamed %q", c.Kind)
	}
}

func TestTimerChangesNameWhatTheyDid(t *testing.T) {
	_, svc, integ := testkit.Service(t, "default")
	ctx := context.Background()
	res, err := svc.Ingest(ctx, integ, incidents.Event{Key: "slow", Title: "slow", Action: incidents.Trigger},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetTimers(ctx, "default", incidents.Timers{AckTimeout: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Acknowledge(ctx, res.Incident.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	ch, cancel := svc.Subscribe()
	defer cancel()
	time.Sleep(5 * time.Millisecond)
	if n, err := svc.RunTimers(ctx); n != 1 || err != nil {
		t.Fatalf("timers changed %d: %v", n, err)
	}
	if c := nextIncidentChange(t, ch); c.Kind != incidents.ChangeUnacknowledged {
		t.Fatalf("an acknowledge timeout's change is %q", c.Kind)
	}
}

// announcingStore is a store shared by several nodes, as far as re-alerts
// go: it records what it is asked to announce.
type announcingStore struct {
	incidents.Store
	announced []int64
}

func (s *announcingStore) AnnounceRealert(ctx context.Context, id int64) error {
	s.announced = append(s.announced, id)
	return nil
}

// A re-alert commits nothing, so a store other nodes share is asked to
// tell them of it (incidents.RealertAnnouncer), besides this node's broker.
func TestRealertIsAnnouncedToOtherNodes(t *testing.T) {
	db, _, _ := testkit.Service(t, "default")
	store := &announcingStore{Store: db}
	svc := incidents.NewService(store, nil)
	ch, cancel := svc.Subscribe()
	defer cancel()
	svc.Realerted(&incidents.Incident{ID: 42, Status: incidents.Triggered})
	if c := nextIncidentChange(t, ch); c.Kind != incidents.ChangeRealert || c.Incident.ID != 42 {
		t.Fatalf("this node heard %+v", c)
	}
	if len(store.announced) != 1 || store.announced[0] != 42 {
		t.Fatalf("announced %v, want [42]", store.announced)
	}
}
