// Package bench is `klaxon bench`: it starts the real receiver as a child
// process on loopback with a temporary data directory, drives it with a
// thin keep-alive HTTP/1.1 load generator in two patterns (every title new;
// a fixed set of titles repeating, so most events are suppressed), then
// drives a no-op handler (decode the JSON, answer 200) the same way, and
// reports throughput, latency, the ratio to the no-op handler and the
// servers' peak memory and CPU per request. With a peer (Alertmanager) it
// drives that the same way in the same run and reports klaxon against it;
// with a rate, every target takes an open load paced at that rate instead
// of the closed load of the connections; with a PostgreSQL URL, klaxon on
// it is measured in each pattern beside klaxon on SQLite (postgres.go).
//
// The servers run as their own processes so that /proc can say what each
// one used; the load generator shares the machine with them, as wrk would.
package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says what a bench does.
type Config struct {
	Exe         string // the klaxon binary, re-executed as the servers under test
	Connections int
	Warmup      time.Duration
	Duration    time.Duration
	Requests    int64 // stop each measurement after this many answers instead of Duration
	Runs        int
	Patterns    []Pattern
	Noop        bool // measure the no-op handler too (and ratios to it)
	Durable     bool // measure the bare durable receiver too (see durable.go)
	Titles      int  // distinct titles of RepeatTitles
	Dir         string
	Keep        bool     // keep the data directories
	ProfileDir  string   // write each server's CPU profile here
	ServerArgs  []string // more flags for the receiver (e.g. --journal-limit)
	// Peer, when PeerAlertmanager, also measures Alertmanager (PeerExe) in
	// every run, in each pattern.
	Peer    string
	PeerExe string
	// Rate, when above zero, paces every target's load at Rate events a
	// second (an open load: latency from when each event fell due) instead
	// of driving Connections closed-loop connections.
	Rate float64
	// Workers sends a paced load (default 1000 goroutines, each posting on
	// an idle keep-alive connection or a new one).
	Workers int
	// CommitLog, with ProfileDir, has each receiver write when each of its
	// commits returned and how many events it held, into ProfileDir.
	CommitLog bool
	// WaitIdle, when above zero, is how long to wait before each
	// measurement for the machine to be idle (see waitIdle).
	WaitIdle time.Duration
	// Database, a PostgreSQL URL, also measures klaxon on PostgreSQL in each
	// pattern in every run, beside klaxon on SQLite (see postgres.go).
	Database string

	pg *pgServer // Database's server, once Run has connected to it
}

// Targets besides the patterns: the two yardsticks, and the peer's patterns
// (peerPrefix and a Pattern).
const (
	targetNoop    = "no-op"
	targetDurable = "durable"
	peerPrefix    = "am-"
)

// isPattern says whether target is klaxon on SQLite in a pattern (not a
// yardstick, the peer, or klaxon on PostgreSQL).
func isPattern(target string) bool {
	p := Pattern(target)
	return p == NewTitles || p == RepeatTitles
}

// peerPattern says whether target is the peer's, and in which pattern.
func peerPattern(target string) (Pattern, bool) {
	p, ok := strings.CutPrefix(target, peerPrefix)
	return Pattern(p), ok
}

// Measurement is one target measured in one run.
type Measurement struct {
	Run    int
	Target string // "no-op", or a Pattern
	Result Result
	Usage  usage
	// Others is how much CPU processes other than the server and the load
	// generator took during the measurement, in CPUs (1.0 = one whole CPU):
	// figures taken beside other work say less.
	Others  float64
	DBBytes int64   // klaxon.db and its WAL at the end
	Ratio   float64 // req/s over the no-op handler's in the same run; 0 without one (or at a fixed rate)
	// PerCommit is how many writes the receiver's commits held on average
	// (group commit), warm-up included; 0 when not known.
	PerCommit float64
	// DBCPU is the CPU PostgreSQL's cluster used over the window, for
	// klaxon on PostgreSQL whose server is on this machine; 0 otherwise.
	DBCPU time.Duration
}

