package api

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
)

func incident() *incidents.Incident {
	at := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	return &incidents.Incident{ID: 7, Integration: "default", Title: "db <down>", Severity: incidents.Sev1,
		Status: incidents.Triggered, FirstSeen: at, LastSeen: at}
}

// The bodies that add a field to an incident's object add it last, and
// read both back.
func TestIncidentWithAField(t *testing.T) {
	in := incident()
	plain, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSuffix(string(plain), "}")
	for _, tc := range []struct {
		v    any
		want string
	}{
		{ActionAnswer{Incident: in, Changed: true}, head + `,"changed":true}`},
		{ActionAnswer{Incident: in}, head + `,"changed":false}`},
		{StreamLine{Incident: in, Change: incidents.ChangeRealert}, head + `,"change":"realert"}`},
		{StreamLine{Incident: in}, string(plain)},
		{StreamLine{Incident: in, Change: incidents.ChangeCreated, Resync: true}, `{"resync":true}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v:\n%s %v\nwant\n%s", tc.v, b, err, tc.want)
			continue
		}
		back := reflect.New(reflect.TypeOf(tc.v))
		if err := json.Unmarshal(b, back.Interface()); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(back.Elem().Interface()); string(again) != tc.want {
			t.Errorf("%s read back writes %s", b, again)
		}
	}
	if _, err := json.Marshal(ActionAnswer{}); err == nil {
		t.Error("an action answer without an incident was written")
	}
	if b, err := withField([]byte(" {} "), "changed", true); err != nil || string(b) != `{"changed":true}` {
		t.Errorf("withField on {}: %s %v", b, err)
	}
}

// A patch tells absent from null, and the client's patches say what they
// set, "" clearing.
func TestIncidentPatch(t *testing.T) {
	for body, want := range map[string]IncidentPatch{
		`{"severity":null}`:                  {Severity: json.RawMessage("null")},
		`{"priority":"p2"}`:                  {Priority: json.RawMessage(`"p2"`)},
		`{"severity":7,"priority":"none"}`:   {Severity: json.RawMessage("7"), Priority: json.RawMessage(`"none"`)},
		`{"title":"not a field of patches"}`: {},
	} {
		var got IncidentPatch
		if err := json.Unmarshal([]byte(body), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v, want %+v", body, got, err, want)
		}
	}
	for _, tc := range []struct {
		patch IncidentPatch
		want  string
	}{
		{PatchSeverity(incidents.Sev2), `{"severity":"sev2"}`},
		{PatchSeverity(incidents.NoSeverity), `{"severity":""}`},
		{PatchPriority("p5"), `{"priority":"p5"}`},
	} {
		if b, _ := json.Marshal(tc.patch); string(b) != tc.want {
			t.Errorf("%s, want %s", b, tc.want)
		}
	}
}

// An integration on the wire has the fields SPEC §4 names, timers in
// seconds and chaos as text, and reads back the same.
func TestIntegrationWire(t *testing.T) {
	in := Integration{
		Integration: incidents.Integration{ID: 3, Name: "prom", Service: "web & <api>", Escalation: "ops", Kind: incidents.KindAlertmanager,
			Token: "tok", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), AckTimeout: time.Hour, ResolveAfter: 90 * time.Second,
			Chaos: incidents.Chaos{Status: 503, Share: 0.3}},
		URL: "http://k:8765/tok/push-events", DedupKey: "fingerprint", Setup: "route: <here>\n",
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "ack_timeout_seconds chaos created_at dedup_key escalation id kind name resolve_after_seconds service setup token url" {
		t.Errorf("fields: %s", got)
	}
	if fields["ack_timeout_seconds"] != 3600.0 || fields["resolve_after_seconds"] != 90.0 || fields["chaos"] != "status=503,share=0.3" || fields["created_at"] != "2026-01-02T03:04:05.006Z" {
		t.Errorf("wire: %s", b)
	}
	var back Integration
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, in) {
		t.Errorf("read back %+v %v, want %+v", back, err, in)
	}
	// A chaos a newer klaxon writes reads as off, not as an unreadable list.
	var list IntegrationList
	if err := json.Unmarshal([]byte(`{"integrations":[{"name":"x","chaos":"moon=full"}]}`), &list); err != nil || len(list.Integrations) != 1 || list.Integrations[0].Chaos.On() {
		t.Errorf("unknown chaos: %+v %v", list, err)
	}
}

func TestTallyNamesNoSeverityNone(t *testing.T) {
	tally := incidents.Tally{Open: map[incidents.Severity]int{incidents.Sev1: 2, incidents.NoSeverity: 1}, Resolved: 4}
	b, _ := json.Marshal(TallyOf(tally))
	if string(b) != `{"open":{"none":1,"sev1":2},"resolved":4}` {
		t.Errorf("tally: %s", b)
	}
	if back := TallyOf(tally).Incidents(); !reflect.DeepEqual(back, tally) {
		t.Errorf("read back %+v", back)
	}
	if b, _ := json.Marshal(TallyOf(incidents.Tally{})); string(b) != `{"open":{},"resolved":0}` {
		t.Errorf("empty tally: %s", b)
	}
}

func TestRotatedUntil(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	for _, until := range []time.Time{{}, at} {
		b, _ := json.Marshal(RotatedOf(Integration{}, until))
		var back Rotated
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if got, err := back.Until(); err != nil || !got.Equal(until) {
			t.Errorf("%s: until %s %v, want %s", b, got, err, until)
		}
	}
	if b, _ := json.Marshal(RotatedOf(Integration{}, time.Time{})); !strings.HasSuffix(string(b), `"old_token_works_until":null}`) {
		t.Errorf("refused at once: %s", b)
	}
}
