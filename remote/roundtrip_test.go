package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"klaxon/api"
	"klaxon/incidents"
	"klaxon/receiver"
	"klaxon/senders"
)

// wire is v as the receiver writes it (no HTML escaping of its own).
func wire(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(b.String(), "\n")
}

// raw is the body the server answers to GET path, and its status.
func raw(t *testing.T, s *server, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimRight(string(b), "\n")
}

// sendAs posts body to the push-events URL with the integration's token
// in Authorization.
func sendAs(t *testing.T, s *server, integ *incidents.Integration, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+s.addr+"/push-events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+integ.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// shownAs is an integration as a server at base shows it.
func shownAs(in *incidents.Integration, base string) api.Integration {
	return api.Integration{
		Integration: *in, URL: receiver.WebhookURL(base, in.Token), DedupKey: in.Kind.KeyName(),
		Setup: senders.Setup(senders.Target{Base: base, Token: in.Token, Kind: in.Kind, Name: in.Name}),
	}
}

// must is v; an err, which the fixture never expects, stops the tests.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// What the server answers, remote reads back whole: for each endpoint
// family, the server writes the api type of what it meant (byte for byte
// its answer), and what the client decoded writes the same bytes again, so
// no field is lost or changed on the way. The fixture fills the fields
// that are empty by default (severity, priority, details, acknowledgement,
// resolution, timers, chaos, alerts, warnings, a body that is not UTF-8).
func TestAnswersRoundTrip(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	base := "http://" + s.addr
	ctx := context.Background()

	if err := svc.SetTimers(ctx, integ.Name, incidents.Timers{AckTimeout: time.Hour, ResolveAfter: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	prom := must(svc.CreateIntegration(ctx, "prom", "payments <api> & co", "ops", incidents.KindAlertmanager))
	post(t, s, integ, `{"title":"db <down> & out","severity":"sev1","priority":"p2","body":{"host":"db-7","note":"<b>"}}`)
	post(t, s, integ, `{"title":"db <down> & out","severity":"sev1"}`)
	post(t, s, integ, "{\"title\":\"cron late\",\"severity\":\"sev9\",\"body\":\"\xff\xfe\"}")
	post(t, s, integ, `{"title":"gone","severity":"sev3"}`)
	sendAs(t, s, prom, `{"alerts":[{"status":"firing","labels":{"alertname":"Disk","severity":"critical"},"fingerprint":"f1"},
		{"status":"resolved","labels":{"alertname":"Load","severity":"warning"},"fingerprint":"f2"}]}`)
	all := incidents.Filter{Status: "all"}
	list := must(svc.ListIncidents(ctx, all)).Items
	id := func(title string) int64 {
		for _, in := range list {
			if in.Title == title {
				return in.ID
			}
		}
		t.Fatalf("no incident %q", title)
		return 0
	}
	db, gone := id("db <down> & out"), id("gone")
	if _, err := svc.Acknowledge(ctx, db, incidents.ByConsole); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Act(ctx, gone, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByConsole}); err != nil {
		t.Fatal(err)
	}
	reqs := must(svc.Requests(ctx, 100, "")).Items
	// Chaos only now, so that it answers none of the fixture's requests.
	if err := svc.SetChaos(ctx, integ.Name, incidents.Chaos{Status: 503, Share: 0.5, Delay: time.Second}); err != nil {
		t.Fatal(err)
	}
	sev1 := incidents.Sev1

	// Reads: the server's answer is the api type of what it meant, and
	// the client's reading of it writes the same bytes.
	for _, tc := range []struct {
		name, path string
		meant      func() (any, error)
		read       func() (any, error)
	}{
		{"incident list, first page", "/api/v1/incidents?limit=2&status=all",
			func() (any, error) {
				p, err := svc.ListIncidents(ctx, incidents.Filter{Status: "all", Limit: 2})
				return api.IncidentPageOf(p), err
			},
			func() (any, error) {
				p, err := c.ListIncidents(ctx, incidents.Filter{Status: "all", Limit: 2})
				return api.IncidentPageOf(p), err
			}},
		{"incident list, filtered", "/api/v1/incidents?severity=sev1",
			func() (any, error) {
				p, err := svc.ListIncidents(ctx, incidents.Filter{Severity: &sev1, Limit: 100})
				return api.IncidentPageOf(p), err
			},
			func() (any, error) {
				p, err := c.ListIncidents(ctx, incidents.Filter{Severity: &sev1})
				return api.IncidentPageOf(p), err
			}},
		{"incident, acknowledged", fmt.Sprintf("/api/v1/incidents/%d", db),
			func() (any, error) { return svc.Incident(ctx, db) },
			func() (any, error) { return c.Incident(ctx, db) }},
		{"incident, resolved", fmt.Sprintf("/api/v1/incidents/%d", gone),
			func() (any, error) { return svc.Incident(ctx, gone) },
			func() (any, error) { return c.Incident(ctx, gone) }},
		{"counts", "/api/v1/counts?severity=sev1",
			func() (any, error) {
				n, err := svc.CountIncidents(ctx, incidents.Filter{Severity: &sev1})
				return api.Counts{Incidents: n, Suppressed: must(svc.CountSuppressed(ctx)), Requests: must(svc.CountRequests(ctx))}, err
			},
			func() (any, error) {
				n, err := c.counts(ctx, incidents.Filter{Severity: &sev1})
				return n, err
			}},
		{"tally", "/api/v1/tally",
			func() (any, error) {
				tl, err := svc.TallyIncidents(ctx)
				return api.TallyOf(tl), err
			},
			func() (any, error) {
				tl, err := c.TallyIncidents(ctx)
				return api.TallyOf(tl), err
			}},
		{"suppressed", "/api/v1/suppressed?limit=1",
			func() (any, error) {
				p, err := svc.Suppressed(ctx, 1, "")
				return api.SuppressedPageOf(p), err
			},
			func() (any, error) {
				p, err := c.Suppressed(ctx, 1, "")
				return api.SuppressedPageOf(p), err
			}},
		{"requests", "/api/v1/requests",
			func() (any, error) {
				p, err := svc.Requests(ctx, 100, "")
				return api.RequestPageOf(p), err
			},
			func() (any, error) {
				p, err := c.Requests(ctx, 0, "")
				return api.RequestPageOf(p), err
			}},
		{"request with alerts", fmt.Sprintf("/api/v1/requests/%d", reqs[0].ID),
			func() (any, error) { return svc.Request(ctx, reqs[0].ID) },
			func() (any, error) { return c.Request(ctx, reqs[0].ID) }},
		{"request not UTF-8, with warnings", fmt.Sprintf("/api/v1/requests/%d", reqs[2].ID),
			func() (any, error) { return svc.Request(ctx, reqs[2].ID) },
			func() (any, error) { return c.Request(ctx, reqs[2].ID) }},
		{"integrations", "/api/v1/integrations",
			func() (any, error) {
				list, err := svc.Integrations(ctx)
				out := api.IntegrationList{Integrations: []api.Integration{}}
				for _, in := range list {
					out.Integrations = append(out.Integrations, shownAs(in, base))
				}
				return out, err
			},
			func() (any, error) {
				list, err := c.Integrations(ctx)
				return api.IntegrationList{Integrations: list}, err
			}},
		{"health", "/api/v1/health",
			func() (any, error) { return svc.Health(), nil },
			func() (any, error) { return c.Health(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meant := wire(t, must(tc.meant()))
			status, answer := raw(t, s, tc.path)
			if status != 200 || answer != meant {
				t.Fatalf("GET %s answered %d\n%s\nwhere the server meant\n%s", tc.path, status, answer, meant)
			}
			if got := wire(t, must(tc.read())); got != meant {
				t.Fatalf("remote read\n%s\nwhere the server meant\n%s", got, meant)
			}
		})
	}
	if p := must(svc.Requests(ctx, 100, "")); len(p.Items) != 5 || len(reqs[0].Alerts) != 2 || !strings.Contains(wire(t, reqs[2]), `"body_base64"`) || len(reqs[2].Warnings) == 0 {
		t.Fatalf("the fixture lacks what it is meant to hold: %s", wire(t, p.Items))
	}

	// Actions: the answer is the incident after the action, with changed.
	for _, tc := range []struct {
		name    string
		id      int64
		action  incidents.PersonAction
		changed bool
	}{
		{"unacknowledge", db, incidents.PersonAction{Kind: incidents.EntryUnacknowledged}, true},
		{"unacknowledge again", db, incidents.PersonAction{Kind: incidents.EntryUnacknowledged}, false},
		{"acknowledge", db, incidents.PersonAction{Kind: incidents.EntryAcknowledged}, true},
		{"severity", db, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: incidents.Sev2}, true},
		{"severity cleared", db, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: incidents.NoSeverity}, true},
		{"priority, as it was", db, incidents.PersonAction{Kind: incidents.EntryPriorityChanged, Priority: "p2"}, false},
		{"resolve", db, incidents.PersonAction{Kind: incidents.EntryResolved}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.act(ctx, tc.id, tc.action)
			if err != nil {
				t.Fatal(err)
			}
			meant := api.ActionAnswer{Incident: must(svc.Incident(ctx, tc.id)), Changed: tc.changed}
			if wire(t, got) != wire(t, meant) {
				t.Fatalf("remote read\n%s\nwhere the server meant\n%s", wire(t, got), wire(t, meant))
			}
		})
	}

	// Refusals: the server's sentence and a code from the status.
	for _, tc := range []struct {
		name string
		call func() error
		path string
		code string
	}{
		{"unknown incident", func() error { _, err := c.Incident(ctx, 999); return err }, "/api/v1/incidents/999", incidents.ENOTFOUND},
		{"unknown request", func() error { _, err := c.Request(ctx, 999); return err }, "/api/v1/requests/999", incidents.ENOTFOUND},
		{"bad cursor", func() error { _, err := c.Requests(ctx, 1, "zzz"); return err }, "/api/v1/requests?cursor=zzz&limit=1", incidents.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var meant api.Error
			_, answer := raw(t, s, tc.path)
			if err := json.Unmarshal([]byte(answer), &meant); err != nil || meant.OK || meant.Error == "" {
				t.Fatalf("GET %s answered %s, not an api.Error", tc.path, answer)
			}
			err := tc.call()
			if incidents.ErrorCode(err) != tc.code || incidents.ErrorMessage(err) != meant.Error {
				t.Fatalf("remote read %v (%s), where the server said %q (%s)", err, incidents.ErrorCode(err), meant.Error, tc.code)
			}
		})
	}
	if _, err := c.Act(ctx, db, incidents.PersonAction{Kind: incidents.EntryAcknowledged}); incidents.ErrorCode(err) != incidents.ECONFLICT {
		t.Fatalf("acting on a resolved incident: %v, want ECONFLICT", err)
	}
}

