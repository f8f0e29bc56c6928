// Package pgstore keeps klaxon's incidents, integrations and request journal
// in PostgreSQL (github.com/jackc/pgx/v5), so that any number of klaxon
// nodes behind a load balancer share one incident list. It offers what
// package storage offers on SQLite, with the same semantics (the contract
// suite in internal/storetest runs against both):
//
//   - Every write commits before it returns; a node's writes that arrive
//     together share one transaction (group commit), each job in its own
//     savepoint when one of them fails. Sessions run with synchronous_commit
//     on, so a commit is on disk.
//   - One open incident per (integration, dedup key), whatever the nodes do
//     at once: a partial unique index enforces it, a repeat locks the open
//     incident (SELECT … FOR UPDATE) so that suppressed counters stay exact,
//     and a node that loses the race to open an incident (a unique
//     violation) applies the event again and folds it.
//   - Timers act exactly once across the nodes (FOR UPDATE SKIP LOCKED);
//     retention and the journal's bounds hold for the whole database.
//   - Each commit NOTIFYs what it changed; Follow hands other nodes'
//     changes to this node (see follow.go).
//   - Integrations can be removed and their tokens rotated
//     (incidents.LifecycleStore), as with SQLite.
//   - Lead runs what one node at a time should do (see lead.go).
//
// The schema lives in the database's current schema (the URL may set
// search_path); its migrations are embedded and applied under an advisory
// lock, so nodes starting together do not race.
package pgstore

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"klaxon/incidents"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is what the Service needs (and the console's counts, the journal's
// single entries, metrics and retention, as storage.DB offers them).
var _ incidents.Store = (*DB)(nil)

// Options tune a DB. Zero values take the defaults.
type Options struct {
	// JournalLimit is how many requests the journal keeps (the newest, in
	// the whole database). Default 10,000.
	JournalLimit int
	// MaxBatch is the most writes one transaction commits. Default 256.
	MaxBatch int
	// Writers is how many transactions this node writes at once, each
	// committing a batch. Default 1: group commit, as with SQLite.
	Writers int
	// Readers is the size of the read pool. Default 4.
	Readers int
	// KeepSuppressed is how many suppressed events each incident keeps on
	// its timeline at each end (the first N and the newest N); the counter
	// stays exact. Default 100; negative keeps them all.
	KeepSuppressed int
	// WriteTimeout bounds one batch's transaction, commit included, so that
	// a database that stops answering fails writes (503) instead of holding
	// them. Default 30 s.
	WriteTimeout time.Duration
}

// DB is klaxon's database on PostgreSQL.
type DB struct {
	opts    Options
	cfg     *pgxpool.Config // the readers' configuration (Follow connects with it)
	reader  *pgxpool.Pool
	writer  *pgxpool.Pool
	schema  string // the schema klaxon's tables are in
	channel string // what commits NOTIFY and Follow LISTENs to
	node    string // this DB's id in notifications, to tell its own apart

	jobs    chan *job
	stopped sync.WaitGroup // the writers

	closeMu sync.RWMutex // held for reading while a job is handed over
	closed  bool

	journal journalState
	ids     idPools

	commits  atomic.Int64
	onCommit atomic.Pointer[func(int)]
	reruns   atomic.Int64 // batches run again after losing a race or a deadlock, or meeting a unique violation
	heard    atomic.Int64 // changes Follow handed over
	noLocks  bool         // tests: leave the dedup keys' advisory locks out

	followMu   sync.Mutex
	followConn *pgx.Conn // Follow's connection while it listens (for tests)
}

// Open connects to the PostgreSQL database at url (postgres://… or a
// key=value connection string) and brings klaxon's schema up to date. It
// refuses a schema that holds another program's tables, or one migrated by
// a newer klaxon.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.JournalLimit <= 0 {
		opts.JournalLimit = 10000
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Writers <= 0 {
		opts.Writers = 1
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.KeepSuppressed == 0 {
		opts.KeepSuppressed = 100
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database: %s", redactURL(err.Error(), url))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "klaxon" // for pg_stat_activity
	}
	where := fmt.Sprintf("PostgreSQL at %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	schema, err := migrate(ctx, conn)
	if err == nil {
		err = checkDurable(ctx, conn, cfg)
	}
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	rcfg := cfg.Copy()
	rcfg.MaxConns = int32(opts.Readers)
	reader, err := pgxpool.NewWithConfig(ctx, rcfg)
	if err != nil {
		return nil, err
	}
	wcfg := cfg.Copy()
	wcfg.MaxConns = int32(opts.Writers + 1) // and one for pruning, off the writers
	writer, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		reader.Close()
		return nil, err
	}
	db := &DB{opts: opts, cfg: cfg, reader: reader, writer: writer, schema: schema,
		channel: channelFor(schema), node: newNodeID(), jobs: make(chan *job, 4096)}
	for range opts.Writers {
		db.stopped.Add(1)
		go db.writeLoop()
	}
	return db, nil
}

// checkDurable makes sure a commit is on disk before klaxon answers 200: a
// server that defaults to synchronous_commit off has klaxon's sessions turn
// it on (any other value waits for the local flush at least).
func checkDurable(ctx context.Context, conn *pgx.Conn, cfg *pgxpool.Config) error {
	var sc string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sc); err != nil {
		return err
	}
	if sc == "off" {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	}
	return nil
}

