package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"klaxon/api"
	"klaxon/incidents"
	"klaxon/senders"
)

func (s *Server) apiRoutes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/incidents", s.listIncidents)
	m.HandleFunc("GET /api/v1/incidents/{id}", s.getIncident)
	m.HandleFunc("POST /api/v1/incidents/{id}/{action}", s.actOnIncident)
	m.HandleFunc("PATCH /api/v1/incidents/{id}", s.patchIncident)
	m.HandleFunc("GET /api/v1/suppressed", s.listSuppressed)
	m.HandleFunc("GET /api/v1/requests", s.listRequests)
	m.HandleFunc("GET /api/v1/integrations", s.listIntegrations)
	m.HandleFunc("POST /api/v1/integrations", s.createIntegration)
	m.HandleFunc("PATCH /api/v1/integrations/{name}", s.patchIntegration)
	m.HandleFunc("DELETE /api/v1/integrations/{name}", s.removeIntegration)
	m.HandleFunc("POST /api/v1/integrations/{name}/rotate", s.rotateIntegration)
	m.HandleFunc("GET /api/v1/stream", s.stream)
	m.HandleFunc("GET /api/v1/counts", s.counts)
	m.HandleFunc("GET /api/v1/tally", s.tally)
	m.HandleFunc("GET /api/v1/requests/{id}", s.getRequest)
	m.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.svc.Health()) })
	m.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, 404, fmt.Sprintf("no API route %s %s; see the README's API section", r.Method, r.URL.Path))
	})
	return m
}

func (s *Server) apiError(w http.ResponseWriter, err error) {
	ref := s.storageRefusal(err)
	if ref.status == 503 {
		w.Header().Set("Retry-After", "5")
	}
	writeError(w, ref.status, ref.msg)
}

// pageParams reads limit and cursor, with SPEC §4's rules for limit.
func pageParams(r *http.Request) (int, string, error) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, "", incidents.Errorf(incidents.EINVALID, "limit %q must be a whole number of at least 1", v)
		}
		limit = min(n, 1000)
	}
	return limit, r.URL.Query().Get("cursor"), nil
}

// ParseFilter reads the incident list's query parameters (SPEC §4).
func ParseFilter(q map[string][]string) (incidents.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	f := incidents.Filter{Status: get("status"), Integration: get("integration"), Query: get("q"), Cursor: get("cursor")}
	switch f.Status {
	case "", "open", "all", "triggered", "acknowledged", "resolved":
	default:
		return f, incidents.Errorf(incidents.EINVALID, "status %q is not one of open, triggered, acknowledged, resolved, all", f.Status)
	}
	if v, ok := q["severity"]; ok && len(v) > 0 && v[len(v)-1] != "" {
		sev := incidents.NoSeverity
		if v[len(v)-1] != "none" {
			var err error
			if sev, err = incidents.ParseSeverity(v[len(v)-1]); err != nil {
				return f, incidents.Errorf(incidents.EINVALID, "%v (or none)", err)
			}
		}
		f.Severity = &sev
	}
	if v, ok := q["priority"]; ok && len(v) > 0 && v[len(v)-1] != "" {
		p := incidents.NoPriority
		if v[len(v)-1] != "none" {
			var err error
			if p, err = incidents.ParsePriority(v[len(v)-1]); err != nil {
				return f, incidents.Errorf(incidents.EINVALID, "%v (or none)", err)
			}
		}
		f.Priority = &p
	}
	return f, nil
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		s.apiError(w, err)
		return
	}
	if f.Limit, _, err = pageParams(r); err != nil {
		s.apiError(w, err)
		return
	}
	page, err := s.svc.ListIncidents(r.Context(), f)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.IncidentPageOf(page))
}

func incidentID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, 404, fmt.Sprintf("there is no incident %q; ids are whole numbers", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	if id, ok := incidentID(w, r); ok {
		s.writeIncident(w, r, id)
	}
}

// writeIncident answers with incident id, timeline included.
func (s *Server) writeIncident(w http.ResponseWriter, r *http.Request, id int64) {
	in, err := s.svc.Incident(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, in)
}

func (s *Server) actOnIncident(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(w, r)
	if !ok {
		return
	}
	kinds := map[string]incidents.EntryKind{
		"acknowledge": incidents.EntryAcknowledged, "unacknowledge": incidents.EntryUnacknowledged, "resolve": incidents.EntryResolved,
	}
	kind, ok := kinds[r.PathValue("action")]
	if !ok {
		writeError(w, 404, fmt.Sprintf("no action %q; use acknowledge, unacknowledge or resolve", r.PathValue("action")))
		return
	}
	s.act(w, r, id, incidents.PersonAction{Kind: kind, By: incidents.ByAPI})
}

