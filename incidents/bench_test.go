package incidents

import (
	"encoding/json"
	"testing"
	"time"
)

// The rules every event goes through: what they cost per event.
//
//	go test ./incidents -run XXX -bench .

func BenchmarkDecide(b *testing.B) {
	open := &Incident{ID: 7, Key: "disk full", Title: "disk full", Status: Triggered, Severity: Sev2, Priority: "p3"}
	ev := Event{Key: "disk full", Title: "disk full", Action: Trigger, Severity: Sev1}
	b.ReportAllocs()
	for b.Loop() {
		Decide(ev, open)
	}
}

func BenchmarkApply(b *testing.B) {
	integ := &Integration{ID: 1, Name: "default", Service: "web"}
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	raw := json.RawMessage(`{"title":"disk full","severity":"sev2"}`)
	open := &Incident{ID: 7, Key: "disk full", Title: "disk full", Status: Triggered, Severity: Sev2, Priority: "p3", FirstSeen: now, LastSeen: now}
	for _, c := range []struct {
		name string
		ev   Event
		open *Incident
	}{
		{"create", Event{Key: "disk full", Title: "disk full", Action: Trigger, Severity: Sev2, Raw: raw}, nil},
		{"suppress", Event{Key: "disk full", Title: "disk full", Action: Trigger, Severity: Sev2, Raw: raw}, open},
		{"suppress+severity", Event{Key: "disk full", Title: "disk full", Action: Trigger, Severity: Sev1, Raw: raw}, open},
		{"resolve", Event{Key: "disk full", Title: "disk full", Action: Resolve, Raw: raw}, open},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Apply(c.ev, c.open, integ, now)
			}
		})
	}
}
