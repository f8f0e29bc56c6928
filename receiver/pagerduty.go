package receiver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"klaxon/incidents"
)

// pagerdutyEvents reads one PagerDuty Events API v2 event, as senders post
// it to /v2/enqueue: event_action trigger / acknowledge / resolve, dedup_key
// (made up for a trigger without one, and returned), payload.summary as the
// title, payload.severity critical/error → sev1, warning → sev2, info →
// sev3, and source, component, group, class, custom_details and links as
// the details.
func pagerdutyEvents(p *payload) ([]incidents.Event, []string, error) {
	ev := incidents.Event{Raw: p.raw}
	action := strings.ToLower(strings.TrimSpace(jsonText(p.fields["event_action"])))
	switch action {
	case "trigger":
		ev.Action = incidents.Trigger
	case "acknowledge":
		ev.Action = incidents.Acknowledge
	case "resolve":
		ev.Action = incidents.Resolve
	case "":
		return nil, nil, refuse(400, `"event_action" is missing; it must be "trigger", "acknowledge" or "resolve" (PagerDuty Events API v2)`)
	default:
		return nil, nil, refuse(400, `"event_action" %q is not "trigger", "acknowledge" or "resolve"`, action)
	}
	ev.Key = strings.TrimSpace(jsonText(p.fields["dedup_key"]))
	if ev.Key == "" {
		if ev.Action != incidents.Trigger {
			return nil, nil, refuse(400, `"dedup_key" is missing; an %s needs the dedup_key its trigger was answered with`, action)
		}
		ev.Key, ev.Generated = newDedupKey(), true
	}
	var pl map[string]json.RawMessage
	if raw, ok := p.fields["payload"]; ok {
		if err := json.Unmarshal(raw, &pl); err != nil && ev.Action == incidents.Trigger {
			ev.Warnings = append(ev.Warnings, `"payload" is not a JSON object and was ignored`)
		}
	}
	if ev.Action != incidents.Trigger {
		return []incidents.Event{ev}, nil, nil
	}
	ev.Title = cleanTitle(jsonText(pl["summary"]))
	if ev.Title == "" {
		ev.Title = cleanTitle(jsonText(pl["source"]))
		ev.Warnings = append(ev.Warnings, `"payload.summary" is missing; PagerDuty requires it for a trigger, klaxon took the source as the title`)
	}
	if sev, ok := pl["severity"]; ok {
		var warn string
		if ev.Severity, warn = senderSeverity(jsonText(sev), "payload.severity"); warn != "" {
			ev.Warnings = append(ev.Warnings, warn)
		}
	}
	details := map[string]json.RawMessage{}
	for _, k := range []string{"source", "component", "group", "class", "custom_details", "timestamp"} {
		if v, ok := pl[k]; ok && string(v) != "null" {
			details[k] = v
		}
	}
	for _, k := range []string{"links", "client", "client_url"} {
		if v, ok := p.fields[k]; ok && string(v) != "null" {
			details[k] = v
		}
	}
	if len(details) > 0 {
		ev.Details, _ = json.Marshal(details)
	}
	return []incidents.Event{ev}, nil, nil
}

// newDedupKey is the key klaxon makes for a PagerDuty trigger that brought none.
func newDedupKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pagerdutyAnswer answers as PagerDuty does: 202 with the dedup key.
func pagerdutyAnswer(evs []incidents.Event, warnings []string) incidents.Answer {
	return func(results []incidents.IngestResult) (int, []byte, error) {
		key := ""
		if len(evs) > 0 {
			key = evs[0].Key
		}
		var warns []string
		warns = append(warns, warnings...)
		for _, r := range results {
			warns = append(warns, r.Warnings...)
		}
		msg := "Event processed"
		if len(results) > 0 && results[0].Outcome == incidents.Ignored {
			msg = "Event processed; it changed nothing (see warnings)"
		}
		b, err := marshal(struct {
			Status   string   `json:"status"`
			Message  string   `json:"message"`
			DedupKey string   `json:"dedup_key"`
			Warnings []string `json:"warnings,omitempty"`
		}{"success", msg, key, warns})
		return 202, b, err
	}
}

// pagerdutyRefusal is PagerDuty's error shape.
func pagerdutyRefusal(status int, msg string) []byte {
	word := "invalid event"
	if status >= 429 {
		word = "throttled"
		if status >= 500 {
			word = "error"
		}
	}
	b, _ := marshal(struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}{word, msg, []string{msg}})
	return b
}
