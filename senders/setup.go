// Package senders knows the monitoring tools that page klaxon from the
// sender's side: the configuration block each needs to reach a klaxon
// integration, and a fire drill that posts what each really sends (a
// firing, a repeat, a recovery) so a route can be tried without the tool.
package senders

import (
	"fmt"
	"strings"

	"klaxon/incidents"
)

// Target is where a sender posts: a klaxon's base URL (http://host:port)
// and an integration's token and kind.
type Target struct {
	Base  string
	Token string
	Kind  incidents.Kind
	Name  string
}

// PushURL is the integration's webhook URL, token in the path.
func (t Target) PushURL() string { return t.Base + "/" + t.Token + "/push-events" }

// ParseWebhookURL splits a webhook URL (http://host:port/<token>/push-events)
// into its base and token.
func ParseWebhookURL(u string) (base, token string, err error) {
	rest, ok := strings.CutSuffix(strings.TrimRight(u, "/"), "/push-events")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 || !strings.Contains(rest[:i], "://") || rest[i+1:] == "" {
		return "", "", fmt.Errorf("%q is not a webhook URL of the form http://HOST:PORT/<token>/push-events (klaxon integrations lists them)", u)
	}
	return rest[:i], rest[i+1:], nil
}

// Setup is the ready block for the sender that kind t.Kind reads: what to
// paste into alertmanager.yml, or the settings of a Grafana contact point,
// or the line for any other sender.
func Setup(t Target) string {
	name := t.Name
	if name == "" {
		name = "klaxon"
	}
	switch t.Kind {
	case incidents.KindAlertmanager:
		return fmt.Sprintf(`# alertmanager.yml: klaxon as a webhook receiver (one incident per alert;
# the token goes in a header, so Alertmanager's logs never show it)
route:
  receiver: %[1]s
receivers:
  - name: %[1]s
    webhook_configs:
      - url: %[2]s/push-events
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %[3]s
`, yamlName(name), t.Base, t.Token)
	case incidents.KindPagerDuty:
		return fmt.Sprintf(`# alertmanager.yml: klaxon as a PagerDuty (Events API v2) receiver.
# PagerDuty events are one per alert group: group_by ['...'] makes each
# alert its own group, so that each alert is its own incident in klaxon.
route:
  receiver: %[1]s
  group_by: ['...']
receivers:
  - name: %[1]s
    pagerduty_configs:
      - routing_key: %[3]s
        url: %[2]s/v2/enqueue
        send_resolved: true
        severity: '{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}error{{ end }}'
# Any other PagerDuty sender: events URL %[2]s/v2/enqueue, routing key %[3]s
`, yamlName(name), t.Base, t.Token)
	case incidents.KindOpsgenie:
		return fmt.Sprintf(`# alertmanager.yml: klaxon as an Opsgenie receiver.
# Opsgenie alerts are one per alert group: group_by ['...'] makes each
# alert its own group, so that each alert is its own incident in klaxon.
route:
  receiver: %[1]s
  group_by: ['...']
receivers:
  - name: %[1]s
    opsgenie_configs:
      - api_key: %[3]s
        api_url: %[2]s/
        send_resolved: true
        priority: '{{ if eq .CommonLabels.severity "critical" }}P1{{ else if eq .CommonLabels.severity "warning" }}P2{{ else }}P3{{ end }}'
        details:
          severity: '{{ .CommonLabels.severity }}'
# Any other Opsgenie sender: API URL %[2]s/ (it posts to /v2/alerts), API key %[3]s
`, yamlName(name), t.Base, t.Token)
	case incidents.KindGrafana:
		return fmt.Sprintf(`# Grafana: Alerting → Contact points → New contact point
#   Integration:     Webhook
#   URL:             %[1]s/push-events
#   HTTP Method:     POST
#   Authorization header (Optional webhook settings):
#     Scheme:        Bearer
#     Credentials:   %[2]s
# Or, where the token may stand in the URL: %[3]s
# Legacy (Grafana 7) notification channels: type webhook, URL %[3]s
`, t.Base, t.Token, t.PushURL())
	case incidents.KindHealthchecks:
		return fmt.Sprintf(`# healthchecks.io: Integrations → Spike.sh, with this webhook URL:
%s
`, t.PushURL())
	}
	return fmt.Sprintf(`# Any sender of Spike.sh's webhook format (or curl):
curl -d '{"title":"disk full on db-1","severity":"sev1"}' %s
`, t.PushURL())
}

// yamlName is a receiver name that needs no quoting in YAML.
func yamlName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "klaxon"
	}
	return "klaxon-" + strings.TrimPrefix(b.String(), "klaxon-")
}