// Integrations made, changed, rotated and removed through remote are the
// ones the server then holds, shown as the server shows them.
func TestIntegrationAnswersRoundTrip(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	base := "http://" + s.addr
	ctx := context.Background()
	held := func(name string) string {
		t.Helper()
		in := must(svc.IntegrationNamed(ctx, name))
		if in == nil {
			t.Fatalf("no integration %q", name)
		}
		return wire(t, shownAs(in, base))
	}

	made := must(c.CreateIntegration(ctx, "grafana-prod", "web & <api>", "ops-primary", incidents.KindGrafana))
	if wire(t, made) != held("grafana-prod") {
		t.Fatalf("created\n%s\nwhere the server holds\n%s", wire(t, made), held("grafana-prod"))
	}
	if err := c.SetTimers(ctx, made.Name, incidents.Timers{AckTimeout: 30 * time.Minute, ResolveAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	chaos := incidents.Chaos{Status: 429, Share: 0.25, Delay: time.Second}
	if err := c.SetChaos(ctx, made.Name, chaos); err != nil {
		t.Fatal(err)
	}
	in := must(svc.IntegrationNamed(ctx, made.Name))
	if in.AckTimeout != 30*time.Minute || in.ResolveAfter != time.Hour || in.Chaos != chaos {
		t.Fatalf("after SetTimers and SetChaos the server holds %+v", in)
	}
	list := must(c.Integrations(ctx))
	if len(list) != 2 || wire(t, list[1]) != held(made.Name) {
		t.Fatalf("listed %s, where the server holds %s", wire(t, list), held(made.Name))
	}

	for _, grace := range []time.Duration{0, time.Hour} {
		before := time.Now()
		rotated, until, err := c.RotateIntegration(ctx, integ.Name, grace)
		if err != nil {
			t.Fatal(err)
		}
		if wire(t, rotated) != held(integ.Name) || rotated.Token == integ.Token {
			t.Fatalf("rotated with grace %s:\n%s\nwhere the server holds\n%s", grace, wire(t, rotated), held(integ.Name))
		}
		if grace == 0 && !until.IsZero() || grace > 0 && (until.Before(before.Add(grace).Add(-time.Second)) || until.After(time.Now().Add(grace))) {
			t.Fatalf("rotated with grace %s: the old token works until %s", grace, until)
		}
	}

	if err := c.RemoveIntegration(ctx, made.Name); err != nil {
		t.Fatal(err)
	}
	if in, err := svc.IntegrationNamed(ctx, made.Name); err != nil || in != nil {
		t.Fatalf("removed, the server still holds %+v %v", in, err)
	}
	if err := c.RemoveIntegration(ctx, made.Name); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("removing it again: %v, want ENOTFOUND", err)
	}
	if _, _, err := c.RotateIntegration(ctx, integ.Name, incidents.MaxGrace+time.Second); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("rotating with too long a grace: %v, want EINVALID", err)
	}
}

