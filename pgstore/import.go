package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" driver (storage registers it too)

	"klaxon/storage"
)

// ImportSQLite copies the klaxon SQLite database at path (a data
// directory's klaxon.db) into the PostgreSQL database at url, so that a
// team that started on one box keeps its history and its senders: every
// integration with its token, timers, chaos and removal, the retired
// tokens, every incident with its id and every column, the timelines and
// the request journal. Ids stay the same, and the sequences are set past
// them.
//
// The SQLite file is opened read-only, without klaxon's locks, and read in
// one read transaction (one snapshot, even while a klaxon writes it); the
// caller decides whether a running klaxon may hold it. A database from an
// older klaxon is refused (starting this klaxon on it once brings it up to
// date), as is one with tables or columns this klaxon does not know.
//
// The target's schema is brought up to date as Open does; it must hold no
// integrations, incidents or journal entries (NotEmptyError). Everything
// is written in one transaction, table by table with COPY: all or nothing.
//
// PostgreSQL's text cannot hold invalid UTF-8 or NUL. A journaled body with
// them (klaxon kept it as a BLOB because it was not UTF-8, say) is copied
// exactly, as pgstore keeps one it receives (body_bytes); any other value
// with them is stored with U+FFFD in their place, as pgstore stores such a
// value when it receives one, and counted in Imported.Replaced.
func ImportSQLite(ctx context.Context, path, url string, opts ImportOptions) (*Imported, error) {
	start := time.Now()
	src, err := openImportSource(ctx, path)
	if err != nil {
		return nil, err
	}
	defer src.close()

	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database: %s", redactURL(err.Error(), url))
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "klaxon db copy"
	}
	where := fmt.Sprintf("PostgreSQL at %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	schema, err := migrate(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	res := &Imported{Schema: schema, Replaced: map[string]int64{}, Skipped: map[string]int64{}}
	// The commit is on disk before the copy says it is done, and a server's
	// statement_timeout does not cut a long COPY short.
	if _, err := conn.Exec(ctx, "SET synchronous_commit TO on; SET statement_timeout TO 0"); err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockEmptyTarget(ctx, tx, schema); err != nil {
			return err
		}
		if err := checkTargetColumns(ctx, tx); err != nil {
			return err
		}
		if err := src.begin(ctx); err != nil {
			return err
		}
		for _, t := range importTables {
			if err := importTable(ctx, tx, src, t, res, opts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// ImportOptions tune ImportSQLite.
type ImportOptions struct {
	// Progress, when set, is told as each table's copy starts, with how
	// many rows it is to copy.
	Progress func(table string, rows int64)
}

// Imported is what ImportSQLite copied.
type Imported struct {
	Schema        string // the target's schema
	Integrations  int64  // removed ones included
	Removed       int64  // of the integrations
	RetiredTokens int64
	Incidents     int64
	Timeline      int64 // timeline entries
	Requests      int64 // journal entries
	// Replaced counts the values, by "table.column", that held what
	// PostgreSQL's text cannot (invalid UTF-8, NUL), stored with U+FFFD in
	// its place. Journaled bodies are never among them: they are copied
	// exactly.
	Replaced map[string]int64
	// Skipped counts the rows, by table, that point at a row the SQLite
	// database does not have (a timeline entry of an incident that is
	// gone): nothing there shows them, and PostgreSQL's foreign keys refuse
	// them, so they are left out.
	Skipped map[string]int64
	Took    time.Duration
}

// NotEmptyError refuses a target that holds klaxon's data already: a copy
// goes into an empty database only, so that ids and tokens stay as they
// were.
type NotEmptyError struct {
	Schema                            string
	Integrations, Incidents, Requests int64
}

func (e *NotEmptyError) Error() string {
	var held []string
	if e.Integrations > 0 {
		held = append(held, count(e.Integrations, "integration"))
	}
	if e.Incidents > 0 {
		held = append(held, count(e.Incidents, "incident"))
	}
	if e.Requests > 0 {
		held = append(held, count(e.Requests, "journal entry"))
	}
	list := held[len(held)-1]
	if len(held) > 1 {
		list = strings.Join(held[:len(held)-1], ", ") + " and " + list
	}
	return fmt.Sprintf("the target (schema %q) already holds %s; klaxon copies only into an empty database, so that ids and tokens stay as they were: "+
		"copy into a fresh database (createdb klaxon_new) or a fresh schema (CREATE SCHEMA klaxon_new; then ?search_path=klaxon_new in the URL)",
		e.Schema, list)
}

func count(n int64, what string) string {
	s := strconv.FormatInt(n, 10) + " " + what
	if n != 1 {
		if strings.HasSuffix(what, "entry") {
			return strings.TrimSuffix(s, "y") + "ies"
		}
		return s + "s"
	}
	return s
}

// importTables are klaxon's tables in the order they are copied (parents
// first), with the columns copied: every stored column of both schemas
// (checkSourceColumns and checkTargetColumns make sure of it).
var importTables = []importSpec{
	{name: "integrations", columns: cols("id:i name:t service:t escalation:t kind:t token:t created_at:i ack_timeout_ms:i resolve_after_ms:i chaos:t removed_at:i")},
	{name: "retired_tokens", columns: cols("token_sha256:t integration_id:i reason:t retired_at:i works_until:i"),
		parent: "integration_id IN (SELECT id FROM integrations)"},
	{name: "incidents", columns: cols("id:i integration_id:i dedup_key:t title:t details:t severity:t priority:t status:t suppressed:i " +
		"first_seen:i last_seen:i acknowledged_at:i resolved_at:i resolved_by:t suppressed_kept_to:i suppressed_rows:i " +
		"storm_start:i storm_count:i storm_until:i"),
		parent: "integration_id IN (SELECT id FROM integrations)"},
	{name: "timeline", columns: cols("id:i incident_id:i at:i kind:t actor:t from_value:t to_value:t event:t"),
		parent: "incident_id IN (SELECT id FROM incidents)"},
	{name: "requests", columns: cols("id:i at:i remote:t method:t path:t integration:t headers:t body:x truncated:b " +
		"status:i outcome:t error:t warnings:t incident_id:i response:t kind:t alerts:t")},
}

// sourceOnlyTables are the SQLite database's tables that are not copied
// (the target has its own schema_migrations).
var sourceOnlyTables = []string{"schema_migrations"}

type importSpec struct {
	name    string
	columns []importColumn
	parent  string // the condition a row's parent row meets, when it has one
}

type importColumn struct {
	name string
	// kind: 'i' integer, 't' text, 'b' boolean (0/1 in SQLite), 'x' text
	// kept exactly: in PostgreSQL, the column as text can hold it and
	// name_bytes with the exact bytes when text cannot.
	kind byte
}

func cols(spec string) []importColumn {
	var out []importColumn
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		out = append(out, importColumn{name: name, kind: kind[0]})
	}
	return out
}

// names are the SQLite table's columns the copy reads.
func (s importSpec) names() []string {
	out := make([]string, len(s.columns))
	for i, c := range s.columns {
		out[i] = c.name
	}
	return out
}

// targetNames are the PostgreSQL table's columns the copy fills.
func (s importSpec) targetNames() []string {
	var out []string
	for _, c := range s.columns {
		out = append(out, c.name)
		if c.kind == 'x' {
			out = append(out, c.name+"_bytes")
		}
	}
	return out
}

// lockEmptyTarget locks klaxon's tables against writes until the copy
// commits (a second copy into the same database waits, then finds this
// one's rows) and refuses a target that holds data.
func lockEmptyTarget(ctx context.Context, tx pgx.Tx, schema string) error {
	if _, err := tx.Exec(ctx, "LOCK TABLE integrations, retired_tokens, incidents, timeline, requests IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("lock klaxon's tables: %w", err)
	}
	e := &NotEmptyError{Schema: schema}
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM integrations), (SELECT count(*) FROM incidents),
		(SELECT count(*) FROM requests)`).Scan(&e.Integrations, &e.Incidents, &e.Requests); err != nil {
		return err
	}
	if e.Integrations+e.Incidents+e.Requests > 0 {
		return e
	}
	return nil
}

// checkTargetColumns makes sure that the copy fills every stored column of
// the target's tables (a migration that adds one must add it here too).
func checkTargetColumns(ctx context.Context, tx pgx.Tx) error {
	for _, t := range importTables {
		rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'`, t.name)
		if err != nil {
			return err
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if missing, extra := columnsDiffer(t.targetNames(), have); len(missing)+len(extra) > 0 {
			return fmt.Errorf("the target's table %s has columns %v that klaxon db copy does not fill, and lacks %v: this klaxon's copy does not match its PostgreSQL schema", t.name, extra, missing)
		}
	}
	return nil
}

