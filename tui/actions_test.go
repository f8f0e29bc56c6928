package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

func TestResolvingTheSelectedIncidentSelectsItsNeighbour(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "one", sev: incidents.Sev1})
	b := f.ingest(event{title: "two", sev: incidents.Sev2})
	c := f.ingest(event{title: "three", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("j", "r", "y") // resolved is final: y confirms
	d.until("the resolution", func(m *Model) bool { return !m.hasOpen(b.ID) && m.open().win.Len() == 2 })
	d.settle()
	if d.m.selectedID() != c.ID {
		t.Fatalf("selected #%d, want the next row #%d", d.m.selectedID(), c.ID)
	}
	if d.m.c.tally.counts.open != 2 || d.m.c.tally.counts.resolved != 1 {
		t.Fatalf("counts open %d resolved %d, want 2 and 1", d.m.c.tally.counts.open, d.m.c.tally.counts.resolved)
	}
	d.key("3")
	d.settle()
	if d.m.shown != int(listResolved) || d.m.resolved().win.Len() != 1 || d.m.resolved().win.items[0].ID != b.ID {
		t.Fatalf("Resolved view does not show #%d:\n%s", b.ID, d.m.View())
	}
	// Acting on a resolved incident is refused: shown, never a crash.
	d.key("a")
	d.until("the refusal", func(m *Model) bool { return m.c.status.err })
	if !strings.Contains(d.m.c.status.text, "resolved") {
		t.Fatalf("status %q does not explain the refusal", d.m.c.status.text)
	}
	if f.incident(b.ID).Status != incidents.Resolved {
		t.Fatal("a resolved incident changed")
	}
	_ = a
}

func TestBulkActionsApplyToMarkedRows(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	for i, sev := range []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev2, incidents.Sev3, ""} {
		ids = append(ids, f.ingest(event{title: fmt.Sprintf("incident %d", i), sev: sev}).ID)
	}
	d := drive(t, New(f.svc, f.options()), 120, 30)
	// Rows in order: 0 (sev1), 2, 1 (sev2 newest first), 3 (sev3), 4 (none).
	if got, want := d.m.openIDs(), []int64{ids[0], ids[2], ids[1], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// Mark rows 2 and 3 (space marks and moves down), skip row 4, mark row 5.
	d.key("j", "space", "space", "j", "space")
	if len(d.m.c.marks) != 3 || !d.m.c.marks[ids[2]] || !d.m.c.marks[ids[1]] || !d.m.c.marks[ids[4]] {
		t.Fatalf("marks = %v", d.m.c.marks)
	}
	if !screenHas(&d.m, "3 marked") {
		t.Fatalf("the screen does not count the marks:\n%s", d.m.View())
	}
	// s sets all marked to the severity after the selected row's (none → sev1).
	d.key("s")
	d.until("the severity change", func(m *Model) bool {
		return f.incident(ids[4]).Severity == incidents.Sev1 && f.incident(ids[2]).Severity == incidents.Sev1 &&
			f.incident(ids[1]).Severity == incidents.Sev1
	})
	d.settle()
	if f.incident(ids[3]).Severity != incidents.Sev3 {
		t.Fatal("an unmarked incident changed severity")
	}
	if len(d.m.c.marks) != 3 {
		t.Fatal("severity cycling dropped the marks; s again should cycle them on")
	}
	// a acknowledges all marked, then the marks are gone.
	d.key("a")
	d.until("the acknowledgements", func(m *Model) bool { return m.c.status.text == "3 incidents acknowledged" })
	if len(d.m.c.marks) != 0 {
		t.Fatal("marks stay after acknowledging them")
	}
	for _, id := range []int64{ids[1], ids[2], ids[4]} {
		in := f.incident(id)
		if in.Status != incidents.Acknowledged {
			t.Fatalf("#%d is %s, want acknowledged", id, in.Status)
		}
	}
	for _, id := range []int64{ids[0], ids[3]} {
		if f.incident(id).Status != incidents.Triggered {
			t.Fatalf("unmarked #%d changed", id)
		}
	}
	// p cycles priority of the selected row alone when nothing is marked.
	d.settle()
	sel := d.m.selectedID()
	d.key("p")
	d.until("the priority", func(m *Model) bool { return f.incident(sel).Priority == "p1" })
	if in, _ := d.m.open().win.selected(); in.Priority != "p1" {
		t.Fatalf("the row shows priority %q right after p, want p1", in.Priority)
	}
	d.key("P")
	d.until("the priority back", func(m *Model) bool { return f.incident(sel).Priority == "" })
	// esc clears marks.
	d.key("space")
	if len(d.m.c.marks) != 1 {
		t.Fatal("space did not mark")
	}
	d.key("esc")
	if len(d.m.c.marks) != 0 {
		t.Fatal("esc did not clear the marks")
	}
}

func TestBulkResolveReportsPartialFailure(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "a", sev: incidents.Sev1})
	b := f.ingest(event{title: "b", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("space", "space")
	// b is resolved elsewhere before the person presses r.
	if _, err := f.svc.Resolve(context.Background(), a.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	d.key("r", "y")
	d.until("the outcome", func(m *Model) bool { return m.c.status.err })
	if !strings.Contains(d.m.c.status.text, "1 of 2 failed") {
		t.Fatalf("status %q", d.m.c.status.text)
	}
	if f.incident(b.ID).Status != incidents.Resolved {
		t.Fatal("the other marked incident was not resolved")
	}
}

func TestKeysThatArriveTogether(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "one", sev: incidents.Sev1})
	b := f.ingest(event{title: "two", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	// Typed quickly, "ja" arrives as one message: move, then acknowledge.
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("ja")})
	d.until("the acknowledgement", func(m *Model) bool { return f.incident(b.ID).Status == incidents.Acknowledged })
	if f.incident(a.ID).Status != incidents.Triggered {
		t.Fatal("the first row was acknowledged")
	}
	// esc then 2, quickly, arrives as alt+2: leave the detail, then switch.
	d.key("enter")
	d.settle()
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2"), Alt: true})
	if d.m.detail.kind != detailNone || d.m.shown != int(listSuppressed) {
		t.Fatalf("alt+2: detail %v, page %v", d.m.detail.kind, d.m.shown)
	}
}

