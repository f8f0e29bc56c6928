package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// klaxon on PostgreSQL (Config.Database) is measured in each pattern beside
// klaxon on SQLite, in the same runs. Each measurement gets a database of
// its own, made empty for it and dropped after it (--keep keeps it): a new
// database on the URL's server when its user may create databases, or else
// a new schema in the URL's database. Nothing that was there is touched.
//
// PostgreSQL's CPU counts too when its server runs on this machine: every
// process of the cluster (the postmaster, its backends, the WAL writer, the
// checkpointer, autovacuum, …), so the cluster should do nothing else
// meanwhile.

// pgPrefix names klaxon-on-PostgreSQL targets: pgPrefix and a Pattern.
const pgPrefix = "pg-"

// pgPattern says whether target is klaxon on PostgreSQL, and in which pattern.
func pgPattern(target string) (Pattern, bool) {
	p, ok := strings.CutPrefix(target, pgPrefix)
	return Pattern(p), ok
}

// pgServer is the PostgreSQL server Config.Database names.
type pgServer struct {
	url     string
	version string // "15.18"
	where   string // host:port
	// postmaster is the server's postmaster pid on this machine; 0 when the
	// server is elsewhere (or its processes cannot be read), and then
	// notLocal says why.
	postmaster int
	notLocal   string
	// createDB: the URL's user may create databases; otherwise each
	// measurement gets a schema of the URL's database.
	createDB bool
}

