package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeProc makes a /proc of processes under dir: pid → its stat line
// (and cmdline, when given).
func writeProc(t *testing.T, dir string, procs map[int][2]string) {
	t.Helper()
	for pid, p := range procs {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(p[0]), 0o644); err != nil {
			t.Fatal(err)
		}
		if p[1] != "" {
			if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(p[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// stat is a /proc/PID/stat line with the fields klaxon bench reads.
func stat(pid int, comm string, ppid int, utime, stime, cutime, cstime int) string {
	return strconv.Itoa(pid) + " (" + comm + ") S " + strconv.Itoa(ppid) + " 1 1 0 -1 4194560 100 0 0 0 " +
		strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " " + strconv.Itoa(cutime) + " " + strconv.Itoa(cstime) +
		" 20 0 1 0 1000 1000000 100 18446744073709551615\n"
}

func TestParseStat(t *testing.T) {
	st, err := parseStat(stat(42, "a (weird) name", 7, 150, 50, 30, 20))
	if err != nil {
		t.Fatal(err)
	}
	if st.comm != "a (weird) name" || st.ppid != 7 || st.cpu != 2*time.Second || st.children != 500*time.Millisecond {
		t.Fatalf("%+v", st)
	}
	for _, bad := range []string{"", "42 postgres S 1", "42 (postgres) S 1 2 3"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The cluster's CPU is its postmaster's, its children's that exited, and
// its live children's; other processes are not counted. A backend that
// exits between two readings counts whole in the difference.
func TestClusterCPU(t *testing.T) {
	proc := t.TempDir()
	writeProc(t, proc, map[int][2]string{
		100: {stat(100, "postgres", 1, 10, 5, 40, 10), ""},    // postmaster: 15 ticks, 50 of exited children
		101: {stat(101, "postgres", 100, 200, 100, 0, 0), ""}, // a backend: 300
		102: {stat(102, "postgres", 100, 20, 30, 0, 0), ""},   // the WAL writer: 50
		200: {stat(200, "postgres", 1, 999, 999, 0, 0), ""},   // another cluster's postmaster
		201: {stat(201, "klaxon", 200, 999, 0, 0, 0), ""},     // not this cluster's
	})
	if err := os.WriteFile(filepath.Join(proc, "stat"), []byte("cpu 1 2 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := clusterCPU(proc, 100)
	if err != nil || before != 4150*time.Millisecond {
		t.Fatalf("cluster CPU %v (%v), want 4.15s", before, err)
	}
	// The backend used 100 ticks more and exited; the postmaster waited for it.
	if err := os.RemoveAll(filepath.Join(proc, "101")); err != nil {
		t.Fatal(err)
	}
	writeProc(t, proc, map[int][2]string{100: {stat(100, "postgres", 1, 10, 5, 440, 10), ""}})
	after, err := clusterCPU(proc, 100)
	if err != nil || after-before != time.Second {
		t.Fatalf("after the backend exited: %v, want %v", after, before+time.Second)
	}
	if _, err := clusterCPU(proc, 999); err == nil {
		t.Fatal("a postmaster that is not there has CPU")
	}
}

// The server is local only when the backend the server named is a
// PostgreSQL backend serving the bench's own connection, under a postgres
// parent.
func TestFindPostmaster(t *testing.T) {
	proc := t.TempDir()
	writeProc(t, proc, map[int][2]string{
		100: {stat(100, "postgres", 1, 0, 0, 0, 0), "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/tmp/pg\x00"},
		101: {stat(101, "postgres", 100, 0, 0, 0, 0), "postgres: klaxon klaxon 127.0.0.1(54321) idle\x00"},
		102: {stat(102, "postgres", 100, 0, 0, 0, 0), "postgres: klaxon klaxon [local] idle\x00"},
		300: {stat(300, "bash", 1, 0, 0, 0, 0), "bash\x00"},
		301: {stat(301, "postgres", 300, 0, 0, 0, 0), "postgres: x x 127.0.0.1(6000) idle\x00"},
	})
	for _, c := range []struct {
		backend, port, want int
	}{
		{101, 54321, 100},
		{102, 0, 100},   // a Unix socket
		{101, 54322, 0}, // another connection's backend: the pid is some other machine's
		{300, 0, 0},     // not PostgreSQL
		{301, 6000, 0},  // its parent is not
		{999, 54321, 0}, // no such process here
	} {
		got, why := findPostmaster(proc, c.backend, c.port)
		if got != c.want || (got == 0) != (why != "") {
			t.Errorf("backend %d port %d: postmaster %d (%q), want %d", c.backend, c.port, got, why, c.want)
		}
	}
}

func TestChildEnvLeavesTheBenchsDatabaseOut(t *testing.T) {
	env := []string{"HOME=/h", "KLAXON_DATABASE=postgres://prod/klaxon", "PATH=/bin"}
	if got := childEnv(env, nil); !slices.Equal(got, []string{"HOME=/h", "PATH=/bin"}) {
		t.Errorf("klaxon on SQLite gets %q", got)
	}
	if got := childEnv(env, []string{"PGPASSWORD=pw"}); !slices.Equal(got, []string{"HOME=/h", "PATH=/bin", "PGPASSWORD=pw"}) {
		t.Errorf("klaxon on PostgreSQL gets %q", got)
	}
}

func TestScratchURLs(t *testing.T) {
	u, err := withDatabase("postgres://k:pw@127.0.0.1:5432/klaxon?sslmode=disable", "klaxon_bench_1")
	if err != nil || u != "postgres://k:pw@127.0.0.1:5432/klaxon_bench_1?sslmode=disable" {
		t.Errorf("database: %s %v", u, err)
	}
	if u, pw := splitPassword("postgres://k:p%40ss@db:5432/x?sslmode=disable"); u != "postgres://k@db:5432/x?sslmode=disable" || pw != "p@ss" {
		t.Errorf("password: %s %s", u, pw)
	}
	if u, pw := splitPassword("postgres://k@db/x"); u != "postgres://k@db/x" || pw != "" {
		t.Errorf("no password: %s %s", u, pw)
	}
	u, err = withParam("postgres://k@db/klaxon?sslmode=disable", "search_path", "klaxon_bench_1")
	if err != nil || u != "postgres://k@db/klaxon?search_path=klaxon_bench_1&sslmode=disable" {
		t.Errorf("schema: %s %v", u, err)
	}
}

func TestPrintAgainstSQLite(t *testing.T) {
	res := func(perSecond int64, p50, p99 time.Duration) Result {
		return Result{Requests: perSecond * 10, Elapsed: 10 * time.Second, P50: p50, P99: p99}
	}
	medians := []Measurement{
		{Target: targetNoop, Result: res(30000, time.Millisecond, 5*time.Millisecond), Usage: usage{CPU: 9 * time.Second}},
		{Target: string(NewTitles), Result: res(10000, 5600*time.Microsecond, 15*time.Millisecond), Usage: usage{CPU: 11600 * time.Millisecond}},
		{Target: string(RepeatTitles), Result: res(11000, 5*time.Millisecond, 12*time.Millisecond), Usage: usage{CPU: 12100 * time.Millisecond}},
		{Target: pgPrefix + string(NewTitles), Result: res(4000, 14*time.Millisecond, 40*time.Millisecond),
			Usage: usage{CPU: 4 * time.Second}, DBCPU: 8 * time.Second},
		{Target: pgPrefix + string(RepeatTitles), Result: res(5000, 12*time.Millisecond, 31*time.Millisecond),
			Usage: usage{CPU: 4500 * time.Millisecond}, DBCPU: 6 * time.Second},
	}
	pg := &pgServer{version: "15.18", where: "127.0.0.1:5432", postmaster: 100}
	var b bytes.Buffer
	printAgainstSQLite(&b, medians, pg)
	want := `
klaxon on PostgreSQL 15.18 at 127.0.0.1:5432 beside klaxon on SQLite
(the same runs). CPU per request: klaxon's, PostgreSQL's (every process
of its cluster) and both; ratios are PostgreSQL/SQLite:
                                           CPU per request          ratio
               req/s      p50      p99  klaxon      PG   total  req/s    CPU
new titles
  SQLite       10000   5.60ms  15.00ms   116µs       -   116µs
  PostgreSQL    4000  14.00ms  40.00ms   100µs   200µs   300µs   0.40   2.59
repeating titles
  SQLite       11000   5.00ms  12.00ms   110µs       -   110µs
  PostgreSQL    5000  12.00ms  31.00ms    90µs   120µs   210µs   0.45   1.91
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("%d columns: %q", n, line)
		}
	}

	pg.postmaster, pg.notLocal = 0, "the PostgreSQL server is not on this machine"
	b.Reset()
	printAgainstSQLite(&b, medians, pg)
	if !strings.Contains(b.String(), "(PostgreSQL's CPU is not counted: the PostgreSQL server is not on this machine)") ||
		!strings.Contains(b.String(), "  PostgreSQL    4000  14.00ms  40.00ms   100µs       ?       -   0.40      -\n") {
		t.Errorf("a server elsewhere:\n%s", b.String())
	}
	b.Reset()
	printAgainstSQLite(&b, medians[:3], pg)
	if b.Len() != 0 {
		t.Errorf("without klaxon on PostgreSQL: %q", b.String())
	}
}