// columnsDiffer says which of want are not in have, and which of have are
// not in want.
func columnsDiffer(want, have []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			extra = append(extra, h)
		}
	}
	return missing, extra
}

// importTable copies one table.
func importTable(ctx context.Context, tx pgx.Tx, src *importSource, t importSpec, res *Imported, opts ImportOptions) error {
	var total int64
	if err := src.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&total); err != nil {
		return src.errorf("count %s: %w", t.name, err)
	}
	query := "SELECT " + strings.Join(t.names(), ", ") + " FROM " + t.name
	if t.parent != "" {
		query += " WHERE " + t.parent
	}
	if t.columns[0].name == "id" {
		query += " ORDER BY id"
	}
	if opts.Progress != nil {
		opts.Progress(t.name, total)
	}
	rows, err := src.conn.QueryContext(ctx, query)
	if err != nil {
		return src.errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	restore, err := setIndexesAside(ctx, tx, t.name)
	if err != nil {
		return err
	}
	rs := newRowSource(rows, t, res.Replaced)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.targetNames(), rs)
	if err != nil {
		return fmt.Errorf("copy %s: %w", t.name, err)
	}
	if err := restore(); err != nil {
		return err
	}
	if rs.n != n {
		return fmt.Errorf("copy %s: read %d rows, PostgreSQL took %d", t.name, rs.n, n)
	}
	if skipped := total - n; skipped > 0 {
		res.Skipped[t.name] = skipped
	}
	switch t.name {
	case "integrations":
		res.Integrations, res.Removed = n, rs.removed
	case "retired_tokens":
		res.RetiredTokens = n
	case "incidents":
		res.Incidents = n
	case "timeline":
		res.Timeline = n
	case "requests":
		res.Requests = n
	}
	if rs.maxID > 0 {
		// Past the copied ids (and past any the sequence has handed out).
		if _, err := tx.Exec(ctx, `SELECT setval(s::regclass, greatest($2::bigint, coalesce(pg_sequence_last_value(s::regclass), 0)))
			FROM pg_get_serial_sequence($1, 'id') AS s`, t.name, rs.maxID); err != nil {
			return fmt.Errorf("set %s's sequence: %w", t.name, err)
		}
	}
	return nil
}

