package storage

import (
	"fmt"
	"os"
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
//
// A passive checkpoint never makes the WAL smaller: the WAL starts again
// from its beginning only when a write begins with every frame copied back
// and no reader in it, which under steady load hardly ever happens, so the
// file grew to walSafetyPages (32 MiB) under klaxon bench and stayed there;
// on a small disk klaxon filled the disk with it. Now, once the WAL holds
// walRestartPages, the writer restarts it between two of its transactions
// (restartWAL): a RESTART checkpoint copies what the passive ones have not
// yet copied and waits (briefly: walRestartWait) for readers to leave the
// WAL, so that the next commit writes the WAL from its start. The file
// keeps its size from one restart to the next (writing over it is cheaper
// than growing it again); journal_size_limit truncates it back to
// walSizeLimit should one cycle have taken it further.
//
// walRestartPages was 1,024 (a 4 MiB WAL). Under klaxon bench the WAL grows
// by 30–40 MB a second, so the writer restarted it about nine times a second,
// 2.5–4.5% of all CPU and on the writer, the one thread every request waits
// for; at 4,096 pages it restarts a quarter as often.
const (
	walSafetyPages  = 8000 // the writer's own wal_autocheckpoint (32 MiB of 4 KiB pages)
	walRestartPages = 4096 // frames in the WAL past which the writer restarts it (16 MiB of pages)
	// walSizeLimit is journal_size_limit and the WAL file's size past which
	// the writer restarts it whatever the checkpoint loop saw: room for
	// walRestartPages frames (4,096 bytes and a 24-byte header each) and
	// the 100 ms of commits before the checkpoint loop sees them.
	walSizeLimit    = 24 << 20
	walRestartWait  = 50          // ms a restart waits for readers (busy_timeout) before it gives up
	walRestartPause = time.Second // after a restart that gave up, before the next try
	busyWait        = 10000       // ms, the connections' busy_timeout otherwise
)

// checkpointEvery is how often checkpointLoop runs (a variable for tests).
var checkpointEvery = 100 * time.Millisecond

// checkpointLoop runs passive checkpoints (which never block the writer or
// readers) until stopCheckpoints is closed, and asks the writer to restart
// the WAL once it holds walRestartPages.
func (db *DB) checkpointLoop() {
	defer close(db.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stopCheckpoints:
			return
		case <-t.C:
		}
		// Errors (SQLITE_BUSY while another checkpoint runs) only mean this
		// round did less; the next one catches up.
		if !db.ckptMu.TryLock() {
			continue // the writer restarts the WAL
		}
		var busy, frames, copied int
		if err := db.checkpointer.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err == nil && frames >= walRestartPages {
			db.walRestart.Store(true)
		}
		db.ckptMu.Unlock()
	}
}

// walPastLimit reports whether the WAL should be restarted: the checkpoint
// loop found it past walRestartPages, or its file has grown past
// walSizeLimit since the writer last restarted it (one stat per commit: the
// file keeps its size after a restart until the next commit truncates it to
// walSizeLimit, and grows past that only when its frames do). It waits
// walRestartPause after a restart that readers held off.
func (db *DB) walPastLimit() bool {
	if time.Now().Before(db.ws.restartAfter) {
		return false
	}
	if db.walRestart.Load() {
		return true
	}
	if db.commits.Load() == db.ws.restartedAt {
		return false // no commit since the restart: the file is not truncated yet
	}
	st, err := os.Stat(db.path + "-wal")
	return err == nil && st.Size() > walSizeLimit
}

// restartWAL runs on the writer, between transactions: a RESTART checkpoint
// that waits at most walRestartWait for readers. Should readers stay, it
// gives up, and tries again walRestartPause later. While the checkpoint loop
// runs a passive checkpoint it does not wait (SQLite would have it wait for
// that checkpoint under busy_timeout, and give up): it tries again after
// the next commit.
func (db *DB) restartWAL() {
	if !db.ckptMu.TryLock() {
		return
	}
	defer db.ckptMu.Unlock()
	db.walRestart.Store(false)
	_, _ = db.writer.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", walRestartWait))
	var busy, frames, copied int
	if err := db.writer.QueryRow("PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied); err == nil && busy == 0 {
		db.walRestarts.Add(1)
		db.ws.restartedAt = db.commits.Load()
	} else {
		db.ws.restartAfter = time.Now().Add(walRestartPause)
	}
	_, _ = db.writer.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", busyWait))
}
