// Package storage keeps klaxon's incidents, integrations and request journal
// in one SQLite file (modernc.org/sqlite, pure Go). One goroutine owns every
// write and commits work that arrives together in one transaction (group
// commit); readers use a separate pool. WAL with synchronous=FULL: a write
// has returned only once it is on disk.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"klaxon/incidents"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// applicationID marks a klaxon database file ("klxn").
const applicationID = 0x6b6c786e

// Options tune a DB. Zero values take the defaults.
type Options struct {
	// JournalLimit is how many requests the journal keeps (newest). Default 10,000.
	JournalLimit int
	// MaxBatch is the most writes committed in one transaction. Default 256.
	MaxBatch int
	// Readers is the size of the read pool. Default 4.
	Readers int
}

// DB is klaxon's database.
type DB struct {
	path   string
	opts   Options
	writer *sql.DB
	reader *sql.DB

	jobs    chan *job
	stopped chan struct{}

	closeMu sync.RWMutex // held for reading while a job is handed over
	closed  bool
}

type job struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// Open opens (creating when missing) the database at path and brings its
// schema up to date. It refuses a file that is not a klaxon database.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.JournalLimit <= 0 {
		opts.JournalLimit = 10000
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	dsn := func(extra string) string {
		return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" + extra
	}
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkKlaxonFile(ctx, w, path); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: bring the schema up to date: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	db := &DB{path: path, opts: opts, writer: w, reader: r, jobs: make(chan *job, 4096), stopped: make(chan struct{})}
	go db.writeLoop()
	return db, nil
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close finishes queued writes and closes the database.
func (db *DB) Close() error {
	db.closeMu.Lock()
	if db.closed {
		db.closeMu.Unlock()
		return nil
	}
	db.closed = true
	close(db.jobs)
	db.closeMu.Unlock()
	<-db.stopped
	// Fold the WAL back into the main file so the file is whole on its own.
	_, _ = db.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// checkKlaxonFile refuses files that are not SQLite or are another program's
// SQLite database, without writing to them.
func checkKlaxonFile(ctx context.Context, w *sql.DB, path string) error {
	var appID int64
	err := w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID)
	if err != nil {
		return fmt.Errorf("%s is not a klaxon database (%v); move it away or choose another --data-dir", path, err)
	}
	if appID == applicationID {
		return nil
	}
	var tables int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("%s is not a klaxon database (%v); move it away or choose another --data-dir", path, err)
	}
	if appID != 0 || tables > 0 {
		return fmt.Errorf("%s is another program's SQLite database, not klaxon's; klaxon will not change it: move it away or choose another --data-dir", path)
	}
	return nil
}

// migrate applies the embedded migrations that the database has not seen, in
// order, each in its own transaction, and records them in schema_migrations.
func migrate(ctx context.Context, w *sql.DB) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s has no number", base)
		}
		var seen int
		if err := w.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&seen); err != nil {
			return err
		}
		if seen > 0 {
			continue
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			version, base, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Migrations lists the applied migration versions, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]int, error) {
	rows, err := db.reader.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// write hands fn to the writer goroutine and waits until the transaction that
// ran it has committed (or failed). fn's error rolls back only fn's own work.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return incidents.Errorf(incidents.EUNAVAILABLE, "klaxon is shutting down and took nothing; send again in a moment")
	}
	select {
	case db.jobs <- j:
		db.closeMu.RUnlock()
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	return <-j.done // always answered: the loop answers every job it takes
}

// writeLoop is the single writer. It takes the jobs that are waiting (up to
// MaxBatch) and runs them in one transaction, each inside a savepoint so a
// failing job undoes only its own work; one commit (one fsync) answers all.
func (db *DB) writeLoop() {
	defer close(db.stopped)
	batch := make([]*job, 0, db.opts.MaxBatch)
	for first := range db.jobs {
		batch = append(batch[:0], first)
	collect:
		for len(batch) < db.opts.MaxBatch {
			select {
			case j, ok := <-db.jobs:
				if !ok {
					break collect
				}
				batch = append(batch, j)
			default:
				break collect
			}
		}
		db.commitBatch(batch)
	}
}

func (db *DB) commitBatch(batch []*job) {
	results := make([]error, len(batch))
	tx, err := db.writer.BeginTx(context.Background(), nil)
	if err != nil {
		err = classify(err)
		for _, j := range batch {
			j.done <- err
		}
		return
	}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if len(batch) == 1 {
			results[i] = j.fn(tx)
			continue
		}
		if _, err := tx.Exec("SAVEPOINT job"); err != nil {
			results[i] = classify(err)
			continue
		}
		if err := j.fn(tx); err != nil {
			results[i] = err
			if _, rerr := tx.Exec("ROLLBACK TO job"); rerr != nil {
				results[i] = classify(rerr)
			}
		}
		if _, err := tx.Exec("RELEASE job"); err != nil && results[i] == nil {
			results[i] = classify(err)
		}
	}
	if len(batch) == 1 && results[0] != nil {
		tx.Rollback()
		batch[0].done <- results[0]
		return
	}
	if err := tx.Commit(); err != nil {
		err = classify(err)
		for _, j := range batch {
			j.done <- err
		}
		return
	}
	for i, j := range batch {
		j.done <- results[i]
	}
}

// classify turns SQLite's errors about the disk into EUNAVAILABLE, which the
// receiver answers with 503 and Retry-After.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return incidents.Errorf(incidents.EUNAVAILABLE, "the disk holding the database is full; klaxon took nothing, send again once space is freed")
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return incidents.Errorf(incidents.EUNAVAILABLE, "the database cannot be written now (%v); klaxon took nothing, send again shortly", se)
		}
	}
	var ie *incidents.Error
	if errors.As(err, &ie) {
		return err
	}
	return fmt.Errorf("storage: %w", err)
}

// IntegrityCheck runs SQLite's integrity_check and returns its complaints.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.reader.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s fails its integrity check: %s", db.path, strings.Join(problems, "; "))
	}
	return rows.Err()
}
