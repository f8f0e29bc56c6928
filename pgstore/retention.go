package pgstore

import (
	"context"
	"time"

	"klaxon/storage"
)

// pruneChunk is how many rows one transaction of Prune deletes.
const pruneChunk = 500

// Prune drops what r says is too old (open incidents never go), in small
// transactions off the writers, and returns how many incidents and journal
// entries went. The limits are the whole database's: when several nodes
// prune at once, one does it and the others find nothing left, or that
// another is at it, and return.
func (db *DB) Prune(ctx context.Context, r storage.Retention, now time.Time) (incidentsDropped, requestsDropped int64, err error) {
	type query struct {
		sql  string
		args []any
		n    *int64
	}
	var queries []query
	if r.ResolvedFor > 0 {
		queries = append(queries, query{`DELETE FROM incidents WHERE id IN (SELECT id FROM incidents
			WHERE status = 'resolved' AND resolved_at < $1 ORDER BY resolved_at, id LIMIT $2)`,
			[]any{now.Add(-r.ResolvedFor).UnixMilli(), pruneChunk}, &incidentsDropped})
	}
	if r.ResolvedCount > 0 {
		queries = append(queries, query{`DELETE FROM incidents WHERE id IN (SELECT id FROM incidents
			WHERE status = 'resolved' ORDER BY resolved_at DESC, id DESC LIMIT $1 OFFSET $2)`,
			[]any{pruneChunk, r.ResolvedCount}, &incidentsDropped})
	}
	if r.JournalFor > 0 {
		queries = append(queries, query{`DELETE FROM requests WHERE id IN (SELECT id FROM requests
			WHERE at < $1 ORDER BY id LIMIT $2)`, []any{now.Add(-r.JournalFor).UnixMilli(), pruneChunk}, &requestsDropped})
	}
	lock := db.lockID("retention")
	for _, q := range queries {
		for {
			if err := ctx.Err(); err != nil {
				return incidentsDropped, requestsDropped, err
			}
			var (
				n     int64
				mine  bool
				wrote bool
			)
			tx, err := db.writer.BeginTx(ctx, readCommitted)
			if err != nil {
				return incidentsDropped, requestsDropped, classify(err)
			}
			err = tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", lock).Scan(&mine)
			if err == nil && mine {
				var tag interface{ RowsAffected() int64 }
				tag, err = tx.Exec(ctx, q.sql, q.args...)
				if err == nil {
					n, wrote = tag.RowsAffected(), true
				}
			}
			if err == nil && wrote {
				err = tx.Commit(ctx)
			}
			tx.Rollback(context.WithoutCancel(ctx))
			if err != nil {
				return incidentsDropped, requestsDropped, classify(err)
			}
			if !mine {
				return incidentsDropped, requestsDropped, nil // another node prunes now
			}
			*q.n += n
			if n < pruneChunk {
				break
			}
		}
	}
	return incidentsDropped, requestsDropped, nil
}
