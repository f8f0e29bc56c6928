package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// run runs cmd as Bubble Tea would, and returns its message.
func run(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	return cmd()
}

// Under a storm of changes the console counts again only after a pause that
// grows with how long counting took, so that it cannot take the CPU the
// receiver beside it needs.
func TestCountsPauseUnderAStormOfChanges(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "one", sev: incidents.Sev1})
	tl := newCommon(f.svc, f.options()).tally
	for _, c := range []struct {
		took, pause time.Duration
	}{{50 * time.Millisecond, 450 * time.Millisecond}, {100 * time.Microsecond, 100 * time.Millisecond}} {
		// A count is in flight and changes came meanwhile.
		tl.loading, tl.dirty = true, true
		start := time.Now()
		msg := run(t, tl.update(countsMsg{gen: tl.gen, took: c.took}))
		if _, ok := msg.(countsDueMsg); !ok || time.Since(start) < c.pause {
			t.Fatalf("after a count of %v: %T after %v, want a pause of %v first", c.took, msg, time.Since(start), c.pause)
		}
		if cmd := tl.refresh(); cmd != nil || !tl.dirty {
			t.Fatal("a change during the pause started a count")
		}
		if msg := run(t, tl.update(msg)); msg.(countsMsg).c.open != 1 {
			t.Fatalf("the count after the pause: %+v", msg)
		}
		if tl.dirty {
			t.Fatal("the count after the pause will be followed by another for the same changes")
		}
	}
}

// A new filter makes what is in flight stale and the tabs' counts unknown.
func TestCountsStartOverForANewFilter(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "disk full", sev: incidents.Sev1})
	f.ingest(event{title: "cpu high", sev: incidents.Sev2})
	c := newCommon(f.svc, f.options())
	tl := c.tally
	stale := run(t, tl.refresh())
	c.query = "disk"
	fresh := tl.filtered()
	if tl.counts.open != -1 {
		t.Fatal("the open count is known before it is counted with the filter")
	}
	tl.update(stale)
	if tl.loaded {
		t.Fatal("a count from before the filter was taken")
	}
	tl.update(run(t, fresh))
	if tl.counts.open != 1 || tl.counts.sev != [4]int{1, 1, 0, 0} {
		t.Fatalf("counts %+v: want 1 open with the filter, the header whole", tl.counts)
	}
}
