package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

func TestSuppressedAndRequestViews(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "flapping check", sev: incidents.Sev2})
	f.ingest(event{title: "flapping check", sev: incidents.Sev2})
	f.ingest(event{title: "flapping check", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 120, 30)
	if d.m.c.tally.counts.suppressed != 2 || d.m.c.tally.counts.requests != 3 {
		t.Fatalf("counts %+v", d.m.c.tally.counts)
	}
	if !strings.Contains(tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown, 120), "2 Suppressed 2") || !strings.Contains(tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown, 120), "4 Requests 3") {
		t.Fatalf("tabs %q", tabs(d.m.c.styles, d.m.pages, d.m.tabKeys, d.m.shown, 120))
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

func TestRequestsShowKindTallyAndEachAlert(t *testing.T) {
	f := newFixture(t)
	am := f.addIntegration("am", incidents.KindAlertmanager)
	gone := f.ingestAlerts(am, incidents.KindAlertmanager,
		incidents.Event{Key: "fp-disk", Title: "DiskFull", Severity: incidents.Sev2, Action: incidents.Trigger})
	if len(gone.Alerts) != 1 {
		t.Fatalf("one alert: %+v", gone.Alerts)
	}
	f.ingestAlerts(am, incidents.KindAlertmanager,
		incidents.Event{Key: "fp-cpu", Title: "HighCPU", Severity: incidents.Sev1, Action: incidents.Trigger},
		incidents.Event{Key: hostile, Title: hostile + " title", Action: incidents.Trigger, Warnings: []string{"severity \x1b[5m is not sev1..3"}},
		incidents.Event{Key: "fp-disk", Title: "DiskFull", Action: incidents.Resolve},
	)
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.key("4")
	d.settle()
	screen := d.m.View()
	noControl(t, "requests", screen)
	fitsIn(t, "requests", screen, 80, 24)
	row := lineWithText(screen, "mixed")
	if !strings.Contains(row, " am ") || !strings.Contains(row, "2 created, 1 resolved;") {
		t.Fatalf("the request of three alerts reads %q:\n%s", row, screen)
	}
	if one := lineWithText(screen, "created    incident #"); !strings.Contains(one, " am ") {
		t.Fatalf("the request of one alert reads %q:\n%s", one, screen)
	}
	if !strings.Contains(screen, "KIND") {
		t.Fatalf("no KIND column:\n%s", screen)
	}

	// Wide enough, the kind's full name.
	d.send(tea.WindowSizeMsg{Width: 130, Height: 24})
	if row := lineWithText(d.m.View(), "mixed"); !strings.Contains(row, " alertmanager ") || !strings.HasSuffix(row, "2 created, 1 resolved; 1 warning") {
		t.Fatalf("at 130 columns: %q", row)
	}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})

	// Its page: the kind, the dedup key's field, and each alert.
	d.key("enter")
	page := d.m.View()
	d.key("pgdown")
	page += "\n" + d.m.View()
	noControl(t, "request page", page)
	for _, want := range []string{
		"Kind         alertmanager  (dedup key: fingerprint)",
		"Alerts (3)  2 created, 1 resolved",
		"trigger → created  #2 HighCPU",
		"key fp-cpu",
		"␛]0;pwned␇␛[2Jboom title",
		"key ␛]0;pwned␇␛[2Jboom",
		"warning severity ␛[5m is not sev1..3",
		"resolve → resolved #1 DiskFull",
	} {
		if !strings.Contains(ansi.Strip(page), want) {
			t.Fatalf("the request page lacks %q:\n%s", want, page)
		}
	}
}
