package senders

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"sort"
	"strings"
	"time"

	"klaxon/incidents"
)

// Step is what a fire drill sends: the alert firing (again, for a repeat),
// recovering, or acknowledged by the sender (PagerDuty and Opsgenie).
type Step string

const (
	Firing      Step = "firing"
	Resolved    Step = "resolved"
	Acknowledge Step = "acknowledge"
)

// Alert is the alert a drill is about.
type Alert struct {
	Title    string             // the summary; also names the alert
	Severity incidents.Severity // sent in the sender's own words
	Details  string
	At       time.Time
}

// Request is one HTTP request a sender would make.
type Request struct {
	Method  string
	URL     string
	Header  map[string]string
	Body    []byte
	Explain string // what this request is, in a sender's words
}

// Drill is the request the sender that t.Kind reads would make for step of
// alert a.
func Drill(t Target, a Alert, step Step) (Request, error) {
	if a.Title == "" {
		a.Title = "klaxon fire drill"
	}
	if a.At.IsZero() {
		a.At = time.Now().UTC()
	}
	if step == Acknowledge && t.Kind != incidents.KindPagerDuty && t.Kind != incidents.KindOpsgenie {
		return Request{}, fmt.Errorf("%s senders cannot acknowledge; only pagerduty and opsgenie can", t.Kind)
	}
	plain := map[string]string{"Content-Type": "application/json"}
	switch t.Kind {
	case incidents.KindAlertmanager, incidents.KindGrafana:
		body := alertmanagerNotification(a, step, t.Kind == incidents.KindGrafana)
		h := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + t.Token, "User-Agent": "Alertmanager/0.25.0"}
		if t.Kind == incidents.KindGrafana {
			h["User-Agent"] = "Grafana"
		}
		return Request{"POST", t.Base + "/push-events", h, body, fmt.Sprintf("%s notification, alert %s", t.Kind, step)}, nil
	case incidents.KindPagerDuty:
		action := map[Step]string{Firing: "trigger", Resolved: "resolve", Acknowledge: "acknowledge"}[step]
		ev := map[string]any{"routing_key": t.Token, "event_action": action, "dedup_key": drillKey(a.Title)}
		if step == Firing {
			payload := map[string]any{"summary": a.Title, "source": "klaxon-drill",
				"severity": pagerdutySeverity(a.Severity), "timestamp": a.At.Format(time.RFC3339)}
			if a.Details != "" {
				payload["custom_details"] = map[string]string{"details": a.Details}
			}
			ev["payload"] = payload
			ev["client"], ev["client_url"] = "klaxon send", t.Base
		}
		return Request{"POST", t.Base + "/v2/enqueue", plain, mustJSON(ev), "PagerDuty Events API v2 " + action}, nil
	case incidents.KindOpsgenie:
		h := map[string]string{"Content-Type": "application/json", "Authorization": "GenieKey " + t.Token}
		alias := drillKey(a.Title)
		if step == Firing {
			ev := map[string]any{"alias": alias, "message": a.Title, "description": a.Details, "source": "klaxon-drill",
				"priority": opsgeniePriority(a.Severity), "tags": []string{"drill"},
				"details": map[string]string{"severity": alertmanagerSeverity(a.Severity)}}
			return Request{"POST", t.Base + "/v2/alerts", h, mustJSON(ev), "Opsgenie create alert"}, nil
		}
		verb := map[Step]string{Resolved: "close", Acknowledge: "acknowledge"}[step]
		u := t.Base + "/v2/alerts/" + url.PathEscape(alias) + "/" + verb + "?identifierType=alias"
		return Request{"POST", u, h, mustJSON(map[string]string{"source": "klaxon-drill"}), "Opsgenie " + verb + " alert"}, nil
	case incidents.KindHealthchecks:
		status := map[Step]string{Firing: "down", Resolved: "up"}[step]
		word := map[Step]string{Firing: "DOWN", Resolved: "UP"}[step]
		ev := map[string]string{"check_id": drillKey(a.Title), "title": a.Title + " is " + word, "message": a.Details, "status": status}
		return Request{"POST", t.PushURL(), plain, mustJSON(ev), "healthchecks.io " + status}, nil
	}
	ev := map[string]any{"title": a.Title}
	if a.Severity != "" {
		ev["severity"] = a.Severity
	}
	if a.Details != "" {
		ev["body"] = a.Details
	}
	if step == Resolved {
		ev["status"] = "resolve"
	}
	return Request{"POST", t.PushURL(), plain, mustJSON(ev), "Spike webhook " + string(step)}, nil
}

