// Package api is klaxon's HTTP API as JSON (SPEC §4): the request and answer
// bodies of /api/v1, written by the receiver and read by remote, so that the
// two read one definition and cannot drift apart.
//
// Incidents, journal entries, suppressed events and storage health go on the
// wire as their incidents types write themselves (incidents.Incident's
// MarshalJSON and so on); this package names the bodies around them — pages,
// action answers, counts, integrations as shown, stream lines, refusals —
// and the bodies the API takes.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"klaxon/incidents"
)

// Error is every refusal's body, whatever its status: {"ok":false,"error":"…"},
// the sentence a person reads.
type Error struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// Healthz is GET /healthz's answer (no token needed): {"ok":true} while
// klaxon can store an event, else {"ok":false,"problem":"…"} with 503.
// GET /api/v1/health answers incidents.Health, with the time it began.
type Healthz struct {
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// IncidentPage is GET /api/v1/incidents's answer: one page of incidents in
// the order of SPEC §3, and the cursor of the next page, empty on the last.
// It carries no total: GET /api/v1/counts counts what a filter selects.
type IncidentPage struct {
	Incidents  []*incidents.Incident `json:"incidents"`
	NextCursor string                `json:"next_cursor"`
}

// IncidentPageOf is p as the API writes it.
func IncidentPageOf(p incidents.Page[*incidents.Incident]) IncidentPage {
	return IncidentPage{Incidents: p.Items, NextCursor: p.NextCursor}
}

// Page is the page as incidents reads it.
func (p IncidentPage) Page() incidents.Page[*incidents.Incident] {
	return incidents.Page[*incidents.Incident]{Items: p.Incidents, NextCursor: p.NextCursor}
}

// SuppressedPage is GET /api/v1/suppressed's answer: folded duplicates,
// newest first.
type SuppressedPage struct {
	Events     []incidents.SuppressedEvent `json:"events"`
	NextCursor string                      `json:"next_cursor"`
}

// SuppressedPageOf is p as the API writes it.
func SuppressedPageOf(p incidents.Page[incidents.SuppressedEvent]) SuppressedPage {
	return SuppressedPage{Events: p.Items, NextCursor: p.NextCursor}
}

// Page is the page as incidents reads it.
func (p SuppressedPage) Page() incidents.Page[incidents.SuppressedEvent] {
	return incidents.Page[incidents.SuppressedEvent]{Items: p.Events, NextCursor: p.NextCursor}
}

// RequestPage is GET /api/v1/requests's answer: the request journal, newest
// first. GET /api/v1/requests/{id} answers one incidents.Request.
type RequestPage struct {
	Requests   []*incidents.Request `json:"requests"`
	NextCursor string               `json:"next_cursor"`
}

// RequestPageOf is p as the API writes it.
func RequestPageOf(p incidents.Page[*incidents.Request]) RequestPage {
	return RequestPage{Requests: p.Items, NextCursor: p.NextCursor}
}

// Page is the page as incidents reads it.
func (p RequestPage) Page() incidents.Page[*incidents.Request] {
	return incidents.Page[*incidents.Request]{Items: p.Requests, NextCursor: p.NextCursor}
}

// ActionAnswer is the answer to POST /api/v1/incidents/{id}/acknowledge,
// unacknowledge or resolve and to PATCH /api/v1/incidents/{id}: the incident
// after the action, timeline included, as GET answers it, with one field
// added, "changed": whether the action changed it (acknowledging an
// acknowledged incident changes nothing).
type ActionAnswer struct {
	Incident *incidents.Incident
	Changed  bool
}

// MarshalJSON writes the incident's object with "changed" added.
func (a ActionAnswer) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(a.Incident)
	if err != nil {
		return nil, err
	}
	return withField(b, "changed", a.Changed)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *ActionAnswer) UnmarshalJSON(b []byte) error {
	var (
		in    incidents.Incident
		probe struct {
			Changed bool `json:"changed"`
		}
	)
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	*a = ActionAnswer{Incident: &in, Changed: probe.Changed}
	return nil
}

