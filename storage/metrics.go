package storage

import (
	"context"
	"database/sql"
)

// OpenCount is how many open incidents have one severity and priority.
type OpenCount struct {
	Severity, Priority string // "" for none
	N                  int
}

// OpenCounts counts open incidents by severity and priority.
func (db *DB) OpenCounts(ctx context.Context) ([]OpenCount, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT severity, priority, count(*) FROM incidents
		WHERE is_open = 1 GROUP BY severity, priority`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OpenCount
	for rows.Next() {
		var sev, prio sql.NullString
		var c OpenCount
		if err := rows.Scan(&sev, &prio, &c.N); err != nil {
			return nil, err
		}
		c.Severity, c.Priority = sev.String, prio.String
		out = append(out, c)
	}
	return out, rows.Err()
}