func newNodeID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// channelFor is the NOTIFY channel of klaxon's tables in schema: klaxons
// in two schemas of one database do not hear each other.
func channelFor(schema string) string {
	if schema == "public" {
		return "klaxon_changes"
	}
	c := "klaxon_changes_" + schema
	if len(c) > 63 { // identifiers are cut there
		h := fnv.New64a()
		h.Write([]byte(schema))
		c = "klaxon_changes_" + strconv.FormatUint(h.Sum64(), 36)
	}
	return c
}

// lockID is the advisory lock that stands for what parts name, in this
// schema (advisory locks are per database).
func (db *DB) lockID(parts ...string) int64 { return lockID(db.schema, parts...) }

func lockID(schema string, parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte("klaxon\x00"))
	h.Write([]byte(schema))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}

// redactURL keeps a password out of an error message.
func redactURL(msg, url string) string {
	if url != "" {
		msg = strings.ReplaceAll(msg, url, "<the database URL>")
	}
	return msg
}

// Close finishes queued writes and closes the connections.
func (db *DB) Close() error {
	db.closeMu.Lock()
	if db.closed {
		db.closeMu.Unlock()
		return nil
	}
	db.closed = true
	close(db.jobs)
	db.closeMu.Unlock()
	db.stopped.Wait()
	db.writer.Close()
	db.reader.Close()
	return nil
}

// NodeID tells this DB's notifications apart from other nodes'.
func (db *DB) NodeID() string { return db.node }

// Schema is the schema klaxon's tables are in.
func (db *DB) Schema() string { return db.schema }

// Warm checks that the database answers. (storage.DB reads its open
// incidents' keys then; this backend keeps nothing in memory to read.)
func (db *DB) Warm(ctx context.Context) error {
	return classify(db.writer.Ping(ctx))
}

// OnCommit has f told, after every commit of a batch, how many writes it
// held (klaxon_commit_batch_size). f runs on a writer: it must be quick.
func (db *DB) OnCommit(f func(writes int)) { db.onCommit.Store(&f) }

// Commits is how many batches this DB has committed.
func (db *DB) Commits() int64 { return db.commits.Load() }

// migrationLockSeed names the advisory lock that migrations are applied
// under (with the schema, see lockID).
const migrationLockSeed = "migrate"