// Each line of the event stream reads back as the change the server
// published: the incident with what happened to it, and journal entries.
func TestStreamRoundTrip(t *testing.T) {
	svc, integ := newService(t)
	s := startServer(t, svc, "127.0.0.1:0")
	c := New("http://"+s.addr, "tok")
	ctx := context.Background()
	ch, cancel := c.Subscribe()
	defer cancel()
	next(t, ch, func(x incidents.Change) bool { return x.Health != nil && x.Health.OK })
	published, stop := svc.Subscribe()
	defer stop()

	post(t, s, integ, `{"title":"db <down> & out","severity":"sev1","body":{"host":"db-7"}}`)
	post(t, s, integ, `{"title":"db <down> & out","severity":"sev1"}`)
	page := must(svc.ListIncidents(ctx, incidents.Filter{}))
	if len(page.Items) != 1 {
		t.Fatalf("incidents: %+v", page.Items)
	}
	if _, err := svc.Acknowledge(ctx, page.Items[0].ID, incidents.ByConsole); err != nil {
		t.Fatal(err)
	}
	svc.Realerted(page.Items[0])
	// Six changes, in the order published: the incident created,
	// suppressed, acknowledged and re-alerted, and the two requests.
	for range 6 {
		meant := next(t, published, func(x incidents.Change) bool { return x.Incident != nil || x.Request != nil })
		got := next(t, ch, func(x incidents.Change) bool { return x.Incident != nil || x.Request != nil })
		switch {
		case meant.Incident != nil:
			want := wire(t, api.StreamLine{Incident: meant.Incident, Change: meant.Kind})
			if line := wire(t, api.StreamLine{Incident: got.Incident, Change: got.Kind}); line != want || got.Kind == "" {
				t.Fatalf("remote read\n%s\nwhere the server published\n%s", line, want)
			}
		case meant.Request != nil:
			if got.Request == nil || wire(t, got.Request) != wire(t, meant.Request) {
				t.Fatalf("remote read %+v where the server published the request\n%s", got, wire(t, meant.Request))
			}
		}
	}
}
