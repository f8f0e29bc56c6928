package tui

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/receiver"
	"klaxon/remote"
)

// addIntegration makes an integration of kind k on the fixture.
func (f *fixture) addIntegration(name string, k incidents.Kind) *incidents.Integration {
	f.t.Helper()
	in, err := f.svc.CreateIntegration(context.Background(), name, "", "", k)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

// rawIntegration stores an integration as it is, past the Service's rules
// for names: a database from an older klaxon, or a klaxon over the network,
// can hold any name, and the console must draw it inert.
func (f *fixture) rawIntegration(name string, k incidents.Kind) *incidents.Integration {
	f.t.Helper()
	in := &incidents.Integration{Name: name, Service: name, Kind: k, Token: incidents.NewToken(), CreatedAt: t0}
	if err := f.db.CreateIntegration(context.Background(), in); err != nil {
		f.t.Fatal(err)
	}
	return in
}

// ingestAlerts sends one request of several alerts through the Service, as
// the receiver does for an Alertmanager or Grafana payload read by kind k.
func (f *fixture) ingestAlerts(integ *incidents.Integration, k incidents.Kind, evs ...incidents.Event) *incidents.Request {
	f.t.Helper()
	ms := f.at.Add(1000)
	req := &incidents.Request{
		At: t0.Add(time.Duration(ms) * time.Millisecond), Method: "POST", Path: "/push-events",
		Remote: "192.0.2.9:9093", Integration: integ.Name, Kind: k, Body: `{"alerts":[]}`,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
	}
	for i := range evs {
		if evs[i].Raw == nil {
			evs[i].Raw = []byte(`{}`)
		}
	}
	if _, err := f.svc.IngestAll(context.Background(), integ, evs, req, nil); err != nil {
		f.t.Fatal(err)
	}
	return req
}

// urlOf is integ's webhook URL at the fixture's made-up address.
func urlOf(integ *incidents.Integration) string {
	return "http://127.0.0.1:8080/" + integ.Token + "/push-events"
}

// noControl fails when the screen carries a byte a terminal would act on.
func noControl(t *testing.T, where, screen string) {
	t.Helper()
	if r, bad := controlIn(screen); bad {
		t.Fatalf("%s: control character %U on screen:\n%q", where, r, screen)
	}
}

// fitsIn fails unless the screen is exactly height lines of at most width cells.
func fitsIn(t *testing.T, where, screen string, width, height int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != height {
		t.Fatalf("%s: %d lines, want %d:\n%s", where, len(lines), height, screen)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Fatalf("%s: line %d is %d wide (max %d): %q", where, i, w, width, l)
		}
	}
}

