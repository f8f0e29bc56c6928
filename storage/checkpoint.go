package storage

import (
	"database/sql"
	"time"
)

// SQLite's WAL grows with every commit until a checkpoint copies it back into
// the database file. Left to itself, SQLite checkpoints inside the commit
// that crosses wal_autocheckpoint pages: that commit, and every event
// waiting on it, then waits for a thousand page writes and an fsync of the
// database file. klaxon checkpoints from a connection of its own instead, so
// the writer's commits only ever append to the WAL and sync it. The writer
// still checkpoints by itself past walSafetyPages, should this loop ever fall
// behind.
const walSafetyPages = 8000 // the writer's own wal_autocheckpoint (32 MiB of 4 KiB pages)

// checkpointEvery is how often checkpointLoop runs (a variable for tests).
var checkpointEvery = 100 * time.Millisecond

// checkpointLoop runs passive checkpoints (which never block the writer or
// readers) until stop is closed.
func checkpointLoop(cp *sql.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// Errors (SQLITE_BUSY while another checkpoint runs) only mean this
		// round did less; the next one catches up.
		_, _ = cp.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	}
}
