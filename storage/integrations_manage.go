package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"klaxon/incidents"
)

// Removing integrations and rotating their tokens (migration 0010): a
// removed integration keeps its row, marked removed_at, so that its
// incidents keep its name; retired tokens are kept by their SHA-256 only.

// IntegrationLifecycle reads which integrations are removed and which tokens
// were retired.
func (db *DB) IntegrationLifecycle(ctx context.Context) (incidents.Lifecycle, error) {
	lc := incidents.Lifecycle{Removed: map[int64]time.Time{}}
	rows, err := db.reader.QueryContext(ctx, `SELECT id, removed_at FROM integrations WHERE removed_at IS NOT NULL`)
	if err != nil {
		return lc, err
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
	rows, err = db.reader.QueryContext(ctx, `SELECT token_sha256, integration_id, reason, retired_at, works_until FROM retired_tokens`)
	if err != nil {
		return lc, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hexHash, reason string
			rt              incidents.RetiredToken
			at, until       int64
		)
		if err := rows.Scan(&hexHash, &rt.Integration, &reason, &at, &until); err != nil {
			return lc, err
		}
		b, err := hex.DecodeString(hexHash)
		if err != nil || len(b) != len(rt.SHA256) {
			continue // not one this code wrote; it can match no token
		}
		copy(rt.SHA256[:], b)
		rt.Reason, rt.At, rt.WorksUntil = reason, fromMillis(at), fromMillis(until)
		lc.Retired = append(lc.Retired, rt)
	}
	return lc, rows.Err()
}

// tokenHash is how retired_tokens keeps a token.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// inUse finds the integration in use called name: its ID and token.
func inUse(tx *sql.Tx, name string) (int64, string, error) {
	var (
		id    int64
		token string
	)
	err := tx.QueryRow(`SELECT id, token FROM integrations WHERE name = ? AND removed_at IS NULL`, name).Scan(&id, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", incidents.Errorf(incidents.ENOTFOUND, "there is no integration named %q (klaxon integrations lists them)", name)
	}
	return id, token, err
}

// retire keeps token as a retired token of integration id, taken until
// worksUntil, and ends the grace of the integration's earlier ones at at.
func retire(tx *sql.Tx, id int64, token, reason string, at, worksUntil time.Time) error {
	if _, err := tx.Exec(`UPDATE retired_tokens SET works_until = min(works_until, ?) WHERE integration_id = ?`, at.UnixMilli(), id); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT OR REPLACE INTO retired_tokens (token_sha256, integration_id, reason, retired_at, works_until) VALUES (?, ?, ?, ?, ?)`,
		tokenHash(token), id, reason, at.UnixMilli(), worksUntil.UnixMilli())
	return err
}

// RemoveIntegration marks the integration in use called name removed and
// retires its token. Its chaos setting goes off; its incidents and timers stay.
func (db *DB) RemoveIntegration(ctx context.Context, name string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		id, token, err := inUse(tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE integrations SET removed_at = ?, chaos = '' WHERE id = ?`, at.UnixMilli(), id); err != nil {
			return err
		}
		return retire(tx, id, token, incidents.RetiredRemoved, at, at)
	})
	return classify(err)
}

// RotateToken gives the integration in use called name the token newToken;
// the old one is taken until oldWorksUntil.
func (db *DB) RotateToken(ctx context.Context, name, newToken string, at, oldWorksUntil time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		id, token, err := inUse(tx, name)
		if err != nil {
			return err
		}
		if err := retire(tx, id, token, incidents.RetiredRotated, at, oldWorksUntil); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE integrations SET token = ? WHERE id = ?`, newToken, id)
		return err
	})
	return classify(err)
}

// ReviveIntegration brings back the removed integration named integ.Name
// with integ's service, escalation, kind, token, timers and creation time,
// and sets integ.ID. Its chaos stays off; its old token stays retired.
func (db *DB) ReviveIntegration(ctx context.Context, integ *incidents.Integration) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRow(`SELECT id FROM integrations WHERE name = ? AND removed_at IS NOT NULL ORDER BY id DESC LIMIT 1`, integ.Name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return incidents.Errorf(incidents.ENOTFOUND, "no removed integration is named %q", integ.Name)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE integrations SET removed_at = NULL, service = ?, escalation = ?, kind = ?, token = ?, created_at = ?,
			ack_timeout_ms = ?, resolve_after_ms = ?, chaos = '' WHERE id = ?`, integ.Service, integ.Escalation, integ.Kind, integ.Token,
			integ.CreatedAt.UnixMilli(), integ.AckTimeout.Milliseconds(), integ.ResolveAfter.Milliseconds(), id)
		if err != nil {
			return err
		}
		integ.ID = id
		return nil
	})
	return classify(err)
}
