package incidents

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Request is one entry of the request journal: a request to a push-events
// URL, accepted or refused, as a person developing an integration needs to see
// it. Secrets are removed before it is made.
type Request struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Remote      string    `json:"remote"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Integration string    `json:"integration,omitempty"`
	// Kind is the dialect that read the body (empty when none did).
	Kind      Kind                `json:"kind,omitempty"`
	Headers   map[string][]string `json:"headers"`
	Body      string              `json:"body"`
	Truncated bool                `json:"body_truncated,omitempty"`
	Status    int                 `json:"status"`
	Outcome   Outcome             `json:"outcome"`
	Error     string              `json:"error,omitempty"`
	Warnings  []string            `json:"warnings,omitempty"`
	Incident  int64               `json:"incident,omitempty"`
	// Alerts is what each alert of the request did, for a request that can
	// carry several (Alertmanager, Grafana).
	Alerts   []AlertOutcome  `json:"alerts,omitempty"`
	Response json.RawMessage `json:"response"`
}

// MarshalJSON writes the time in the API's format. A body that is not
// UTF-8 is "body" as text (invalid bytes as U+FFFD) and also "body_base64",
// its exact bytes, so that a replay sends what arrived.
func (r Request) MarshalJSON() ([]byte, error) {
	type plain Request
	w := struct {
		plain
		At         string `json:"at"`
		BodyBase64 string `json:"body_base64,omitempty"`
	}{plain: plain(r), At: FormatTime(r.At)}
	if !utf8.ValidString(r.Body) {
		w.BodyBase64 = base64.StdEncoding.EncodeToString([]byte(r.Body))
		w.plain.Body = strings.ToValidUTF8(r.Body, "\uFFFD")
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Request) UnmarshalJSON(b []byte) error {
	type plain Request
	var w struct {
		plain
		At         time.Time `json:"at"`
		BodyBase64 string    `json:"body_base64"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Request(w.plain)
	r.At = w.At
	if w.BodyBase64 != "" {
		raw, err := base64.StdEncoding.DecodeString(w.BodyBase64)
		if err != nil {
			return err
		}
		r.Body = string(raw)
	}
	return nil
}

// SuppressedEvent is a duplicate event folded into an open incident.
type SuppressedEvent struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Incident int64           `json:"incident"`
	Title    string          `json:"title"`
	Repeats  int64           `json:"repeats"` // the incident's suppressed counter
	Status   Status          `json:"status"`
	Event    json.RawMessage `json:"event,omitempty"`
}

// MarshalJSON writes the time in the API's format.
func (s SuppressedEvent) MarshalJSON() ([]byte, error) {
	type plain SuppressedEvent
	return json.Marshal(struct {
		plain
		At string `json:"at"`
	}{plain(s), FormatTime(s.At)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *SuppressedEvent) UnmarshalJSON(b []byte) error {
	type plain SuppressedEvent
	var w struct {
		plain
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = SuppressedEvent(w.plain)
	s.At = w.At
	return nil
}

// Filter selects incidents for a list.
type Filter struct {
	// Status is "open" (the default when empty), "all", or one status.
	Status      string
	Severity    *Severity // nil: any; pointer to NoSeverity: none
	Priority    *Priority
	Integration string
	Query       string // case-insensitive substring of title, details or integration
	Limit       int
	Cursor      string
}

// Page is one page of a list, with the cursor of the next (empty on the last).
type Page[T any] struct {
	Items      []T
	NextCursor string
}
