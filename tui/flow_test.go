package tui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"klaxon/incidents"
)

// These flows run the console as a real Bubble Tea program (teatest) over
// real storage, with the Ascii colour profile and a fixed clock, and compare
// the final screen with testdata/<test>.golden. `go test ./tui -update`
// rewrites the goldens.

type flow struct {
	t  *testing.T
	tm *teatest.TestModel
}

func startFlow(t *testing.T, f *fixture, opts Options, width, height int) *flow {
	t.Helper()
	return startFlowOver(t, f.svc, opts, width, height)
}

func startFlowOver(t *testing.T, src Source, opts Options, width, height int) *flow {
	t.Helper()
	tm := teatest.NewTestModel(t, New(src, opts), teatest.WithInitialTermSize(width, height))
	fl := &flow{t: t, tm: tm}
	t.Cleanup(func() { _ = tm.Quit() })
	return fl
}

// waitFor waits until the program has drawn every one of texts.
func (fl *flow) waitFor(texts ...string) {
	fl.t.Helper()
	var seen bytes.Buffer
	teatest.WaitFor(fl.t, fl.tm.Output(), func(b []byte) bool {
		seen.Reset()
		seen.Write(b)
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func (fl *flow) press(keys ...string) {
	for _, k := range keys {
		fl.tm.Send(keyMsg(k))
	}
}

func (fl *flow) typeText(s string) {
	for _, r := range s {
		fl.tm.Send(keyMsg(string(r)))
	}
}

// quit presses q and returns the last screen the program would draw.
func (fl *flow) quit() string {
	fl.t.Helper()
	fl.press("q")
	m := fl.tm.FinalModel(fl.t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if !m.sub.ended() {
		fl.t.Fatal("q left the subscription open")
	}
	return m.View()
}

func golden(t *testing.T, screen string) {
	t.Helper()
	if r, bad := controlIn(screen); bad {
		t.Fatalf("control character %U on screen", r)
	}
	teatest.RequireEqualOutput(t, []byte(screen+"\n"))
}

func TestFlowEmptyStateShowsURLAndCurl(t *testing.T) {
	f := newFixture(t)
	fl := startFlow(t, f, f.options(), 80, 24)
	fl.waitFor("All quiet", "4 Requests 0", `curl -d '{"title":"test page","severity":"sev2"}' \`, testURL)
	golden(t, fl.quit())
}

func TestFlowIncidentArrivesLive(t *testing.T) {
	f := newFixture(t)
	opts := f.options()
	opts.Bell = true
	fl := startFlow(t, f, opts, 100, 24)
	fl.waitFor("All quiet", "4 Requests 0")
	f.liveFrom()
	f.ingest(event{title: "checkout is down", sev: incidents.Sev1, prio: "p1", details: `{"region":"eu-west-1"}`})
	// No key is pressed: the change alone brings it to the screen, with the
	// bell (BEL reaches the terminal once, in one frame).
	fl.waitFor("checkout is down", "[1 Open 1]", "1/1", "\a")
	screen := fl.quit()
	// The bell's frame may still be on; the picture is what matters here.
	golden(t, strings.TrimSuffix(screen, "\a"))
}

func seedSome(f *fixture) {
	mon, err := f.svc.CreateIntegration(context.Background(), "prometheus", "payments-api", "", incidents.KindWebhook)
	if err != nil {
		f.t.Fatal(err)
	}
	f.ingest(event{title: "disk full on db-1", sev: incidents.Sev1, prio: "p1", details: `{"mount":"/var","used":"99%"}`})
	f.ingest(event{title: "p99 latency above 2s on checkout", sev: incidents.Sev2, prio: "p2", integ: mon, details: `"latency is high since the deploy"`})
	f.ingest(event{title: "certificate for api.example.com expires in 3 days", sev: incidents.Sev3, integ: mon})
	f.ingest(event{title: "disk full on db-1", sev: incidents.Sev1, prio: "p1", details: `{"mount":"/var","used":"100%"}`})
	f.ingest(event{title: "backup job did not run", prio: "p4"})
	f.ingest(event{title: "queue depth growing on orders", sev: incidents.Sev2})
}

func TestFlowAcknowledgeFromTheKeyboard(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	fl := startFlow(t, f, f.options(), 100, 24)
	fl.waitFor("queue depth growing on orders", "[1 Open 5]", "4 Requests 6", "1/5")
	fl.press("j", "a")
	fl.waitFor("#2 acknowledged")
	screen := fl.quit()
	in := f.incident(2)
	if in.Status != incidents.Acknowledged {
		t.Fatalf("#2 is %s", in.Status)
	}
	golden(t, screen)
}

func TestFlowFilter(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	fl := startFlow(t, f, f.options(), 100, 24)
	fl.waitFor("queue depth growing on orders", "[1 Open 5]", "1/5")
	fl.press("/")
	fl.typeText("disk")
	fl.press("enter")
	fl.waitFor("filter: disk", "[1 Open 1]", "1/1") // 1/1: the list and the counts are both back
	golden(t, fl.quit())
}

func TestFlowDetail(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	if _, err := f.svc.Acknowledge(context.Background(), 1, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	fl := startFlow(t, f, f.options(), 100, 50)
	fl.waitFor("disk full on db-1", "[1 Open 5]", "1/5")
	fl.press("enter")
	fl.waitFor("Raw payloads", "acknowledged     by api")
	golden(t, fl.quit())
}

func TestFlow80x24(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	titles := []string{
		"ディスクがいっぱいです — データベース db-1 の容量が不足しています",
		"🔥 checkout on fire 🔥 and a very long tail that cannot fit in eighty columns",
		hostile,
	}
	for i := 0; i < 30; i++ {
		ev := event{title: fmt.Sprintf("%s #%d", titles[i%len(titles)], i), sev: []incidents.Severity{incidents.Sev2, incidents.Sev3, ""}[i%3]}
		f.ingest(ev)
	}
	for i := 0; i < 3; i++ {
		f.ingest(event{title: "queue depth growing on orders", sev: incidents.Sev2})
	}
	fl := startFlow(t, f, f.options(), 80, 24)
	fl.waitFor("[1 Open 35]", "1/35")
	fl.press("j", "a", "j", "j", "space")
	fl.waitFor("#2 acknowledged", "1 marked")
	golden(t, fl.quit())
}

func TestFlowFullHelp(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	fl := startFlow(t, f, f.options(), 80, 24)
	fl.waitFor("[1 Open 5]", "backup job did not run", "1/5")
	fl.press("?")
	fl.waitFor("previous view")
	golden(t, fl.quit())
}

// The disk is full: the header and a warning line say so, whatever else is
// on screen. #1 is storming.
func TestFlowNotReceiving(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	src := dressed(f.svc)
	src.health = &incidents.Health{OK: false, Since: f.now().Add(-3 * time.Minute),
		Problem: "the disk holding the database is full; klaxon took nothing, send again once space is freed"}
	src.set(1, func(in *incidents.Incident) { in.Storming = true })
	fl := startFlowOver(t, src, f.options(), 80, 24)
	fl.waitFor("NOT RECEIVING", "[1 Open 5]", "1/5", "×1⚡")
	golden(t, fl.quit())
}

func TestFlowDetailTimersAndStorm(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	if _, err := f.svc.Acknowledge(context.Background(), 1, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	src := dressed(f.svc)
	now := f.now()
	src.set(1, func(in *incidents.Incident) {
		in.Storming = true
		in.UnacknowledgesAt = timeP(now.Add(4 * time.Minute))
		in.AutoResolvesAt = timeP(now.Add(25 * time.Minute))
	})
	fl := startFlowOver(t, src, f.options(), 100, 30)
	fl.waitFor("disk full on db-1", "[1 Open 5]", "1/5")
	fl.press("enter")
	fl.waitFor("Ack expires", "Auto-resolve", "⚡STORM")
	golden(t, fl.quit())
}

func TestFlowReplay(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	opts := f.options()
	opts.Replay = newReplayer(t, f).Replay
	fl := startFlow(t, f, opts, 100, 24)
	fl.waitFor("[1 Open 5]", "1/5")
	fl.press("4")
	fl.waitFor("[4 Requests 6]", "1/6", "R replay")
	fl.press("R")
	fl.waitFor("replayed request 6: 200", "[4 Requests 7]", "1/7") // nobody moved the selection: it stays on the first row
	golden(t, fl.quit())
}

// integrationsSource lists fixed integrations, so the goldens do not
// depend on random tokens.
type integrationsSource struct {
	*incidents.Service
	list []*incidents.Integration
}

func (s integrationsSource) Integrations(context.Context) ([]*incidents.Integration, error) {
	return s.list, nil
}

func fixedIntegrations(f *fixture) integrationsSource {
	return integrationsSource{Service: f.svc, list: []*incidents.Integration{
		{ID: 1, Name: "default", Kind: incidents.KindWebhook, Token: "TOKEN"},
		{ID: 2, Name: "prometheus", Kind: incidents.KindAlertmanager, Token: "AMTOKEN", Chaos: incidents.Chaos{Status: 503, Share: 0.3}},
		{ID: 3, Name: "grafana-prod", Kind: incidents.KindGrafana, Token: "GRAFTOKEN"},
		{ID: 4, Name: "pagerduty", Kind: incidents.KindPagerDuty, Token: "PDTOKEN"},
		{ID: 5, Name: "opsgenie", Kind: incidents.KindOpsgenie, Token: "OGTOKEN"},
		{ID: 6, Name: "nightly-backups", Kind: incidents.KindHealthchecks, Token: "HCTOKEN"},
	}}
}

func TestFlowIntegrations(t *testing.T) {
	f := newFixture(t)
	seedSome(f)
	fl := startFlowOver(t, fixedIntegrations(f), f.options(), 80, 24)
	fl.waitFor("(webhook)", "⚡ chaos: prometheus 503 to 30% of requests", "1/5")
	fl.press("i", "down")
	fl.waitFor("[i Integrations 6]", "2/6")
	golden(t, fl.quit())
}

func TestFlowIntegrationSetup(t *testing.T) {
	f := newFixture(t)
	fl := startFlowOver(t, fixedIntegrations(f), f.options(), 80, 24)
	fl.waitFor("(webhook)", "⚡ chaos")
	fl.press("i", "down", "down", "down", "enter")
	fl.waitFor("pagerduty (pagerduty, dedup key dedup_key)", "routing_key: PDTOKEN")
	golden(t, fl.quit())
}

func TestFlowRequestsOfSeveralAlerts(t *testing.T) {
	f := newFixture(t)
	am := f.addIntegration("prometheus", incidents.KindAlertmanager)
	graf := f.addIntegration("grafana", incidents.KindGrafana)
	f.ingest(event{title: "disk full on db-1", sev: incidents.Sev1})
	f.ingestAlerts(am, incidents.KindAlertmanager,
		incidents.Event{Key: "3f2a", Title: "HighLatency web-1", Severity: incidents.Sev2, Action: incidents.Trigger},
		incidents.Event{Key: "9c1d", Title: "HighLatency web-2", Severity: incidents.Sev2, Action: incidents.Trigger})
	f.ingestAlerts(am, incidents.KindAlertmanager,
		incidents.Event{Key: "3f2a", Title: "HighLatency web-1", Severity: incidents.Sev2, Action: incidents.Trigger},
		incidents.Event{Key: "9c1d", Title: "HighLatency web-2", Action: incidents.Resolve},
		incidents.Event{Key: "77b0", Title: hostile, Action: incidents.Trigger})
	f.ingestAlerts(graf, incidents.KindGrafana,
		incidents.Event{Key: "a1", Title: "CPU above 90%", Severity: incidents.Sev3, Action: incidents.Trigger})
	fl := startFlow(t, f, f.options(), 80, 24)
	fl.waitFor("[1 Open 4]")
	fl.press("4")
	fl.waitFor("1 created, 1 suppressed", "graf")
	golden(t, fl.quit())
}
