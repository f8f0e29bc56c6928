package tui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/receiver"
	"klaxon/remote"
)

// fillDisk caps the database at its current size and sends webhooks until
// storage refuses them, as a full disk does.
func (f *fixture) fillDisk() {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.db.SetMaxPageCount(ctx, 1); err != nil {
		f.t.Fatal(err)
	}
	big := `"` + strings.Repeat("y", 4000) + `"`
	for i := 0; i < 5000 && f.svc.Health().OK; i++ {
		title := fmt.Sprintf("fill %d", i)
		_, _ = f.svc.Ingest(ctx, f.integ, incidents.Event{Key: title, Title: title, Details: []byte(big), Action: incidents.Trigger},
			&incidents.Request{At: t0, Method: "POST", Path: "/default/push-events", Body: big})
	}
	if f.svc.Health().OK {
		f.t.Fatal("storage still takes writes")
	}
}

// freeDisk lifts the cap again.
func (f *fixture) freeDisk() {
	f.t.Helper()
	if _, err := f.db.SetMaxPageCount(context.Background(), 1<<30); err != nil {
		f.t.Fatal(err)
	}
}

// headerLine is the header's first line without its left part.
func headerLine(m *Model) string { return strings.Split(m.View(), "\n")[0] }

// warningLine is the screen's line that starts with ⚠, if any.
func warningLine(m *Model) string {
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		if strings.HasPrefix(l, "⚠") {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

func TestFullDiskIsShownUntilStorageRecovers(t *testing.T) {
	f := newFixture(t)
	before := f.ingest(event{title: "before the disk filled", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	if !strings.Contains(headerLine(&d.m), "● live") || warningLine(&d.m) != "" {
		t.Fatalf("healthy at start:\n%s", d.m.View())
	}

	f.fillDisk()
	d.until("the health change", func(m *Model) bool { return !m.c.health.OK })
	d.settle()
	screen := d.m.View()
	head := headerLine(&d.m)
	if strings.Contains(screen, "● live") || !strings.HasSuffix(head, "⚠ NOT RECEIVING") {
		t.Fatalf("the header looks live while storage refuses alerts: %q", head)
	}
	warn := warningLine(&d.m)
	if !strings.HasPrefix(warn, "⚠ ") || !strings.Contains(warn, "disk") || !strings.Contains(warn, "full") {
		t.Fatalf("warning line %q does not say what is wrong:\n%s", warn, screen)
	}
	if w := ansi.StringWidth(lineWith(screen, "⚠ the disk")); w != 100 {
		t.Fatalf("the warning line is %d wide, want the full 100", w)
	}
	if lines := strings.Split(screen, "\n"); len(lines) != 24 {
		t.Fatalf("%d lines with the warning, want 24", len(lines))
	}
	if !screenHas(&d.m, "before the disk filled") {
		t.Fatalf("the rows went away:\n%s", screen)
	}

	// Room again: the next write succeeds, health comes back, the warning goes.
	f.freeDisk()
	after := f.ingest(event{title: "after the disk was freed", sev: incidents.Sev1})
	d.until("recovery", func(m *Model) bool { return m.c.health.OK && m.hasOpen(after.ID) })
	d.settle()
	if warningLine(&d.m) != "" || !strings.Contains(headerLine(&d.m), "● live") || strings.Contains(d.m.View(), "NOT RECEIVING") {
		t.Fatalf("still warning after recovery:\n%s", d.m.View())
	}
	if !d.m.hasOpen(before.ID) {
		t.Fatal("lost a row over the trouble")
	}
}

func TestConsoleStartedOnAFullDiskSaysSoAtOnce(t *testing.T) {
	f := newFixture(t)
	f.fillDisk()
	// Nothing changes after the console starts: only asking the Source tells.
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.until("the health", func(m *Model) bool { return !m.c.health.OK })
	if !strings.HasPrefix(warningLine(&d.m), "⚠ ") || !strings.Contains(headerLine(&d.m), "NOT RECEIVING") {
		t.Fatalf("a console started on a full disk looks fine:\n%s", d.m.View())
	}
}

func TestHealthWarningIsInertAndFits(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 60, 20)
	problem := hostile + " " + strings.Repeat("very long problem ", 20)
	d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: false, Problem: problem, Since: f.now().Add(-3 * time.Minute)}})
	screen := d.m.View()
	if r, bad := controlIn(screen); bad {
		t.Fatalf("control character %U on screen:\n%q", r, screen)
	}
	warn := warningLine(&d.m)
	if !strings.Contains(warn, "␛]0;pwned␇") || !strings.HasSuffix(warn, "… (for 3m)") || ansi.StringWidth(warn) != 60 {
		t.Fatalf("warning line %q", warn)
	}
	for i, l := range strings.Split(screen, "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Fatalf("line %d is %d wide", i, ansi.StringWidth(l))
		}
	}
	if n := len(strings.Split(screen, "\n")); n != 20 {
		t.Fatalf("%d lines, want 20", n)
	}
	// A health the console asked for before this change is older news.
	d.send(healthMsg{gen: d.m.healthGen - 1, h: incidents.Health{OK: true}})
	if d.m.c.health.OK {
		t.Fatal("a stale health answer overrode a newer change")
	}
	// No problem text still reads.
	d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: false}})
	if w := warningLine(&d.m); !strings.HasPrefix(w, "⚠ klaxon is not taking alerts") {
		t.Fatalf("warning without a problem: %q", w)
	}
	d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: true}})
	d.settle()
	if warningLine(&d.m) != "" || len(strings.Split(d.m.View(), "\n")) != 20 {
		t.Fatalf("after OK:\n%s", d.m.View())
	}
}

