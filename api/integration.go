package api

import (
	"bytes"
	"encoding/json"
	"time"

	"klaxon/incidents"
)

// Integration is an integration as the API shows it: with its webhook URL,
// the payload field its incidents are keyed by, and the ready configuration
// block for its sender (senders.Setup). On the wire its timers are whole
// seconds and its chaos setting is text (integrationWire).
type Integration struct {
	incidents.Integration
	URL      string
	DedupKey string
	Setup    string
}

// integrationWire is Integration's JSON, every field always present.
type integrationWire struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	Service      string         `json:"service"`
	Escalation   string         `json:"escalation"`
	Kind         incidents.Kind `json:"kind"`
	Token        string         `json:"token"`
	URL          string         `json:"url"`
	CreatedAt    string         `json:"created_at"`            // RFC 3339 UTC, milliseconds
	AckTimeout   int64          `json:"ack_timeout_seconds"`   // 0: off
	ResolveAfter int64          `json:"resolve_after_seconds"` // 0: off
	Chaos        string         `json:"chaos"`                 // "off", or what incidents.ParseChaos reads
	DedupKey     string         `json:"dedup_key"`             // the field its kind keys incidents on
	Setup        string         `json:"setup"`                 // the block for its sender (SPEC §6)
}

// MarshalJSON writes the integration as the API shows it. It leaves HTML
// characters as they are: whoever encodes the body around it decides.
func (in Integration) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(integrationWire{
		ID: in.ID, Name: in.Name, Service: in.Service, Escalation: in.Escalation, Kind: in.Kind,
		Token: in.Token, URL: in.URL, CreatedAt: incidents.FormatTime(in.CreatedAt),
		AckTimeout: int64(in.AckTimeout.Seconds()), ResolveAfter: int64(in.ResolveAfter.Seconds()),
		Chaos: in.Chaos.String(), DedupKey: in.DedupKey, Setup: in.Setup,
	})
	return bytes.TrimRight(b.Bytes(), "\n"), err
}

// UnmarshalJSON reads what MarshalJSON writes.
func (in *Integration) UnmarshalJSON(b []byte) error {
	var w struct {
		integrationWire
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*in = Integration{
		Integration: incidents.Integration{
			ID: w.ID, Name: w.Name, Service: w.Service, Escalation: w.Escalation, Kind: w.Kind,
			Token: w.Token, CreatedAt: w.CreatedAt,
			AckTimeout: time.Duration(w.AckTimeout) * time.Second, ResolveAfter: time.Duration(w.ResolveAfter) * time.Second,
		},
		URL: w.URL, DedupKey: w.DedupKey, Setup: w.Setup,
	}
	// A chaos this client cannot read (a newer klaxon's) must not make the
	// whole list unreadable; it reads as off, as storage reads its own.
	in.Chaos, _ = incidents.ParseChaos(w.Chaos)
	return nil
}

// IntegrationList is GET /api/v1/integrations's answer.
type IntegrationList struct {
	Integrations []Integration `json:"integrations"`
}

// IntegrationAnswer is the answer to POST /api/v1/integrations (201) and to
// PATCH /api/v1/integrations/{name}: the integration as it is now.
type IntegrationAnswer struct {
	Integration Integration `json:"integration"`
}

// Timers are an integration's timers as the API takes them, in whole
// seconds (0 turns one off); an absent one keeps its value.
type Timers struct {
	AckTimeout   *int64 `json:"ack_timeout_seconds,omitempty"`
	ResolveAfter *int64 `json:"resolve_after_seconds,omitempty"`
}

// TimersOf is t as the API takes it, both timers present.
func TimersOf(t incidents.Timers) Timers {
	ack, resolve := int64(t.AckTimeout.Seconds()), int64(t.ResolveAfter.Seconds())
	return Timers{AckTimeout: &ack, ResolveAfter: &resolve}
}

// Set reports whether any timer is present.
func (f Timers) Set() bool { return f.AckTimeout != nil || f.ResolveAfter != nil }

// Apply sets the timers that are present onto t.
func (f Timers) Apply(t *incidents.Timers) {
	if f.AckTimeout != nil {
		t.AckTimeout = time.Duration(*f.AckTimeout) * time.Second
	}
	if f.ResolveAfter != nil {
		t.ResolveAfter = time.Duration(*f.ResolveAfter) * time.Second
	}
}

// NewIntegration is POST /api/v1/integrations's body. Names hold letters,
// digits and - _ . /, starting with a letter or digit; an empty kind is
// webhook (Spike's format).
type NewIntegration struct {
	Name       string         `json:"name"`
	Service    string         `json:"service"`
	Escalation string         `json:"escalation"`
	Kind       incidents.Kind `json:"kind"`
	Timers
}

// IntegrationPatch is PATCH /api/v1/integrations/{name}'s body: the fields
// present change, at least one of them. Chaos is what incidents.ParseChaos
// reads ("off" turns it off).
type IntegrationPatch struct {
	Timers
	Chaos *string `json:"chaos,omitempty"`
}

// Removed is the answer to DELETE /api/v1/integrations/{name}: the name of
// the integration removed. Its incidents stay under that name; its token
// answers 404 saying it was removed.
type Removed struct {
	OK      bool   `json:"ok"`
	Removed string `json:"removed"`
}

// Rotate is POST /api/v1/integrations/{name}/rotate's body, which may be
// empty: how long the old token keeps working (0 to 30 days; 0 refuses it
// at once).
type Rotate struct {
	GraceSeconds int64 `json:"grace_seconds"`
}

// Rotated is the answer to a rotate: the integration with its new token,
// and until when the old one works (null when it is refused from now on).
type Rotated struct {
	Integration        Integration `json:"integration"`
	OldTokenWorksUntil *string     `json:"old_token_works_until"` // RFC 3339 UTC, milliseconds
}

// RotatedOf is the answer for in, whose old token works until until, or is
// refused at once when until is zero.
func RotatedOf(in Integration, until time.Time) Rotated {
	r := Rotated{Integration: in}
	if !until.IsZero() {
		s := incidents.FormatTime(until)
		r.OldTokenWorksUntil = &s
	}
	return r
}

// Until is when the old token stops working; the zero time when it was
// refused at once.
func (r Rotated) Until() (time.Time, error) {
	if r.OldTokenWorksUntil == nil {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, *r.OldTokenWorksUntil)
}