func lineWithText(screen, s string) string {
	for _, l := range strings.Split(ansi.Strip(screen), "\n") {
		if strings.Contains(l, s) {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

func TestIncidentPageShowsItsKeyInert(t *testing.T) {
	f := newFixture(t)
	am := f.addIntegration("am", incidents.KindAlertmanager)
	f.ingestAlerts(am, incidents.KindAlertmanager,
		incidents.Event{Key: "fp\x1b[2J\x9b31m" + hostile, Title: "HighCPU", Severity: incidents.Sev1, Action: incidents.Trigger})
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.key("enter")
	d.until("the page", func(m *Model) bool { return m.detail.in != nil })
	screen := d.m.View()
	noControl(t, "incident page", screen)
	if l := lineWithText(screen, "Key "); !strings.HasPrefix(l, "Key          fp␛[2J") || !strings.Contains(l, "␛]0;pwned␇") {
		t.Fatalf("key line %q:\n%s", l, screen)
	}
}

func TestHeaderNamesTheKindAndWarnsWhileChaosIsOn(t *testing.T) {
	f := newFixture(t)
	am := f.addIntegration("am", incidents.KindAlertmanager)
	opts := f.options()
	opts.WebhookURL = urlOf(am)
	d := drive(t, New(f.svc, opts), 80, 24)
	d.until("the integrations", func(m *Model) bool { return m.integrations().win.loaded })
	if l := lineWithText(d.m.View(), "webhook "); l != "webhook "+urlOf(am)+" (alertmanager)" {
		t.Fatalf("webhook line %q", l)
	}

	ctx := context.Background()
	if err := f.svc.SetChaos(ctx, "am", incidents.Chaos{Status: 503, Share: 0.3}); err != nil {
		t.Fatal(err)
	}
	// Chaos sends no change: the console reads the integrations every few ticks.
	for i := 0; i < integrationsEvery; i++ {
		d.send(tickMsg{})
	}
	d.until("the chaos warning", func(m *Model) bool { return len(m.header.chaosOn()) == 1 })
	screen := d.m.View()
	fitsIn(t, "chaos at 80", screen, 80, 24)
	if l := lineWithText(screen, "⚡ chaos"); l != "⚡ chaos: am 503 to 30% of requests" {
		t.Fatalf("chaos line %q:\n%s", l, screen)
	}
	if !screenHas(&d.m, "[1 Open 0]") || !screenHas(&d.m, "All quiet") {
		t.Fatalf("the line pushed the rest off:\n%s", screen)
	}

	// Narrower, it still fits, and still says chaos.
	for _, w := range []int{34, 20, 9, 3} {
		d.send(tea.WindowSizeMsg{Width: w, Height: 12})
		screen := d.m.View()
		fitsIn(t, "narrow", screen, w, 12)
		if !strings.Contains(screen, "⚡") {
			t.Fatalf("at %d columns the chaos line is gone:\n%s", w, screen)
		}
	}
	d.send(tea.WindowSizeMsg{Width: 34, Height: 12})
	if l := lineWithText(d.m.View(), "⚡"); l != "⚡ chaos on am" {
		t.Fatalf("at 34 columns: %q", l)
	}

	// Off again: the line goes, the screen gives the row back.
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if err := f.svc.SetChaos(ctx, "am", incidents.Chaos{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < integrationsEvery; i++ {
		d.send(tickMsg{})
	}
	d.until("chaos off", func(m *Model) bool { return len(m.header.chaosOn()) == 0 })
	screen = d.m.View()
	fitsIn(t, "chaos off", screen, 80, 24)
	if strings.Contains(screen, "⚡") {
		t.Fatalf("still warning:\n%s", screen)
	}
}

func TestHostileIntegrationNamesAreInertInTheChaosLine(t *testing.T) {
	f := newFixture(t)
	evil := f.rawIntegration("evil\x1b]0;x\x07\x9b2J", incidents.KindGrafana)
	if err := f.svc.SetChaos(context.Background(), evil.Name, incidents.Chaos{Share: 1, Delay: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.until("the integrations", func(m *Model) bool { return m.integrations().win.loaded })
	screen := d.m.View()
	noControl(t, "header", screen)
	if l := lineWithText(screen, "⚡"); !strings.HasPrefix(l, "⚡ chaos: evil␛]0;x␇") || !strings.HasSuffix(l, "delays 100% of requests, 2s late") {
		t.Fatalf("chaos line %q", l)
	}
	d.key("i")
	noControl(t, "integrations page", d.m.View())
	for i := 0; i < 2; i++ {
		d.key("down")
	}
	d.key("enter")
	if d.m.detail.kind != detailSetup {
		t.Fatalf("no setup page:\n%s", d.m.View())
	}
	noControl(t, "setup page", d.m.View())
}

// remoteSource is a Source whose integrations come as the remote client
// (klaxon attach) lists them for the console.
type remoteSource struct {
	*incidents.Service
	list []*incidents.Integration
}

func (s remoteSource) Integrations(context.Context) ([]remote.Integration, error) {
	panic("the console reads ListIntegrations")
}

func (s remoteSource) ListIntegrations(context.Context) ([]*incidents.Integration, error) {
	return s.list, nil
}

func TestAttachedConsoleReadsTheRemoteIntegrations(t *testing.T) {
	f := newFixture(t)
	src := remoteSource{Service: f.svc, list: []*incidents.Integration{
		{ID: 1, Name: "default", Kind: incidents.KindWebhook, Token: "TOKEN"},
		{ID: 2, Name: "pd", Kind: incidents.KindPagerDuty, Token: "PDTOKEN", Chaos: incidents.Chaos{Status: 429, Share: 0.5}},
	}}
	opts := f.options()
	opts.WebhookURL = "http://ops:8765/TOKEN/push-events"
	d := drive(t, New(src, opts), 80, 24)
	d.until("the integrations", func(m *Model) bool { return m.integrations().win.loaded })
	screen := d.m.View()
	if lineWithText(screen, "webhook ") != "webhook http://ops:8765/TOKEN/push-events (webhook)" ||
		lineWithText(screen, "⚡") != "⚡ chaos: pd 429 to 50% of requests" {
		t.Fatalf("header:\n%s", screen)
	}
	d.key("i", "down", "enter")
	page := ansi.Strip(d.m.View())
	for _, want := range []string{"pd (pagerduty, dedup key dedup_key): paste this into its sender", "routing_key: PDTOKEN", "url: http://ops:8765/v2/enqueue"} {
		if !strings.Contains(page, want) {
			t.Fatalf("setup page lacks %q:\n%s", want, page)
		}
	}
}

// The same over the real HTTP client and API.
func TestAttachedConsoleListsIntegrationsOverTheAPI(t *testing.T) {
	f := newFixture(t)
	am := f.addIntegration("am", incidents.KindAlertmanager)
	rs := receiver.New(f.svc, receiver.Options{BaseURL: "http://x", APIToken: "tok"})
	ts := httptest.NewServer(rs)
	t.Cleanup(func() {
		rs.CloseStreams()
		ts.Close()
	})
	client := remote.New(ts.URL, "tok")
	opts := f.options()
	opts.WebhookURL = "http://x/" + am.Token + "/push-events"
	d := drive(t, New(client, opts), 80, 24)
	d.until("the integrations", func(m *Model) bool { return len(m.integrations().win.items) == 2 })
	if l := lineWithText(d.m.View(), "webhook "); l != "webhook "+opts.WebhookURL+" (alertmanager)" {
		t.Fatalf("webhook line %q", l)
	}
	d.key("i")
	if !screenHas(&d.m, "am      alertmanager fingerprint") || !screenHas(&d.m, opts.WebhookURL) {
		t.Fatalf("page:\n%s", d.m.View())
	}
}

func TestIntegrationsPageKeys(t *testing.T) {
	f := newFixture(t)
	f.addIntegration("am", incidents.KindAlertmanager)
	f.addIntegration("graf", incidents.KindGrafana)
	f.ingest(event{title: "disk full", sev: incidents.Sev2})
	d := drive(t, New(f.svc, f.options()), 80, 24)

	d.key("i")
	d.settle()
	screen := d.m.View()
	fitsIn(t, "page", screen, 80, 24)
	for _, want := range []string{"[i Integrations 3]", "NAME", "DEDUP KEY", "▶ default", "webhook", "title",
		"am      alertmanager fingerprint", "graf    grafana      fingerprint (legacy: ruleId)", "http://127.0.0.1:8080/", "1/3", "enter setup"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the page lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "[1 Open") {
		t.Fatal("the Open tab still looks active under the page")
	}
	// Actions do nothing here.
	d.key("a", "r")
	if d.m.detail.kind != detailNone || !(d.m.shown == int(listIntegrations)) {
		t.Fatal("an action key left the page")
	}

	d.key("down", "enter")
	if d.m.detail.kind != detailSetup || d.m.detail.integ.Name != "am" {
		t.Fatalf("enter on am:\n%s", d.m.View())
	}
	setup := d.m.View()
	fitsIn(t, "setup", setup, 80, 24)
	if !strings.Contains(setup, "webhook_configs:") || !strings.Contains(setup, "credentials: "+d.m.detail.integ.Token) ||
		!strings.Contains(setup, "am (alertmanager, dedup key fingerprint)") {
		t.Fatalf("setup page:\n%s", setup)
	}
	d.key("esc")
	if d.m.detail.kind != detailNone || !(d.m.shown == int(listIntegrations)) || d.m.integrations().win.sel != 1 {
		t.Fatalf("esc from the setup goes back to the page, on am:\n%s", d.m.View())
	}
	d.key("end")
	if d.m.integrations().win.sel != 2 {
		t.Fatal("end")
	}
	d.key("esc")
	if (d.m.shown == int(listIntegrations)) || !screenHas(&d.m, "[1 Open 1]") || !screenHas(&d.m, "disk full") {
		t.Fatalf("esc closes the page:\n%s", d.m.View())
	}

	// i from an incident's page, and a view key away.
	d.key("enter")
	d.until("the incident", func(m *Model) bool { return m.detail.in != nil })
	d.key("i")
	if d.m.detail.kind != detailNone || !(d.m.shown == int(listIntegrations)) {
		t.Fatal("i from a detail page")
	}
	d.key("4")
	d.settle()
	if (d.m.shown == int(listIntegrations)) || d.m.shown != int(listRequests) || !screenHas(&d.m, "[4 Requests 1]") {
		t.Fatalf("4 from the page:\n%s", d.m.View())
	}
	// The filter line takes i as text.
	d.key("1", "/", "i")
	if (d.m.shown == int(listIntegrations)) || d.m.filter.input.Value() != "i" {
		t.Fatal("i in the filter line")
	}
}

func TestIntegrationsPageScrollsAtItsHeight(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 20; i++ {
		f.addIntegration("int-"+itoa(int64(i)), incidents.Kinds[i%len(incidents.Kinds)])
	}
	d := drive(t, New(f.svc, f.options()), 80, 24)
	d.key("i")
	d.settle()
	for i := 0; i < 21; i++ {
		screen := d.m.View()
		fitsIn(t, "scrolling", screen, 80, 24)
		if !strings.Contains(screen, "▶") {
			t.Fatalf("at %d the selection is off screen:\n%s", d.m.integrations().win.sel, screen)
		}
		d.key("down")
	}
	if d.m.integrations().win.sel != 20 {
		t.Fatalf("sel %d", d.m.integrations().win.sel)
	}
	d.key("home")
	if d.m.integrations().win.sel != 0 || d.m.integrations().win.offset != 0 {
		t.Fatal("home")
	}
}

func TestIntegrationsReloadWhenAJournalEntryNamesANewOne(t *testing.T) {
	f := newFixture(t)
	l := newIntegrationList(newCommon(f.svc, f.options()))
	l.win.loaded, l.win.items = true, []integration{{Integration: *f.integ}}
	if _, cmd := l.Update(changesMsg{incidents: map[int64]bool{}, requests: 1, integrations: map[string]bool{"default": true}}); cmd != nil || l.win.loading {
		t.Fatal("a known integration made the console read them again")
	}
	if _, cmd := l.Update(changesMsg{incidents: map[int64]bool{}, requests: 1, integrations: map[string]bool{"adopted": true}}); cmd == nil || !l.win.loading {
		t.Fatal("an integration the console has not heard of did not make it read them again")
	}
}
