package tui

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

func TestSelectionFollowsTheIncidentAsOthersArriveAbove(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "queue backlog", sev: incidents.Sev2})
	b := f.ingest(event{title: "disk 91% on db-2", sev: incidents.Sev2})
	c := f.ingest(event{title: "cert expiring", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 120, 30)
	// Order: sev2 newest first (b, a), then c.
	if got, want := d.m.openIDs(), []int64{b.ID, a.ID, c.ID}; !slices.Equal(got, want) {
		t.Fatalf("open list = %v, want %v", got, want)
	}
	d.key("j")
	if d.m.selectedID() != a.ID {
		t.Fatalf("selected #%d after j, want #%d", d.m.selectedID(), a.ID)
	}

	// Two sev1 incidents arrive: both sort above the selection.
	x := f.ingest(event{title: "checkout down", sev: incidents.Sev1})
	y := f.ingest(event{title: "payments down", sev: incidents.Sev1})
	d.until("the new incidents on screen", func(m *Model) bool { return m.hasOpen(x.ID) && m.hasOpen(y.ID) })
	d.settle()
	if d.m.selectedID() != a.ID {
		t.Fatalf("after arrivals the selection is #%d, want it to stay on #%d; screen:\n%s", d.m.selectedID(), a.ID, d.m.View())
	}
	if d.m.open().win.sel != 3 {
		t.Fatalf("selected index %d, want 3 (two rows arrived above)", d.m.open().win.sel)
	}

	// Acknowledge it from the keyboard while another arrives above.
	d.key("a")
	z := f.ingest(event{title: "api 5xx", sev: incidents.Sev1})
	d.until("the acknowledgement", func(m *Model) bool {
		in, ok := m.open().win.selected()
		return ok && in.ID == a.ID && in.Status == incidents.Acknowledged && m.hasOpen(z.ID)
	})
	d.settle()
	if d.m.selectedID() != a.ID {
		t.Fatalf("after acting the selection is #%d, want #%d", d.m.selectedID(), a.ID)
	}
	got := f.incident(a.ID)
	if got.Status != incidents.Acknowledged {
		t.Fatalf("stored status %s, want acknowledged", got.Status)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Kind != incidents.EntryAcknowledged || last.By != incidents.ByConsole {
		t.Fatalf("last timeline entry %+v, want acknowledged by console", last)
	}
	if !screenHas(&d.m, "#"+itoa(a.ID)+" acknowledged") {
		t.Fatalf("status line does not say what happened:\n%s", d.m.View())
	}
}

func TestPagingThroughALongList(t *testing.T) {
	f := newFixture(t)
	const n = 1234
	f.seed(n, func(i int) event { return event{title: fmt.Sprintf("page %04d", i), sev: incidents.Sev2} })
	d := drive(t, New(f.svc, f.options()), 100, 24)
	if d.m.open().win.Len() != chunkSize || d.m.c.tally.counts.open != n {
		t.Fatalf("first load holds %d rows (count %d), want one chunk of %d", d.m.open().win.Len(), d.m.c.tally.counts.open, chunkSize)
	}
	all, err := f.svc.ListIncidents(context.Background(), incidents.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := f.svc.ListIncidents(context.Background(), incidents.Filter{Limit: 1000, Cursor: all.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	order := append(all.Items, rest.Items...)
	if len(order) != n {
		t.Fatalf("listed %d", len(order))
	}

	// Page down: the window grows ahead of the selection, and slides.
	for i := 0; i < 60; i++ {
		d.key("pgdown")
		d.settleLoads()
	}
	pos := d.m.open().win.position()
	if d.m.selectedID() != order[pos].ID {
		t.Fatalf("at position %d the selection is #%d, want #%d", pos, d.m.selectedID(), order[pos].ID)
	}
	if pos < 900 || d.m.open().win.Len() > maxChunks*chunkSize {
		t.Fatalf("position %d, window %d rows", pos, d.m.open().win.Len())
	}
	if !screenHas(&d.m, thousands(pos+1)+"/"+thousands(n)) {
		t.Fatalf("the status line does not show %d/%d:\n%s", pos+1, n, d.m.View())
	}
	// End reaches the last incident; Home the first.
	d.key("end")
	d.settle()
	if d.m.selectedID() != order[n-1].ID || d.m.open().win.position() != n-1 {
		t.Fatalf("end: selected #%d at %d, want #%d at %d", d.m.selectedID(), d.m.open().win.position(), order[n-1].ID, n-1)
	}
	// Walking up from the end slides the window back.
	for i := 0; i < 40; i++ {
		d.key("pgup")
		d.settleLoads()
	}
	pos = d.m.open().win.position()
	if d.m.selectedID() != order[pos].ID {
		t.Fatalf("walking back: at %d the selection is #%d, want #%d", pos, d.m.selectedID(), order[pos].ID)
	}
	d.key("home")
	d.settle()
	if d.m.selectedID() != order[0].ID || !d.m.open().win.atStart() {
		t.Fatalf("home: selected #%d, want #%d", d.m.selectedID(), order[0].ID)
	}
}

// A storm can push the selected incident further down than the rows the
// console holds. The selection stays on it: a person who chose an incident
// must never find another one selected without pressing a key.
func TestSelectionStaysOnItsIncidentWhenAStormPushesItFarDown(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "queue backlog", sev: incidents.Sev2})
	a := f.ingest(event{title: "disk 91% on db-2", sev: incidents.Sev2})
	f.ingest(event{title: "cert expiring", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("j")
	if d.m.selectedID() != a.ID {
		t.Fatalf("selected #%d after j, want #%d", d.m.selectedID(), a.ID)
	}
	const storm = 2*maxChunks*chunkSize + 300
	f.seed(storm, func(i int) event { return event{title: fmt.Sprintf("storm %04d", i), sev: incidents.Sev2} })
	d.until("the storm counted", func(m *Model) bool { return m.c.tally.counts.open == storm+3 })
	d.settle()
	if d.m.selectedID() != a.ID {
		t.Fatalf("after %d arrivals above it the selection is #%d, want #%d; screen:\n%s", storm, d.m.selectedID(), a.ID, d.m.View())
	}
	if !screenHas(&d.m, "disk 91% on db-2") || !screenHas(&d.m, thousands(storm+2)+"/"+thousands(storm+3)) {
		t.Fatalf("the selected incident is not on screen at %d/%d:\n%s", storm+2, storm+3, d.m.View())
	}
	// More arrive above the rows the window slid past: the position the
	// status line gives still counts them.
	for i := range 300 {
		f.ingest(event{title: fmt.Sprintf("more %d", i), sev: incidents.Sev2})
	}
	d.until("the second storm counted", func(m *Model) bool { return m.c.tally.counts.open == storm+303 })
	d.settle()
	if d.m.selectedID() != a.ID || !screenHas(&d.m, thousands(storm+302)+"/"+thousands(storm+303)) {
		t.Fatalf("after 300 more the selection is #%d (want #%d) at:\n%s", d.m.selectedID(), a.ID, d.m.View())
	}
	// It can still be acted on, and home still goes to the top.
	d.key("a")
	d.until("the acknowledgement", func(m *Model) bool {
		in, ok := m.open().win.selected()
		return ok && in.ID == a.ID && in.Status == incidents.Acknowledged
	})
	d.key("home")
	d.settle()
	if !d.m.open().win.atStart() || d.m.open().win.position() != 0 {
		t.Fatalf("home: at %d", d.m.open().win.position())
	}
}

// An untouched console does not drift in a storm: until a person moves the
// selection, the cursor stays on the first row and the list on its first
// rows, and reloading reads only those.
func TestUntouchedSelectionStaysOnTheFirstRowInAStorm(t *testing.T) {
	f := newFixture(t)
	first := f.ingest(event{title: "first", sev: incidents.Sev2})
	f.ingest(event{title: "second", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	if d.m.selectedID() != first.ID+1 {
		t.Fatalf("selected #%d, want the first row", d.m.selectedID())
	}
	const storm = 2*maxChunks*chunkSize + 300
	f.seed(storm, func(i int) event { return event{title: fmt.Sprintf("storm %04d", i), sev: incidents.Sev2} })
	d.until("the storm counted", func(m *Model) bool { return m.c.tally.counts.open == storm+2 })
	d.settle()
	top, err := f.svc.ListIncidents(context.Background(), incidents.Filter{Status: "open", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.m.open().win.sel != 0 || d.m.open().win.offset != 0 || !d.m.open().win.atStart() || d.m.selectedID() != top.Items[0].ID {
		t.Fatalf("after a storm the cursor is on row %d (offset %d, at start %v), #%d; want row 0, #%d:\n%s",
			d.m.open().win.sel, d.m.open().win.offset, d.m.open().win.atStart(), d.m.selectedID(), top.Items[0].ID, d.m.View())
	}
	if len(d.m.open().win.chunks) != 1 || !screenHas(&d.m, "1/"+thousands(storm+2)) {
		t.Fatalf("the window holds %d chunks; screen:\n%s", len(d.m.open().win.chunks), d.m.View())
	}
	// Once a person moves it, the selection follows its incident.
	d.key("j")
	chosen := d.m.selectedID()
	x := f.ingest(event{title: "after", sev: incidents.Sev1})
	d.until("the arrival", func(m *Model) bool { return m.hasOpen(x.ID) })
	d.settle()
	if d.m.selectedID() != chosen || d.m.open().win.sel != 2 {
		t.Fatalf("the chosen #%d is not selected (row %d, #%d)", chosen, d.m.open().win.sel, d.m.selectedID())
	}
	// home goes back to the first row, and stays there.
	d.key("home")
	y := f.ingest(event{title: "after home", sev: incidents.Sev1})
	d.until("the arrival", func(m *Model) bool { return m.hasOpen(y.ID) })
	d.settle()
	if d.m.selectedID() != y.ID || d.m.open().win.sel != 0 {
		t.Fatalf("after home the cursor is on row %d, #%d", d.m.open().win.sel, d.m.selectedID())
	}
}

// Under a storm of changes a list reads again only after a pause that grows
// with how long reading took, so that it cannot take the CPU the receiver
// beside it needs. The list alone, without the root.
func TestListReadsPauseUnderAStormOfChanges(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "one", sev: incidents.Sev1})
	c := newCommon(f.svc, f.options())
	c.subscribed, c.live = true, true
	l := newIncidentList(c, listOpen, incidentRows{title: "Open", status: "open"})
	l.SetSize(100, 20)
	update := func(msg tea.Msg) tea.Cmd {
		_, cmd := l.Update(msg)
		return cmd
	}
	changed := changesMsg{n: 1, incidents: map[int64]bool{1: true}}

	first := run(t, l.Focus())
	if update(changed) != nil {
		t.Fatal("a second read started while one is in flight")
	}
	msg := first.(windowMsg[*incidents.Incident])
	msg.took = 30 * time.Millisecond
	start := time.Now()
	due := run(t, update(msg))
	if _, ok := due.(reloadDueMsg); !ok || time.Since(start) < 270*time.Millisecond {
		t.Fatalf("after a read of 30ms with changes: %T after %v, want a pause of 270ms", due, time.Since(start))
	}
	if update(changed) != nil {
		t.Fatal("a change during the pause started a read")
	}
	again := run(t, update(due))
	if _, ok := again.(windowMsg[*incidents.Incident]); !ok || l.win.dirty {
		t.Fatalf("after the pause: %T (dirty %v), want one read for all the changes", again, l.win.dirty)
	}
	// A change that comes alone is read at once.
	update(again)
	if update(changed) == nil {
		t.Fatal("a change after a quiet read waits")
	}
	// Another list's reads are not this one's.
	other := windowMsg[*incidents.Incident]{list: listResolved, gen: l.win.gen}
	if update(other) != nil || !l.win.loading {
		t.Fatal("the list took the Resolved list's read")
	}
}

// A list not on screen does not read for a change; it reads when shown.
func TestHiddenListReadsWhenShown(t *testing.T) {
	f := newFixture(t)
	c := newCommon(f.svc, f.options())
	c.subscribed, c.live = true, true
	l := newList[*incidents.Request](c, listRequests, requestRows{})
	if _, cmd := l.Update(changesMsg{n: 1, requests: 1}); cmd != nil || !l.win.stale {
		t.Fatal("a list not on screen read for a change")
	}
	if _, cmd := l.Update(changesMsg{n: 1, incidents: map[int64]bool{1: true}}); cmd != nil {
		t.Fatal("the journal read for an incident's change")
	}
	if l.Focus() == nil {
		t.Fatal("shown stale, it did not read")
	}
}