// alertmanagerNotification is a webhook version 4 notification of one alert
// group holding the drill's alert.
func alertmanagerNotification(a Alert, step Step, grafana bool) []byte {
	labels := map[string]string{"alertname": alertName(a.Title), "job": "klaxon-drill", "instance": "drill:9100"}
	if s := alertmanagerSeverity(a.Severity); s != "" {
		labels["severity"] = s
	}
	status := string(step)
	ends := "0001-01-01T00:00:00Z"
	if step == Resolved {
		ends = a.At.Format(time.RFC3339Nano)
	}
	alert := map[string]any{
		"status": status, "labels": labels,
		"annotations":  map[string]string{"summary": a.Title, "description": a.Details},
		"startsAt":     a.At.Add(-time.Minute).Format(time.RFC3339Nano),
		"endsAt":       ends,
		"generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
		"fingerprint":  Fingerprint(labels),
	}
	msg := map[string]any{
		"version": "4", "groupKey": `{}:{alertname="` + labels["alertname"] + `"}`, "truncatedAlerts": 0,
		"status": status, "receiver": "klaxon",
		"groupLabels":       map[string]string{"alertname": labels["alertname"]},
		"commonLabels":      labels,
		"commonAnnotations": alert["annotations"],
		"externalURL":       "http://alertmanager.example:9093",
		"alerts":            []any{alert},
	}
	if grafana {
		alert["valueString"] = "[ var='A' labels={instance=drill:9100} value=1 ]"
		alert["dashboardURL"], alert["panelURL"], alert["silenceURL"] = "", "", ""
		msg["orgId"], msg["title"] = 1, "["+strings.ToUpper(status)+":1] "+labels["alertname"]
		msg["state"] = map[string]string{"firing": "alerting", "resolved": "ok"}[status]
		msg["message"] = a.Details
		msg["version"] = "1"
	}
	return mustJSON(msg)
}

// Fingerprint is Alertmanager's: FNV-1a 64 over the sorted label names and
// values, as 16 hex digits.
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := fnv.New64a()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{255})
		h.Write([]byte(labels[k]))
		h.Write([]byte{255})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func alertName(title string) string {
	var b strings.Builder
	for _, r := range title {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "KlaxonDrill"
	}
	return strings.TrimSuffix(b.String(), "_")
}

// drillKey is the dedup key a drill uses for a title: the same title is the
// same alert, so a second firing is a repeat.
func drillKey(title string) string {
	h := fnv.New64a()
	h.Write([]byte(title))
	return fmt.Sprintf("drill-%016x", h.Sum64())
}

func alertmanagerSeverity(s incidents.Severity) string {
	return map[incidents.Severity]string{incidents.Sev1: "critical", incidents.Sev2: "warning", incidents.Sev3: "info"}[s]
}

func pagerdutySeverity(s incidents.Severity) string {
	if v := alertmanagerSeverity(s); v != "" {
		return v
	}
	return "error"
}

func opsgeniePriority(s incidents.Severity) string {
	return map[incidents.Severity]string{incidents.Sev1: "P1", incidents.Sev2: "P2", incidents.Sev3: "P3"}[s]
}

// mustJSON marshals the drills' maps of strings and numbers, which cannot fail.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
