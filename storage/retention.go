package storage

import (
	"context"
	"database/sql"
	"time"
)

// Retention says what old data to drop. Open incidents are never dropped.
type Retention struct {
	// ResolvedFor keeps a resolved incident (and its timeline) this long after
	// it was resolved. Zero keeps them by age forever.
	ResolvedFor time.Duration
	// ResolvedCount keeps at most this many resolved incidents, newest
	// resolved first. Zero: no count limit.
	ResolvedCount int
	// JournalFor keeps journal entries this long (the journal is also bounded
	// by count, see Options.JournalLimit). Zero: no age limit.
	JournalFor time.Duration
}

// DefaultRetention is what klaxon keeps unless told otherwise.
var DefaultRetention = Retention{ResolvedFor: 30 * 24 * time.Hour, ResolvedCount: 10000, JournalFor: 7 * 24 * time.Hour}

// pruneChunk is how many rows one write transaction deletes, so pruning never
// holds the writer long enough to delay an incoming event noticeably.
const pruneChunk = 500

// Prune drops what r says is too old, in small transactions, and returns how
// many incidents and journal entries went.
func (db *DB) Prune(ctx context.Context, r Retention, now time.Time) (incidentsDropped, requestsDropped int64, err error) {
	var queries []struct {
		sql  string
		args []any
		n    *int64
	}
	add := func(n *int64, q string, args ...any) {
		queries = append(queries, struct {
			sql  string
			args []any
			n    *int64
		}{q, args, n})
	}
	if r.ResolvedFor > 0 {
		add(&incidentsDropped, `DELETE FROM incidents WHERE id IN (SELECT id FROM incidents
			WHERE is_open = 0 AND resolved_at < ? LIMIT ?)`, now.Add(-r.ResolvedFor).UnixMilli(), pruneChunk)
	}
	if r.ResolvedCount > 0 {
		add(&incidentsDropped, `DELETE FROM incidents WHERE id IN (SELECT id FROM incidents
			WHERE is_open = 0 ORDER BY resolved_at DESC, id DESC LIMIT ? OFFSET ?)`, pruneChunk, r.ResolvedCount)
	}
	if r.JournalFor > 0 {
		add(&requestsDropped, `DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE at < ? LIMIT ?)`,
			now.Add(-r.JournalFor).UnixMilli(), pruneChunk)
	}
	for _, q := range queries {
		for {
			if err := ctx.Err(); err != nil {
				return incidentsDropped, requestsDropped, err
			}
			var n int64
			err := db.write(ctx, func(tx *sql.Tx) error {
				res, err := tx.Exec(q.sql, q.args...)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return incidentsDropped, requestsDropped, classify(err)
			}
			*q.n += n
			if n < pruneChunk {
				break
			}
		}
	}
	return incidentsDropped, requestsDropped, nil
}
