package tui

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"klaxon/incidents"
)

func TestReAlertRingsAndHighlightsUntilSeen(t *testing.T) {
	f := newFixture(t)
	top := f.ingest(event{title: "top of the list", sev: incidents.Sev1})
	old := f.ingest(event{title: "nobody acknowledged this", sev: incidents.Sev2})
	opts := f.options()
	opts.Bell = true
	d := drive(t, New(f.svc, opts), 100, 24)
	if d.m.c.alarm.bell || len(d.m.c.alarm.fresh) != 0 {
		t.Fatal("rang at start")
	}

	// The notifier publishes a re-alert through the Service, as a change.
	f.svc.Realerted(f.incident(old.ID))
	d.until("the re-alert", func(m *Model) bool { return m.c.alarm.bell })
	if !strings.HasSuffix(d.m.View(), "\a") {
		t.Fatal("the frame does not carry BEL")
	}
	if strings.Contains(d.m.View(), "\x1b]9;") {
		t.Fatal("a desktop notification without DesktopNotify")
	}
	if row := lineWith(d.m.View(), "nobody acknowledged this"); !strings.HasPrefix(row, " !") {
		t.Fatalf("the re-alerted row %q is not marked !", row)
	}
	d.until("the bell frame to end", func(m *Model) bool { return !m.c.alarm.bell })
	if !d.m.c.alarm.fresh[old.ID] {
		t.Fatal("the highlight ended with the bell; it should last until seen")
	}
	// Nothing changed in it: a re-alert reads nothing again.
	if d.handled["tui.windowMsg[*klaxon/incidents.Incident]"] != 1 {
		t.Fatalf("%d reads of the open list for a re-alert", d.handled["tui.windowMsg[*klaxon/incidents.Incident]"])
	}
	// A second re-alert rings again.
	f.svc.Realerted(f.incident(old.ID))
	d.until("the second re-alert", func(m *Model) bool { return m.c.alarm.bell })
	// Moving onto it is seeing it.
	if d.m.selectedID() != top.ID {
		t.Fatal("the selection moved by itself")
	}
	d.key("j")
	if d.m.c.alarm.fresh[old.ID] {
		t.Fatal("still highlighted once selected")
	}

	// With Bell off: highlighted, silent.
	opts.Bell = false
	d2 := drive(t, New(f.svc, opts), 100, 24)
	f.svc.Realerted(f.incident(top.ID))
	d2.until("the highlight", func(m *Model) bool { return m.c.alarm.fresh[top.ID] })
	if d2.m.c.alarm.bell || strings.Contains(d2.m.View(), "\a") {
		t.Fatal("rang with Bell off")
	}
}

func TestReAlertOfTheIncidentOnScreenIsNotHighlighted(t *testing.T) {
	f := newFixture(t)
	x := f.ingest(event{title: "looking at it", sev: incidents.Sev1})
	opts := f.options()
	opts.Bell = true
	d := drive(t, New(f.svc, opts), 100, 24)
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	f.svc.Realerted(x)
	d.until("the bell", func(m *Model) bool { return m.c.alarm.bell })
	if d.m.c.alarm.fresh[x.ID] {
		t.Fatal("the incident being read was marked unseen")
	}
}

// A change that only looks like a creation (an incident unacknowledged
// back to how it was created) rings nothing: the change says what happened.
func TestOnlyACreatedChangeRings(t *testing.T) {
	f := newFixture(t)
	opts := f.options()
	opts.Bell = true
	d := drive(t, New(f.svc, opts), 100, 24)
	at := f.now().Add(time.Second)
	looksNew := &incidents.Incident{ID: 41, Title: "looks new", Severity: incidents.Sev1, Status: incidents.Triggered, FirstSeen: at, LastSeen: at}
	d.send(changesMsg{n: 1, incidents: map[int64]bool{41: true}})
	if d.m.c.alarm.bell || len(d.m.c.alarm.fresh) != 0 {
		t.Fatal("an unnamed change rang")
	}
	d.send(changesMsg{n: 1, incidents: map[int64]bool{42: true}, created: []*incidents.Incident{{ID: 42, Title: "new", Severity: incidents.Sev1,
		Status: incidents.Triggered, FirstSeen: at, LastSeen: at}}})
	if !d.m.c.alarm.bell || !d.m.c.alarm.fresh[42] || d.m.c.alarm.fresh[looksNew.ID] {
		t.Fatalf("a created change: bell %v, fresh %v", d.m.c.alarm.bell, d.m.c.alarm.fresh)
	}
}

