package pgstore

import (
	"context"
	"time"

	"klaxon/incidents"
)

// timerBatch bounds the incidents one timer pass changes in one transaction.
const timerBatch = 200

// dueTimersSQL selects the incidents whose integration's timers are due at
// $1: acknowledged past the acknowledge timeout, open and not seen for the
// resolve timer. Only open incidents of integrations with a timer are
// looked at.
const dueTimersSQL = ` FROM incidents i JOIN integrations g ON g.id = i.integration_id
	WHERE i.status <> 'resolved' AND (g.ack_timeout_ms > 0 OR g.resolve_after_ms > 0) AND (
		(g.ack_timeout_ms > 0 AND i.status = 'acknowledged' AND i.acknowledged_at + g.ack_timeout_ms <= $1) OR
		(g.resolve_after_ms > 0 AND i.last_seen + g.resolve_after_ms <= $1))`

// ApplyTimers carries out the integrations' timers that are due at now:
// acknowledged incidents past their acknowledge timeout return to triggered,
// open incidents not seen for their resolve timer resolve (both by: timer).
// It returns the incidents it changed.
//
// Every node runs its timers, and each due incident changes exactly once:
// the transaction locks the incidents it changes (FOR UPDATE SKIP LOCKED),
// so a node passes over those another node is changing, and reads each one
// as it is now, so that one changed a moment ago is no longer due.
func (db *DB) ApplyTimers(ctx context.Context, now time.Time) ([]*incidents.Incident, error) {
	var any bool
	if err := db.reader.QueryRow(ctx, `SELECT EXISTS (SELECT 1`+dueTimersSQL+`)`, now.UnixMilli()).Scan(&any); err != nil {
		return nil, classify(err)
	}
	if !any {
		return nil, nil // nothing due: do not take a writer
	}
	var changed []*incidents.Incident
	err := db.write(ctx, need{}, func(w *wtx) error {
		changed = changed[:0]
		rows, err := w.query(`SELECT `+incidentColumns+`, g.ack_timeout_ms, g.resolve_after_ms`+dueTimersSQL+`
			ORDER BY i.id LIMIT $2 FOR UPDATE OF i SKIP LOCKED`, now.UnixMilli(), timerBatch)
		if err != nil {
			return err
		}
		type due struct {
			in     *incidents.Incident
			timers incidents.Timers
		}
		var dues []due
		for rows.Next() {
			var ack, resolve int64
			in, err := scanIncident(rows, &ack, &resolve)
			if err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, due{in, incidents.Timers{AckTimeout: time.Duration(ack) * time.Millisecond, ResolveAfter: time.Duration(resolve) * time.Millisecond}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dues {
			in := d.in
			d.timers.ApplyTimers(in)
			a := incidents.PersonAction{By: incidents.ByTimer}
			switch {
			case in.AutoResolvesAt != nil && !in.AutoResolvesAt.After(now): // resolves first: due both ways, it resolves
				a.Kind = incidents.EntryResolved
			case in.UnacknowledgesAt != nil && !in.UnacknowledgesAt.After(now):
				a.Kind = incidents.EntryUnacknowledged
			default:
				continue
			}
			entries, err := incidents.ApplyAction(in, a, now)
			if err != nil || len(entries) == 0 {
				continue
			}
			w.forget(in.ID)
			w.updateIncident(in)
			if err := w.insertEntries(in, entries, false); err != nil {
				return err
			}
			w.notes.changed(in.ID, "", incidents.TimerKind(in))
			changed = append(changed, in)
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return changed, nil
}
