package storage

import (
	"context"

	"klaxon/incidents"
)

// The console's header and tabs count on every change, so these counts
// read indexes only: milliseconds with 100,000 incidents, where a count
// through ListIncidents' join reads every row.

// TallyIncidents counts open incidents by severity, and resolved ones. The
// sort key starts with the severity's rank (1 sev1 … 4 none), so each
// severity is a range of the (is_open, sort_key) index.
func (db *DB) TallyIncidents(ctx context.Context) (incidents.Tally, error) {
	t := incidents.Tally{Open: map[incidents.Severity]int{}}
	ranks := []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity}
	for i, sev := range ranks {
		var n int
		lo, hi := string(rune('1'+i)), string(rune('2'+i))
		if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM incidents
			WHERE is_open = 1 AND sort_key >= ? AND sort_key < ?`, lo, hi).Scan(&n); err != nil {
			return t, err
		}
		t.Open[sev] = n
	}
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM incidents WHERE is_open = 0`).Scan(&t.Resolved)
	return t, err
}

// CountSuppressed counts the stored suppressed (folded duplicate) events:
// the rows of the console's Suppressed view.
func (db *DB) CountSuppressed(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM timeline WHERE kind = 'suppressed'`).Scan(&n)
	return n, err
}

// CountRequests counts the entries of the request journal (its newest
// JournalLimit, as Requests lists them).
func (db *DB) CountRequests(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM requests
		WHERE id > (SELECT coalesce(max(id), 0) FROM requests) - ?`, db.opts.JournalLimit).Scan(&n)
	return n, err
}