// Run measures what c says, printing each measurement as it is made and a
// summary at the end.
func Run(ctx context.Context, c Config, out io.Writer) ([]Measurement, error) {
	if c.Runs <= 0 {
		c.Runs = 1
	}
	if c.Titles <= 0 {
		c.Titles = 1000
	}
	if c.Connections <= 0 {
		c.Connections = 64
	}
	if c.Workers <= 0 {
		c.Workers = 1000
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	if c.Peer != "" && c.Peer != PeerAlertmanager {
		return nil, fmt.Errorf("bench: unknown peer %q (want %s)", c.Peer, PeerAlertmanager)
	}
	if c.Peer != "" && c.PeerExe == "" {
		exe, err := FindAlertmanager("")
		if err != nil {
			return nil, err
		}
		c.PeerExe = exe
	}
	if c.Database != "" {
		pg, err := openPGServer(ctx, c.Database)
		if err != nil {
			return nil, err
		}
		c.pg = pg
	}
	printMachine(out, c)
	fmt.Fprintf(out, speedFormat, "run", "target", "req/s", "p50", "p99", "max", "errors", lastColumn(c))
	var all []Measurement
	for run := 1; run <= c.Runs; run++ {
		var targets []string
		if c.Noop {
			targets = append(targets, targetNoop)
		}
		if c.Durable {
			targets = append(targets, targetDurable)
		}
		for _, p := range c.Patterns {
			targets = append(targets, string(p))
		}
		if c.pg != nil {
			for _, p := range c.Patterns {
				targets = append(targets, pgPrefix+string(p))
			}
		}
		if c.Peer != "" {
			for _, p := range c.Patterns {
				targets = append(targets, peerPrefix+string(p))
			}
		}
		var noop float64
		for _, target := range targets {
			if err := ctx.Err(); err != nil {
				return all, err
			}
			if c.WaitIdle > 0 {
				if waited, ok := waitIdle(ctx, c.WaitIdle); !ok {
					fmt.Fprintf(out, "        (the machine was not idle within %s; measuring anyway)\n", waited.Round(time.Second))
				}
			}
			m, err := measure(ctx, c, run, target)
			if err != nil {
				return all, err
			}
			if c.Rate > 0 {
				// At a fixed rate every target takes about the same req/s:
				// the ratio says nothing.
			} else if target == targetNoop {
				noop = m.Result.PerSecond()
			} else if noop > 0 {
				m.Ratio = m.Result.PerSecond() / noop
			}
			all = append(all, m)
			printSpeed(out, strconv.Itoa(run), m)
			if m.Result.Errors > 0 {
				fmt.Fprintf(out, "        %d errors, the first: %s\n", m.Result.Errors, m.Result.FirstErr)
			}
		}
	}
	printReport(out, all, c)
	return all, nil
}

// idleBelow is how much CPU other processes may use for the machine to count
// as idle, and idleFor how long it must stay so.
const (
	idleBelow = 0.1
	idleFor   = 3 * time.Second
)

// waitIdle waits, up to limit, until the whole machine has used under
// idleBelow CPUs for idleFor (nothing of klaxon bench's runs then: it is
// called between measurements). On a machine shared with other work the
// figures say more when each measurement starts in a quiet moment. It
// reports how long it waited and whether the machine was idle.
func waitIdle(ctx context.Context, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	quiet := time.Duration(0)
	const step = 500 * time.Millisecond
	for time.Since(start) < limit && ctx.Err() == nil {
		before := machineBusy()
		time.Sleep(step)
		if used := (machineBusy() - before).Seconds() / step.Seconds(); used < idleBelow {
			quiet += step
		} else {
			quiet = 0
		}
		if quiet >= idleFor {
			return time.Since(start), true
		}
	}
	return time.Since(start), false
}

// lastColumn heads the speed table's last column: the ratio to the no-op
// handler, or at a fixed rate how many events fell behind the schedule.
func lastColumn(c Config) string {
	if c.Rate > 0 {
		return "unsent"
	}
	return "vs no-op"
}

// sample is what is read at each end of the counted window.
type sample struct {
	server, self, busy time.Duration // CPU time: the server's, the bench's, the machine's
	db                 time.Duration // PostgreSQL's cluster's, when the server uses it on this machine
	at                 time.Time
}

func takeSample(pid int, pg *pgServer) sample {
	return sample{procUsage(pid).CPU, procUsage(os.Getpid()).CPU, machineBusy(), pg.cpu(), time.Now()}
}

// measure starts the target's server, drives it and stops it. The server's
// CPU, and the other processes', are read over the counted window alone.
func measure(ctx context.Context, c Config, run int, target string) (Measurement, error) {
	m := Measurement{Run: run, Target: target}
	var dataDir string
	if target != targetNoop {
		var err error
		if dataDir, err = os.MkdirTemp(c.Dir, "klaxon-bench-"); err != nil {
			return m, err
		}
		if !c.Keep {
			defer os.RemoveAll(dataDir)
		}
	}
	profile := func(suffix string) string {
		return filepath.Join(c.ProfileDir, fmt.Sprintf("%s-run%d.%s", target, run, suffix))
	}
	pattern, format := Pattern(target), KlaxonEvent
	var srv *child
	var err error
	var scratch *pgScratch
	var pg *pgServer // the server whose CPU counts
	if p, ok := pgPattern(target); ok {
		pattern, pg = p, c.pg
		if scratch, err = c.pg.newScratch(ctx); err != nil {
			return m, err
		}
		if !c.Keep {
			defer scratch.drop(context.WithoutCancel(ctx))
		} else {
			defer fmt.Fprintf(os.Stderr, "klaxon bench: kept PostgreSQL's %s\n", scratch.name)
		}
	}
	if p, ok := peerPattern(target); ok {
		pattern, format = p, AlertmanagerAlerts
		srv, err = startAlertmanager(c.PeerExe, dataDir)
	} else {
		args := []string{"bench", "child"}
		switch target {
		case targetNoop:
			args = append(args, "noop")
		case targetDurable:
			args = append(args, "durable", "--data-dir", dataDir)
			pattern = NewTitles
		default:
			args = append(args, "receiver", "--data-dir", dataDir)
			if c.ProfileDir != "" && c.CommitLog {
				args = append(args, "--commit-log", profile("commits.txt"))
			}
			args = append(args, c.ServerArgs...)
		}
		if c.ProfileDir != "" {
			args = append(args, "--cpuprofile", profile("cpu.pprof"))
		}
		var env []string
		if scratch != nil {
			database, password := splitPassword(scratch.url)
			args = append(args, "--database", database)
			if password != "" {
				env = append(env, "PGPASSWORD="+password) // kept off the command line, which ps shows
			}
		}
		srv, err = startChild(c.Exe, env, args...)
	}
	if err != nil {
		return m, err
	}
	defer srv.stop()
	pid := srv.cmd.Process.Pid
	commitsBefore, writesBefore, commitsKnown := commitStats(srv.URL)
	var w0, w1 sample
	var peerProfile chan error
	window := func(end bool) {
		if end {
			w1 = takeSample(pid, pg)
			return
		}
		w0 = takeSample(pid, pg)
		if _, ok := peerPattern(target); ok && c.ProfileDir != "" && c.Requests == 0 {
			peerProfile = make(chan error, 1)
			go func() { peerProfile <- fetchProfile(srv.URL, c.Duration, profile("cpu.pprof")) }()
		}
	}
	nonce := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	if c.Rate > 0 {
		var pool *connPool
		if pool, err = newConnPool(srv.URL); err != nil {
			return m, err
		}
		m.Result, err = DrivePaced(ctx, Paced{
			Pattern: pattern, Format: format, Titles: c.Titles, Workers: c.Workers, Rate: c.Rate,
			Warmup: c.Warmup, Duration: c.Duration, Nonce: nonce, Send: pool.send, Window: window,
		})
		pool.close()
	} else {
		m.Result, err = Drive(ctx, Load{
			URL: srv.URL, Pattern: pattern, Format: format, Titles: c.Titles, Connections: c.Connections,
			Warmup: c.Warmup, Duration: c.Duration, Requests: c.Requests, Nonce: nonce, Window: window,
		})
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w", target, err)
	}
	m.Usage = srv.usage()
	m.Usage.CPU = w1.server - w0.server
	m.DBCPU = w1.db - w0.db
	if commits, writes, ok := commitStats(srv.URL); ok && commitsKnown && commits > commitsBefore {
		m.PerCommit = (writes - writesBefore) / (commits - commitsBefore)
	}
	if busy, took := w1.busy-w0.busy, w1.at.Sub(w0.at); busy > 0 && took > 0 {
		others := busy - m.Usage.CPU - m.DBCPU - (w1.self - w0.self)
		m.Others = max(0, others.Seconds()/took.Seconds())
	}
	if peerProfile != nil {
		if err := <-peerProfile; err != nil {
			fmt.Fprintf(os.Stderr, "klaxon bench: %s: no CPU profile: %v\n", target, err)
		}
	}
	if err := srv.stop(); err != nil {
		return m, fmt.Errorf("%s: the server under test did not stop cleanly: %v", target, err)
	}
	if dataDir != "" {
		for _, name := range []string{"klaxon.db", "klaxon.db-wal", "durable.db", "durable.db-wal"} {
			if fi, err := os.Stat(filepath.Join(dataDir, name)); err == nil {
				m.DBBytes += fi.Size()
			}
		}
		if c.Keep {
			fmt.Fprintf(os.Stderr, "klaxon bench: kept %s\n", dataDir)
		}
	}
	if scratch != nil {
		m.DBBytes = scratch.size(ctx)
	}
	return m, nil
}

// Medians picks, for each target, the run with the median req/s, and gives
// it the ratio of the medians.
func Medians(all []Measurement) []Measurement {
	return mediansBy(all, func(m Measurement) float64 { return m.Result.PerSecond() })
}

// mediansBy picks, for each target, the run with the median key.
func mediansBy(all []Measurement, key func(Measurement) float64) []Measurement {
	var order []string
	by := map[string][]Measurement{}
	for _, m := range all {
		if _, ok := by[m.Target]; !ok {
			order = append(order, m.Target)
		}
		by[m.Target] = append(by[m.Target], m)
	}
	var out []Measurement
	var noop float64
	for _, t := range order {
		ms := slices.Clone(by[t])
		slices.SortStableFunc(ms, func(a, b Measurement) int { return cmp.Compare(key(a), key(b)) })
		m := ms[len(ms)/2]
		if t == targetNoop {
			noop = m.Result.PerSecond()
		} else if noop > 0 {
			m.Ratio = m.Result.PerSecond() / noop
		}
		out = append(out, m)
	}
	return out
}

func targetName(t string) string {
	if p, ok := pgPattern(t); ok {
		if p == RepeatTitles {
			return "PG repeating"
		}
		return "PG new titles"
	}
	if p, ok := peerPattern(t); ok {
		if p == RepeatTitles {
			return "AM repeating"
		}
		return "AM new alerts"
	}
	switch Pattern(t) {
	case NewTitles:
		return "new titles"
	case RepeatTitles:
		return "repeating titles"
	}
	if t == targetDurable {
		return "bare durable"
	}
	return t
}

// The report fits a terminal of 80 columns: speed as each measurement is
// made, then what the servers used, then the verdicts.
const (
	speedFormat = "%-6s  %-16s  %6s  %7s  %7s  %7s  %6s  %8s\n"
	usageFormat = "%-6s  %-16s  %8s  %7s  %5s  %9s  %6s\n"
)

func printSpeed(w io.Writer, run string, m Measurement) {
	ratio := "-"
	if m.Ratio > 0 {
		ratio = fmt.Sprintf("%.2f", m.Ratio)
	} else if m.Result.Unsent > 0 {
		ratio = strconv.FormatInt(m.Result.Unsent, 10)
	}
	fmt.Fprintf(w, speedFormat, run, targetName(m.Target), fmt.Sprintf("%.0f", m.Result.PerSecond()),
		ms(m.Result.P50), ms(m.Result.P99), ms(m.Result.Max), strconv.FormatInt(m.Result.Errors, 10), ratio)
}

func printUsage(w io.Writer, run string, m Measurement) {
	db := "-"
	if m.DBBytes > 0 {
		db = mib(m.DBBytes)
	}
	cpu := "-"
	if d := cpuPerRequest(m); d > 0 {
		cpu = fmt.Sprintf("%dµs", d.Microseconds())
	}
	batch := "-"
	if m.PerCommit > 0 {
		batch = fmt.Sprintf("%.1f", m.PerCommit)
	}
	fmt.Fprintf(w, usageFormat, run, targetName(m.Target), mib(m.Usage.PeakRSS), cpu, batch, db, fmt.Sprintf("%.2f", m.Others))
}

// cpuPerRequest is the server's CPU over the counted window divided by the
// requests answered in it; 0 when not known.
func cpuPerRequest(m Measurement) time.Duration {
	n := m.Result.Requests + m.Result.Errors
	if n == 0 || m.Usage.CPU <= 0 {
		return 0
	}
	return m.Usage.CPU / time.Duration(n)
}

// printReport prints the medians (of several runs), what each server used,
// and the verdicts.
func printReport(out io.Writer, all []Measurement, c Config) {
	med := Medians(all)
	if c.Rate > 0 {
		// At a fixed rate, the run with the median p99.
		med = mediansBy(all, func(m Measurement) float64 { return float64(m.Result.P99) })
		for i := range med {
			med[i].Ratio = 0
		}
	}
	if c.Runs > 1 {
		for _, m := range med {
			printSpeed(out, "median", m)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, usageFormat, "run", "target", "peak RSS", "CPU/req", "batch", "db", "others")
	for _, m := range all {
		printUsage(out, strconv.Itoa(m.Run), m)
	}
	fmt.Fprintln(out, "(CPU/req: the server's CPU over the window per answer; batch: events per")
	fmt.Fprintln(out, "commit; db: the database and its WAL at the end; others: CPUs other")
	fmt.Fprintln(out, "processes used meanwhile)")
	fmt.Fprintln(out)
	if c.Rate > 0 {
		fmt.Fprintf(out, "at %.0f events/s offered, latency from when each event fell due to its\n", c.Rate)
		fmt.Fprintln(out, "answer (unsent: fell due in the window but not sent by its end)")
	} else {
		printVerdict(out, med)
		printAgainstDurable(out, med)
	}
	printAgainstPeer(out, med)
	printAgainstSQLite(out, med, c.pg)
}

// printAgainstPeer sets each pattern of klaxon beside the peer's in the same
// runs: req/s, p99 and the server's CPU per request, and the ratios
// klaxon/peer for req/s and for CPU per request.
func printAgainstPeer(out io.Writer, medians []Measurement) {
	peer := map[Pattern]Measurement{}
	for _, m := range medians {
		if p, ok := peerPattern(m.Target); ok {
			peer[p] = m
		}
	}
	if len(peer) == 0 {
		return
	}
	const f = "%-16s  %6s  %6s  %5s  %7s  %7s  %6s  %6s  %5s"
	row := func(v ...any) { fmt.Fprintln(out, strings.TrimRight(fmt.Sprintf(f, v...), " ")) }
	fmt.Fprintln(out)
	fmt.Fprintln(out, "klaxon against Alertmanager (AM), which keeps alerts in memory and commits")
	fmt.Fprintln(out, "nothing per alert; ratios are klaxon/AM:")
	row("", "req/s", "", "", "p99", "", "CPU/req", "", "")
	row("pattern", "klaxon", "AM", "ratio", "klaxon", "AM", "klaxon", "AM", "ratio")
	for _, m := range medians {
		am, ok := peer[Pattern(m.Target)]
		if !ok {
			continue
		}
		speed, cpuRatio := "-", "-"
		if am.Result.PerSecond() > 0 {
			speed = fmt.Sprintf("%.2f", m.Result.PerSecond()/am.Result.PerSecond())
		}
		k, a := cpuPerRequest(m), cpuPerRequest(am)
		if k > 0 && a > 0 {
			cpuRatio = fmt.Sprintf("%.2f", float64(k)/float64(a))
		}
		row(targetName(m.Target),
			fmt.Sprintf("%.0f", m.Result.PerSecond()), fmt.Sprintf("%.0f", am.Result.PerSecond()), speed,
			ms(m.Result.P99), ms(am.Result.P99), micros(k), micros(a), cpuRatio)
	}
}

// micros writes a duration in whole microseconds, "-" for none.
func micros(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}

// ms writes a latency in at most seven columns: 99.99ms, 999.9ms, 99.99s.
func ms(d time.Duration) string {
	m := float64(d.Microseconds()) / 1000
	switch {
	case m < 99.995:
		return fmt.Sprintf("%.2fms", m)
	case m < 999.95:
		return fmt.Sprintf("%.1fms", m)
	}
	return fmt.Sprintf("%.2fs", m/1000)
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

// printVerdict says whether each pattern meets the bar of issue #4: at least
// half the no-op handler's req/s, p99 at most 10 ms, no errors.
func printVerdict(out io.Writer, medians []Measurement) {
	if !slices.ContainsFunc(medians, func(m Measurement) bool { return m.Ratio > 0 }) {
		return // no no-op handler to measure against
	}
	fmt.Fprintln(out, "the bar of issue #4: at least 0.50 of the no-op handler, p99 ≤ 10ms, no errors")
	for _, m := range medians {
		if !isPattern(m.Target) || m.Ratio == 0 {
			continue
		}
		ok := m.Ratio >= 0.5 && m.Result.P99 <= 10*time.Millisecond && m.Result.Errors == 0
		verdict := "meets the bar"
		if !ok {
			verdict = "misses the bar"
		}
		errs := ""
		if m.Result.Errors > 0 {
			errs = fmt.Sprintf("  %d errors", m.Result.Errors)
		}
		fmt.Fprintf(out, "%-16s  %.2f of no-op  p99 %s%s  %s\n",
			targetName(m.Target), m.Ratio, ms(m.Result.P99), errs, verdict)
	}
}

// printAgainstDurable says how each pattern compares with the bare durable
// receiver measured in the same runs: the share of what this disk allows a
// receiver that stores every event before answering.
func printAgainstDurable(out io.Writer, medians []Measurement) {
	var durable Measurement
	for _, m := range medians {
		if m.Target == targetDurable {
			durable = m
		}
	}
	if durable.Result.PerSecond() == 0 {
		return
	}
	for _, m := range medians {
		if !isPattern(m.Target) {
			continue
		}
		fmt.Fprintf(out, "%-16s  %.2f of bare durable (%.0f req/s, p99 %s)\n",
			targetName(m.Target), m.Result.PerSecond()/durable.Result.PerSecond(), durable.Result.PerSecond(), ms(durable.Result.P99))
	}
}

// syncProbePages is about what one commit of the receiver writes under load.
const syncProbePages = 20

// printMachine says where the figures come from.
func printMachine(out io.Writer, c Config) {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(value)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	measure := fmt.Sprintf("%s each after %s warm-up", c.Duration, c.Warmup)
	if c.Requests > 0 {
		measure = fmt.Sprintf("%d answers each after %s warm-up", c.Requests, c.Warmup)
	}
	if c.Rate > 0 {
		fmt.Fprintf(out, "klaxon bench: %.0f events/s paced (open load), %s, %d run(s)\n", c.Rate, measure, c.Runs)
	} else {
		fmt.Fprintf(out, "klaxon bench: %d connections, %s, %d run(s)\n", c.Connections, measure, c.Runs)
	}
	fmt.Fprintf(out, "on %d CPUs (%s), Linux %s, %s\n", runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), runtime.Version())
	fmt.Fprintf(out, "data in %s (%s); the load generator shares the CPUs with the servers\n", c.Dir, fsType(c.Dir))
	if c.Peer != "" {
		v := AlertmanagerVersion(c.PeerExe)
		if v == "" {
			v = "(version unknown)"
		}
		fmt.Fprintf(out, "peer: Alertmanager %s, %s\n", v, c.PeerExe)
	}
	if c.pg != nil {
		fmt.Fprintln(out, c.pg.describe())
	}
	if p50, p99, err := syncLatency(c.Dir, syncProbePages, 200); err == nil {
		fmt.Fprintf(out, "the disk syncs %d written pages in %s (p50), %s (p99) before any load\n",
			syncProbePages, ms(p50), ms(p99))
	}
	fmt.Fprintln(out)
}
