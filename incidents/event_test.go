package incidents

import (
	"encoding/json"
	"testing"
)

// The hand-written answer says exactly what encoding/json would.
func TestIngestResultJSON(t *testing.T) {
	type wire struct {
		OK       bool     `json:"ok"`
		Action   Outcome  `json:"action"`
		Incident int64    `json:"incident,omitempty"`
		Warnings []string `json:"warnings"`
	}
	for _, r := range []IngestResult{
		{Outcome: Created, Incident: &Incident{ID: 12}},
		{Outcome: Folded, Incident: &Incident{ID: 1 << 40}, Warnings: []string{`severity "<b>&x" ignored`, "é\u2028"}},
		{Outcome: Ignored},
		{Outcome: Outcome(`odd "one" <x>`), Incident: &Incident{}},
	} {
		got, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		w := wire{OK: true, Action: r.Outcome, Warnings: r.Warnings}
		if w.Warnings == nil {
			w.Warnings = []string{}
		}
		if r.Incident != nil {
			w.Incident = r.Incident.ID
		}
		want, _ := json.Marshal(w)
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func BenchmarkIngestResultJSON(b *testing.B) {
	r := IngestResult{Outcome: Folded, Incident: &Incident{ID: 123456}}
	b.ReportAllocs()
	for b.Loop() {
		r.MarshalJSON()
	}
}
