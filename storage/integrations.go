package storage

import (
	"context"
	"database/sql"
	"strings"

	"klaxon/incidents"
)

// Integrations lists every integration, oldest first.
func (db *DB) Integrations(ctx context.Context) ([]*incidents.Integration, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT id, name, service, escalation, kind, token, created_at
		FROM integrations ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*incidents.Integration{}
	for rows.Next() {
		var (
			in incidents.Integration
			at int64
		)
		if err := rows.Scan(&in.ID, &in.Name, &in.Service, &in.Escalation, &in.Kind, &in.Token, &at); err != nil {
			return nil, err
		}
		in.CreatedAt = fromMillis(at)
		out = append(out, &in)
	}
	return out, rows.Err()
}

// CreateIntegration stores integ and sets its ID. A taken name is EINVALID.
func (db *DB) CreateIntegration(ctx context.Context, integ *incidents.Integration) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.Exec(`INSERT INTO integrations (name, service, escalation, kind, token, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, integ.Name, integ.Service, integ.Escalation, integ.Kind, integ.Token,
			integ.CreatedAt.UnixMilli())
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
