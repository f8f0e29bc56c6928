package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// SetMaxPageCount caps the database file at n pages (SQLite's max_page_count;
// it never goes below the current size) and returns the cap in force. Past it
// every write fails as if the disk were full: tests use it to show that a full
// disk answers 503 and that klaxon recovers once there is room again.
func (db *DB) SetMaxPageCount(ctx context.Context, n int64) (int64, error) {
	var got int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got)
	})
	return got, classify(err)
}
