package tui

import (
	"context"
	"slices"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

func TestFilterByTitleDetailsAndIntegration(t *testing.T) {
	f := newFixture(t)
	mon, err := f.svc.CreateIntegration(context.Background(), "diskmon", "", "", incidents.KindWebhook)
	if err != nil {
		t.Fatal(err)
	}
	byTitle := f.ingest(event{title: "Disk full on db-1", sev: incidents.Sev1})
	byDetails := f.ingest(event{title: "db-2 slow", sev: incidents.Sev2, details: `{"cause":"the DISK is slow"}`})
	byInteg := f.ingest(event{title: "smart warning", sev: incidents.Sev3, integ: mon})
	other := f.ingest(event{title: "cpu high", sev: incidents.Sev1})
	resolvedMatch := f.ingest(event{title: "old disk alert", sev: incidents.Sev2})
	f.ingest(event{title: "old disk alert", resolve: true})

	d := drive(t, New(f.svc, f.options()), 120, 30)
	if d.m.open().win.Len() != 4 {
		t.Fatalf("%d open, want 4", d.m.open().win.Len())
	}
	for d.m.selectedID() != byDetails.ID {
		d.key("j")
	}
	d.key("/")
	d.typeText("disk")
	d.key("enter")
	d.settle()
	if d.m.selectedID() != byDetails.ID {
		t.Fatalf("the selection left #%d, which the filter keeps", byDetails.ID)
	}
	want := []int64{byTitle.ID, byDetails.ID, byInteg.ID}
	if got := d.m.openIDs(); !slices.Equal(got, want) {
		t.Fatalf("filtered open = %v, want %v\n%s", got, want, d.m.View())
	}
	if d.m.c.tally.counts.open != 3 || d.m.c.tally.counts.resolved != 1 {
		t.Fatalf("tab counts open %d resolved %d, want 3 and 1", d.m.c.tally.counts.open, d.m.c.tally.counts.resolved)
	}
	if d.m.c.tally.counts.sev != [4]int{2, 1, 1, 0} {
		t.Fatalf("header counts %v ignore the filter? want [2 1 1 0]", d.m.c.tally.counts.sev)
	}
	if !screenHas(&d.m, "filter: disk") {
		t.Fatalf("the screen does not say a filter is on:\n%s", d.m.View())
	}
	// The filter applies to Resolved too.
	d.key("3")
	d.settle()
	if d.m.resolved().win.Len() != 1 || d.m.resolved().win.items[0].ID != resolvedMatch.ID {
		t.Fatalf("filtered resolved = %d rows", d.m.resolved().win.Len())
	}
	// A live arrival that does not match stays out; one that matches comes in.
	d.key("1")
	d.settle()
	f.ingest(event{title: "memory leak", sev: incidents.Sev1})
	match := f.ingest(event{title: "disk latency", sev: incidents.Sev1})
	d.until("the matching arrival", func(m *Model) bool { return m.hasOpen(match.ID) })
	d.settle()
	if d.m.open().win.Len() != 4 {
		t.Fatalf("%d rows after arrivals, want 4: %v", d.m.open().win.Len(), d.m.openIDs())
	}
	// esc clears the filter.
	d.key("esc")
	d.settle()
	if d.m.c.query != "" || d.m.open().win.Len() != 6 || !d.m.hasOpen(other.ID) {
		t.Fatalf("after esc: query %q, %d rows", d.m.c.query, d.m.open().win.Len())
	}
}

func TestFilterAppliesWhileTyping(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "alpha", sev: incidents.Sev1})
	beta := f.ingest(event{title: "beta", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("/")
	d.typeText("bet")
	// No enter: the filter applies once typing pauses.
	d.until("the typed filter", func(m *Model) bool { return m.c.query == "bet" && m.open().win.loaded && !m.open().win.loading })
	if got := d.m.openIDs(); !slices.Equal(got, []int64{beta.ID}) {
		t.Fatalf("open = %v while typing, want [%d]", got, beta.ID)
	}
	if !d.m.filter.active {
		t.Fatal("the filter line closed by itself")
	}
	d.key("esc")
	d.settle()
	if d.m.filter.active || d.m.c.query != "" || d.m.open().win.Len() != 2 {
		t.Fatalf("esc in the filter line: filtering %v query %q rows %d", d.m.filter.active, d.m.c.query, d.m.open().win.Len())
	}
}

// The filter line alone: typing applies once typing pauses; enter keeps
// the filter, esc clears it; each asks the root for the query.
func TestFilterLineAsksForTheQuery(t *testing.T) {
	f := newFixture(t)
	c := newCommon(f.svc, f.options())
	fl := newFilter(c)
	fl.open()
	for _, r := range "db" {
		fl.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	// The batch holds the pause; what ends it applies only the last change.
	fl.Update(filterTypedMsg{seq: fl.seq - 1})
	if len(c.told) != 0 {
		t.Fatalf("a pause after an older change applied: %v", c.told)
	}
	fl.Update(filterTypedMsg{seq: fl.seq})
	if len(c.told) != 1 || c.told[0] != (queryMsg{q: "db"}) {
		t.Fatalf("told %v, want the query db", c.told)
	}
	c.told = nil
	fl.Update(keyMsg("esc"))
	if fl.active || fl.input.Value() != "" || len(c.told) != 1 || c.told[0] != (queryMsg{}) {
		t.Fatalf("esc: active %v, value %q, told %v", fl.active, fl.input.Value(), c.told)
	}
}