// setIndexesAside drops table's indexes (but its primary key and unique
// constraints) and foreign keys, and returns what makes them again as they
// were: building an index once its rows are in, and checking a foreign key
// in one pass, is quicker than maintaining them row by row (copying
// 1,171,478 timeline entries took half the time so, on a busy 2-CPU
// machine: 8–19 s rather than 16–32 s). It is all in the copy's
// transaction: nobody sees the table without them. A user who may not
// drop them (not the tables' owner) copies with them in place.
func setIndexesAside(ctx context.Context, tx pgx.Tx, table string) (restore func() error, err error) {
	type ddl struct{ drop, make string }
	var aside []ddl
	rows, err := tx.Query(ctx, `SELECT 'DROP INDEX ' || x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid)
		FROM pg_index x WHERE x.indrelid = $1::regclass
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
		UNION ALL
		SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
			format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
		FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype = 'f'`, table)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var d ddl
		if err := rows.Scan(&d.drop, &d.make); err != nil {
			rows.Close()
			return nil, err
		}
		aside = append(aside, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { // a savepoint
		for _, d := range aside {
			if _, err := sp.Exec(ctx, d.drop); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case pgCode(err) == codeInsufficientPrivilege:
		return func() error { return nil }, nil
	case err != nil:
		return nil, fmt.Errorf("set %s's indexes aside: %w", table, err)
	}
	return func() error {
		for _, d := range aside {
			if _, err := tx.Exec(ctx, d.make); err != nil {
				return fmt.Errorf("%s: %w", d.make, err)
			}
		}
		return nil
	}, nil
}

// codeInsufficientPrivilege is PostgreSQL's "must be owner" among others.
const codeInsufficientPrivilege = "42501"

// rowSource hands one SQLite table's rows to CopyFrom, as PostgreSQL's
// columns take them.
type rowSource struct {
	rows     *sql.Rows
	spec     importSpec
	scanned  []any
	dest     []any
	out      []any
	replaced map[string]int64
	n        int64
	maxID    int64
	removed  int64 // integrations with removed_at
	err      error
}

func newRowSource(rows *sql.Rows, t importSpec, replaced map[string]int64) *rowSource {
	rs := &rowSource{rows: rows, spec: t, replaced: replaced,
		scanned: make([]any, len(t.columns)), dest: make([]any, len(t.columns)), out: make([]any, 0, len(t.targetNames()))}
	for i := range rs.scanned {
		rs.dest[i] = &rs.scanned[i]
	}
	return rs
}

func (rs *rowSource) Next() bool {
	return rs.err == nil && rs.rows.Next()
}

func (rs *rowSource) Values() ([]any, error) {
	if err := rs.rows.Scan(rs.dest...); err != nil {
		rs.err = err
		return nil, err
	}
	rs.out = rs.out[:0]
	for i, c := range rs.spec.columns {
		v, err := rs.convert(c, rs.scanned[i])
		if err != nil {
			rs.err = fmt.Errorf("%s.%s of row %d: %w", rs.spec.name, c.name, rs.n+1, err)
			return nil, rs.err
		}
		if c.kind == 'x' {
			text, exact := exactText(v)
			rs.out = append(rs.out, text, exact)
			continue
		}
		rs.out = append(rs.out, v)
	}
	if id, ok := rs.out[0].(int64); ok && rs.spec.columns[0].name == "id" {
		rs.maxID = max(rs.maxID, id)
	}
	if rs.spec.name == "integrations" && rs.out[len(rs.out)-1] != nil {
		rs.removed++
	}
	rs.n++
	return rs.out, nil
}

func (rs *rowSource) Err() error {
	if rs.err != nil {
		return rs.err
	}
	return rs.rows.Err()
}

// convert is v, as SQLite gave it, as column c of PostgreSQL takes it.
func (rs *rowSource) convert(c importColumn, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case 'i':
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case 'b':
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case 't', 'x':
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case []byte: // a BLOB: a journaled body that was not UTF-8
			s = string(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		default:
			return nil, fmt.Errorf("a %T where klaxon keeps text", v)
		}
		if c.kind == 'x' {
			return s, nil // exactText splits it
		}
		if clean := cleanText(s); clean != s {
			rs.replaced[rs.spec.name+"."+c.name]++
			s = clean
		}
		return s, nil
	}
	return nil, fmt.Errorf("a %T where klaxon keeps an integer", v)
}

// exactText is a value kept exactly (v: a string or nil) as its two
// PostgreSQL columns take it: as text can hold it, and its exact bytes when
// text cannot (nil otherwise), as pgstore stores a journaled body.
func exactText(v any) (text, exact any) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	if clean := cleanText(s); clean != s {
		return clean, []byte(s)
	}
	return s, nil
}

