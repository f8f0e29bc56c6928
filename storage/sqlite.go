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
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"klaxon/incidents"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// applicationID marks a klaxon database file ("klxn").
const applicationID = 0x6b6c786e

// useFdatasync makes commits sync with fdatasync(2), as SQLite does in every
// Linux distribution's build (the transpiled library defaults to fsync). It
// is just as durable: it skips only the timestamp update, which on ext4 is
// a journal commit every transaction would otherwise wait for.
var useFdatasync sync.Once

// Options tune a DB. Zero values take the defaults.
type Options struct {
	// JournalLimit is how many requests the journal keeps (newest). Default 10,000.
	JournalLimit int
	// MaxBatch is the most writes committed in one transaction. Default 256.
	MaxBatch int
	// MaxWait is how long the writer waits for more writes to share a
	// transaction before it commits what it has (at most MaxBatch). Zero, the
	// default, never waits: what queues while one transaction commits goes
	// into the next, which is where the batches come from under load; on the
	// 2-core machine of README's Performance section, waiting as well only
	// added latency.
	MaxWait time.Duration
	// Readers is the size of the read pool. Default 4.
	Readers int
	// KeepSuppressed is how many suppressed (folded duplicate) events each
	// incident keeps on its timeline at each end: the first N and the newest
	// N, so a storm of repeats cannot grow the database without limit. The
	// incident's suppressed counter stays exact. Default 100; negative keeps
	// them all.
	KeepSuppressed int
	// ReadFirst opens the database for reading only: no lock on the file,
	// no writer, no migrations and no check, so that a command that only
	// reads never stands in a running klaxon's way nor waits for one
	// (readers of a WAL database share it with its writer). The first
	// write starts the writer as Open would have (WriteLock, the file's
	// lock, the check, the migrations); a schema older than this klaxon's
	// starts it at once. The file must exist.
	ReadFirst bool
	// WriteLock, when set, is taken before the writer starts, and what it
	// returns is called when the DB closes (the data directory's lock).
	WriteLock func() (unlock func(), err error)
}

// DB is klaxon's database.
type DB struct {
	path         string
	opts         Options
	writer       *sql.DB
	reader       *sql.DB
	checkpointer *sql.DB // see checkpointLoop

	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}

	jobs    chan *job
	stopped chan struct{}

	startMu sync.Mutex   // held while the writer starts (see ReadFirst) and while the DB closes
	writing atomic.Bool  // the writer runs
	closeMu sync.RWMutex // held for reading while a job is handed over
	closed  bool

	lock   *os.File   // the database file, flock'd while the writer runs (see lockFile)
	spare  []*os.File // descriptors of the file kept until the readers close (see lockFile)
	unlock func()     // Options.WriteLock's

	checkTook     time.Duration // how long quick_check took when the writer started
	checkComplete bool          // whether it ran to its end within quickCheckBudget

	damaged     atomic.Pointer[incidents.Error] // set once SQLite finds the file damaged: writes stop
	ckptMu      sync.Mutex                      // held by a checkpoint: the loop's passive ones, the writer's restarts
	walRestart  atomic.Bool                     // set by checkpointLoop: the WAL is past walRestartPages
	walRestarts atomic.Int64                    // restarts done (for tests)

	ws writerState // the writer goroutine's own

	commits  atomic.Int64              // transactions committed by the writer, for benchmarks
	onCommit atomic.Pointer[func(int)] // see OnCommit
}