// act carries out the actions in order and answers the incident after them,
// timeline included, as GET answers it, with "changed": whether they changed
// it (acknowledging an acknowledged incident, say, changes nothing).
func (s *Server) act(w http.ResponseWriter, r *http.Request, id int64, actions ...incidents.PersonAction) {
	before, err := s.svc.Incident(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	changed := false
	for _, a := range actions {
		after, err := s.svc.Act(r.Context(), id, a)
		if err != nil {
			s.apiError(w, err)
			return
		}
		changed = changed || actionChanged(a.Kind, before, after)
	}
	in, err := s.svc.Incident(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.ActionAnswer{Incident: in, Changed: changed})
}

// actionChanged says whether an action of kind changed what it acts on
// between before and after.
func actionChanged(kind incidents.EntryKind, before, after *incidents.Incident) bool {
	switch kind {
	case incidents.EntrySeverityChanged:
		return before.Severity != after.Severity
	case incidents.EntryPriorityChanged:
		return before.Priority != after.Priority
	}
	return before.Status != after.Status
}

// clearable reads a severity or priority as PATCH takes it: a string, where
// "none", "" and null all clear it.
func clearable(raw json.RawMessage) (string, bool) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", true
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	if strings.EqualFold(strings.TrimSpace(v), "none") {
		return "", true
	}
	return v, true
}

func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request) {
	id, ok := incidentID(w, r)
	if !ok {
		return
	}
	var body *api.IncidentPatch
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body == nil {
		writeError(w, 400, `the body must be a JSON object such as {"severity":"sev1","priority":"p2"} ("none", "" or null clears one)`)
		return
	}
	sevRaw, prioRaw := body.Severity, body.Priority
	hasSev, hasPrio := sevRaw != nil, prioRaw != nil
	if !hasSev && !hasPrio {
		writeError(w, 400, `name severity, priority or both, e.g. {"severity":"sev1"}`)
		return
	}
	var actions []incidents.PersonAction
	if hasSev {
		v, ok := clearable(sevRaw)
		sev, err := incidents.ParseSeverity(v)
		if !ok || err != nil {
			writeError(w, 400, fmt.Sprintf(`severity %s is not one of "sev1", "sev2", "sev3", or "none", "" or null to clear it`, bytes.TrimSpace(sevRaw)))
			return
		}
		actions = append(actions, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, By: incidents.ByAPI, Severity: sev})
	}
	if hasPrio {
		v, ok := clearable(prioRaw)
		p, err := incidents.ParsePriority(v)
		if !ok || err != nil {
			writeError(w, 400, fmt.Sprintf(`priority %s is not one of "p1" … "p5", or "none", "" or null to clear it`, bytes.TrimSpace(prioRaw)))
			return
		}
		actions = append(actions, incidents.PersonAction{Kind: incidents.EntryPriorityChanged, By: incidents.ByAPI, Priority: p})
	}
	s.act(w, r, id, actions...)
}

func (s *Server) listSuppressed(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := pageParams(r)
	if err != nil {
		s.apiError(w, err)
		return
	}
	page, err := s.svc.Suppressed(r.Context(), limit, cursor)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.SuppressedPageOf(page))
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := pageParams(r)
	if err != nil {
		s.apiError(w, err)
		return
	}
	page, err := s.svc.Requests(r.Context(), limit, cursor)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.RequestPageOf(page))
}

// shown is an integration as the API shows it, with its URL, what its
// incidents are keyed by and the block that sets its sender up.
func (s *Server) shown(in *incidents.Integration) api.Integration {
	return api.Integration{
		Integration: *in, URL: WebhookURL(s.opts.BaseURL, in.Token), DedupKey: in.Kind.KeyName(),
		Setup: senders.Setup(senders.Target{Base: s.opts.BaseURL, Token: in.Token, Kind: in.Kind, Name: in.Name}),
	}
}

// WebhookURL is the push-events URL for a token.
func WebhookURL(base, token string) string { return base + "/" + token + "/push-events" }

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	all, err := s.svc.Integrations(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	out := api.IntegrationList{Integrations: make([]api.Integration, 0, len(all))}
	for _, in := range all {
		out.Integrations = append(out.Integrations, s.shown(in))
	}
	writeJSON(w, 200, out)
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) {
	var body api.NewIntegration
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		writeError(w, 400, `the body must be a JSON object such as {"name":"grafana","service":"api","kind":"webhook","ack_timeout_seconds":1800}`)
		return
	}
	in, err := s.svc.CreateIntegration(r.Context(), body.Name, body.Service, body.Escalation, body.Kind)
	if err != nil {
		s.apiError(w, err)
		return
	}
	if body.Timers.Set() {
		var t incidents.Timers
		body.Timers.Apply(&t)
		if err := s.svc.SetTimers(r.Context(), in.Name, t); err != nil {
			s.apiError(w, err)
			return
		}
		in.AckTimeout, in.ResolveAfter = t.AckTimeout, t.ResolveAfter
	}
	writeJSON(w, 201, api.IntegrationAnswer{Integration: s.shown(in)})
}