// migrate applies the embedded migrations that the schema has not seen, in
// order, each in its own transaction, under a session advisory lock: a node
// that starts while another migrates waits, then finds the work done. It
// returns the schema.
func migrate(ctx context.Context, conn *pgx.Conn) (string, error) {
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		var sp string
		_ = conn.QueryRow(ctx, "SHOW search_path").Scan(&sp)
		return "", fmt.Errorf("no schema of the search_path (%s) exists; create it, or set search_path in the URL to one that does", sp)
	}
	lock := lockID(*schema, migrationLockSeed)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
		return "", fmt.Errorf("wait for other klaxons' migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lock)

	var (
		hasMigrations bool
		tables        int
	)
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL,
		(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())`).Scan(&hasMigrations, &tables); err != nil {
		return "", err
	}
	if !hasMigrations && tables > 0 {
		return "", fmt.Errorf("schema %q holds another program's tables, not klaxon's; klaxon will not change it: use another database, or another schema (search_path in the URL)", *schema)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		return "", fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]string{}
	rows, err := conn.Query(ctx, "SELECT version, name FROM schema_migrations")
	if err != nil {
		return "", fmt.Errorf("schema %q has a schema_migrations table that is not klaxon's (%v); use another database or schema", *schema, err)
	}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			rows.Close()
			return "", err
		}
		applied[v] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	files, err := migrationList()
	if err != nil {
		return "", err
	}
	known := map[int]string{}
	for _, f := range files {
		known[f.version] = f.name
		if name, ok := applied[f.version]; ok && name != f.name {
			return "", fmt.Errorf("schema %q has migration %d named %q, but klaxon's is %q: it is not klaxon's schema", *schema, f.version, name, f.name)
		}
	}
	for v, name := range applied {
		if _, ok := known[v]; !ok {
			return "", fmt.Errorf("schema %q was migrated by a newer klaxon (migration %d, %s); run that klaxon or a newer one on every node", *schema, v, name)
		}
	}
	for _, f := range files {
		if _, ok := applied[f.version]; ok {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, f.body); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				f.version, f.name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return "", fmt.Errorf("migration %s: %w", f.name, err)
		}
	}
	return *schema, nil
}

type migrationFile struct {
	version int
	name    string
	body    string
}

func migrationList() ([]migrationFile, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migrationFile
	for _, n := range names {
		base := path.Base(n)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s has no number", base)
		}
		body, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migrationFile{version: v, name: base, body: string(body)})
	}
	return out, nil
}

// Migrations lists the applied migration versions, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]int, error) {
	rows, err := db.reader.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// PostgreSQL's error codes that klaxon tells apart.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// classify turns errors that mean the database cannot take writes now (it
// cannot be reached, its disk is full, it is read-only, shutting down or
// out of connections) into EUNAVAILABLE, which the receiver answers with
// 503 and Retry-After.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ie *incidents.Error
	if errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return incidents.Errorf(incidents.EUNAVAILABLE, "the disk holding the database is full (PostgreSQL: %s); klaxon took nothing, send again once space is freed", pe.Message)
		case strings.HasPrefix(pe.Code, "53"), // insufficient resources
			strings.HasPrefix(pe.Code, "57P"), // shutting down, cannot connect now
			strings.HasPrefix(pe.Code, "08"),  // connection exceptions
			pe.Code == "25006",                // read-only transaction (a standby)
			strings.HasPrefix(pe.Code, "58"),  // system errors (I/O)
			pe.Code == codeDeadlockDetected, pe.Code == codeSerializationFailure:
			return incidents.Errorf(incidents.EUNAVAILABLE, "the database cannot be written now (PostgreSQL: %s); klaxon took nothing, send again shortly", pe.Message)
		}
		return fmt.Errorf("pgstore: %w", err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || isConnError(err) {
		return incidents.Errorf(incidents.EUNAVAILABLE, "the database cannot be reached (%v); klaxon took nothing, send again shortly", err)
	}
	return fmt.Errorf("pgstore: %w", err)
}

// isConnError reports whether err comes from the connection rather than
// from a statement: anything that is not PostgreSQL's own error.
func isConnError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "closed pool")
}

func unavailable(err error) bool {
	return incidents.ErrorCode(classify(err)) == incidents.EUNAVAILABLE
}
