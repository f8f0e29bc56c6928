package tui

import (
	"context"
	"fmt"
	"testing"

	"klaxon/incidents"
)

func TestResyncReloadsEverything(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 100, 24)
	// Ingest while the console is not reading its messages: the first change
	// wakes the listener, the rest overflow the subscriber's buffer and the
	// broker replaces them with one resync.
	const n = 700 // 1,400 changes (incident and request each) > SubscriberBuffer
	f.seed(n, func(i int) event { return event{title: fmt.Sprintf("storm %d", i), sev: incidents.Sev2, untimed: true} })
	d.until("the storm", func(m *Model) bool {
		return m.c.tally.loaded && m.c.tally.counts.open == n && m.open().win.Len() == chunkSize
	})
	d.settle()
	if d.handled["tui.changesMsg"] > 4 {
		t.Fatalf("%d change messages for a burst; queued changes should be drained together", d.handled["tui.changesMsg"])
	}
	if !d.m.open().win.more() || d.m.c.tally.counts.requests != n {
		t.Fatalf("more %v, requests %d", d.m.open().win.more(), d.m.c.tally.counts.requests)
	}
	// Still live afterwards.
	x := f.ingest(event{title: "after the storm", sev: incidents.Sev1})
	d.until("a change after the resync", func(m *Model) bool { return m.hasOpen(x.ID) })
}

func TestResyncMessageReloadsStaleViews(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 100, 24)
	// Write straight to storage: the Service publishes nothing, so only a
	// resync can bring these to the screen.
	for i := 0; i < 3; i++ {
		_, err := f.db.Ingest(context.Background(), f.integ, incidents.Event{Key: fmt.Sprint(i), Title: fmt.Sprint("quiet ", i), Action: incidents.Trigger},
			&incidents.Request{At: t0, Method: "POST", Path: "/default/push-events"})
		if err != nil {
			t.Fatal(err)
		}
	}
	d.settle()
	if d.m.open().win.Len() != 0 {
		t.Fatal("rows appeared without a change")
	}
	d.send(changesMsg{n: 1, incidents: map[int64]bool{}, resync: true})
	d.settle()
	if d.m.open().win.Len() != 3 || d.m.c.tally.counts.open != 3 || d.m.c.tally.counts.requests != 3 {
		t.Fatalf("after resync: %d rows, counts %+v", d.m.open().win.Len(), d.m.c.tally.counts)
	}
	if !d.m.requests().win.stale || !d.m.suppressed().win.stale {
		t.Fatal("views not on screen should be read again when shown")
	}
	d.key("4")
	d.settle()
	if d.m.requests().win.Len() != 3 {
		t.Fatalf("Requests view shows %d after resync", d.m.requests().win.Len())
	}
}

func TestQuitEndsTheSubscription(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.key("q")
	if !d.m.sub.ended() {
		t.Fatal("q did not close the subscription")
	}
	d.settle()
	if d.m.c.status.err {
		t.Fatalf("quitting reported an error: %q", d.m.c.status.text)
	}
}

func TestLiveUpdatesStoppingIsShown(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.send(changesMsg{closed: true})
	if d.m.c.live || !d.m.c.status.err || !screenHas(&d.m, "not live") {
		t.Fatalf("a subscription the source ended is not shown:\n%s", d.m.View())
	}
	// A view key reads again.
	x := f.ingest(event{title: "while deaf", sev: incidents.Sev1})
	d.key("1")
	d.settle()
	if !d.m.hasOpen(x.ID) {
		t.Fatal("a view key did not reload")
	}
}

func TestReadErrorsAreShownNotFatal(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "before the disk went away", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	f.db.Close() // every read fails from now on
	d.send(changesMsg{n: 1, incidents: map[int64]bool{1: true}})
	d.settle()
	if !screenHas(&d.m, "cannot read") || !screenHas(&d.m, "before the disk went away") {
		t.Fatalf("a failed reload should keep the rows and say why:\n%s", d.m.View())
	}
	d.key("a") // acting fails too, and says so
	d.until("the failure", func(m *Model) bool { return m.c.status.err })
	d.key("enter")
	d.settle()
	if !screenHas(&d.m, "✗") {
		t.Fatalf("a failed detail load is not shown:\n%s", d.m.View())
	}
}
