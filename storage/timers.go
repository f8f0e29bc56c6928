package storage

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"klaxon/incidents"
)

// timerBatch bounds the incidents one timer pass changes in one transaction.
const timerBatch = 200

// ApplyTimers carries out the integrations' timers that are due at now, in one
// transaction: acknowledged incidents past their acknowledge timeout return
// to triggered, open incidents not seen for their resolve timer resolve (both
// by: timer). The due test is made again inside the transaction, so a repeat
// or an action that came first wins. It returns the incidents it changed.
func (db *DB) ApplyTimers(ctx context.Context, now time.Time) ([]*incidents.Incident, error) {
	var changed []*incidents.Incident
	err := db.write(ctx, func(tx *sql.Tx) error {
		changed = changed[:0]
		ms := now.UnixMilli()
		rows, err := tx.Query(`SELECT `+incidentColumns+`, 'unack'`+incidentFrom+`
			WHERE i.status = 'acknowledged' AND g.ack_timeout_ms > 0 AND i.acknowledged_at + g.ack_timeout_ms <= ?
			UNION ALL
			SELECT `+incidentColumns+`, 'resolve'`+incidentFrom+`
			WHERE i.is_open = 1 AND g.resolve_after_ms > 0 AND i.last_seen + g.resolve_after_ms <= ?
			LIMIT ?`, ms, ms, timerBatch)
		if err != nil {
			return err
		}
		type due struct {
			in   *incidents.Incident
			kind string
		}
		var dues []due
		for rows.Next() {
			var kind string
			in, err := scanIncident(multiScanner{rows, &kind})
			if err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, due{in, kind})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Resolves first: an incident due both ways resolves.
		sort.SliceStable(dues, func(i, j int) bool { return dues[i].kind == "resolve" && dues[j].kind != "resolve" })
		done := map[int64]bool{}
		for _, d := range dues {
			if done[d.in.ID] {
				continue
			}
			a := incidents.PersonAction{Kind: incidents.EntryUnacknowledged, By: incidents.ByTimer}
			if d.kind == "resolve" {
				a.Kind = incidents.EntryResolved
			}
			entries, err := incidents.ApplyAction(d.in, a, now)
			if err != nil || len(entries) == 0 {
				continue
			}
			if err := db.updateIncident(tx, d.in); err != nil {
				return err
			}
			if err := db.insertEntries(tx, d.in, entries); err != nil {
				return err
			}
			done[d.in.ID] = true
			changed = append(changed, d.in)
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return changed, nil
}
