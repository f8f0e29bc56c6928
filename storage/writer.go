package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// The statements of the hot write path (every webhook event runs most of
// them) are prepared once on the writer's connection and run on it through
// the driver, inside the transaction database/sql began on that same
// connection. A profile of the receiver under load showed parsing and
// planning each statement again, and database/sql's per-call work, taking
// more of the single writer's time than SQLite's own.
type statement int

const (
	stOpenIncident statement = iota
	stInsertIncident
	stUpdateIncident
	stFoldIncident
	stInsertEntry
	stSetKept
	stCountSuppressed
	stDropSuppressed
	stFirstSuppressed
	stNewestSuppressed
	stTrimSuppressed
	stInsertRequest
	stPruneJournal
	numStatements
)

var statementSQL = [numStatements]string{
	// A candidate from openKeys, checked. The integration's name and
	// service come from the caller, so no join.
	stOpenIncident: `SELECT id, title, details, severity, priority, status, suppressed, first_seen, last_seen,
		acknowledged_at, resolved_at, resolved_by, suppressed_kept_to, storm_start, storm_count, storm_until,
		suppressed_rows
		FROM incidents WHERE id = ? AND integration_id = ? AND dedup_key = ? AND status <> 'resolved'`,
	stInsertIncident: `INSERT INTO incidents (integration_id, dedup_key, title, details, severity, priority,
		status, suppressed, first_seen, last_seen, suppressed_rows) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0)`,
	stUpdateIncident: `UPDATE incidents SET severity = ?, priority = ?, status = ?, suppressed = ?, last_seen = ?,
		acknowledged_at = ?, resolved_at = ?, resolved_by = ?, storm_start = ?, storm_count = ?, storm_until = ?
		WHERE id = ?`,
	// A plain fold changes only these; severity, priority and status stay.
	stFoldIncident: `UPDATE incidents SET suppressed = ?, last_seen = ?, suppressed_kept_to = ?, suppressed_rows = ?,
		storm_start = ?, storm_count = ?, storm_until = ? WHERE id = ?`,
	stInsertEntry: `INSERT INTO timeline (incident_id, at, kind, actor, from_value, to_value, event)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
	stSetKept: `UPDATE incidents SET suppressed_kept_to = ?, suppressed_rows = ? WHERE id = ?`,
	stCountSuppressed: `SELECT count(*) FROM timeline INDEXED BY timeline_by_incident
		WHERE incident_id = ? AND kind = 'suppressed'`,
	// The statements that keep the first and the newest suppressed events
	// (Options.KeepSuppressed; see trimSuppressed). Each walks the
	// timeline_by_incident index from a known place.
	stDropSuppressed: `DELETE FROM timeline WHERE id = (SELECT id FROM timeline INDEXED BY timeline_by_incident
		WHERE incident_id = ? AND id > ? AND kind = 'suppressed' ORDER BY id LIMIT 1)`,
	stFirstSuppressed: `SELECT id FROM timeline INDEXED BY timeline_by_incident
		WHERE incident_id = ? AND kind = 'suppressed' ORDER BY id LIMIT 1 OFFSET ?`,
	stNewestSuppressed: `SELECT id FROM timeline INDEXED BY timeline_by_incident
		WHERE incident_id = ? AND kind = 'suppressed' ORDER BY id DESC LIMIT 1 OFFSET ?`,
	stTrimSuppressed: `DELETE FROM timeline INDEXED BY timeline_by_incident
		WHERE incident_id = ? AND kind = 'suppressed' AND id > ? AND id < ?`,
	stInsertRequest: `INSERT INTO requests (at, remote, method, path, integration, headers, body, truncated,
		status, outcome, error, warnings, incident_id, response, kind, alerts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	stPruneJournal: `DELETE FROM requests WHERE id <= ?`,
}

// writerConnector opens the writer's connection for database/sql and
// remembers it, so that the writer can run its prepared statements on the
// very connection its transactions are on. The writer's pool holds one
// connection; should database/sql ever replace it, the generation changes
// and the statements are prepared again on the new one.
type writerConnector struct {
	base driver.Connector

	mu   sync.Mutex
	conn driver.Conn
	gen  int
}

func newWriterConnector(dsn string) (*writerConnector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &writerConnector{base: base}, nil
}

func (c *writerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.conn, c.gen = conn, c.gen+1
	c.mu.Unlock()
	return conn, nil
}

func (c *writerConnector) Driver() driver.Driver { return c.base.Driver() }

func (c *writerConnector) current() (driver.Conn, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn, c.gen
}

// writerState belongs to the writer goroutine: the prepared statements, the
// transaction in progress, and how far the journal has been pruned.
type writerState struct {
	connector *writerConnector
	gen       int
	stmts     [numStatements]driver.Stmt
	args      []driver.NamedValue
	row       []driver.Value

	keys *openKeys // the open incidents by dedup key
	rows *openRows // the open incidents recently folded into

	restartedAt  int64     // DB.commits when the writer last restarted the WAL (see walPastLimit)
	restartAfter time.Time // no restart before (after one that readers held off)

	tx         *sql.Tx
	journalTop int64 // the newest journal entry the transaction in progress wrote
	prunedTo   int64 // journal entries up to this id are gone
	pruning    int64 // what prunedTo becomes once the transaction commits
}

// errNotInBatch guards against running the writer's statements anywhere but
// in the writer's own transaction.
var errNotInBatch = errors.New("storage: a write ran outside the writer's transaction")

// begin makes tx the transaction the statements run in, preparing them on
// its connection the first time (and again if the connection was replaced).
func (w *writerState) begin(tx *sql.Tx) error {
	w.tx, w.journalTop, w.pruning = tx, 0, 0
	conn, gen := w.connector.current()
	if gen == w.gen && w.stmts[0] != nil {
		return nil
	}
	w.closeStmts()
	prep, ok := conn.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("storage: the SQLite driver cannot prepare statements with a context")
	}
	for i, q := range statementSQL {
		st, err := prep.PrepareContext(context.Background(), q)
		if err != nil {
			w.closeStmts()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		w.stmts[i] = st
	}
	w.gen = gen
	return nil
}

func (w *writerState) end() { w.tx = nil }

// memo is where the writer's memory of open incidents (openKeys and
// openRows) stands, to undo back to when a savepoint rolls back.
type memo struct{ keys, rows int }

func (w *writerState) mark() memo { return memo{w.keys.mark(), w.rows.mark()} }

// undo forgets what the writer remembered since m (memo{} for the whole
// transaction).
func (w *writerState) undo(m memo) {
	w.keys.undo(m.keys)
	w.rows.undo(m.rows)
}

// committed keeps what the transaction did to the writer's own state: it
// committed.
func (w *writerState) committed() {
	w.prunedTo = max(w.prunedTo, w.pruning)
	w.keys.commit()
	w.rows.commit()
}

func (w *writerState) closeStmts() {
	for i, st := range w.stmts {
		if st != nil {
			st.Close()
			w.stmts[i] = nil
		}
	}
}

func (w *writerState) named(args []driver.Value) []driver.NamedValue {
	w.args = w.args[:0]
	for i, a := range args {
		w.args = append(w.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return w.args
}

// exec runs statement s in tx.
func (w *writerState) exec(tx *sql.Tx, s statement, args ...driver.Value) (driver.Result, error) {
	if tx != w.tx || tx == nil {
		return nil, errNotInBatch
	}
	return w.stmts[s].(driver.StmtExecContext).ExecContext(context.Background(), w.named(args))
}

// queryRow runs statement s in tx and returns its first row (valid until the
// next call), nil when there is none.
func (w *writerState) queryRow(tx *sql.Tx, s statement, args ...driver.Value) ([]driver.Value, error) {
	if tx != w.tx || tx == nil {
		return nil, errNotInBatch
	}
	rows, err := w.stmts[s].(driver.StmtQueryContext).QueryContext(context.Background(), w.named(args))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if n := len(rows.Columns()); cap(w.row) < n {
		w.row = make([]driver.Value, n)
	} else {
		w.row = w.row[:n]
	}
	if err := rows.Next(w.row); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	return w.row, nil
}

// pruneJournal drops the journal entries that fell off its end
// (Options.JournalLimit), in steps of pruneStep entries: deleting a few rows
// at the journal's start in every transaction wrote that end's pages, its
// parent and the free list into every commit, a third of the pages a commit
// of new incidents wrote. Between steps the journal holds up to pruneStep
// entries more than its limit; Requests and CountRequests show the newest
// JournalLimit only. A failure only delays it to the next transaction.
func (db *DB) pruneJournal(tx *sql.Tx) {
	cut := db.ws.journalTop - int64(db.opts.JournalLimit)
	if db.ws.journalTop == 0 || cut-db.ws.prunedTo < db.pruneStep() {
		return
	}
	if _, err := db.ws.exec(tx, stPruneJournal, cut); err == nil {
		db.ws.pruning = cut
	}
}

// pruneStep is how many entries past its limit the journal drops at once.
func (db *DB) pruneStep() int64 {
	return int64(min(max(db.opts.JournalLimit/16, 1), 256))
}

// Values read at the driver level, as SQLite gives them.

func valueInt(v driver.Value) int64 {
	n, _ := v.(int64)
	return n
}

func valueString(v driver.Value) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

func valueNullInt(v driver.Value) sql.NullInt64 {
	n, ok := v.(int64)
	return sql.NullInt64{Int64: n, Valid: ok}
}
