// Package incidents is klaxon's domain: incidents, their timelines, the rules
// that fold duplicate events and resolve what senders resolve, the Service
// that applies them, and the broker that tells subscribers about changes.
package incidents

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Status is where an incident is in its life.
type Status string

const (
	Triggered    Status = "triggered"
	Acknowledged Status = "acknowledged"
	Resolved     Status = "resolved"
)

// Open reports whether the status is triggered or acknowledged.
func (s Status) Open() bool { return s == Triggered || s == Acknowledged }

// Severity is sev1 (worst) to sev3, or empty for none.
type Severity string

const (
	NoSeverity Severity = ""
	Sev1       Severity = "sev1"
	Sev2       Severity = "sev2"
	Sev3       Severity = "sev3"
)

// Severities lists the valid severities, worst first.
var Severities = []Severity{Sev1, Sev2, Sev3}

// ParseSeverity reads sev1..sev3 in any case. An empty string is no severity.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	switch v {
	case NoSeverity, Sev1, Sev2, Sev3:
		return v, nil
	}
	return NoSeverity, fmt.Errorf("severity %q is not one of sev1, sev2, sev3", s)
}

// Rank orders severities: 1 for sev1 … 3 for sev3, 4 for none.
func (s Severity) Rank() int {
	switch s {
	case Sev1:
		return 1
	case Sev2:
		return 2
	case Sev3:
		return 3
	}
	return 4
}

// Priority is p1 (most urgent) to p5, or empty for none.
type Priority string

const NoPriority Priority = ""

// Priorities lists the valid priorities, most urgent first.
var Priorities = []Priority{"p1", "p2", "p3", "p4", "p5"}

// ParsePriority reads p1..p5 in any case. An empty string is no priority.
func ParsePriority(s string) (Priority, error) {
	v := Priority(strings.ToLower(strings.TrimSpace(s)))
	if v == NoPriority {
		return v, nil
	}
	for _, p := range Priorities {
		if v == p {
			return v, nil
		}
	}
	return NoPriority, fmt.Errorf("priority %q is not one of p1, p2, p3, p4, p5", s)
}

// Rank orders priorities: 1 for p1 … 5 for p5, 6 for none.
func (p Priority) Rank() int {
	for i, q := range Priorities {
		if p == q {
			return i + 1
		}
	}
	return 6
}

// Actor says who did something to an incident.
type Actor string

const (
	ByWebhook Actor = "webhook"
	ByConsole Actor = "console"
	ByAPI     Actor = "api"
	ByTimer   Actor = "timer"
)