// A key acts on the incident that was under the cursor in the frame the
// person saw, not on one that a reload moved there since.
func TestActionsApplyToTheRowDrawnUnderTheCursor(t *testing.T) {
	f := newFixture(t)
	seen := f.ingest(event{title: "the one on screen", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	arrive := func() *incidents.Incident {
		t.Helper()
		_ = d.m.View() // the frame the person sees
		x := f.ingest(event{title: fmt.Sprintf("arrived %d", f.at.Load()), sev: incidents.Sev1})
		d.until("the arrival under the cursor", func(m *Model) bool { return m.selectedID() == x.ID })
		return x
	}

	x := arrive()
	d.key("a")
	d.until("the acknowledgement", func(m *Model) bool { return strings.HasSuffix(m.c.status.text, "acknowledged") })
	if f.incident(seen.ID).Status != incidents.Acknowledged || f.incident(x.ID).Status != incidents.Triggered {
		t.Fatalf("acknowledged the row that arrived (#%d) instead of the one drawn (#%d)", x.ID, seen.ID)
	}
	d.settle()

	// The same for a mark and for enter.
	_ = d.m.View()
	drawn := d.m.selectedID()
	arrive()
	d.key("space")
	if len(d.m.c.marks) != 1 || !d.m.c.marks[drawn] {
		t.Fatalf("marks %v, want the drawn #%d", d.m.c.marks, drawn)
	}
	d.key("esc", "home") // clear the mark; the cursor on the first row again
	_ = d.m.View()
	drawn = d.m.selectedID()
	arrive()
	d.key("enter")
	if d.m.detail.id != drawn {
		t.Fatalf("opened #%d, want the drawn #%d", d.m.detail.id, drawn)
	}
	d.key("esc")

	// A key that moves the cursor is seen at once: "ja" acts on the row j
	// moved to, though no frame came between.
	d.settle()
	_ = d.m.View()
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jry")})
	second := d.m.open().win.items[1].ID
	d.until("the resolve", func(m *Model) bool { return f.incident(second).Status == incidents.Resolved })
}

// r asks first (resolved is final); only y resolves. Keys that can be undone
// stay instant.
func TestResolveAsksFirst(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "disk full", sev: incidents.Sev1})
	b := f.ingest(event{title: "cpu hot", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("r")
	if !screenHas(&d.m, `resolve #`+itoa(a.ID)+` "disk full"? y/N`) {
		t.Fatalf("no question:\n%s", d.m.View())
	}
	if in, _ := d.m.open().win.selected(); in.Status != incidents.Triggered {
		t.Fatal("the row shows resolved before the answer")
	}
	d.key("n")
	if d.m.c.confirm != nil || !strings.Contains(d.m.c.status.text, "not resolved") {
		t.Fatalf("n: status %q", d.m.c.status.text)
	}
	d.settle()
	if f.incident(a.ID).Status != incidents.Triggered {
		t.Fatal("resolved without a yes")
	}
	// Marked: one question for all of them.
	d.key("space", "space", "r")
	if !screenHas(&d.m, "resolve 2 marked incidents? y/N") {
		t.Fatalf("no bulk question:\n%s", d.m.View())
	}
	d.key("y")
	d.until("both resolved", func(m *Model) bool {
		return f.incident(a.ID).Status == incidents.Resolved && f.incident(b.ID).Status == incidents.Resolved
	})
	// On an incident's page too.
	c := f.ingest(event{title: "third", sev: incidents.Sev1})
	d.until("the arrival", func(m *Model) bool { return m.hasOpen(c.ID) })
	d.key("home", "enter")
	d.settle()
	d.key("r")
	if d.m.c.confirm == nil {
		t.Fatal("r on a page did not ask")
	}
	d.key("y")
	d.until("the page's resolve", func(m *Model) bool { return f.incident(c.ID).Status == incidents.Resolved })
}

// An action that changes nothing says so, alone and among marks.
func TestActionsSayWhatDidNotChange(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "one", sev: incidents.Sev1})
	b := f.ingest(event{title: "two", sev: incidents.Sev2})
	c := f.ingest(event{title: "three", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("u")
	d.until("the answer", func(m *Model) bool { return m.c.status.text != "" })
	if want := "#" + itoa(a.ID) + " already triggered"; d.m.c.status.text != want {
		t.Fatalf("u on a triggered incident: %q, want %q", d.m.c.status.text, want)
	}
	if _, err := f.svc.Acknowledge(context.Background(), b.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	d.until("b acknowledged on screen", func(m *Model) bool {
		for _, in := range m.open().win.items {
			if in.ID == b.ID {
				return in.Status == incidents.Acknowledged
			}
		}
		return false
	})
	d.settle()
	d.key("space", "space", "space", "a")
	d.until("the bulk answer", func(m *Model) bool { return strings.Contains(m.c.status.text, "of 3") })
	if want := "acknowledged: 2 of 3 changed (1 already acknowledged)"; d.m.c.status.text != want {
		t.Fatalf("bulk: %q, want %q", d.m.c.status.text, want)
	}
	_ = c
}
