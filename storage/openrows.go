package storage

import "klaxon/incidents"

// openRows is the writer's copy of the open incidents that events were
// recently folded into, as the writer last stored them, so that a repeat
// reads no row: under a storm of repeats the read was a quarter of the
// writer's time per event.
//
// Only the writer changes incidents, and every change goes through it: a
// fold stores what it wrote here, and any other change (an action, a timer,
// a resolve, a fold that moved severity or priority) drops the incident from
// here, so that its next repeat reads the row again. Like openKeys, changes
// are logged and undone with the transaction or savepoint that rolls back.
// It holds at most maxOpenRows incidents; when full it starts over.
type openRows struct {
	rows map[int64]openRow
	log  []rowChange
}

// openRow is an open incident as stored, and what it keeps of its
// suppressed events.
type openRow struct {
	integration int64
	in          incidents.Incident // without its timeline
	kept        keptSuppressed
}

type rowChange struct {
	id  int64
	was openRow
	had bool
}

const maxOpenRows = 4096

func newOpenRows() *openRows { return &openRows{rows: map[int64]openRow{}} }

// get is incident id of integration with key as the writer last stored it,
// if it is here.
func (r *openRows) get(id, integration int64, key string) (*incidents.Incident, keptSuppressed, bool) {
	row, ok := r.rows[id]
	if !ok || row.integration != integration || row.in.Key != key || row.in.Status == incidents.Resolved {
		return nil, keptSuppressed{}, false
	}
	in := row.in
	return &in, row.kept, true
}

// put records that the writer stored in (of integration) with kept.
func (r *openRows) put(integration int64, in *incidents.Incident, kept keptSuppressed) {
	if len(r.rows) >= maxOpenRows {
		if _, ok := r.rows[in.ID]; !ok {
			r.reset()
		}
	}
	row := openRow{integration: integration, in: *in, kept: kept}
	row.in.Timeline = nil
	r.set(in.ID, row, true)
}

// drop forgets incident id: its row changed in a way only the row says.
func (r *openRows) drop(id int64) {
	if _, ok := r.rows[id]; ok {
		r.set(id, openRow{}, false)
	}
}

func (r *openRows) set(id int64, row openRow, present bool) {
	was, had := r.rows[id]
	r.log = append(r.log, rowChange{id: id, was: was, had: had})
	if present {
		r.rows[id] = row
	} else {
		delete(r.rows, id)
	}
}

// reset empties the copy. The log stays: undoing it restores what the rows
// were before the transaction, which is what they are again after it rolls
// back.
func (r *openRows) reset() { r.rows = map[int64]openRow{} }

func (r *openRows) mark() int { return len(r.log) }

// undo reverses the changes logged since mark m.
func (r *openRows) undo(m int) {
	for i := len(r.log) - 1; i >= m; i-- {
		c := r.log[i]
		if c.had {
			r.rows[c.id] = c.was
		} else {
			delete(r.rows, c.id)
		}
	}
	r.log = r.log[:m]
}

func (r *openRows) commit() { r.log = r.log[:0] }
