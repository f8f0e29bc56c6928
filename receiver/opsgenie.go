package receiver

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"klaxon/incidents"
)

// opsgenieCreate reads the Opsgenie Alert API's create request (POST
// /v2/alerts) as Alertmanager's opsgenie_config sends it: message → title,
// alias → dedup key (the message when there is none, as Opsgenie
// de-duplicates), description → details, priority P1–P5 → p1–p5, and a
// severity from details.severity or a "severity:…" tag when there is one.
func opsgenieCreate(p *payload) ([]incidents.Event, []string, error) {
	ev := incidents.Event{Action: incidents.Trigger, Raw: p.raw}
	msg, _, err := p.text("message")
	if err != nil {
		return nil, nil, refuse(422, "message is not usable: %v", err)
	}
	ev.Title = cleanTitle(msg)
	if ev.Title == "" {
		return nil, nil, refuse(422, `"message" is missing; an Opsgenie alert needs a message (it is the incident's title)`)
	}
	ev.Key = strings.TrimSpace(jsonText(p.fields["alias"]))
	if ev.Key == "" {
		ev.Key = ev.Title
	}
	details, dw := stringMap(p.fields["details"], "details")
	ev.Warnings = append(ev.Warnings, dw...)
	if d := strings.TrimSpace(jsonText(p.fields["description"])); d != "" {
		ev.Details, _ = json.Marshal(d)
	}
	if pr, ok := p.fields["priority"]; ok {
		if ev.Priority, err = incidents.ParsePriority(jsonText(pr)); err != nil {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("priority ignored: %v (Opsgenie's are P1 to P5)", err))
		}
	}
	sev, found := details["severity"]
	if !found {
		var tags []string
		_ = json.Unmarshal(p.fields["tags"], &tags)
		for _, t := range tags {
			if k, v, ok := strings.Cut(t, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "severity") {
				sev, found = v, true
			}
		}
	}
	if found {
		var warn string
		if ev.Severity, warn = senderSeverity(sev, "severity"); warn != "" {
			ev.Warnings = append(ev.Warnings, warn)
		}
	}
	return []incidents.Event{ev}, nil, nil
}

// opsgenieAction reads POST /v2/alerts/{identifier}/close or /acknowledge:
// the identifier is the alert's alias (identifierType=alias, as Alertmanager
// sends it; klaxon knows no other identifiers).
func opsgenieAction(identifier, verb, identifierType string, p *payload) ([]incidents.Event, []string, error) {
	ev := incidents.Event{Key: strings.TrimSpace(identifier)}
	if p != nil {
		ev.Raw = p.raw
	}
	if ev.Raw == nil {
		ev.Raw, _ = json.Marshal(map[string]string{"identifier": identifier, "action": verb})
	}
	switch verb {
	case "close":
		ev.Action = incidents.Resolve
	case "acknowledge":
		ev.Action = incidents.Acknowledge
	default:
		return nil, nil, refuse(404, "klaxon takes POST /v2/alerts (create), /v2/alerts/{alias}/close and /v2/alerts/{alias}/acknowledge; %q is not one of them", verb)
	}
	var warns []string
	if t := strings.ToLower(identifierType); t != "" && t != "alias" {
		warns = append(warns, fmt.Sprintf("identifierType %q: klaxon knows alerts by alias only, and took %q as one", identifierType, identifier))
	}
	return []incidents.Event{ev}, warns, nil
}

// opsgenieAnswer answers as Opsgenie does: 202, "Request will be processed".
func opsgenieAnswer(start time.Time, requestID string, warnings []string) incidents.Answer {
	return func(results []incidents.IngestResult) (int, []byte, error) {
		var warns []string
		warns = append(warns, warnings...)
		for _, r := range results {
			warns = append(warns, r.Warnings...)
		}
		action := incidents.Summary(results)
		b, err := marshal(struct {
			Result    string            `json:"result"`
			Took      float64           `json:"took"`
			RequestID string            `json:"requestId"`
			Action    incidents.Outcome `json:"action"`
			Warnings  []string          `json:"warnings,omitempty"`
		}{"Request will be processed", time.Since(start).Seconds(), requestID, action, warns})
		return 202, b, err
	}
}

// opsgenieRefusal is Opsgenie's error shape.
func opsgenieRefusal(requestID string) func(status int, msg string) []byte {
	return func(status int, msg string) []byte {
		b, _ := marshal(struct {
			Message   string  `json:"message"`
			Took      float64 `json:"took"`
			RequestID string  `json:"requestId"`
		}{msg, 0, requestID})
		return b
	}
}
