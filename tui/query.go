package tui

import (
	"context"
	"strconv"
	"strings"

	"klaxon/incidents"
)

// incidentQuery is the filter line read for the incident lists: words that
// name an incident's id (#75), severity (sev1, sev2, sev3), priority
// (p1 … p5) or status (ack, trig) select by that; the other words are text
// matched in titles, details and integrations, through incidents.Filter.
type incidentQuery struct {
	id       int64
	severity *incidents.Severity
	priority *incidents.Priority
	status   incidents.Status // "": any
	text     string
}

func parseQuery(q string) incidentQuery {
	var out incidentQuery
	var text []string
	for _, w := range strings.Fields(q) {
		lw := strings.ToLower(w)
		switch {
		case len(lw) > 1 && lw[0] == '#' && isDigits(lw[1:]):
			out.id, _ = strconv.ParseInt(lw[1:], 10, 64)
		case lw == "sev1" || lw == "sev2" || lw == "sev3":
			s := incidents.Severity(lw)
			out.severity = &s
		case len(lw) == 2 && lw[0] == 'p' && lw[1] >= '1' && lw[1] <= '5':
			p := incidents.Priority(lw)
			out.priority = &p
		case lw == "ack" || lw == "acked" || lw == "acknowledged":
			out.status = incidents.Acknowledged
		case lw == "trig" || lw == "triggered":
			out.status = incidents.Triggered
		default:
			text = append(text, w)
		}
	}
	out.text = strings.Join(text, " ")
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// filter is the query for the list of incidents of list status ("open" or
// "resolved"); none is true when nothing there can match (ack among the
// resolved).
func (q incidentQuery) filter(list string) (f incidents.Filter, none bool) {
	f = incidents.Filter{Status: list, Severity: q.severity, Priority: q.priority, Query: q.text}
	if q.status != "" {
		if list != "open" {
			return f, true
		}
		f.Status = string(q.status)
	}
	return f, false
}

// matches reports whether in, read by id, is one the query selects in list.
func (q incidentQuery) matches(in *incidents.Incident, list string) bool {
	open := in.Status != incidents.Resolved
	switch {
	case list == "open" && !open, list != "open" && open:
		return false
	case q.status != "" && in.Status != q.status:
		return false
	case q.severity != nil && in.Severity != *q.severity:
		return false
	case q.priority != nil && in.Priority != *q.priority:
		return false
	}
	t := strings.ToLower(q.text)
	return t == "" || strings.Contains(strings.ToLower(in.Title), t) ||
		strings.Contains(strings.ToLower(in.Integration), t) || strings.Contains(strings.ToLower(string(in.Details)), t)
}

// listMatching reads a page of the incidents of list that query selects.
func listMatching(ctx context.Context, src Source, query, list string, limit int, cursor string) (incidents.Page[*incidents.Incident], error) {
	q := parseQuery(query)
	if q.id != 0 {
		var page incidents.Page[*incidents.Incident]
		if cursor != "" {
			return page, nil
		}
		in, err := src.Incident(ctx, q.id)
		if incidents.ErrorCode(err) == incidents.ENOTFOUND {
			return page, nil
		}
		if err != nil {
			return page, err
		}
		if q.matches(in, list) {
			page.Items = []*incidents.Incident{in}
		}
		return page, nil
	}
	f, none := q.filter(list)
	if none {
		return incidents.Page[*incidents.Incident]{}, nil
	}
	f.Limit, f.Cursor = limit, cursor
	return src.ListIncidents(ctx, f)
}

// countMatching counts the incidents of list that query selects.
func countMatching(ctx context.Context, src Source, query, list string) (int, error) {
	q := parseQuery(query)
	if q.id != 0 {
		p, err := listMatching(ctx, src, query, list, 1, "")
		return len(p.Items), err
	}
	f, none := q.filter(list)
	if none {
		return 0, nil
	}
	return src.CountIncidents(ctx, f)
}