// patchIntegration changes an integration's timers and chaos setting; the
// fields that are absent keep their values.
func (s *Server) patchIntegration(w http.ResponseWriter, r *http.Request) {
	var body api.IntegrationPatch
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || (!body.Timers.Set() && body.Chaos == nil) {
		writeError(w, 400, `name ack_timeout_seconds, resolve_after_seconds, chaos or several, e.g. {"ack_timeout_seconds":1800} (0 turns one off) or {"chaos":"status=503,share=0.3"} ("off" turns it off)`)
		return
	}
	// A bad chaos value changes nothing, the timers included.
	var chaos incidents.Chaos
	if body.Chaos != nil {
		var err error
		if chaos, err = incidents.ParseChaos(*body.Chaos); err != nil {
			writeError(w, 400, incidents.ErrorMessage(err))
			return
		}
	}
	in, err := s.svc.IntegrationNamed(r.Context(), r.PathValue("name"))
	if err != nil {
		s.apiError(w, err)
		return
	}
	if in == nil {
		writeError(w, 404, fmt.Sprintf("there is no integration named %q", r.PathValue("name")))
		return
	}
	if body.Timers.Set() {
		t := incidents.Timers{AckTimeout: in.AckTimeout, ResolveAfter: in.ResolveAfter}
		body.Timers.Apply(&t)
		if err := s.svc.SetTimers(r.Context(), in.Name, t); err != nil {
			s.apiError(w, err)
			return
		}
		in.AckTimeout, in.ResolveAfter = t.AckTimeout, t.ResolveAfter
	}
	if body.Chaos != nil {
		if err := s.svc.SetChaos(r.Context(), in.Name, chaos); err != nil {
			s.apiError(w, err)
			return
		}
		in.Chaos = chaos
	}
	writeJSON(w, 200, api.IntegrationAnswer{Integration: s.shown(in)})
}

// removeIntegration removes an integration: its token answers 404 saying it
// was removed; its incidents stay, under its name.
func (s *Server) removeIntegration(w http.ResponseWriter, r *http.Request) {
	in, err := s.svc.RemoveIntegration(r.Context(), r.PathValue("name"))
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.Removed{OK: true, Removed: in.Name})
}

// rotateIntegration gives an integration a new token. With
// {"grace_seconds":N} the old one keeps working N seconds more; without, it
// answers 404 at once, saying it was replaced.
func (s *Server) rotateIntegration(w http.ResponseWriter, r *http.Request) {
	var body api.Rotate
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, 400, `the body is empty, or a JSON object such as {"grace_seconds":3600} (how long the old token keeps working)`)
		return
	}
	if body.GraceSeconds < 0 || body.GraceSeconds > int64(incidents.MaxGrace/time.Second) {
		writeError(w, 400, fmt.Sprintf("grace_seconds is between 0 and %d", int64(incidents.MaxGrace/time.Second)))
		return
	}
	in, until, err := s.svc.RotateToken(r.Context(), r.PathValue("name"), time.Duration(body.GraceSeconds)*time.Second)
	if err != nil {
		s.apiError(w, err)
		return
	}
	if body.GraceSeconds == 0 {
		until = time.Time{} // null: the old token is refused from now on
	}
	writeJSON(w, 200, api.RotatedOf(s.shown(in), until))
}

// counts answers how many incidents a filter selects, with the totals of
// suppressed events and journal entries (for a console attached over HTTP).
func (s *Server) counts(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		s.apiError(w, err)
		return
	}
	n, err := s.svc.CountIncidents(r.Context(), f)
	if err != nil {
		s.apiError(w, err)
		return
	}
	sup, err := s.svc.CountSuppressed(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	reqs, err := s.svc.CountRequests(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.Counts{Incidents: n, Suppressed: sup, Requests: reqs})
}

// tally answers the console's header counts in one cheap call: open
// incidents by severity ("none" for those without) and resolved ones.
func (s *Server) tally(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.TallyIncidents(r.Context())
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, api.TallyOf(t))
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, 404, fmt.Sprintf("there is no request %q in the journal; ids are whole numbers", r.PathValue("id")))
		return
	}
	req, err := s.svc.Request(r.Context(), id)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, 200, req)
}

// stream sends each committed incident change as a server-sent event: one
// data line (api.StreamLine) of the incident's JSON with "change" added,
// what happened to it (created, suppressed, acknowledged, realert …:
// incidents.ChangeKind), or {"resync":true}. With ?all=1 it also sends
// journal entries and storage health, as named events (event: request,
// event: health) that plain readers of data lines can tell apart.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "1"
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream lives longer than the server's write timeout
	changes, cancel := s.svc.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(200)
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case c, ok := <-changes:
			if !ok {
				return
			}
			var (
				payload any
				event   string
			)
			switch {
			case c.Resync:
				payload = api.StreamLine{Resync: true}
			case c.Incident != nil:
				payload = api.StreamLine{Incident: c.Incident, Change: c.Kind}
			case c.Request != nil && all:
				payload, event = c.Request, "event: "+api.EventRequest+"\n"
			case c.Health != nil && all:
				payload, event = c.Health, "event: "+api.EventHealth+"\n"
			default:
				continue
			}
			b, err := json.Marshal(payload)
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "%sdata: %s\n\n", event, b); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
