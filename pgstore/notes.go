package pgstore

import (
	"encoding/json"

	"klaxon/incidents"
)

// notes are what a job changed, told to the other nodes with the commit.
type notes struct {
	incidents    []notedIncident
	requests     []int64
	integrations bool
}

type notedIncident struct {
	id      int64
	outcome incidents.Outcome    // what a webhook event did; empty for a person's or a timer's action
	kind    incidents.ChangeKind // what happened to it
}

// incident notes what a webhook event did to incident id.
func (n *notes) incident(id int64, outcome incidents.Outcome) {
	n.changed(id, outcome, incidents.ChangeKind(outcome)) // the kinds are named as the outcomes
}

// changed notes a change to incident id.
func (n *notes) changed(id int64, outcome incidents.Outcome, kind incidents.ChangeKind) {
	if n != nil {
		n.incidents = append(n.incidents, notedIncident{id, outcome, kind})
	}
}

func (n *notes) request(id int64) {
	if n != nil {
		n.requests = append(n.requests, id)
	}
}

func (n *notes) integrationsChanged() {
	if n != nil {
		n.integrations = true
	}
}

func (n *notes) add(o notes) {
	n.incidents = append(n.incidents, o.incidents...)
	n.requests = append(n.requests, o.requests...)
	n.integrations = n.integrations || o.integrations
}

// journalTop is the newest journal entry noted (0: none).
func (n notes) journalTop() int64 {
	var top int64
	for _, id := range n.requests {
		top = max(top, id)
	}
	return top
}

// payload is one notification's text (JSON): the node that committed, the
// incidents it changed with what happened to each (and what the webhook
// event did, for one), the journal entries it added, and whether
// integrations changed.
type payload struct {
	Node         string                 `json:"n"`
	Incidents    []int64                `json:"i,omitempty"`
	Kinds        []incidents.ChangeKind `json:"k,omitempty"`
	Outcomes     []incidents.Outcome    `json:"o,omitempty"`
	Requests     []int64                `json:"r,omitempty"`
	Integrations bool                   `json:"g,omitempty"`
}

// perPayload bounds the ids of each kind in one notification, well within
// PostgreSQL's 8,000 bytes.
const perPayload = 100

// payloads splits n into notifications (none when nothing changed).
func (n notes) payloads(node string) []string {
	var out []string
	is, rs := n.incidents, n.requests
	first := true
	for len(is) > 0 || len(rs) > 0 || (first && n.integrations) {
		p := payload{Node: node, Integrations: first && n.integrations}
		first = false
		k := min(len(is), perPayload)
		for _, in := range is[:k] {
			p.Incidents = append(p.Incidents, in.id)
			p.Kinds = append(p.Kinds, in.kind)
			p.Outcomes = append(p.Outcomes, in.outcome)
		}
		is = is[k:]
		k = min(len(rs), perPayload)
		p.Requests, rs = rs[:k], rs[k:]
		b, _ := json.Marshal(p) // cannot fail
		out = append(out, string(b))
	}
	return out
}
