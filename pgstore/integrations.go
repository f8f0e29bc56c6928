package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"klaxon/incidents"
)

const integrationColumns = `id, name, service, escalation, kind, token, created_at, ack_timeout_ms, resolve_after_ms, chaos`

func scanIntegration(row pgx.Row) (*incidents.Integration, error) {
	var (
		in              incidents.Integration
		kind, chaos     string
		at, ack, resolv int64
	)
	if err := row.Scan(&in.ID, &in.Name, &in.Service, &in.Escalation, &kind, &in.Token, &at, &ack, &resolv, &chaos); err != nil {
		return nil, err
	}
	in.Kind = incidents.Kind(kind)
	in.Chaos, _ = incidents.ParseChaos(chaos) // written by SetChaos, so readable
	in.CreatedAt = fromMillis(at)
	in.AckTimeout, in.ResolveAfter = time.Duration(ack)*time.Millisecond, time.Duration(resolv)*time.Millisecond
	return &in, nil
}

// Integrations lists every integration, oldest first.
func (db *DB) Integrations(ctx context.Context) ([]*incidents.Integration, error) {
	rows, err := db.reader.Query(ctx, `SELECT `+integrationColumns+` FROM integrations ORDER BY id`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []*incidents.Integration{}
	for rows.Next() {
		in, err := scanIntegration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// IntegrationByToken reads the integration in use that a token belongs to
// (nil when none) from the database: a node asks it about a token its
// cache does not know before it answers 404, since another node may have
// just made the integration, or given it that token.
func (db *DB) IntegrationByToken(ctx context.Context, token string) (*incidents.Integration, error) {
	in, err := scanIntegration(db.reader.QueryRow(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE token = $1 AND removed_at IS NULL`, cleanText(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return in, nil
}

// CreateIntegration stores integ and sets its ID. A taken name is EINVALID.
func (db *DB) CreateIntegration(ctx context.Context, integ *incidents.Integration) error {
	err := db.write(ctx, need{}, func(w *wtx) error {
		err := w.queryRow(`INSERT INTO integrations (name, service, escalation, kind, token, created_at,
			ack_timeout_ms, resolve_after_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			cleanText(integ.Name), cleanText(integ.Service), cleanText(integ.Escalation), string(integ.Kind),
			cleanText(integ.Token), integ.CreatedAt.UnixMilli(), integ.AckTimeout.Milliseconds(),
			integ.ResolveAfter.Milliseconds()).Scan(&integ.ID)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
			if pe.ConstraintName == "integrations_name_key" {
				return incidents.Errorf(incidents.EINVALID, "an integration named %q exists already; choose another name", integ.Name)
			}
			return incidents.Errorf(incidents.EINVALID, "an integration with this token exists already")
		}
		if err == nil {
			w.notes.integrationsChanged()
		}
		return err
	})
	return classify(err)
}

// SetTimers changes an integration's acknowledge timeout and resolve timer.
func (db *DB) SetTimers(ctx context.Context, name string, t incidents.Timers) error {
	return db.updateIntegration(ctx, name, `UPDATE integrations SET ack_timeout_ms = $2, resolve_after_ms = $3 WHERE name = $1`,
		t.AckTimeout.Milliseconds(), t.ResolveAfter.Milliseconds())
}

// SetChaos changes an integration's chaos setting (incidents.Chaos).
func (db *DB) SetChaos(ctx context.Context, name string, c incidents.Chaos) error {
	value := ""
	if c.On() {
		value = c.String()
	}
	return db.updateIntegration(ctx, name, `UPDATE integrations SET chaos = $2 WHERE name = $1`, value)
}

func (db *DB) updateIntegration(ctx context.Context, name, sql string, values ...any) error {
	err := db.write(ctx, need{}, func(w *wtx) error {
		n, err := w.exec(sql, append([]any{cleanText(name)}, values...)...)
		if err != nil {
			return err
		}
		if n == 0 {
			return incidents.Errorf(incidents.ENOTFOUND, "there is no integration named %q", name)
		}
		w.notes.integrationsChanged()
		return nil
	})
	return classify(err)
}
