package senders

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"klaxon/incidents"
)

// The drill's fingerprints are Alertmanager's: the fixture captured from
// Debian's Alertmanager 0.25 carries the fingerprint of each alert's labels.
func TestFingerprintIsAlertmanagers(t *testing.T) {
	b, err := os.ReadFile("../receiver/testdata/senders/alertmanager-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Alerts []struct {
			Labels      map[string]string
			Fingerprint string
		}
	}
	if err := json.Unmarshal(b, &msg); err != nil || len(msg.Alerts) != 3 {
		t.Fatalf("fixture: %v (%d alerts)", err, len(msg.Alerts))
	}
	for _, a := range msg.Alerts {
		if got := Fingerprint(a.Labels); got != a.Fingerprint {
			t.Errorf("Fingerprint(%v) = %s, Alertmanager said %s", a.Labels, got, a.Fingerprint)
		}
	}
}

func TestParseWebhookURL(t *testing.T) {
	base, token, err := ParseWebhookURL("https://ops:8765/abcDEF123/push-events")
	if err != nil || base != "https://ops:8765" || token != "abcDEF123" {
		t.Fatalf("%q %q %v", base, token, err)
	}
	for _, bad := range []string{"", "https://ops:8765/push-events", "ops/abc/push-events", "https://ops:8765/abc"} {
		if _, _, err := ParseWebhookURL(bad); err == nil {
			t.Errorf("%q was taken as a webhook URL", bad)
		}
	}
}

// Every kind has a setup block that names where to send and the token, and
// a drill for a firing and a recovery (an acknowledgement where the sender has one).
func TestSetupAndDrillForEveryKind(t *testing.T) {
	for _, k := range incidents.Kinds {
		tg := Target{Base: "http://127.0.0.1:8765", Token: "tok-123456789", Kind: k, Name: "n"}
		if s := Setup(tg); !strings.Contains(s, "tok-123456789") || !strings.Contains(s, "127.0.0.1:8765") {
			t.Errorf("%s: the setup block lacks the URL or token:\n%s", k, s)
		}
		for _, step := range []Step{Firing, Resolved, Acknowledge} {
			r, err := Drill(tg, Alert{Title: "disk full", Severity: incidents.Sev1}, step)
			canAck := k == incidents.KindPagerDuty || k == incidents.KindOpsgenie
			if step == Acknowledge && !canAck {
				if err == nil {
					t.Errorf("%s: an acknowledge drill for a sender that has none", k)
				}
				continue
			}
			if err != nil || r.Method != "POST" || !strings.HasPrefix(r.URL, tg.Base) || len(r.Body) == 0 {
				t.Errorf("%s %s: %+v %v", k, step, r, err)
			}
		}
	}
}
