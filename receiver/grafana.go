package receiver

import (
	"encoding/json"
	"fmt"
	"strings"

	"klaxon/incidents"
)

// grafanaEvents reads Grafana's webhook contact point: unified alerting's
// Alertmanager-like payload (with title, message, state, orgId and, per
// alert, valueString, dashboardURL, panelURL, silenceURL) mapped alert by
// alert as Alertmanager's; or legacy alerting's single rule (Grafana 7:
// ruleId, ruleName, state alerting/ok/no_data, message, evalMatches).
func grafanaEvents(p *payload) ([]incidents.Event, []string, error) {
	if _, ok := p.fields["alerts"]; ok {
		return alertmanagerEvents(p)
	}
	_, hasID := p.fields["ruleId"]
	_, hasName := p.fields["ruleName"]
	if !hasID && !hasName {
		return nil, nil, refuse(400, `the body has neither "alerts" (Grafana alerting) nor "ruleId"/"ruleName" (legacy alerting); this integration reads Grafana's webhook contact point`)
	}
	ev := incidents.Event{Action: incidents.Trigger, Raw: p.raw}
	name := jsonText(p.fields["ruleName"])
	id := jsonText(p.fields["ruleId"])
	ev.Title = cleanTitle(name)
	if ev.Title == "" {
		ev.Title = cleanTitle(jsonText(p.fields["title"]))
	}
	ev.Key = strings.TrimSpace(id)
	if ev.Key == "" {
		ev.Key = ev.Title
	} else if panel := jsonText(p.fields["panelId"]); panel != "" && panel != "0" {
		ev.Key += "/" + panel
	}
	if msg := strings.TrimSpace(jsonText(p.fields["message"])); msg != "" {
		ev.Details, _ = json.Marshal(msg)
	} else if m, ok := p.fields["evalMatches"]; ok && len(m) > 2 {
		ev.Details = compactJSON(m)
	}
	if tags, _ := stringMap(p.fields["tags"], "tags"); tags != nil {
		if sev, ok := tags["severity"]; ok {
			var warn string
			if ev.Severity, warn = senderSeverity(sev, "severity tag"); warn != "" {
				ev.Warnings = append(ev.Warnings, warn)
			}
		}
		if prio, ok := tags["priority"]; ok {
			pr, err := incidents.ParsePriority(prio)
			if err != nil {
				ev.Warnings = append(ev.Warnings, fmt.Sprintf("priority tag ignored: %v", err))
			}
			ev.Priority = pr
		}
	}
	switch state := strings.ToLower(strings.TrimSpace(jsonText(p.fields["state"]))); state {
	case "ok":
		ev.Action = incidents.Resolve
	case "alerting", "no_data":
	default:
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("state %q is none of alerting, ok, no_data; taken as alerting", state))
	}
	return []incidents.Event{ev}, nil, nil
}