var osc9 = regexp.MustCompile("\x1b\\]9;([^\x07]*)\x07")

// notes returns the desktop notifications a frame carries, and the frame
// without them.
func notes(frame string) ([]string, string) {
	var out []string
	for _, m := range osc9.FindAllStringSubmatch(frame, -1) {
		out = append(out, m[1])
	}
	return out, osc9.ReplaceAllString(frame, "")
}

func TestDesktopNotificationsAreInert(t *testing.T) {
	f := newFixture(t)
	opts := f.options()
	opts.DesktopNotify = true // and no Bell: notifications alone
	d := drive(t, New(f.svc, opts), 100, 24)
	f.liveFrom()
	evil := hostile + "\x9c\x1b\\ \u009c" + strings.Repeat(" and on", 100)
	x := f.ingest(event{title: evil, sev: incidents.Sev1})
	d.until("the notification", func(m *Model) bool { return len(m.c.alarm.notes) > 0 })
	got, rest := notes(d.m.View())
	if len(got) != 1 {
		t.Fatalf("%d notifications in the frame, want 1: %q", len(got), d.m.View())
	}
	if d.m.c.alarm.bell || strings.Contains(rest, "\a") {
		t.Fatal("rang with Bell off")
	}
	if r, bad := controlIn(rest); bad {
		t.Fatalf("control character %U outside the notification", r)
	}
	n := got[0]
	if r, bad := controlIn(n); bad {
		t.Fatalf("control character %U in the notification %q", r, n)
	}
	if !strings.HasPrefix(n, "klaxon: SEV1 #"+itoa(x.ID)+" ␛]0;pwned␇␛[2Jboom") {
		t.Fatalf("notification %q", n)
	}
	if c := utf8.RuneCountInString(n); c > 130 || !strings.HasSuffix(n, "…") {
		t.Fatalf("notification is %d runes, not cut: %q", c, n)
	}
	d.until("the frame to end", func(m *Model) bool { return len(m.c.alarm.notes) == 0 })
	if strings.Contains(d.m.View(), "\x1b]9;") {
		t.Fatal("the notification stays in the frame")
	}

	// A re-alert notifies too, and says it is one; an untitled incident reads.
	u := f.ingest(event{title: "", prio: "p2"})
	f.svc.Realerted(f.incident(u.ID))
	d.until("the re-alert's notification", func(m *Model) bool { return len(m.c.alarm.notes) > 0 })
	got, _ = notes(d.m.View())
	if len(got) != 1 || got[0] != "klaxon: still triggered: #"+itoa(u.ID)+" (untitled)" {
		t.Fatalf("re-alert notification %q", got)
	}
}

func TestDesktopNotificationsOfAStormAreSummed(t *testing.T) {
	f := newFixture(t)
	opts := f.options()
	opts.DesktopNotify, opts.Bell = true, true
	d := drive(t, New(f.svc, opts), 100, 24)
	// Seven new sev1s heard in one message (as a storm is gathered).
	msg := changesMsg{n: 7, incidents: map[int64]bool{}}
	for id := int64(101); id <= 107; id++ {
		at := f.now().Add(time.Second)
		msg.incidents[id] = true
		msg.created = append(msg.created, &incidents.Incident{ID: id, Title: "sev1 " + itoa(id), Severity: incidents.Sev1,
			Status: incidents.Triggered, FirstSeen: at, LastSeen: at})
	}
	d.send(msg)
	got, _ := notes(d.m.View())
	want := []string{"klaxon: SEV1 #101 sev1 101", "klaxon: SEV1 #102 sev1 102", "klaxon: SEV1 #103 sev1 103", "klaxon: 4 more alerts"}
	if !slices.Equal(got, want) {
		t.Fatalf("notifications %q, want %q", got, want)
	}
	if !d.m.c.alarm.bell || len(d.m.c.alarm.fresh) != 7 {
		t.Fatalf("bell %v, %d highlighted", d.m.c.alarm.bell, len(d.m.c.alarm.fresh))
	}
}

