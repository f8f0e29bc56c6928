package storage

import "context"

// The console's tabs show how many suppressed events and journal entries
// there are; these count them without reading them.

// CountSuppressed counts the suppressed (folded duplicate) events.
func (db *DB) CountSuppressed(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM timeline WHERE kind = 'suppressed'`).Scan(&n)
	return n, err
}

// CountRequests counts the entries of the request journal.
func (db *DB) CountRequests(ctx context.Context) (int, error) {
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM requests`).Scan(&n)
	return n, err
}
