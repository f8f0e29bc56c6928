package incidents

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Action is what a webhook event asks for.
type Action string

const (
	Trigger Action = "trigger"
	Resolve Action = "resolve"
	// Acknowledge comes from senders that have one (PagerDuty's
	// event_action, Opsgenie's acknowledge): it acknowledges the open
	// incident with the event's key, by webhook.
	Acknowledge Action = "acknowledge"
)

// Outcome is what an event did.
type Outcome string

const (
	Created      Outcome = "created"
	Folded       Outcome = "suppressed"
	ResolvedBy   Outcome = "resolved"
	AckedBy      Outcome = "acknowledged"
	Ignored      Outcome = "ignored"
	OutcomeError Outcome = "refused"
	// Mixed is a request of several alerts whose outcomes differ; its
	// journal entry lists each alert's.
	Mixed Outcome = "mixed"
	// Chaos is a request answered by the integration's chaos setting
	// (Integration.Chaos) without being stored.
	Chaosed Outcome = "chaos"
)

// Event is a webhook payload normalized by the receiver, whatever its kind.
type Event struct {
	// Key groups events into one incident. Empty means never grouped.
	Key      string
	Title    string
	Details  json.RawMessage // JSON value; nil means null
	Severity Severity
	Priority Priority
	Action   Action
	Raw      json.RawMessage // the payload as received, as JSON
	Warnings []string
	// Generated is set when the sender gave no key and klaxon made one up
	// (PagerDuty: a trigger without dedup_key); the answer returns it.
	Generated bool
}

// Integration is a token plus the names incidents are filed under.
type Integration struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Service    string    `json:"service"`
	Escalation string    `json:"escalation"`
	Kind       Kind      `json:"kind"`
	Token      string    `json:"token"`
	CreatedAt  time.Time `json:"created_at"`
	// AckTimeout returns an acknowledged incident to triggered this long
	// after it was acknowledged (zero: never).
	AckTimeout time.Duration `json:"-"`
	// ResolveAfter resolves an open incident that has not been seen for this
	// long (zero: never).
	ResolveAfter time.Duration `json:"-"`
	// Chaos, while on, answers a share of this integration's requests with
	// an error (or late) without storing them, to test a sender's retries.
	Chaos Chaos `json:"-"`
}

// Timers are an integration's acknowledge timeout and resolve timer.
type Timers struct {
	AckTimeout   time.Duration
	ResolveAfter time.Duration
}

// ApplyTimers sets in's UnacknowledgesAt and AutoResolvesAt from the timers.
func (t Timers) ApplyTimers(in *Incident) {
	in.UnacknowledgesAt, in.AutoResolvesAt = nil, nil
	if in.Status == Acknowledged && t.AckTimeout > 0 && in.AcknowledgedAt != nil {
		at := in.AcknowledgedAt.Add(t.AckTimeout)
		in.UnacknowledgesAt = &at
	}
	if in.Status.Open() && t.ResolveAfter > 0 {
		at := in.LastSeen.Add(t.ResolveAfter)
		in.AutoResolvesAt = &at
	}
}

// Kind decides how an integration's payloads are read.
type Kind string

const (
	KindWebhook      Kind = "webhook"
	KindHealthchecks Kind = "healthchecks"
	KindAlertmanager Kind = "alertmanager"
	KindGrafana      Kind = "grafana"
	KindPagerDuty    Kind = "pagerduty"
	KindOpsgenie     Kind = "opsgenie"
)

// Kinds lists the kinds klaxon reads.
var Kinds = []Kind{KindWebhook, KindHealthchecks, KindAlertmanager, KindGrafana, KindPagerDuty, KindOpsgenie}

// KeyName says which field of a kind's payload is its incidents' dedup key.
func (k Kind) KeyName() string {
	switch k {
	case KindHealthchecks:
		return "check_id"
	case KindAlertmanager:
		return "fingerprint"
	case KindGrafana:
		return "fingerprint (legacy: ruleId)"
	case KindPagerDuty:
		return "dedup_key"
	case KindOpsgenie:
		return "alias"
	}
	return "title"
}

// ParseKind checks a kind name; empty means webhook.
func ParseKind(s string) (Kind, error) {
	if s == "" {
		return KindWebhook, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		if Kind(strings.ToLower(strings.TrimSpace(s))) == k {
			return k, nil
		}
		names[i] = string(k)
	}
	return "", Errorf(EINVALID, "kind %q is not one of %s", s, strings.Join(names, ", "))
}

// IngestResult is the answer to one event.
type IngestResult struct {
	Outcome  Outcome
	Incident *Incident // nil when ignored
	Warnings []string
}

// Decision is what the rules say to do with an event, given the open incident
// with its key (nil when there is none).
type Decision struct {
	Outcome Outcome
	// SeverityChange and PriorityChange are set when a suppressed event brings a
	// valid value that differs from the incident's.
	SeverityChange bool
	PriorityChange bool
}