// openPGServer connects to url and finds out what the bench needs of its
// server.
func openPGServer(ctx context.Context, url string) (*pgServer, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database: %s", strings.ReplaceAll(err.Error(), url, "<the URL>"))
	}
	s := &pgServer{url: url, where: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("--database: connect to PostgreSQL at %s: %w", s.where, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var backend int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), pg_backend_pid(),
		(SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user)`).Scan(&s.version, &backend, &s.createDB); err != nil {
		return nil, fmt.Errorf("--database: %w", err)
	}
	s.version, _, _ = strings.Cut(s.version, " ") // "15.18 (Debian 15.18-0+deb12u1)"
	port := 0
	if a, ok := conn.PgConn().Conn().LocalAddr().(*net.TCPAddr); ok {
		port = a.Port
	}
	s.postmaster, s.notLocal = findPostmaster("/proc", backend, port)
	return s, nil
}

// findPostmaster finds, under proc (/proc), the postmaster of the backend
// whose pid the server gave (pg_backend_pid) for a connection from local
// TCP port (0: a Unix socket). The pid alone proves nothing (the server may
// be on another machine, or in a container with pids of its own): the
// process must be a PostgreSQL backend whose title names that port, and its
// parent a postgres process. It returns 0 and why when it cannot be found.
func findPostmaster(proc string, backend, port int) (int, string) {
	const elsewhere = "the PostgreSQL server is not on this machine (or its processes cannot be read here)"
	st, err := readStat(proc, backend)
	if err != nil || st.comm != "postgres" {
		return 0, elsewhere
	}
	title, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(backend), "cmdline"))
	if err != nil {
		return 0, elsewhere
	}
	if port != 0 && !strings.Contains(string(title), "("+strconv.Itoa(port)+")") {
		return 0, elsewhere
	}
	parent, err := readStat(proc, st.ppid)
	if err != nil || parent.comm != "postgres" {
		return 0, elsewhere
	}
	return st.ppid, ""
}

// procStat is what klaxon bench reads of /proc/PID/stat.
type procStat struct {
	comm string
	ppid int
	// CPU: utime+stime, and cutime+cstime: what its children that exited
	// used (once it waited for them, as a postmaster does for its backends).
	cpu, children time.Duration
}

func readStat(proc string, pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat reads a /proc/PID/stat line: "pid (comm) state ppid … utime
// stime cutime cstime …" (fields 14–17), where comm may hold spaces and
// parentheses.
func parseStat(s string) (procStat, error) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("not a stat line")
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 15 {
		return procStat{}, errors.New("a short stat line")
	}
	var n [5]int64
	for i, field := range []int{1, 11, 12, 13, 14} { // ppid, utime, stime, cutime, cstime after the state
		v, err := strconv.ParseInt(f[field], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat field %d: %w", field+3, err)
		}
		n[i] = v
	}
	tick := func(t int64) time.Duration { return time.Duration(t) * time.Second / clockTicks }
	return procStat{comm: s[open+1 : end], ppid: int(n[0]), cpu: tick(n[1] + n[2]), children: tick(n[3] + n[4])}, nil
}

// clusterCPU is the CPU time PostgreSQL's cluster has used so far: its
// postmaster's own and its exited children's (which it has waited for), and
// each live child's (backends, WAL writer, checkpointer, …). Between two
// readings the difference is what the cluster used meanwhile: a backend
// that exits in between moves from the live children's sum into the
// postmaster's children's, whole.
func clusterCPU(proc string, postmaster int) (time.Duration, error) {
	pm, err := readStat(proc, postmaster)
	if err != nil {
		return 0, err
	}
	total := pm.cpu + pm.children
	entries, err := os.ReadDir(proc)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		st, err := readStat(proc, pid)
		if err != nil || st.ppid != postmaster {
			continue // gone meanwhile, or not the cluster's
		}
		total += st.cpu + st.children
	}
	return total, nil
}

// describe says, for the bench's header, which server klaxon on PostgreSQL
// uses and how, and whether its CPU counts.
func (s *pgServer) describe() string {
	where := "a fresh database for each measurement"
	if !s.createDB {
		where = "a fresh schema of the URL's database for each measurement (its user may not create databases)"
	}
	cpu := fmt.Sprintf("its CPU: every process of its cluster (postmaster pid %d)", s.postmaster)
	if s.postmaster == 0 {
		cpu = "its CPU is not counted: " + s.notLocal
	}
	return fmt.Sprintf("klaxon on PostgreSQL %s at %s: %s;\n%s", s.version, s.where, where, cpu)
}

// cpu is clusterCPU of the server, 0 when it is not on this machine.
func (s *pgServer) cpu() time.Duration {
	if s == nil || s.postmaster == 0 {
		return 0
	}
	d, _ := clusterCPU("/proc", s.postmaster)
	return d
}

// pgScratch is one measurement's empty database (or schema).
type pgScratch struct {
	server *pgServer
	name   string
	url    string // for the receiver: the scratch database, or the schema on search_path
	schema bool
}

// newScratch makes an empty database (or schema) for one measurement.
func (s *pgServer) newScratch(ctx context.Context) (*pgScratch, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	sc := &pgScratch{server: s, name: "klaxon_bench_" + hex.EncodeToString(b), schema: !s.createDB}
	stmt := "CREATE DATABASE " + sc.name
	if sc.schema {
		stmt = "CREATE SCHEMA " + sc.name
	}
	if err := s.exec(ctx, stmt); err != nil {
		return nil, fmt.Errorf("--database: make a scratch database: %w", err)
	}
	var err error
	if sc.schema {
		sc.url, err = withParam(s.url, "search_path", sc.name)
	} else {
		sc.url, err = withDatabase(s.url, sc.name)
	}
	return sc, err
}

// size is how much the scratch database (or schema) holds on disk.
func (sc *pgScratch) size(ctx context.Context) int64 {
	var n int64
	q, arg := "SELECT pg_database_size($1)", sc.name
	if sc.schema {
		q = `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
			JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind IN ('r', 'm')`
	}
	conn, err := pgx.Connect(ctx, sc.server.url)
	if err != nil {
		return 0
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_ = conn.QueryRow(ctx, q, arg).Scan(&n)
	return n
}

// drop removes the scratch database (or schema), after the receiver has
// stopped.
func (sc *pgScratch) drop(ctx context.Context) error {
	if sc.schema {
		return sc.server.exec(ctx, "DROP SCHEMA IF EXISTS "+sc.name+" CASCADE")
	}
	err := sc.server.exec(ctx, "DROP DATABASE IF EXISTS "+sc.name+" WITH (FORCE)")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42601" { // before PostgreSQL 13: no FORCE
		err = sc.server.exec(ctx, "DROP DATABASE IF EXISTS "+sc.name)
	}
	return err
}

func (s *pgServer) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase is url (postgres://…) naming database db.
func withDatabase(url, db string) (string, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

// splitPassword is url without its password, and the password (for
// PGPASSWORD, which a URL without one takes).
func splitPassword(url string) (string, string) {
	u, err := neturl.Parse(url)
	if err != nil || u.User == nil {
		return url, ""
	}
	pw, ok := u.User.Password()
	if !ok {
		return url, ""
	}
	u.User = neturl.User(u.User.Username())
	return u.String(), pw
}

// withParam is url (postgres://…) with a run-time parameter.
func withParam(url, name, value string) (string, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// printAgainstSQLite sets klaxon on PostgreSQL beside klaxon on SQLite in
// each pattern (the medians of the same runs): req/s, p50, p99, and CPU per
// request — klaxon's, PostgreSQL's cluster's and both — with the ratios
// PostgreSQL/SQLite of req/s and of the whole CPU per request. SQLite's
// whole CPU is klaxon's: it runs in klaxon's process.
func printAgainstSQLite(out io.Writer, medians []Measurement, pg *pgServer) {
	byTarget := map[string]Measurement{}
	for _, m := range medians {
		byTarget[m.Target] = m
	}
	var patterns []Pattern
	for _, m := range medians {
		if p, ok := pgPattern(m.Target); ok {
			patterns = append(patterns, p)
		}
	}
	if len(patterns) == 0 || pg == nil {
		return
	}
	const f = "%-12s  %6s  %7s  %7s  %6s  %6s  %6s  %5s  %5s"
	row := func(v ...any) { fmt.Fprintln(out, strings.TrimRight(fmt.Sprintf(f, v...), " ")) }
	fmt.Fprintln(out)
	fmt.Fprintf(out, "klaxon on PostgreSQL %s at %s beside klaxon on SQLite\n", pg.version, pg.where)
	fmt.Fprintln(out, "(the same runs). CPU per request: klaxon's, PostgreSQL's (every process")
	fmt.Fprintln(out, "of its cluster) and both; ratios are PostgreSQL/SQLite:")
	if pg.postmaster == 0 {
		fmt.Fprintf(out, "(PostgreSQL's CPU is not counted: %s)\n", pg.notLocal)
	}
	fmt.Fprintf(out, "%43s%s%15s\n", "", "CPU per request", "ratio") // over klaxon…total, and the ratios
	row("", "req/s", "p50", "p99", "klaxon", "PG", "total", "req/s", "CPU")
	for _, p := range patterns {
		pgm := byTarget[pgPrefix+string(p)]
		fmt.Fprintln(out, targetName(string(p)))
		lite, ok := byTarget[string(p)]
		liteCPU := cpuPerRequest(lite)
		if ok {
			row("  SQLite", fmt.Sprintf("%.0f", lite.Result.PerSecond()), ms(lite.Result.P50), ms(lite.Result.P99),
				micros(liteCPU), "-", micros(liteCPU), "", "")
		}
		k, db := cpuPerRequest(pgm), dbCPUPerRequest(pgm)
		dbText, total := micros(db), k+db
		if pg.postmaster == 0 {
			dbText, total = "?", 0
		}
		speed, cpu := "-", "-"
		if ok && lite.Result.PerSecond() > 0 {
			speed = fmt.Sprintf("%.2f", pgm.Result.PerSecond()/lite.Result.PerSecond())
		}
		if total > 0 && liteCPU > 0 {
			cpu = fmt.Sprintf("%.2f", float64(total)/float64(liteCPU))
		}
		row("  PostgreSQL", fmt.Sprintf("%.0f", pgm.Result.PerSecond()), ms(pgm.Result.P50), ms(pgm.Result.P99),
			micros(k), dbText, micros(total), speed, cpu)
	}
}

// dbCPUPerRequest is PostgreSQL's CPU over the window per answer; 0 when
// not known.
func dbCPUPerRequest(m Measurement) time.Duration {
	n := m.Result.Requests + m.Result.Errors
	if n == 0 || m.DBCPU <= 0 {
		return 0
	}
	return m.DBCPU / time.Duration(n)
}