type job struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// Open opens (creating when missing) the database at path and brings its
// schema up to date. It refuses a file that is not a klaxon database, a
// damaged one (PRAGMA quick_check), one another process writes (InUseError),
// and says so when the disk is full.
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
	useFdatasync.Do(func() { _, _ = sqlite.Fdatasync(true) })
	if opts.KeepSuppressed == 0 {
		opts.KeepSuppressed = 100
	}
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	db := &DB{path: path, opts: opts}
	if opts.ReadFirst {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		if err := db.openReader(ctx, true); err != nil {
			return nil, err
		}
		behind, err := schemaBehind(ctx, db.reader)
		if err == nil && behind {
			err = db.ensureWriter(ctx)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	if err := db.ensureWriter(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.openReader(ctx, false); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) dsn(extra string) string {
	return fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", db.path, busyWait) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" + extra
}

// openReader opens the read pool: read-only connections (mode=ro, which
// never writes the file, not even to checkpoint when it closes) for
// ReadFirst, and otherwise connections that may only query.
func (db *DB) openReader(ctx context.Context, readOnly bool) error {
	dsn := db.dsn("&_pragma=query_only(1)")
	if readOnly {
		dsn = fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(%d)&_pragma=query_only(1)", db.path, busyWait)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	r.SetMaxOpenConns(db.opts.Readers)
	r.SetMaxIdleConns(db.opts.Readers)
	if readOnly {
		if err := checkKlaxonFile(ctx, r, db.path); err != nil {
			r.Close()
			return err
		}
	}
	db.reader = r
	return nil
}

// ensureWriter starts the writer unless it runs.
func (db *DB) ensureWriter(ctx context.Context) error {
	if db.writing.Load() {
		return nil
	}
	db.startMu.Lock()
	defer db.startMu.Unlock()
	if db.writing.Load() {
		return nil
	}
	db.closeMu.RLock()
	closed := db.closed
	db.closeMu.RUnlock()
	if closed {
		return incidents.Errorf(incidents.EUNAVAILABLE, "klaxon is shutting down and took nothing; send again in a moment")
	}
	if err := db.startWriter(ctx); err != nil {
		return err
	}
	db.writing.Store(true)
	return nil
}

// startWriter takes the locks, checks the file, brings the schema up to date
// and starts the writer and the checkpoints.
func (db *DB) startWriter(ctx context.Context) (err error) {
	path := db.path
	if db.opts.WriteLock != nil {
		unlock, lerr := db.opts.WriteLock()
		if lerr != nil {
			return lerr
		}
		defer func() { // err is startWriter's result
			if err != nil {
				unlock()
			} else {
				db.unlock = unlock
			}
		}()
	}
	f, created, err := lockFile(path)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return err
		}
		return openError(path, err)
	}
	var w, cp *sql.DB
	defer func() {
		if err == nil {
			return
		}
		if cp != nil {
			cp.Close()
		}
		if w != nil {
			w.Close()
		}
		if created {
			removeNew(path)
		}
		db.release(f)
	}()
	if !created {
		privateFiles(path)
	}
	// The writer keeps statement journals (savepoints) in memory: they never
	// need to survive a crash, and writing them to a temporary file cost a
	// write(2) per page per event.
	wc, err := newWriterConnector(db.dsn(fmt.Sprintf("&_txlock=immediate&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)",
		walSafetyPages, walSizeLimit)))
	if err != nil {
		return err
	}
	w = sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkKlaxonFile(ctx, w, path); err != nil {
		return err
	}
	began := time.Now()
	problems, complete, err := quickCheck(ctx, w)
	if err != nil {
		return openError(path, err)
	}
	if len(problems) > 0 {
		return damagedFile(path, problems)
	}
	db.checkTook, db.checkComplete = time.Since(began), complete
	if err := migrate(ctx, w); err != nil {
		if unavailable(err) {
			return openError(path, err) // a full disk, say, not the migration's fault
		}
		return fmt.Errorf("%s: bring the schema up to date: %w", path, err)
	}
	if cp, err = sql.Open("sqlite", db.dsn(fmt.Sprintf("&_pragma=journal_size_limit(%d)", walSizeLimit))); err != nil {
		return err
	}
	cp.SetMaxOpenConns(1)
	cp.SetMaxIdleConns(1)
	db.writer, db.checkpointer, db.lock = w, cp, f
	db.jobs, db.stopped = make(chan *job, 4096), make(chan struct{})
	db.stopCheckpoints, db.checkpointsDone = make(chan struct{}), make(chan struct{})
	db.ws.connector = wc
	db.ws.keys, db.ws.rows = newOpenKeys(), newOpenRows()
	go db.writeLoop()
	go db.checkpointLoop()
	return nil
}

// release unlocks a descriptor of the database file and closes it, or, while
// readers may hold SQLite's fcntl locks on the file, keeps it until they
// close: closing any descriptor of a file drops all of the process's fcntl
// locks on it.
func (db *DB) release(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if db.reader != nil {
		db.spare = append(db.spare, f)
		return
	}
	f.Close()
}

// schemaBehind reports whether the database lacks migrations this klaxon has.
func schemaBehind(ctx context.Context, r *sql.DB) (bool, error) {
	var tables int
	if err := r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_migrations'").Scan(&tables); err != nil {
		return false, err
	}
	if tables == 0 {
		return true, nil
	}
	var have int
	if err := r.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return false, err
	}
	return have < latestMigration(), nil
}

// latestMigration is the number of the newest embedded migration.
func latestMigration() int {
	names, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	latest := 0
	for _, name := range names {
		if v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0]); err == nil {
			latest = max(latest, v)
		}
	}
	return latest
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// QuickCheck says how long the check at start took, and whether it ran to
// its end (see quickCheckBudget); zero before the writer started.
func (db *DB) QuickCheck() (took time.Duration, complete bool) {
	return db.checkTook, db.checkComplete
}

