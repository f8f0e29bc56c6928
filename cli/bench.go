package cli

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"klaxon/internal/bench"
	"klaxon/tui"
)

// runBench is `klaxon bench`: the receiver under load, beside a no-op
// handler driven the same way (see package bench).
func runBench(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 && args[0] == "child" {
		return runBenchChild(ctx, args[1:], e)
	}
	c := bench.Config{Noop: true, Durable: true}
	var patterns string
	var console bool
	var rate float64
	fs := newFlagSet("klaxon bench", "klaxon bench [flags] [-- receiver flags]",
		"Starts the receiver on loopback with a temporary data directory, drives it with --connections keep-alive\n"+
			"connections for --duration in two patterns (new: every title new; repeat: --titles titles repeating, so\n"+
			"most events are suppressed), then a no-op handler (decode the JSON, answer 200) and a bare durable\n"+
			"receiver (the same, storing one row per event before it answers) the same way, and prints req/s,\n"+
			"p50/p99, the ratio to the no-op handler and to the bare durable receiver, and the servers' peak RSS\n"+
			"and CPU per request. --peer alertmanager measures Prometheus Alertmanager the same way in the same\n"+
			"runs; --rate N paces every load at N events a second instead (latency from when each event fell due).\n"+
			"--database URL also measures klaxon on that PostgreSQL in each pattern beside klaxon on SQLite, each\n"+
			"measurement in a fresh database (or schema) dropped after it, with PostgreSQL's CPU when it runs here.\n"+
			"Flags after -- go to the receiver (for example -- --journal-limit 1000).", e.Stderr)
	fs.IntVar(&c.Connections, "connections", 64, "keep-alive connections, one request in flight on each")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each measurement lasts")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "load sent before each measurement starts, not counted")
	fs.Int64Var(&c.Requests, "requests", 0, "end each measurement after `N` answers instead of --duration (e.g. 1000000 to see memory and database growth)")
	fs.IntVar(&c.Runs, "runs", 1, "measure each target this many times and report the medians")
	fs.StringVar(&patterns, "patterns", "new,repeat", "which patterns to send: new, repeat, or both")
	fs.IntVar(&c.Titles, "titles", 1000, "distinct titles of the repeat pattern")
	fs.BoolVar(&c.Noop, "noop", true, "measure the no-op handler too, for the ratio")
	fs.BoolVar(&c.Durable, "durable", true, "measure a bare durable receiver too (the no-op handler plus one row per event,\ngroup commit, synchronous=FULL): what this disk allows any receiver that stores before it answers")
	fs.StringVar(&c.Peer, "peer", "", "also measure `PEER` in each pattern in the same runs: alertmanager (Prometheus Alertmanager,\nPOST /api/v2/alerts, one alert per request, alertnames from --titles names), and print klaxon's\nreq/s and CPU per request against it")
	fs.StringVar(&c.PeerExe, "alertmanager", "", "the Alertmanager binary for --peer alertmanager (default prometheus-alertmanager or\nalertmanager on PATH)")
	fs.StringVar(&c.Dir, "dir", "", "make the temporary data directories in `DIR` (default the system's temp dir; put it on the disk you care about)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the data directories")
	fs.StringVar(&c.ProfileDir, "profile", "", "write each server's CPU profile into `DIR` (for go tool pprof; Alertmanager's from its /debug/pprof\nover the window)")
	fs.BoolVar(&c.CommitLog, "commit-log", false, "with --profile: the receiver also writes when each commit returned and how many events it held\n(TARGET-runN.commits.txt: nanoseconds since it started, events)")
	fs.DurationVar(&c.WaitIdle, "wait-idle", 0, "before each measurement, wait up to `D` for the machine to be idle (other processes under\n0.1 CPU for 3 s): on a machine shared with other work, figures taken beside it say less")
	fs.BoolVar(&console, "console", false, "instead, time the console's answer to key presses while the receiver takes the first pattern's load,\nboth in this process as klaxon runs them")
	fs.Float64Var(&rate, "rate", 0, "pace every load at `N` events a second (an open load from --workers goroutines: latency counts\nfrom when each event fell due) instead of --connections closed-loop connections. With --console,\nthe events go straight into the receiver's HTTP handler in this process (no sockets)")
	fs.StringVar(&c.Database, "database", "", "also measure klaxon on the PostgreSQL at `URL` in each pattern, beside klaxon on SQLite in the same\nruns: a new database for each measurement (or, if the URL's user may not create databases, a new\nschema of its database), dropped after it; nothing already there is touched. Its server's CPU counts\nwhen it runs on this machine (every process of its cluster: give it a cluster that does nothing else)")
	fs.IntVar(&c.Workers, "workers", 1000, "with --rate: goroutines sending, each on an idle keep-alive connection or a new one")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	c.ServerArgs = pos
	for _, p := range strings.Split(patterns, ",") {
		switch p := bench.Pattern(strings.TrimSpace(p)); p {
		case bench.NewTitles, bench.RepeatTitles:
			c.Patterns = append(c.Patterns, p)
		case "":
		default:
			return usageError(fs, "pattern %q is not new or repeat", p)
		}
	}
	if len(c.Patterns) == 0 && !c.Noop && !c.Durable {
		return usageError(fs, "nothing to measure")
	}
	if rate < 0 {
		return usageError(fs, "--rate is a number of events a second")
	}
	c.Rate = rate
	switch c.Peer {
	case "":
		if c.PeerExe != "" {
			return usageError(fs, "--alertmanager goes with --peer alertmanager")
		}
	case bench.PeerAlertmanager:
		if console {
			return usageError(fs, "--peer is not for --console")
		}
		if len(c.Patterns) == 0 {
			return usageError(fs, "--peer needs a pattern")
		}
		if c.PeerExe, err = bench.FindAlertmanager(c.PeerExe); err != nil {
			return err
		}
	default:
		return usageError(fs, "--peer %q: the peer klaxon bench knows is alertmanager", c.Peer)
	}
	if c.Exe, err = os.Executable(); err != nil {
		return fmt.Errorf("find the klaxon binary to run as the server under test: %v", err)
	}
	if c.ProfileDir != "" {
		if err := os.MkdirAll(c.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	if c.Database != "" {
		if console {
			return usageError(fs, "--database is not for --console")
		}
		if len(c.Patterns) == 0 {
			return usageError(fs, "--database needs a pattern")
		}
		if !isPostgres(c.Database) {
			return usageError(fs, "--database %q is not a postgres:// URL", redactURL(c.Database))
		}
	}
	if console {
		return runConsoleBench(ctx, c, rate, e)
	}
	_, err = bench.Run(ctx, c, e.Stdout)
	return err
}

// runConsoleBench is klaxon bench --console: the receiver and the console in
// one process, with a temporary data directory, as `klaxon` runs them; the
// load generator drives the receiver while keys are pressed every 100 ms.
func runConsoleBench(ctx context.Context, bc bench.Config, rate float64, e Env) error {
	dir, err := os.MkdirTemp(bc.Dir, "klaxon-bench-")
	if err != nil {
		return err
	}
	if !bc.Keep {
		defer os.RemoveAll(dir)
	}
	var c Config
	fs := newFlagSet("klaxon bench", "", "", io.Discard)
	serverFlags(fs, &c)
	if _, err := parse(fs, bc.ServerArgs); err != nil {
		return err
	}
	c.Listen, c.DataDir = "127.0.0.1:0", dir
	app, err := OpenApp(ctx, c, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	go app.Run(serveCtx)
	pattern := bench.NewTitles
	if len(bc.Patterns) > 0 {
		pattern = bc.Patterns[0]
	}
	if bc.ProfileDir != "" {
		f, err := os.Create(filepath.Join(bc.ProfileDir, "console.cpu.pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	drive := func(ctx context.Context) (bench.Result, error) {
		return bench.Drive(ctx, bench.Load{
			URL: app.WebhookURL(), Pattern: pattern, Titles: bc.Titles, Connections: bc.Connections,
			Warmup: bc.Warmup, Duration: bc.Duration, Requests: bc.Requests, Nonce: "console",
		})
	}
	load := fmt.Sprintf("%d connections of %s", bc.Connections, pattern)
	if rate > 0 {
		drive = func(ctx context.Context) (bench.Result, error) {
			return bench.DrivePaced(ctx, bench.Paced{
				Pattern: pattern, Titles: bc.Titles, Rate: rate, Warmup: bc.Warmup, Duration: bc.Duration,
				Nonce: "console", Send: handlerSender(app.Receiver, app.WebhookURL()),
			})
		}
		load = fmt.Sprintf("%.0f events/s of %s into the receiver's handler", rate, pattern)
	}
	fmt.Fprintf(e.Stdout, "klaxon bench --console: %s\nfor %s after %s warm-up, a key every 100ms, %d CPUs\n",
		load, bc.Duration, bc.Warmup, runtime.NumCPU())
	res, err := bench.MeasureConsole(ctx, tui.New(app.Service, app.consoleOptions()), drive, 100*time.Millisecond)
	if err != nil {
		return err
	}
	latency := "from sending to the answer"
	if rate > 0 {
		latency = "from falling due to the answer"
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	fmt.Fprintf(e.Stdout, "receiver: %.0f events/s taken, %d errors; %s:\n  p50 %s, p99 %s\n",
		res.Load.PerSecond(), res.Load.Errors, latency, round(res.Load.P50), round(res.Load.P99))
	fmt.Fprintf(e.Stdout, "console: %d keys; from a key to the frame that shows it:\n  p50 %s, p99 %s, max %s (%d frames)\n",
		res.Keys, round(res.KeyP50), round(res.KeyP99), round(res.KeyMax), res.Frames)
	return nil
}

// handlerSender posts an event to h, the receiver's handler, at webhookURL,
// in this process: the whole receiver but the sockets.
func handlerSender(h http.Handler, webhookURL string) func(context.Context, []byte) (int, error) {
	return func(ctx context.Context, body []byte) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "klaxon-bench")
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, nil
	}
}

// runBenchChild is a server under test: `klaxon bench child noop`,
// `klaxon bench child durable --data-dir DIR` or
// `klaxon bench child receiver [klaxon serve flags]`. It prints "url <URL>"
// once it listens and serves until it is signalled.
func runBenchChild(ctx context.Context, args []string, e Env) error {
	if len(args) == 0 {
		return fmt.Errorf("bench child needs noop, durable or receiver")
	}
	kind := args[0]
	var c Config
	var cpuProfile, memProfile, traceFile, commitLog string
	fs := newFlagSet("klaxon bench child", "klaxon bench child noop|durable|receiver [flags]", "A server under test for klaxon bench.", e.Stderr)
	serverFlags(fs, &c)
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	fs.StringVar(&memProfile, "memprofile", "", "write an allocation profile to `FILE` on exit")
	fs.StringVar(&traceFile, "trace", "", "write an execution trace to `FILE` (for go tool trace)")
	fs.StringVar(&commitLog, "commit-log", "", "receiver: write to `FILE` on exit when each commit returned (ns since start) and its events")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			return err
		}
		if err := trace.Start(f); err != nil {
			return err
		}
		defer f.Close()
		defer trace.Stop()
	}
	if memProfile != "" {
		defer func() {
			if f, err := os.Create(memProfile); err == nil {
				runtime.GC()
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	switch kind {
	case "noop":
		return bench.ServeNoop(ctx, e.Stdout)
	case "durable":
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data-dir" })
		if !given {
			return fmt.Errorf("bench child durable needs --data-dir (a scratch directory, not klaxon's own)")
		}
		return bench.ServeDurable(ctx, c.DataDir, e.Stdout)
	case "receiver":
		c.Listen = "127.0.0.1:0"
		app, err := OpenApp(ctx, c, nil)
		if err != nil {
			return err
		}
		defer app.Close()
		if commitLog != "" {
			defer logCommits(app, commitLog)()
		}
		fmt.Fprintf(e.Stdout, "url %s\n", app.WebhookURL())
		return app.Run(ctx)
	}
	return fmt.Errorf("bench child %q: want noop, durable or receiver", kind)
}

// logCommits has app's writer note when each commit returned and how many
// writes it held (besides the metrics), and returns what writes them to file
// (nanoseconds since now, writes; one commit a line) once the writer is done.
func logCommits(app *App, file string) (write func()) {
	type commit struct {
		at     time.Duration
		writes int
	}
	start := time.Now()
	commits := make([]commit, 0, 1<<16)
	db := app.Store
	db.OnCommit(func(writes int) { // on the writer: only append
		app.Metrics.ObserveCommit(writes)
		commits = append(commits, commit{time.Since(start), writes})
	})
	return func() {
		db.Close() // the writer stops: commits is its no more (app.Close then does nothing more to it)
		f, err := os.Create(file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "klaxon bench child: %v\n", err)
			return
		}
		w := bufio.NewWriter(f)
		for _, c := range commits {
			fmt.Fprintf(w, "%d %d\n", c.at.Nanoseconds(), c.writes)
		}
		w.Flush()
		f.Close()
	}
}
