package storage

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"klaxon/incidents"
)

// Integrations lists every integration, oldest first.
func (db *DB) Integrations(ctx context.Context) ([]*incidents.Integration, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT id, name, service, escalation, kind, token, created_at,
		ack_timeout_ms, resolve_after_ms, chaos FROM integrations ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*incidents.Integration{}
	for rows.Next() {
		var (
			in              incidents.Integration
			at, ack, resolv int64
			chaos           string
		)
		if err := rows.Scan(&in.ID, &in.Name, &in.Service, &in.Escalation, &in.Kind, &in.Token, &at, &ack, &resolv, &chaos); err != nil {
			return nil, err
		}
		in.Chaos, _ = incidents.ParseChaos(chaos) // written by SetChaos, so readable
		in.CreatedAt = fromMillis(at)
		in.AckTimeout, in.ResolveAfter = time.Duration(ack)*time.Millisecond, time.Duration(resolv)*time.Millisecond
		out = append(out, &in)
	}
	return out, rows.Err()
}

// CreateIntegration stores integ and sets its ID. A taken name is EINVALID.
func (db *DB) CreateIntegration(ctx context.Context, integ *incidents.Integration) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.Exec(`INSERT INTO integrations (name, service, escalation, kind, token, created_at,
			ack_timeout_ms, resolve_after_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, integ.Name, integ.Service, integ.Escalation,
			integ.Kind, integ.Token, integ.CreatedAt.UnixMilli(), integ.AckTimeout.Milliseconds(), integ.ResolveAfter.Milliseconds())
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: integrations.name") {
				return incidents.Errorf(incidents.EINVALID, "an integration named %q exists already; choose another name", integ.Name)
			}
			return err
		}
		integ.ID, err = r.LastInsertId()
		return err
	})
	return classify(err)
}

// SetTimers changes an integration's acknowledge timeout and resolve timer.
func (db *DB) SetTimers(ctx context.Context, name string, t incidents.Timers) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.Exec(`UPDATE integrations SET ack_timeout_ms = ?, resolve_after_ms = ? WHERE name = ?`,
			t.AckTimeout.Milliseconds(), t.ResolveAfter.Milliseconds(), name)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return incidents.Errorf(incidents.ENOTFOUND, "there is no integration named %q", name)
		}
		return nil
	})
	return classify(err)
}

// SetChaos changes an integration's chaos setting (incidents.Chaos).
func (db *DB) SetChaos(ctx context.Context, name string, c incidents.Chaos) error {
	value := ""
	if c.On() {
		value = c.String()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.Exec(`UPDATE integrations SET chaos = ? WHERE name = ?`, value, name)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return incidents.Errorf(incidents.ENOTFOUND, "there is no integration named %q", name)
		}
		return nil
	})
	return classify(err)
}
