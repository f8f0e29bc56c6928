package receiver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"klaxon/incidents"
)

// route is what a webhook request's path and headers say: where its token
// is and which dialect reads its body. The routes:
//
//	POST /<token>/push-events     the integration's kind reads the body (SPEC §2)
//	POST /push-events             the same, token in Authorization: Bearer (or a
//	                              basic-auth password), so senders' logs never hold it
//	POST /v2/enqueue              PagerDuty Events API v2; the token is routing_key
//	POST /v2/alerts               Opsgenie Alert API create; Authorization: GenieKey <token>
//	POST /v2/alerts/{alias}/close, …/acknowledge   Opsgenie close and acknowledge
type route struct {
	known   bool           // a path klaxon serves
	inPath  bool           // the token came in the path
	token   string         // "" until found
	dialect incidents.Kind // "": the integration's kind decides
	rest    string         // the path after the token, for the journal
	path    string         // the path as the journal shows it, for routes without a token in it

	opsgenieID, opsgenieVerb, identifierType string
}

// routeOf reads the route of r.
func routeOf(r *http.Request) route {
	escaped := r.URL.EscapedPath()
	switch {
	case escaped == "/push-events":
		return route{known: true, token: headerToken(r, "Bearer"), path: "/push-events"}
	case escaped == "/v2/enqueue" || escaped == "/v2/enqueue/":
		return route{known: true, dialect: incidents.KindPagerDuty, path: "/v2/enqueue"}
	case escaped == "/v2/alerts" || escaped == "/v2/alerts/":
		return route{known: true, dialect: incidents.KindOpsgenie, token: headerToken(r, "GenieKey"), path: "/v2/alerts"}
	case strings.HasPrefix(escaped, "/v2/alerts/"):
		id, verb, _ := strings.Cut(strings.TrimPrefix(escaped, "/v2/alerts/"), "/")
		if u, err := url.PathUnescape(id); err == nil {
			id = u
		}
		return route{known: verb == "close" || verb == "acknowledge", dialect: incidents.KindOpsgenie,
			token: headerToken(r, "GenieKey"), path: "/v2/alerts/" + journalSegment(id) + "/" + journalSegment(verb),
			opsgenieID: id, opsgenieVerb: verb, identifierType: r.URL.Query().Get("identifierType")}
	}
	p := strings.TrimPrefix(escaped, "/")
	token, rest, _ := strings.Cut(p, "/")
	if t, err := url.PathUnescape(token); err == nil {
		token = t
	}
	return route{known: token != "" && rest == "push-events", inPath: true, token: token, rest: rest}
}

// headerToken is the token in Authorization: <scheme> <token> (any case),
// else a basic-auth password.
func headerToken(r *http.Request, scheme string) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if s, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(s, scheme) {
		return strings.TrimSpace(t)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}

// missingToken says how to send the token on a route that has none.
func (rt route) missingToken() string {
	switch rt.dialect {
	case incidents.KindPagerDuty:
		return `the event has no "routing_key"; set it to the integration's token (klaxon integrations show NAME)`
	case incidents.KindOpsgenie:
		return "no API key: send the integration's token as Authorization: GenieKey <token> (Alertmanager's opsgenie_config api_key)"
	}
	return "no token: send the integration's token as Authorization: Bearer <token>, or post to the webhook URL that holds it"
}

// refusalShape is how this route's sender expects to be refused.
func (rt route) refusalShape() refusalShape {
	switch rt.dialect {
	case incidents.KindPagerDuty:
		return pagerdutyRefusal
	case incidents.KindOpsgenie:
		return opsgenieRefusal(newRequestID())
	}
	return klaxonRefusal
}

// journalPath is the path as the journal shows it, never with a token.
func (rt route) journalPath(integ *incidents.Integration, rawQuery string) string {
	if !rt.inPath {
		p := rt.path
		if p == "" {
			p = "/"
		}
		if rawQuery != "" {
			p += "?" + redactQuery(rawQuery)
		}
		return p
	}
	return journalPath(integ, rt.rest, rawQuery)
}

// journalSegment is a path segment as the journal keeps it: at most 200 bytes.
func journalSegment(seg string) string {
	if len(seg) > 200 {
		return seg[:200] + "…"
	}
	return seg
}

