package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

// Removing integrations and rotating their tokens (migration 0002), as
// storage does it: a removed integration keeps its row, marked removed_at,
// so that its incidents keep its name; retired tokens are kept by their
// SHA-256 only. Each change is told to the other nodes, which reload their
// integrations.

var _ incidents.LifecycleStore = (*DB)(nil)

// IntegrationLifecycle reads which integrations are removed and which tokens
// were retired.
func (db *DB) IntegrationLifecycle(ctx context.Context) (incidents.Lifecycle, error) {
	lc := incidents.Lifecycle{Removed: map[int64]time.Time{}}
	rows, err := db.reader.Query(ctx, `SELECT id, removed_at FROM integrations WHERE removed_at IS NOT NULL`)
	if err != nil {
		return lc, classify(err)
	}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return lc, err
		}
		lc.Removed[id] = fromMillis(at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return lc, err
	}
	rows, err = db.reader.Query(ctx, `SELECT token_sha256, integration_id, reason, retired_at, works_until FROM retired_tokens ORDER BY retired_at, token_sha256`)
	if err != nil {
		return lc, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hexHash   string
			rt        incidents.RetiredToken
			at, until int64
		)
		if err := rows.Scan(&hexHash, &rt.Integration, &rt.Reason, &at, &until); err != nil {
			return lc, err
		}
		b, err := hex.DecodeString(hexHash)
		if err != nil || len(b) != len(rt.SHA256) {
			continue // not one this code wrote; it can match no token
		}
		copy(rt.SHA256[:], b)
		rt.At, rt.WorksUntil = fromMillis(at), fromMillis(until)
		lc.Retired = append(lc.Retired, rt)
	}
	return lc, rows.Err()
}

// tokenHash is how retired_tokens keeps a token.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// inUse finds and locks the integration in use called name: its ID and token.
func inUse(w *wtx, name string) (int64, string, error) {
	var (
		id    int64
		token string
	)
	err := w.queryRow(`SELECT id, token FROM integrations WHERE name = $1 AND removed_at IS NULL FOR UPDATE`, cleanText(name)).Scan(&id, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", incidents.Errorf(incidents.ENOTFOUND, "there is no integration named %q (klaxon integrations lists them)", name)
	}
	return id, token, err
}

// retire keeps token as a retired token of integration id, taken until
// worksUntil, and ends the grace of the integration's earlier ones at at.
func retire(w *wtx, id int64, token, reason string, at, worksUntil time.Time) error {
	if _, err := w.exec(`UPDATE retired_tokens SET works_until = least(works_until, $1) WHERE integration_id = $2`, at.UnixMilli(), id); err != nil {
		return err
	}
	_, err := w.exec(`INSERT INTO retired_tokens (token_sha256, integration_id, reason, retired_at, works_until) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (token_sha256) DO UPDATE SET integration_id = EXCLUDED.integration_id, reason = EXCLUDED.reason,
			retired_at = EXCLUDED.retired_at, works_until = EXCLUDED.works_until`,
		tokenHash(token), id, reason, at.UnixMilli(), worksUntil.UnixMilli())
	return err
}

// RemoveIntegration marks the integration in use called name removed and
// retires its token. Its chaos setting goes off; its incidents and timers stay.
func (db *DB) RemoveIntegration(ctx context.Context, name string, at time.Time) error {
	err := db.write(ctx, need{}, func(w *wtx) error {
		id, token, err := inUse(w, name)
		if err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE integrations SET removed_at = $1, chaos = '' WHERE id = $2`, at.UnixMilli(), id); err != nil {
			return err
		}
		if err := retire(w, id, token, incidents.RetiredRemoved, at, at); err != nil {
			return err
		}
		w.notes.integrationsChanged()
		return nil
	})
	return classify(err)
}

// RotateToken gives the integration in use called name the token newToken;
// the old one is taken until oldWorksUntil.
func (db *DB) RotateToken(ctx context.Context, name, newToken string, at, oldWorksUntil time.Time) error {
	err := db.write(ctx, need{}, func(w *wtx) error {
		id, token, err := inUse(w, name)
		if err != nil {
			return err
		}
		if err := retire(w, id, token, incidents.RetiredRotated, at, oldWorksUntil); err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE integrations SET token = $1 WHERE id = $2`, cleanText(newToken), id); err != nil {
			return err
		}
		w.notes.integrationsChanged()
		return nil
	})
	return classify(err)
}

// ReviveIntegration brings back the removed integration named integ.Name
// with integ's service, escalation, kind, token, timers and creation time,
// and sets integ.ID. Its chaos stays off; its old token stays retired.
func (db *DB) ReviveIntegration(ctx context.Context, integ *incidents.Integration) error {
	err := db.write(ctx, need{}, func(w *wtx) error {
		var id int64
		err := w.queryRow(`SELECT id FROM integrations WHERE name = $1 AND removed_at IS NOT NULL ORDER BY id DESC LIMIT 1 FOR UPDATE`,
			cleanText(integ.Name)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return incidents.Errorf(incidents.ENOTFOUND, "no removed integration is named %q", integ.Name)
		}
		if err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE integrations SET removed_at = NULL, service = $1, escalation = $2, kind = $3, token = $4,
			created_at = $5, ack_timeout_ms = $6, resolve_after_ms = $7, chaos = '' WHERE id = $8`,
			cleanText(integ.Service), cleanText(integ.Escalation), string(integ.Kind), cleanText(integ.Token),
			integ.CreatedAt.UnixMilli(), integ.AckTimeout.Milliseconds(), integ.ResolveAfter.Milliseconds(), id); err != nil {
			return err
		}
		integ.ID = id
		w.notes.integrationsChanged()
		return nil
	})
	return classify(err)
}
