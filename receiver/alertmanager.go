package receiver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"klaxon/incidents"
)

// Alertmanager's webhook_config payload (version 4), and Grafana's unified
// alerting webhook, which extends it. One incident per alert, not per group:
// a group mixes severities and Alertmanager resolves its alerts one by one.
type amAlert struct {
	Status      string
	Labels      map[string]string
	Annotations map[string]string
	Fingerprint string
	// Grafana's additions.
	ValueString string
}

// alertmanagerEvents reads an Alertmanager (or Grafana unified alerting)
// notification: one event per alert, each decided by its own status.
// Content klaxon can read is never refused (Alertmanager drops a
// notification on any 4xx): odd values are warnings.
func alertmanagerEvents(p *payload) ([]incidents.Event, []string, error) {
	rawAlerts, ok := p.fields["alerts"]
	if !ok {
		return nil, nil, refuse(400, `the body has no "alerts" array; this integration reads Alertmanager's webhook payload ({"version":"4","status":…,"alerts":[…]}); for Spike's format make a "webhook" integration`)
	}
	var alerts []json.RawMessage
	if err := json.Unmarshal(rawAlerts, &alerts); err != nil {
		return nil, nil, refuse(400, `"alerts" is not an array of alerts: %v`, err)
	}
	common, commonWarn := stringMap(p.fields["commonLabels"], "commonLabels")
	parsed := make([]amAlert, 0, len(alerts))
	var evs []incidents.Event
	var skipped []string
	for i, raw := range alerts {
		a, warns, err := readAMAlert(raw)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("alert %d is not readable and was left out: %v", i+1, err))
			continue
		}
		parsed = append(parsed, a)
		ev := incidents.Event{Raw: compactJSON(raw), Warnings: warns}
		evs = append(evs, ev)
	}
	// The labels that every alert of this notification shares; what is left
	// tells an alert apart in its title.
	if common == nil {
		common = sharedLabels(parsed)
	}
	for i := range evs {
		amToEvent(&evs[i], parsed[i], common)
	}
	warns := append(commonWarn, skipped...)
	if len(alerts) == 0 {
		warns = append(warns, "the notification holds no alerts; nothing to do")
	}
	return evs, warns, nil
}

// readAMAlert decodes one alert, tolerating values of the wrong JSON type.
func readAMAlert(raw json.RawMessage) (amAlert, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return amAlert{}, nil, fmt.Errorf("an alert must be a JSON object")
	}
	var warns []string
	a := amAlert{}
	var w []string
	a.Labels, w = stringMap(fields["labels"], "labels")
	warns = append(warns, w...)
	a.Annotations, w = stringMap(fields["annotations"], "annotations")
	warns = append(warns, w...)
	a.Status = jsonText(fields["status"])
	a.Fingerprint = strings.TrimSpace(jsonText(fields["fingerprint"]))
	a.ValueString = jsonText(fields["valueString"])
	return a, warns, nil
}

// amToEvent fills ev from alert a; common are the labels its group shares.
func amToEvent(ev *incidents.Event, a amAlert, common map[string]string) {
	ev.Key = a.Fingerprint
	if ev.Key == "" {
		ev.Key = labelSet(a.Labels)
	}
	ev.Title = cleanTitle(a.Annotations["summary"])
	if ev.Title == "" {
		ev.Title = cleanTitle(amTitle(a.Labels, common))
	}
	for _, name := range []string{"description", "message"} {
		if d := strings.TrimSpace(a.Annotations[name]); d != "" {
			ev.Details, _ = json.Marshal(d)
			break
		}
	}
	if ev.Details == nil && strings.TrimSpace(a.ValueString) != "" {
		ev.Details, _ = json.Marshal(strings.TrimSpace(a.ValueString))
	}
	if sev, ok := a.Labels["severity"]; ok {
		var warn string
		ev.Severity, warn = senderSeverity(sev, "severity label")
		if warn != "" {
			ev.Warnings = append(ev.Warnings, warn)
		}
	}
	if prio, ok := a.Labels["priority"]; ok {
		p, err := incidents.ParsePriority(prio)
		if err != nil {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("priority label ignored: %v", err))
		}
		ev.Priority = p
	}
	switch strings.ToLower(strings.TrimSpace(a.Status)) {
	case "resolved":
		ev.Action = incidents.Resolve
	case "firing":
		ev.Action = incidents.Trigger
	default:
		ev.Action = incidents.Trigger
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("alert %q has status %q, neither firing nor resolved; taken as firing", ev.Title, a.Status))
	}
	if ev.Key == "" {
		if ev.Action == incidents.Resolve {
			ev.Warnings = append(ev.Warnings, "a resolved alert without a fingerprint or labels cannot name what it resolves; ignored")
		} else {
			ev.Warnings = append(ev.Warnings, "the alert has neither a fingerprint nor labels; it opens an incident of its own")
		}
	}
}

// senderSeverity maps the severity words monitoring tools use onto klaxon's:
// critical, page, error → sev1; warning → sev2; info → sev3 (sev1..3 as
// themselves). Anything else is no severity and a warning, never a refusal.
func senderSeverity(s, what string) (incidents.Severity, string) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "page", "error", "high", "sev1", "p1":
		return incidents.Sev1, ""
	case "warning", "warn", "medium", "sev2":
		return incidents.Sev2, ""
	case "info", "informational", "low", "sev3":
		return incidents.Sev3, ""
	case "", "none":
		return incidents.NoSeverity, ""
	}
	return incidents.NoSeverity, fmt.Sprintf("%s %q is not one of critical, page, error, warning, info; the incident has no severity from it", what, s)
}

// amTitle is alertname plus the labels that tell this alert apart from the
// rest of its group (never severity): "HighLatency instance=web-1:9100".
func amTitle(labels, common map[string]string) string {
	name := labels["alertname"]
	var parts []string
	for _, k := range sortedKeys(labels) {
		if k == "alertname" || k == "severity" || k == "priority" {
			continue
		}
		if v, shared := common[k]; shared && v == labels[k] {
			continue
		}
		parts = append(parts, k+"="+labels[k])
	}
	if name == "" && len(parts) == 0 {
		return labelSet(labels)
	}
	return strings.TrimSpace(name + " " + strings.Join(parts, " "))
}

// sharedLabels are the labels with one value across all alerts.
func sharedLabels(alerts []amAlert) map[string]string {
	if len(alerts) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range alerts[0].Labels {
		out[k] = v
	}
	for _, a := range alerts[1:] {
		for k, v := range out {
			if a.Labels[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

// labelSet writes labels as Prometheus does, sorted: {a="1", b="2"}.
func labelSet(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range sortedKeys(labels) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringMap reads a JSON object of strings; other values are taken as their
// JSON text, with a warning. Absent or null is nil.
func stringMap(raw json.RawMessage, what string) (map[string]string, []string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, []string{fmt.Sprintf("%s is not a JSON object and was ignored", what)}
	}
	out := make(map[string]string, len(fields))
	var warns []string
	for k, v := range fields {
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] != '"' {
			warns = append(warns, fmt.Sprintf("%s.%s is not a string; taken as its JSON text", what, k))
		}
		out[k] = jsonText(v)
	}
	sort.Strings(warns)
	return out, warns
}

// jsonText is a JSON value as text: a string as itself, anything else as its
// JSON; null or absent is "".
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
