package remote

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
	"klaxon/receiver"
	"klaxon/senders"
	"klaxon/tui"
)

// The console can run over HTTP: the client is a tui.Source with exact counts.
var (
	_ tui.Source          = (*Client)(nil)
	_ tui.JournalCounter  = (*Client)(nil)
	_ tui.IncidentTallier = (*Client)(nil)
)

type server struct {
	svc   *incidents.Service
	addr  string
	srv   *http.Server
	integ *incidents.Integration
	rs    *receiver.Server
}

func startServer(t *testing.T, svc *incidents.Service, addr string) *server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{svc: svc, addr: l.Addr().String()}
	s.rs = receiver.New(svc, receiver.Options{BaseURL: "http://" + s.addr, APIToken: "tok"})
	s.srv = s.rs.HTTPServer(s.addr, nil)
	go s.srv.Serve(l)
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) stop() {
	s.rs.CloseStreams()
	s.srv.Close()
}

func newService(t *testing.T) (*incidents.Service, *incidents.Integration) {
	t.Helper()
	_, svc, integ := testkit.Service(t, "default")
	return svc, integ
}

func post(t *testing.T, s *server, integ *incidents.Integration, body string) {
	t.Helper()
	resp, err := http.Post("http://"+s.addr+"/"+integ.Token+"/push-events", "", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func next(t *testing.T, ch <-chan incidents.Change, want func(incidents.Change) bool) incidents.Change {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-ch:
			if want(c) {
				return c
			}
		case <-timeout:
			t.Fatal("the change did not arrive")
		}
	}
}

func TestClientReadsAndActs(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	ctx := context.Background()
	post(t, s, integ, `{"title":"db down","severity":"sev1"}`)
	post(t, s, integ, `{"title":"db down"}`)
	post(t, s, integ, `{"title":"cron late"}`)

	page, err := c.ListIncidents(ctx, incidents.Filter{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].Title != "db down" || page.NextCursor == "" {
		t.Fatalf("list: %+v %v", page, err)
	}
	sev1 := incidents.Sev1
	if n, err := c.CountIncidents(ctx, incidents.Filter{Severity: &sev1}); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	tally, err := c.TallyIncidents(ctx)
	if err != nil || tally.Open[incidents.Sev1] != 1 || tally.Open[incidents.NoSeverity] != 1 || tally.OpenTotal() != 2 {
		t.Fatalf("tally: %+v %v", tally, err)
	}
	if n, _ := c.CountSuppressed(ctx); n != 1 {
		t.Fatalf("suppressed count: %d", n)
	}
	if n, _ := c.CountRequests(ctx); n != 3 {
		t.Fatalf("requests count: %d", n)
	}
	id := page.Items[0].ID
	in, err := c.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryPriorityChanged, Priority: "p2"})
	if err != nil || in.Priority != "p2" {
		t.Fatalf("set priority: %+v %v", in, err)
	}
	if _, err := c.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryResolved}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryAcknowledged})
	if incidents.ErrorCode(err) != incidents.ECONFLICT {
		t.Fatalf("act on resolved: %v, want ECONFLICT", err)
	}
	got, err := c.Incident(ctx, id)
	if err != nil || got.ResolvedBy != incidents.ByAPI || len(got.Timeline) < 3 {
		t.Fatalf("incident: %+v %v", got, err)
	}
	reqs, err := c.Requests(ctx, 10, "")
	if err != nil || len(reqs.Items) != 3 {
		t.Fatalf("requests: %v", err)
	}
	if r, err := c.Request(ctx, reqs.Items[0].ID); err != nil || r.Body != `{"title":"cron late"}` {
		t.Fatalf("request: %+v %v", r, err)
	}
	if _, err := New("http://"+s.addr, "wrong").ListIncidents(ctx, incidents.Filter{}); err == nil || !strings.Contains(err.Error(), "refused the API token") {
		t.Fatalf("wrong token: %v", err)
	}
}