// An attached console (klaxon attach) over the real HTTP client: when the
// klaxon goes out of reach the console says so instead of looking live, and
// once it is back the console reloads what it missed.
func TestAttachedConsoleShowsDisconnection(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "already open", sev: incidents.Sev2})
	rs := receiver.New(f.svc, receiver.Options{BaseURL: "http://x", APIToken: "tok"})
	var down atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"ok":false,"error":"klaxon is restarting"}`, http.StatusServiceUnavailable)
			return
		}
		rs.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		rs.CloseStreams()
		ts.Close()
	})
	client := remote.New(ts.URL, "tok")
	client.MinBackoff, client.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	opts := f.options()
	opts.Bell = true
	d := drive(t, New(client, opts), 100, 24)
	d.until("the stream to connect", func(m *Model) bool { return m.c.health.OK && m.open().win.Len() == 1 })

	down.Store(true)
	ts.CloseClientConnections()
	d.until("the disconnection", func(m *Model) bool { return !m.c.health.OK })
	if warn := warningLine(&d.m); !strings.HasPrefix(warn, "⚠ disconnected from http://") {
		t.Fatalf("warning %q", warn)
	}
	if strings.Contains(d.m.View(), "● live") {
		t.Fatalf("stale rows shown as live:\n%s", d.m.View())
	}
	// What happens while out of reach is not heard...
	f.liveFrom()
	missed := f.ingest(event{title: "while disconnected", sev: incidents.Sev1})

	// ...and is read once the stream is back; a new sev1 among it rings.
	down.Store(false)
	d.until("the reconnect and reload", func(m *Model) bool { return m.c.health.OK && m.hasOpen(missed.ID) })
	if !d.m.c.alarm.fresh[missed.ID] || !d.m.c.alarm.bell {
		t.Fatalf("a sev1 that arrived while disconnected is not announced (fresh %v, bell %v)", d.m.c.alarm.fresh, d.m.c.alarm.bell)
	}
	d.settle()
	if warningLine(&d.m) != "" || !strings.Contains(headerLine(&d.m), "● live") {
		t.Fatalf("after reconnecting:\n%s", d.m.View())
	}
}

func TestTroubleKeepsWhenItBegan(t *testing.T) {
	f := newFixture(t)
	d := drive(t, New(f.svc, f.options()), 100, 24)
	began := f.now().Add(-5 * time.Minute)
	bad := func(since time.Time, problem string) {
		d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: false, Problem: problem, Since: since}})
	}
	bad(began, "disconnected (connection refused); reconnecting in 1s")
	bad(f.now().Add(-time.Second), "disconnected (connection refused); reconnecting in 2s") // the next attempt failed too
	if w := warningLine(&d.m); !strings.Contains(w, "reconnecting in 2s") || !strings.HasSuffix(w, "(for 5m)") {
		t.Fatalf("warning %q: want the latest problem, since the trouble began", w)
	}
	d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: true}})
	bad(f.now().Add(-time.Second), "again")
	if w := warningLine(&d.m); !strings.HasSuffix(w, "(for 1s)") {
		t.Fatalf("new trouble after recovery: %q", w)
	}
}
