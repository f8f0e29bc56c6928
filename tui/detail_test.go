package tui

import (
	"testing"

	"klaxon/incidents"
)

func TestDetailFollowsLiveChanges(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "db down", sev: incidents.Sev1, details: `{"host":"db-1"}`})
	d := drive(t, New(f.svc, f.options()), 100, 40)
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	if !screenHas(&d.m, `"host": "db-1"`) {
		t.Fatalf("details not pretty-printed:\n%s", d.m.View())
	}
	f.ingest(event{title: "db down", sev: incidents.Sev1})
	d.until("the repeat in the detail", func(m *Model) bool { return m.detail.in != nil && m.detail.in.Suppressed == 1 })
	if !screenHas(&d.m, "repeat 1") {
		t.Fatalf("the timeline does not show the repeat:\n%s", d.m.View())
	}
	d.key("a")
	d.until("the acknowledgement in the detail's timeline", func(m *Model) bool {
		return m.detail.in != nil && len(m.detail.in.Timeline) == 3
	})
	if !screenHas(&d.m, "acknowledged     by console") {
		t.Fatalf("timeline:\n%s", d.m.View())
	}
	d.key("esc")
	if d.m.detail.kind != detailNone || d.m.selectedID() != a.ID {
		t.Fatal("esc does not go back to the list")
	}
}
