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
	rows, err := db.reader.Query(ctx, `SELECT coalesce(severity, ''), count(*) FROM incidents WHERE is_open GROUP BY severity`)
	if err != nil {
		return t, classify(err)
	}
	defer rows.Close()
	for _, sev := range []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity} {
		t.Open[sev] = 0
	}
	for rows.Next() {
		var sev string
		var n int
		if err := rows.Scan(&sev, &n); err != nil {
			return t, err
		}
		t.Open[incidents.Severity(sev)] = n
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