// importSource is the SQLite database being copied: one connection, in one
// read transaction once begin is called.
type importSource struct {
	path string
	db   *sql.DB
	conn *sql.Conn
	tx   bool
}

// openImportSource opens the klaxon database at path read-only and checks
// that its tables and columns are the ones the copy knows.
func openImportSource(ctx context.Context, path string) (*importSource, error) {
	// storage checks that the file is a klaxon database, undamaged at its
	// start and of this klaxon's schema; it takes no lock to read.
	older := errors.New("older")
	check, err := storage.Open(ctx, path, storage.Options{ReadFirst: true, WriteLock: func() (func(), error) { return nil, older }})
	if errors.Is(err, older) {
		return nil, fmt.Errorf("%s is from an older klaxon: start this klaxon on its data directory once (it brings the database up to date), stop it, then copy", path)
	}
	if err != nil {
		return nil, err
	}
	check.Close()

	db, err := sql.Open("sqlite", fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)", path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	src := &importSource{path: path, db: db}
	if src.conn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, src.errorf("open: %w", err)
	}
	if err := src.checkColumns(ctx); err != nil {
		src.close()
		return nil, err
	}
	return src, nil
}

// begin starts the read transaction: every table is read from one
// snapshot.
func (s *importSource) begin(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, "BEGIN"); err != nil {
		return s.errorf("begin: %w", err)
	}
	s.tx = true
	return nil
}

func (s *importSource) close() {
	if s.tx {
		_, _ = s.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	if s.conn != nil {
		s.conn.Close()
	}
	s.db.Close()
}

func (s *importSource) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{s.path}, args...)...)
}

// checkColumns refuses a database whose tables or columns differ from what
// the copy knows (from a newer klaxon, say): it would leave data behind.
func (s *importSource) checkColumns(ctx context.Context) error {
	rows, err := s.conn.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return s.errorf("read its tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	known := slices.Clone(sourceOnlyTables)
	for _, t := range importTables {
		known = append(known, t.name)
	}
	if missing, extra := columnsDiffer(known, tables); len(extra) > 0 {
		return s.errorf("it has tables %v that this klaxon does not know (a newer klaxon's?): copy it with that klaxon", extra)
	} else if len(missing) > 0 {
		return s.errorf("it lacks klaxon's tables %v: it is not a whole klaxon database", missing)
	}
	for _, t := range importTables {
		rows, err := s.conn.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", t.name)
		if err != nil {
			return s.errorf("read the columns of %s: %w", t.name, err)
		}
		var have []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			have = append(have, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		missing, extra := columnsDiffer(t.names(), have)
		if len(extra) > 0 {
			return s.errorf("its table %s has columns %v that this klaxon does not know (a newer klaxon's?): copy it with that klaxon", t.name, extra)
		}
		if len(missing) > 0 {
			return s.errorf("its table %s lacks the columns %v: start this klaxon on its data directory once (it brings the database up to date), stop it, then copy", t.name, missing)
		}
	}
	return nil
}