// Close finishes queued writes and closes the database.
func (db *DB) Close() error {
	db.startMu.Lock()
	defer db.startMu.Unlock()
	db.closeMu.Lock()
	if db.closed {
		db.closeMu.Unlock()
		return nil
	}
	db.closed = true
	writing := db.writing.Load()
	if writing {
		close(db.jobs)
	}
	db.closeMu.Unlock()
	var errs []error
	if writing {
		<-db.stopped
		close(db.stopCheckpoints)
		<-db.checkpointsDone
		// Fold the WAL back into the main file so the file is whole on its own.
		_, _ = db.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, db.checkpointer.Close())
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if writing {
		errs = append(errs, db.writer.Close())
	}
	// SQLite has closed the file: its descriptors can go.
	for _, f := range append(db.spare, db.lock) {
		if f != nil {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}
	}
	db.spare, db.lock = nil, nil
	if db.unlock != nil {
		db.unlock()
		db.unlock = nil
	}
	return errors.Join(errs...)
}

// checkKlaxonFile refuses files that are not SQLite or are another program's
// SQLite database, without writing to them.
func checkKlaxonFile(ctx context.Context, w *sql.DB, path string) error {
	var appID int64
	err := w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID)
	if err != nil {
		return openError(path, err)
	}
	if appID == applicationID {
		return nil
	}
	var tables int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return openError(path, err)
	}
	if appID == 0 && tables > 0 {
		// sqlite3's .dump does not keep the application_id: a klaxon
		// database recovered through it (see damagedFile) is still
		// klaxon's, as its first migration says. migrate marks it again.
		var first int
		if err := w.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = 1 AND name = '0001_init.sql'").Scan(&first); err == nil && first == 1 {
			return nil
		}
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
		if err := applyMigration(ctx, w, base, version, string(body)); err != nil {
			return err
		}
	}
	return nil
}

// fkOffMarker starts a migration that rebuilds a table other tables refer
// to: it runs with foreign keys off (they cannot be turned off inside a
// transaction), and commits only if every reference still holds.
const fkOffMarker = "-- klaxon: foreign keys off\n"

