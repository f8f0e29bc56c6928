package pgstore

import (
	"context"

	"klaxon/incidents"
	"klaxon/storage"
)

// TallyIncidents counts open incidents by severity, and resolved ones: the
// console's header and tabs.
func (db *DB) TallyIncidents(ctx context.Context) (incidents.Tally, error) {
	t := incidents.Tally{Open: map[incidents.Severity]int{}}
	// The sort key starts with the severity's rank (1 sev1 … 4 none): the
	// counts read the order index alone.
	rows, err := db.reader.Query(ctx, `SELECT left(sort_key, 1), count(*) FROM incidents WHERE is_open GROUP BY 1`)
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	for _, sev := range []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity} {
		t.Open[sev] = 0
	}
	ranks := map[string]incidents.Severity{"1": incidents.Sev1, "2": incidents.Sev2, "3": incidents.Sev3, "4": incidents.NoSeverity}
	for rows.Next() {
		var rank string
		var n int
		if err := rows.Scan(&rank, &n); err != nil {
			return t, err
		}
		t.Open[ranks[rank]] = n
	}
	if err := rows.Err(); err != nil {
		return t, err
	}
	err = db.reader.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE NOT is_open`).Scan(&t.Resolved)
	return t, classify(err)
}

// CountSuppressed counts the stored suppressed (folded duplicate) events.
func (db *DB) CountSuppressed(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRow(ctx, `SELECT count(*) FROM timeline WHERE kind = 'suppressed'`).Scan(&n)
	return n, classify(err)
}

// OpenCounts counts open incidents by severity and priority (for metrics).
func (db *DB) OpenCounts(ctx context.Context) ([]storage.OpenCount, error) {
	rows, err := db.reader.Query(ctx, `SELECT coalesce(severity, ''), coalesce(priority, ''), count(*) FROM incidents
		WHERE is_open GROUP BY severity, priority ORDER BY 1, 2`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []storage.OpenCount
	for rows.Next() {
		var c storage.OpenCount
		if err := rows.Scan(&c.Severity, &c.Priority, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