func TestNewSev1RingsAndIsHighlightedUntilSeen(t *testing.T) {
	f := newFixture(t)
	old := f.ingest(event{title: "old sev1", sev: incidents.Sev1})
	opts := f.options()
	opts.Bell = true
	d := drive(t, New(f.svc, opts), 100, 24)
	// Unacknowledging an old incident makes a change that looks new; it must
	// not ring.
	if _, err := f.svc.Acknowledge(context.Background(), old.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Unacknowledge(context.Background(), old.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	d.settle()
	// From now on incidents arrive after the console started.
	f.liveFrom()
	if d.m.c.alarm.bell || len(d.m.c.alarm.fresh) != 0 || strings.Contains(d.m.View(), "\a") {
		t.Fatal("an old incident rang the bell")
	}
	f.ingest(event{title: "sev2 arrives", sev: incidents.Sev2})
	d.settle()
	if d.m.c.alarm.bell || len(d.m.c.alarm.fresh) != 0 {
		t.Fatal("a sev2 rang the bell")
	}
	x := f.ingest(event{title: "new sev1", sev: incidents.Sev1})
	d.until("the bell", func(m *Model) bool { return m.c.alarm.bell && m.hasOpen(x.ID) })
	if !strings.HasSuffix(d.m.View(), "\a") {
		t.Fatal("the frame does not carry BEL")
	}
	if !d.m.c.alarm.fresh[x.ID] {
		t.Fatal("the new sev1 is not highlighted")
	}
	// Nobody moved the selection: it stays on the first row, where the new
	// sev1 now is, marked new.
	row := lineWith(d.m.View(), "new sev1")
	if !strings.HasPrefix(row, "▶!") || d.m.selectedID() != x.ID || d.m.open().win.sel != 0 {
		t.Fatalf("the new sev1's row %q has no marker, or the cursor left the first row", row)
	}
	d.until("the bell frame to end", func(m *Model) bool { return !m.c.alarm.bell })
	if strings.Contains(d.m.View(), "\a") {
		t.Fatal("BEL stays in the frame")
	}
	// Suppressed repeats of it do not ring again.
	f.ingest(event{title: "new sev1", sev: incidents.Sev1})
	d.settle()
	if d.m.c.alarm.bell {
		t.Fatal("a repeat rang the bell")
	}
	// Arriving under the cursor is not being seen; a key pressed with it
	// under the cursor is.
	d.key("j")
	if !d.m.c.alarm.fresh[x.ID] {
		t.Fatal("seen without a key pressed on it")
	}
	d.key("k")
	if d.m.selectedID() != x.ID || d.m.c.alarm.fresh[x.ID] {
		t.Fatal("still highlighted once selected")
	}

	// With Bell off: highlighted, no bell.
	opts.Bell = false
	d2 := drive(t, New(f.svc, opts), 100, 24)
	f.liveFrom()
	y := f.ingest(event{title: "quiet sev1", sev: incidents.Sev1})
	d2.until("the highlight", func(m *Model) bool { return m.c.alarm.fresh[y.ID] })
	if d2.m.c.alarm.bell || strings.Contains(d2.m.View(), "\a") {
		t.Fatal("rang with Bell off")
	}
}

func lineWith(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// The renderer writes a line only when it changed: a ring that comes while
// the last one's frames are drawn still changes the frame, so it is heard.
func TestARingDuringTheLastOnesFramesIsHeard(t *testing.T) {
	a := newCommon(nil, Options{Bell: true, Renderer: asciiRenderer()}).alarm
	a.ring([]string{"klaxon: SEV1 #1 one"})
	first := a.frame()
	a.ring([]string{"klaxon: still triggered: SEV2 #2 two"})
	second := a.frame()
	if first == second || strings.Count(second, "\a") != 1 || !strings.HasSuffix(second, "\a") {
		t.Fatalf("frames %q then %q: want one BEL each, and different", first, second)
	}
}