// Incident is one thing that is (or was) wrong, with the duplicates folded in.
type Incident struct {
	ID             int64           `json:"id"`
	Integration    string          `json:"integration"`
	Service        string          `json:"service"`
	Key            string          `json:"dedup_key,omitempty"`
	Title          string          `json:"title"`
	Details        json.RawMessage `json:"details"`
	Severity       Severity        `json:"severity"`
	Priority       Priority        `json:"priority"`
	Status         Status          `json:"status"`
	Suppressed     int64           `json:"suppressed"`
	FirstSeen      time.Time       `json:"first_seen"`
	LastSeen       time.Time       `json:"last_seen"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
	ResolvedAt     *time.Time      `json:"resolved_at"`
	ResolvedBy     Actor           `json:"resolved_by,omitempty"`
	Timeline       []TimelineEntry `json:"timeline,omitempty"`

	// UnacknowledgesAt is when an acknowledged incident returns to triggered
	// by its integration's acknowledge timeout (nil: no timeout applies).
	UnacknowledgesAt *time.Time `json:"unacknowledges_at,omitempty"`
	// AutoResolvesAt is when an open incident resolves itself by its
	// integration's resolve timer: that long after it was last seen (nil: no timer).
	AutoResolvesAt *time.Time `json:"auto_resolves_at,omitempty"`
	// Storming is true while the incident's key triggers 20 or more times in
	// 60 s: repeats still count exactly, but only every 10th is recorded on
	// the timeline.
	Storming bool `json:"storming,omitempty"`
	// Storm is the repeat rate behind Storming, kept by storage.
	Storm Storm `json:"-"`
}

// MarshalJSON writes the incident with null for missing severity, priority
// and details, and times as RFC 3339 UTC with milliseconds.
func (in Incident) MarshalJSON() ([]byte, error) {
	type wire struct {
		ID             int64           `json:"id"`
		Integration    string          `json:"integration"`
		Service        string          `json:"service"`
		Key            *string         `json:"dedup_key"`
		Title          string          `json:"title"`
		Details        json.RawMessage `json:"details"`
		Severity       *Severity       `json:"severity"`
		Priority       *Priority       `json:"priority"`
		Status         Status          `json:"status"`
		Suppressed     int64           `json:"suppressed"`
		FirstSeen      string          `json:"first_seen"`
		LastSeen       string          `json:"last_seen"`
		AcknowledgedAt *string         `json:"acknowledged_at"`
		ResolvedAt     *string         `json:"resolved_at"`
		ResolvedBy     *Actor          `json:"resolved_by"`
		Timeline       []TimelineEntry `json:"timeline,omitempty"`

		UnacknowledgesAt *string `json:"unacknowledges_at,omitempty"`
		AutoResolvesAt   *string `json:"auto_resolves_at,omitempty"`
		Storming         bool    `json:"storming,omitempty"`
	}
	w := wire{
		ID: in.ID, Integration: in.Integration, Service: in.Service, Title: in.Title,
		Details: in.Details, Status: in.Status, Suppressed: in.Suppressed,
		FirstSeen: FormatTime(in.FirstSeen), LastSeen: FormatTime(in.LastSeen),
		Timeline: in.Timeline, Storming: in.Storming,
		UnacknowledgesAt: formatTimePtr(in.UnacknowledgesAt), AutoResolvesAt: formatTimePtr(in.AutoResolvesAt),
	}
	if len(w.Details) == 0 {
		w.Details = json.RawMessage("null")
	}
	if in.Key != "" {
		w.Key = &in.Key
	}
	if in.Severity != NoSeverity {
		w.Severity = &in.Severity
	}
	if in.Priority != NoPriority {
		w.Priority = &in.Priority
	}
	if in.ResolvedBy != "" {
		w.ResolvedBy = &in.ResolvedBy
	}
	w.AcknowledgedAt = formatTimePtr(in.AcknowledgedAt)
	w.ResolvedAt = formatTimePtr(in.ResolvedAt)
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes (for API clients such as the CLI).
func (in *Incident) UnmarshalJSON(b []byte) error {
	type plain Incident
	var w struct {
		plain
		Severity   *Severity `json:"severity"`
		Priority   *Priority `json:"priority"`
		ResolvedBy *Actor    `json:"resolved_by"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*in = Incident(w.plain)
	if w.Severity != nil {
		in.Severity = *w.Severity
	}
	if w.Priority != nil {
		in.Priority = *w.Priority
	}
	if w.ResolvedBy != nil {
		in.ResolvedBy = *w.ResolvedBy
	}
	return nil
}

// EntryKind names what happened in a timeline entry.
type EntryKind string

const (
	EntryTriggered       EntryKind = "triggered"
	EntrySuppressed      EntryKind = "suppressed"
	EntryAcknowledged    EntryKind = "acknowledged"
	EntryUnacknowledged  EntryKind = "unacknowledged"
	EntryResolved        EntryKind = "resolved"
	EntrySeverityChanged EntryKind = "severity_changed"
	EntryPriorityChanged EntryKind = "priority_changed"
)

// TimelineEntry is one thing that happened to an incident.
type TimelineEntry struct {
	ID   int64     `json:"id"`
	At   time.Time `json:"at"`
	Kind EntryKind `json:"kind"`
	By   Actor     `json:"by"`
	// From and To carry the old and new value of a severity or priority change.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Event is the raw webhook payload for entries a webhook caused.
	Event json.RawMessage `json:"event,omitempty"`
}

// MarshalJSON writes the time in the API's format.
func (e TimelineEntry) MarshalJSON() ([]byte, error) {
	type plain TimelineEntry
	return json.Marshal(struct {
		plain
		At string `json:"at"`
	}{plain(e), FormatTime(e.At)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *TimelineEntry) UnmarshalJSON(b []byte) error {
	type plain TimelineEntry
	var w struct {
		plain
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = TimelineEntry(w.plain)
	e.At = w.At
	return nil
}

// TimeLayout is how klaxon writes times: RFC 3339, UTC, milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}