func applyMigration(ctx context.Context, w *sql.DB, base string, version int, body string) error {
	// w has a single connection, so the pragma and the transaction share it.
	fkOff := strings.HasPrefix(body, fkOffMarker)
	if fkOff {
		if _, err := w.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer w.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migration %s: %w", base, err)
	}
	if fkOff {
		var (
			table, parent string
			rowid, fkid   sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fkid)
		if err == nil {
			return fmt.Errorf("migration %s: it would leave rows of %s referring to rows of %s that do not exist", base, table, parent)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		version, base, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
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
// fn may run more than once (see commitBatch): it must set, not accumulate,
// what it hands back to its caller.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if d := db.damaged.Load(); d != nil {
		return d
	}
	if err := db.ensureWriter(ctx); err != nil {
		return err
	}
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

// writeLoop is the single writer. While one transaction commits, jobs queue
// up; it then takes all that wait (up to MaxBatch) and runs them in the next
// transaction, so one commit (one fsync) answers all of them.
//
// The writer keeps an OS thread of its own. It is the one goroutine every
// request waits for, and it spends much of its time in system calls (two
// pwrite per WAL page, an fdatasync per commit); locked to its thread it
// measured faster with klaxon bench on 2 CPUs: 11,200–11,300 events/s
// without, 12,400–13,000 with (every title new, three runs each); repeats
// showed no difference.
func (db *DB) writeLoop() {
	runtime.LockOSThread()
	defer close(db.stopped)
	batch := make([]*job, 0, db.opts.MaxBatch)
	results := make([]error, db.opts.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range db.jobs {
		batch = append(batch[:0], first)
		open := db.collect(&batch, nil)
		if open && db.opts.MaxWait > 0 && len(batch) < db.opts.MaxBatch {
			timer.Reset(db.opts.MaxWait)
			for open && len(batch) < db.opts.MaxBatch {
				open = db.collect(&batch, timer.C)
			}
			timer.Stop()
		}
		db.commitBatch(batch, results[:len(batch)])
		if db.walPastLimit() {
			db.restartWAL()
		}
	}
	db.ws.closeStmts()
}

// collect adds waiting jobs to batch, up to MaxBatch. With wait nil it takes
// only what is queued; otherwise it waits for one job or for wait to fire
// (and then reports false, as it does when the queue is closed).
func (db *DB) collect(batch *[]*job, wait <-chan time.Time) bool {
	for len(*batch) < db.opts.MaxBatch {
		if wait == nil {
			select {
			case j, ok := <-db.jobs:
				if !ok {
					return false
				}
				*batch = append(*batch, j)
				continue
			default:
				return true
			}
		}
		select {
		case j, ok := <-db.jobs:
			if !ok {
				return false
			}
			*batch = append(*batch, j)
			wait = nil // then take what else is queued, without waiting
		case <-wait:
			return false
		}
	}
	return true
}

// errIsolate asks for a batch to be run again with each job in a savepoint.
var errIsolate = errors.New("a job failed; run the batch again with savepoints")

// commitBatch runs batch in one transaction and answers each job once it has
// committed. The jobs first run one after another without savepoints, which
// costs nothing extra. Should one fail, the transaction is rolled back and the
// batch runs again with each job inside its own savepoint, so that the
// failing job undoes only its own work and the others commit.
func (db *DB) commitBatch(batch []*job, results []error) {
	// The writer reads the open incidents' keys before its first write, not
	// in Open: commands that only read (and the console's first screen) do
	// not wait for it.
	if !db.ws.keys.loaded {
		if err := db.ws.keys.load(db.writer); err != nil {
			if corrupt(err) {
				err = db.markDamaged(err)
			} else {
				err = incidents.Errorf(incidents.EUNAVAILABLE, "klaxon could not read its open incidents (%v); it took nothing, send again shortly", err)
			}
			for _, j := range batch {
				j.done <- err
			}
			return
		}
	}
	err := db.runBatch(batch, results, false)
	if errors.Is(err, errIsolate) {
		err = db.runBatch(batch, results, true)
	}
	if db.damaged.Load() == nil {
		for _, e := range results {
			if corrupt(e) {
				db.markDamaged(e)
				break
			}
		}
	}
	for i, j := range batch {
		if err != nil {
			j.done <- err
		} else {
			j.done <- results[i]
		}
	}
}

// runBatch runs batch in one transaction, isolated or not, and commits it.
// An error is the whole batch's; results has each job's own.
func (db *DB) runBatch(batch []*job, results []error, isolated bool) error {
	tx, err := db.writer.BeginTx(context.Background(), nil)
	if err != nil {
		return db.classify(err)
	}
	if err := db.ws.begin(tx); err != nil {
		tx.Rollback()
		return db.classify(err)
	}
	defer db.ws.end()
	rollback := func() {
		tx.Rollback()
		db.ws.undo(memo{})
	}
	for i, j := range batch {
		results[i] = j.ctx.Err()
		if results[i] != nil {
			continue
		}
		if !isolated || len(batch) == 1 {
			if results[i] = j.fn(tx); results[i] != nil {
				rollback()
				switch {
				case len(batch) == 1:
					return nil // the job's own error is its answer
				case unavailable(results[i]):
					return db.classify(results[i]) // a full disk fails every job alike
				}
				return errIsolate
			}
			continue
		}
		if _, err := tx.Exec("SAVEPOINT job"); err != nil {
			rollback()
			return db.classify(err)
		}
		mark := db.ws.mark()
		if results[i] = j.fn(tx); results[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO job"); err != nil {
				// SQLite may have rolled back the whole transaction (a full
				// disk, an I/O error): nothing of the batch is left.
				rollback()
				if unavailable(results[i]) {
					return db.classify(results[i])
				}
				return db.classify(err)
			}
			db.ws.undo(mark)
		}
		if _, err := tx.Exec("RELEASE job"); err != nil {
			rollback()
			return db.classify(err)
		}
	}
	db.pruneJournal(tx)
	if err := tx.Commit(); err != nil {
		db.ws.undo(memo{})
		return db.classify(err)
	}
	db.ws.committed()
	db.commits.Add(1)
	if f := db.onCommit.Load(); f != nil {
		(*f)(len(batch))
	}
	return nil
}

// Warm has the writer read what it needs before its first write (the open
// incidents' keys, see openKeys), and returns once it has. A receiver calls
// it when it starts, so the first event does not wait for the reading.
func (db *DB) Warm(ctx context.Context) error {
	return db.write(ctx, func(*sql.Tx) error { return nil })
}

// OnCommit has f told, after every commit of the writer, how many writes
// the commit held (for metrics: klaxon_commit_batch_size). f runs on the
// writer: it must be quick.
func (db *DB) OnCommit(f func(writes int)) { db.onCommit.Store(&f) }

// markDamaged stops every write once SQLite has found the file damaged:
// writing on could spread the damage, and the health stays bad until an
// operator repairs the file (klaxon refuses it at the next start and says
// how).
func (db *DB) markDamaged(err error) error {
	d := incidents.Errorf(incidents.EUNAVAILABLE, damagedMessage, err)
	if db.damaged.CompareAndSwap(nil, d) {
		return d
	}
	return db.damaged.Load()
}

// classify is the package's classify, marking the database damaged when
// err says it is.
func (db *DB) classify(err error) error {
	if corrupt(err) {
		return db.markDamaged(err)
	}
	return classify(err)
}

// unavailable reports whether err means the database cannot be written now.
func unavailable(err error) bool {
	return incidents.ErrorCode(classify(err)) == incidents.EUNAVAILABLE
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
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return incidents.Errorf(incidents.EUNAVAILABLE, damagedMessage, se)
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
