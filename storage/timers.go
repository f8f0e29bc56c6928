package storage

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"klaxon/incidents"
)

// timerBatch bounds the incidents one timer pass changes in one transaction.
const timerBatch = 200

// dueTimersSQL finds the incidents whose integration's timers are due at a
// time: acknowledged past the acknowledge timeout, open and not seen for the
// resolve timer. Only integrations with a timer are looked at.
const dueTimersSQL = `SELECT i.id, 'unack' FROM integrations g JOIN incidents i ON i.integration_id = g.id
	WHERE g.ack_timeout_ms > 0 AND i.is_open = 1 AND i.status = 'acknowledged' AND i.acknowledged_at + g.ack_timeout_ms <= ?1
	UNION ALL
	SELECT i.id, 'resolve' FROM integrations g JOIN incidents i ON i.integration_id = g.id
	WHERE g.resolve_after_ms > 0 AND i.is_open = 1 AND i.last_seen + g.resolve_after_ms <= ?1
	LIMIT ?2`

// ApplyTimers carries out the integrations' timers that are due at now:
// acknowledged incidents past their acknowledge timeout return to triggered,
// open incidents not seen for their resolve timer resolve (both by: timer).
// The search runs on a reader, so the single writer is not held while it
// scans; each incident found is read again inside the write transaction and
// changed only if still due, so a repeat or an action that came first wins.
// It returns the incidents it changed.
func (db *DB) ApplyTimers(ctx context.Context, now time.Time) ([]*incidents.Incident, error) {
	type due struct {
		id   int64
		kind string
	}
	rows, err := db.reader.QueryContext(ctx, dueTimersSQL, now.UnixMilli(), timerBatch)
	if err != nil {
		return nil, err
	}
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.kind); err != nil {
			rows.Close()
			return nil, err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(dues) == 0 {
		return nil, err
	}
	// Resolves first: an incident due both ways resolves.
	sort.SliceStable(dues, func(i, j int) bool { return dues[i].kind == "resolve" && dues[j].kind != "resolve" })

	var changed []*incidents.Incident
	err = db.write(ctx, func(tx *sql.Tx) error {
		changed = changed[:0]
		done := map[int64]bool{}
		for _, d := range dues {
			if done[d.id] {
				continue
			}
			var ackTimeout, resolveAfter int64
			in, err := scanIncident(multiScanner2{tx.QueryRow(`SELECT `+incidentColumns+`, g.ack_timeout_ms, g.resolve_after_ms`+
				incidentFrom+`WHERE i.id = ?`, d.id), &ackTimeout, &resolveAfter})
			if errors.Is(err, sql.ErrNoRows) {
				continue // pruned meanwhile
			}
			if err != nil {
				return err
			}
			t := incidents.Timers{AckTimeout: time.Duration(ackTimeout) * time.Millisecond, ResolveAfter: time.Duration(resolveAfter) * time.Millisecond}
			t.ApplyTimers(in)
			a := incidents.PersonAction{By: incidents.ByTimer}
			switch {
			case d.kind == "resolve" && in.AutoResolvesAt != nil && !in.AutoResolvesAt.After(now):
				a.Kind = incidents.EntryResolved
			case d.kind == "unack" && in.UnacknowledgesAt != nil && !in.UnacknowledgesAt.After(now):
				a.Kind = incidents.EntryUnacknowledged
			default:
				continue // no longer due
			}
			entries, err := incidents.ApplyAction(in, a, now)
			if err != nil || len(entries) == 0 {
				continue
			}
			if err := db.updateIncident(tx, in); err != nil {
				return err
			}
			if err := db.insertEntries(tx, in, entries); err != nil {
				return err
			}
			done[in.ID] = true
			changed = append(changed, in)
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return changed, nil
}

// multiScanner2 scans an incident's columns followed by two integers.
type multiScanner2 struct {
	row  *sql.Row
	a, b *int64
}

func (m multiScanner2) Scan(dest ...any) error { return m.row.Scan(append(dest, m.a, m.b)...) }