// routingKey is a PagerDuty event's routing_key, "" when it has none. A
// body that is not JSON is looked at as form fields too, so that the key is
// found (and redacted from the journal) before the body is refused.
func routingKey(body []byte) string {
	var ev struct {
		RoutingKey any `json:"routing_key"`
	}
	if json.Unmarshal(body, &ev) == nil {
		s, _ := ev.RoutingKey.(string)
		return strings.TrimSpace(s)
	}
	if q, err := url.ParseQuery(string(body)); err == nil {
		return strings.TrimSpace(q.Get("routing_key"))
	}
	return ""
}

// redactToken replaces every occurrence of token in body.
func redactToken(body []byte, token string) []byte {
	if len(token) < 8 || !bytes.Contains(body, []byte(token)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(token), []byte("[redacted]"))
}

// read turns a body into events in dialect kind, with the request's own
// warnings (extra first) and the answer the sender expects: the receiver,
// not storage, decides what a sender is told.
func (rt route) read(kind incidents.Kind, contentType string, body []byte, start time.Time, extra []string) ([]incidents.Event, []string, incidents.Answer, error) {
	if kind == incidents.KindOpsgenie && rt.opsgenieVerb != "" {
		var p *payload
		if len(bytes.TrimSpace(body)) > 0 {
			p, _ = decodePayload(contentType, body) // close's body (source, user, note) is optional
		}
		evs, warns, err := opsgenieAction(rt.opsgenieID, rt.opsgenieVerb, rt.identifierType, p)
		warns = append(extra, warns...)
		return evs, warns, opsgenieAnswer(start, newRequestID(), warns), err
	}
	p, err := decodePayload(contentType, body)
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		evs   []incidents.Event
		warns []string
	)
	switch kind {
	case incidents.KindAlertmanager:
		evs, warns, err = alertmanagerEvents(p)
		warns = append(extra, warns...)
		return evs, warns, alertsAnswer(evs, warns), err
	case incidents.KindGrafana:
		evs, warns, err = grafanaEvents(p)
		warns = append(extra, warns...)
		return evs, warns, alertsAnswer(evs, warns), err
	case incidents.KindPagerDuty:
		evs, warns, err = pagerdutyEvents(p)
		warns = append(extra, warns...)
		return evs, warns, pagerdutyAnswer(evs, warns), err
	case incidents.KindOpsgenie:
		evs, warns, err = opsgenieCreate(p)
		warns = append(extra, warns...)
		return evs, warns, opsgenieAnswer(start, newRequestID(), warns), err
	case incidents.KindHealthchecks:
		ev, err := healthchecksEvent(p)
		return []incidents.Event{ev}, extra, spikeAnswer(extra), err
	}
	ev, err := webhookEvent(p)
	return []incidents.Event{ev}, extra, spikeAnswer(extra), err
}

// spikeAnswer is SPEC §2's answer to one event:
// {"ok":true,"action":…,"incident":ID,"warnings":[…]}.
func spikeAnswer(warnings []string) incidents.Answer {
	return func(results []incidents.IngestResult) (int, []byte, error) {
		r := results[0]
		if len(warnings) > 0 {
			r.Warnings = append(append([]string{}, warnings...), r.Warnings...)
		}
		b, err := r.MarshalJSON()
		return 200, b, err
	}
}

// alertsAnswer answers a request of several alerts: each alert's outcome.
func alertsAnswer(evs []incidents.Event, warnings []string) incidents.Answer {
	return func(results []incidents.IngestResult) (int, []byte, error) {
		warns := append([]string{}, warnings...)
		for _, r := range results {
			warns = append(warns, r.Warnings...)
		}
		a := struct {
			OK       bool                     `json:"ok"`
			Action   incidents.Outcome        `json:"action"`
			Summary  string                   `json:"summary"`
			Incident int64                    `json:"incident,omitempty"`
			Alerts   []incidents.AlertOutcome `json:"alerts"`
			Warnings []string                 `json:"warnings"`
		}{OK: true, Action: incidents.Summary(results), Summary: incidents.Tallied(results),
			Alerts: incidents.Outcomes(evs, results), Warnings: warns}
		if len(results) == 1 && results[0].Incident != nil {
			a.Incident = results[0].Incident.ID
		}
		b, err := marshal(a)
		return 200, b, err
	}
}

// newRequestID is an Opsgenie-style request id (a random UUID).
func newRequestID() string {
	b := []byte(newDedupKey())
	return string(b[0:8]) + "-" + string(b[8:12]) + "-4" + string(b[13:16]) + "-a" + string(b[17:20]) + "-" + string(b[20:32])
}