// Decide applies SPEC §2's rules. It is pure: storage calls it inside the
// transaction that looked up the open incident, so the decision and its
// effect commit together.
func Decide(ev Event, open *Incident) Decision {
	switch ev.Action {
	case Resolve:
		if open == nil || ev.Key == "" {
			return Decision{Outcome: Ignored}
		}
		return Decision{Outcome: ResolvedBy}
	case Acknowledge:
		if open == nil || ev.Key == "" || open.Status == Acknowledged {
			return Decision{Outcome: Ignored}
		}
		return Decision{Outcome: AckedBy}
	}
	if ev.Key == "" || open == nil {
		return Decision{Outcome: Created}
	}
	return Decision{
		Outcome:        Folded,
		SeverityChange: ev.Severity != NoSeverity && ev.Severity != open.Severity,
		PriorityChange: ev.Priority != NoPriority && ev.Priority != open.Priority,
	}
}

// IgnoredReason says why ev did nothing, for the answer's warnings and the
// journal: a person building an integration needs to see that a resolve
// found nothing to resolve, and which key it looked for.
func IgnoredReason(ev Event, open *Incident) string {
	key := ev.Key
	if len(key) > 80 {
		key = key[:80] + "…"
	}
	what := fmt.Sprintf("with key %q", key)
	if ev.Key == ev.Title {
		what = fmt.Sprintf("titled %q", key)
	}
	switch {
	case ev.Key == "":
		return fmt.Sprintf("nothing to %s: the event names no incident (it has no key)", ev.Action)
	case ev.Action == Acknowledge && open != nil:
		return fmt.Sprintf("incident #%d (%s) is acknowledged already", open.ID, what)
	}
	return fmt.Sprintf("no open incident %s in this integration to %s", what, ev.Action)
}

// Apply carries out the decision for ev on the open incident with its key
// (nil when there is none) at time now. It returns the outcome, the incident
// as it is afterwards (a new one, with ID 0, when created; nil when ignored)
// and the timeline entries to record.
func Apply(ev Event, open *Incident, integ *Integration, now time.Time) (Outcome, *Incident, []TimelineEntry) {
	d := Decide(ev, open)
	raw := ev.Raw
	switch d.Outcome {
	case Ignored:
		return Ignored, nil, nil
	case Created:
		in := &Incident{
			Integration: integ.Name, Service: integ.Service, Key: ev.Key,
			Title: ev.Title, Details: ev.Details, Severity: ev.Severity, Priority: ev.Priority,
			Status: Triggered, FirstSeen: now, LastSeen: now,
		}
		return Created, in, []TimelineEntry{{At: now, Kind: EntryTriggered, By: ByWebhook, Event: raw}}
	case ResolvedBy:
		in := *open
		in.Status, in.ResolvedAt, in.ResolvedBy = Resolved, &now, ByWebhook
		return ResolvedBy, &in, []TimelineEntry{{At: now, Kind: EntryResolved, By: ByWebhook, Event: raw}}
	case AckedBy:
		in := *open
		in.Status, in.AcknowledgedAt = Acknowledged, &now
		return AckedBy, &in, []TimelineEntry{{At: now, Kind: EntryAcknowledged, By: ByWebhook, Event: raw}}
	}
	in := *open
	in.Suppressed++
	in.LastSeen = now
	wasStorming := in.Storm.StormingAt(now)
	in.Storm.repeat(now)
	in.Storming = in.Storm.StormingAt(now)
	var entries []TimelineEntry
	// While it storms only every StormSample-th repeat is recorded on the
	// timeline; the counter counts them all.
	if !wasStorming || in.Suppressed%StormSample == 0 {
		entries = append(entries, TimelineEntry{At: now, Kind: EntrySuppressed, By: ByWebhook, Event: raw})
	}
	if d.SeverityChange {
		entries = append(entries, TimelineEntry{At: now, Kind: EntrySeverityChanged, By: ByWebhook, From: string(in.Severity), To: string(ev.Severity)})
		in.Severity = ev.Severity
	}
	if d.PriorityChange {
		entries = append(entries, TimelineEntry{At: now, Kind: EntryPriorityChanged, By: ByWebhook, From: string(in.Priority), To: string(ev.Priority)})
		in.Priority = ev.Priority
	}
	return Folded, &in, entries
}

// MarshalJSON writes the receiver's answer to an accepted event:
// {"ok":true,"action":…,"incident":ID,"warnings":[…]}, without "incident"
// when there is none. Every accepted event is answered with it, so it is
// written by hand rather than by reflection.
func (r IngestResult) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 80)
	b = append(b, `{"ok":true,"action":`...)
	action, err := json.Marshal(r.Outcome)
	if isPlain(string(r.Outcome)) {
		action, err = append(append([]byte{'"'}, r.Outcome...), '"'), nil
	}
	if err != nil {
		return nil, err
	}
	b = append(b, action...)
	if r.Incident != nil && r.Incident.ID != 0 {
		b = append(b, `,"incident":`...)
		b = strconv.AppendInt(b, r.Incident.ID, 10)
	}
	b = append(b, `,"warnings":`...)
	if len(r.Warnings) == 0 {
		return append(b, "[]}"...), nil
	}
	w, err := json.Marshal(r.Warnings)
	if err != nil {
		return nil, err
	}
	return append(append(b, w...), '}'), nil
}

// isPlain reports whether s is written in JSON as itself between quotes.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
