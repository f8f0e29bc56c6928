package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

func TestResolvingTheSelectedIncidentSelectsItsNeighbour(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "one", sev: incidents.Sev1})
	b := f.ingest(event{title: "two", sev: incidents.Sev2})
	c := f.ingest(event{title: "three", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("j", "r")
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
	d.key("r")
	d.until("the outcome", func(m *Model) bool { return m.c.status.err })
	if !strings.Contains(d.m.c.status.text, "1 of 2 failed") {
		t.Fatalf("status %q", d.m.c.status.text)
	}
	if f.incident(b.ID).Status != incidents.Resolved {
		t.Fatal("the other marked incident was not resolved")
	}
}

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

func TestSuppressedAndRequestViews(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "flapping check", sev: incidents.Sev2})
	f.ingest(event{title: "flapping check", sev: incidents.Sev2})
	f.ingest(event{title: "flapping check", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 120, 30)
	if d.m.c.tally.counts.suppressed != 2 || d.m.c.tally.counts.requests != 3 {
		t.Fatalf("counts %+v", d.m.c.tally.counts)
	}
	if !strings.Contains(tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown), "2 Suppressed 2") || !strings.Contains(tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown), "4 Requests 3") {
		t.Fatalf("tabs %q", tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown))
	}
	d.key("tab")
	d.settle()
	if d.m.shown != int(listSuppressed) || d.m.suppressed().win.Len() != 2 {
		t.Fatalf("suppressed view: %d rows", d.m.suppressed().win.Len())
	}
	row := lineWith(d.m.View(), "flapping check")
	if !strings.Contains(row, "#"+itoa(a.ID)) || !strings.Contains(row, "×2") {
		t.Fatalf("a suppressed row names its incident and repeats: %q", row)
	}
	// enter opens the incident it was folded into; a acknowledges it there.
	d.key("enter")
	d.until("the detail", func(m *Model) bool { return m.detail.in != nil })
	if d.m.detail.id != a.ID {
		t.Fatalf("detail of #%d, want #%d", d.m.detail.id, a.ID)
	}
	d.key("esc", "tab", "tab")
	d.settle()
	if d.m.shown != int(listRequests) || d.m.requests().win.Len() != 3 {
		t.Fatalf("requests view: %d rows", d.m.requests().win.Len())
	}
	if row := lineWith(d.m.View(), "suppressed"); !strings.Contains(row, "POST") || !strings.Contains(row, "/default/push-events") || !strings.Contains(row, "200") {
		t.Fatalf("request row %q", row)
	}
	// A refused request shows its reason.
	err := f.svc.Journal(context.Background(), &incidents.Request{At: t0.Add(time.Minute), Method: "POST", Path: "/<unknown>/push-events",
		Status: 404, Outcome: incidents.OutcomeError, Error: "no integration has this token", Body: "{}", Response: []byte(`{"ok":false}`)})
	if err != nil {
		t.Fatal(err)
	}
	d.until("the refused request", func(m *Model) bool { return m.requests().win.Len() == 4 })
	if row := lineWith(d.m.View(), "404"); !strings.Contains(row, "refused") || !strings.Contains(row, "no integration has this token") {
		t.Fatalf("refused row %q", row)
	}
	d.key("home", "enter")
	if d.m.detail.kind != detailRequest || !screenHas(&d.m, "Response") || !screenHas(&d.m, "\"ok\": false") {
		t.Fatalf("request detail:\n%s", d.m.View())
	}
	d.key("shift+tab")
	if d.m.shown != int(listResolved) || d.m.detail.kind != detailNone {
		t.Fatal("shift+tab goes to the previous view and leaves the detail")
	}
}

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
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jr")})
	second := d.m.open().win.items[1].ID
	d.until("the resolve", func(m *Model) bool { return f.incident(second).Status == incidents.Resolved })
}