// IncidentPatch is PATCH /api/v1/incidents/{id}'s body: the fields present
// change, each a string ("sev1", "p2"), where "none", "" and null clear it.
// The fields are raw so that the receiver can tell null from absent and say
// what it was sent when it cannot read it; PatchSeverity and PatchPriority
// make them.
type IncidentPatch struct {
	Severity json.RawMessage `json:"severity,omitempty"`
	Priority json.RawMessage `json:"priority,omitempty"`
}

// PatchSeverity is the patch that sets the severity (NoSeverity clears it).
func PatchSeverity(s incidents.Severity) IncidentPatch {
	return IncidentPatch{Severity: quoted(string(s))}
}

// PatchPriority is the patch that sets the priority (NoPriority clears it).
func PatchPriority(p incidents.Priority) IncidentPatch {
	return IncidentPatch{Priority: quoted(string(p))}
}

func quoted(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// Counts is GET /api/v1/counts's answer: how many incidents the query's
// filter selects, how many suppressed-event records are stored (not the sum
// of the incidents' suppressed counters), and how many journal entries.
type Counts struct {
	Incidents  int `json:"incidents"`
	Suppressed int `json:"suppressed"`
	Requests   int `json:"requests"`
}

// Tally is GET /api/v1/tally's answer, the console's header counts in one
// cheap call: open incidents by severity ("sev1"…, and "none" for those
// without one) and resolved ones.
type Tally struct {
	Open     map[string]int `json:"open"`
	Resolved int            `json:"resolved"`
}

// noSeverity is how the tally names incidents.NoSeverity.
const noSeverity = "none"

// TallyOf is t as the API writes it.
func TallyOf(t incidents.Tally) Tally {
	open := make(map[string]int, len(t.Open))
	for sev, n := range t.Open {
		name := string(sev)
		if sev == incidents.NoSeverity {
			name = noSeverity
		}
		open[name] = n
	}
	return Tally{Open: open, Resolved: t.Resolved}
}

// Incidents is the tally as incidents counts it.
func (t Tally) Incidents() incidents.Tally {
	out := incidents.Tally{Open: make(map[incidents.Severity]int, len(t.Open)), Resolved: t.Resolved}
	for name, n := range t.Open {
		sev := incidents.Severity(name)
		if name == noSeverity {
			sev = incidents.NoSeverity
		}
		out.Open[sev] = n
	}
	return out
}

// The named events of GET /api/v1/stream?all=1, besides the unnamed lines
// (StreamLine): a journal entry (incidents.Request) and storage health
// (incidents.Health). Readers of data lines alone can tell them apart by
// their "event:" line.
const (
	EventRequest = "request"
	EventHealth  = "health"
)

// StreamLine is one unnamed data line of GET /api/v1/stream: a committed
// change to an incident, the incident's object with one field added,
// "change", what happened to it (left out when a change has no kind), or
// {"resync":true} when the subscriber fell behind and must reload.
type StreamLine struct {
	Incident *incidents.Incident
	Change   incidents.ChangeKind
	Resync   bool
}

// MarshalJSON writes {"resync":true}, or the incident with "change" added.
func (l StreamLine) MarshalJSON() ([]byte, error) {
	if l.Resync {
		return []byte(`{"resync":true}`), nil
	}
	b, err := json.Marshal(l.Incident)
	if err != nil || l.Change == "" {
		return b, err
	}
	return withField(b, "change", l.Change)
}

// UnmarshalJSON reads what MarshalJSON writes. A line of a klaxon older than
// "change" reads with no Change.
func (l *StreamLine) UnmarshalJSON(b []byte) error {
	var probe struct {
		Resync bool                 `json:"resync"`
		Change incidents.ChangeKind `json:"change"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if probe.Resync {
		*l = StreamLine{Resync: true}
		return nil
	}
	var in incidents.Incident
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*l = StreamLine{Incident: &in, Change: probe.Change}
	return nil
}

// withField adds "key":value to the end of the JSON object obj.
func withField(obj []byte, key string, value any) ([]byte, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("api: %q is not a JSON object, so %q cannot be added to it", obj, key)
	}
	k, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	v, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(obj)+len(k)+len(v)+2)
	out = append(out, obj[:len(obj)-1]...)
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(append(append(out, k...), ':'), v...)
	return append(out, '}'), nil
}