// Integrations carry their chaos, dedup key and setup block; SetChaos
// changes chaos and leaves the timers.
func TestIntegrationsChaosAndSetup(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	ctx := context.Background()
	if err := c.SetTimers(ctx, integ.Name, incidents.Timers{AckTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	chaos := incidents.Chaos{Status: 503, Share: 0.3, Delay: 2 * time.Second}
	if err := c.SetChaos(ctx, integ.Name, chaos); err != nil {
		t.Fatal(err)
	}
	list, err := c.Integrations(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("integrations: %+v %v", list, err)
	}
	in := list[0]
	setup := senders.Setup(senders.Target{Base: "http://" + s.addr, Token: integ.Token, Kind: incidents.KindWebhook, Name: integ.Name})
	if in.Chaos != chaos || in.AckTimeout != time.Hour || in.DedupKey != "title" || in.Setup != setup {
		t.Fatalf("integration: %+v", in)
	}
	// What the client writes (klaxon integrations --json) reads back the same.
	b, err := json.Marshal(in)
	var back Integration
	if err != nil || json.Unmarshal(b, &back) != nil || back.Chaos != chaos || back.Setup != setup || back.DedupKey != "title" || !strings.Contains(string(b), `"chaos":"status=503,share=0.3,delay=2s"`) {
		t.Fatalf("round trip: %s %+v %v", b, back, err)
	}
	if err := c.SetChaos(ctx, integ.Name, incidents.Chaos{}); err != nil {
		t.Fatal(err)
	}
	if list, _ = c.Integrations(ctx); list[0].Chaos.On() {
		t.Fatalf("chaos still on: %+v", list[0].Chaos)
	}
	if err := c.SetChaos(ctx, "nope", chaos); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("SetChaos of an unknown integration: %v", err)
	}
}

func TestSubscribeReconnects(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	c.MinBackoff, c.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	ch, cancel := c.Subscribe()
	defer cancel()
	next(t, ch, func(x incidents.Change) bool { return x.Health != nil && x.Health.OK })

	post(t, s, integ, `{"title":"live one"}`)
	got := next(t, ch, func(x incidents.Change) bool { return x.Incident != nil })
	if got.Incident.Title != "live one" {
		t.Fatalf("incident over the stream: %+v", got.Incident)
	}
	next(t, ch, func(x incidents.Change) bool { return x.Request != nil })

	// The server goes away: the subscriber is told it is disconnected.
	s.stop()
	down := next(t, ch, func(x incidents.Change) bool { return x.Health != nil && !x.Health.OK })
	if !strings.Contains(down.Health.Problem, "disconnected") {
		t.Fatalf("problem: %q", down.Health.Problem)
	}
	// It comes back on the same address: reconnect, health OK, and a resync.
	s2 := startServer(t, svc, s.addr)
	next(t, ch, func(x incidents.Change) bool { return x.Health != nil && x.Health.OK })
	next(t, ch, func(x incidents.Change) bool { return x.Resync })
	post(t, s2, integ, `{"title":"after restart"}`)
	got = next(t, ch, func(x incidents.Change) bool { return x.Incident != nil })
	if got.Incident.Title != "after restart" {
		t.Fatalf("after reconnect: %+v", got.Incident)
	}
}

func TestStreamLinesSayWhatHappened(t *testing.T) {
	for _, c := range []struct {
		line string
		want incidents.ChangeKind
	}{
		{`{"id":7,"title":"db down","status":"triggered","change":"realert"}`, incidents.ChangeRealert},
		{`{"id":7,"title":"db down","status":"triggered","change":"created"}`, incidents.ChangeCreated},
		{`{"id":7,"title":"db down","status":"triggered"}`, ""}, // an older klaxon's
	} {
		got, ok := decodeEvent("", []byte(c.line))
		if !ok || got.Incident == nil || got.Incident.ID != 7 || got.Kind != c.want {
			t.Errorf("%s: %+v %v, want incident #7 and change %q", c.line, got, ok, c.want)
		}
	}
}

// Over the stream a subscriber hears what happened, a re-alert included.
func TestSubscribeHearsWhatHappened(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	ch, cancel := c.Subscribe()
	defer cancel()
	next(t, ch, func(x incidents.Change) bool { return x.Health != nil && x.Health.OK })
	post(t, s, integ, `{"title":"db down","severity":"sev1"}`)
	got := next(t, ch, func(x incidents.Change) bool { return x.Incident != nil })
	if got.Kind != incidents.ChangeCreated {
		t.Fatalf("a new incident came as %q", got.Kind)
	}
	svc.Realerted(got.Incident)
	if again := next(t, ch, func(x incidents.Change) bool { return x.Incident != nil }); again.Kind != incidents.ChangeRealert || again.Incident.ID != got.Incident.ID {
		t.Fatalf("the re-alert came as %+v", again)
	}
}
