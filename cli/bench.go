package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"klaxon/bench"
)

// runBench is `klaxon bench`: the receiver under load, beside a no-op
// handler driven the same way (see package bench).
func runBench(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 && args[0] == "child" {
		return runBenchChild(ctx, args[1:], e)
	}
	c := bench.Config{Noop: true}
	var patterns string
	fs := newFlagSet("klaxon bench", "klaxon bench [flags] [-- receiver flags]",
		"Starts the receiver on loopback with a temporary data directory, drives it with --connections keep-alive\n"+
			"connections for --duration in two patterns (new: every title new; repeat: --titles titles repeating, so\n"+
			"most events are suppressed), then a no-op handler (decode the JSON, answer 200) the same way, and prints\n"+
			"req/s, p50/p99, the ratio to the no-op handler and the servers' peak RSS. Flags after -- go to the\n"+
			"receiver (for example -- --journal-limit 1000).", e.Stderr)
	fs.IntVar(&c.Connections, "connections", 64, "keep-alive connections, one request in flight on each")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long each measurement lasts")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "load sent before each measurement starts, not counted")
	fs.Int64Var(&c.Requests, "requests", 0, "end each measurement after `N` answers instead of --duration (e.g. 1000000 to see memory and database growth)")
	fs.IntVar(&c.Runs, "runs", 1, "measure each target this many times and report the medians")
	fs.StringVar(&patterns, "patterns", "new,repeat", "which patterns to send: new, repeat, or both")
	fs.IntVar(&c.Titles, "titles", 1000, "distinct titles of the repeat pattern")
	fs.BoolVar(&c.Noop, "noop", true, "measure the no-op handler too, for the ratio")
	fs.StringVar(&c.Dir, "dir", "", "make the temporary data directories in `DIR` (default the system's temp dir; put it on the disk you care about)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the data directories")
	fs.StringVar(&c.ProfileDir, "profile", "", "write each server's CPU profile into `DIR` (for go tool pprof)")
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
	if len(c.Patterns) == 0 && !c.Noop {
		return usageError(fs, "nothing to measure")
	}
	if c.Exe, err = os.Executable(); err != nil {
		return fmt.Errorf("find the klaxon binary to run as the server under test: %v", err)
	}
	if c.ProfileDir != "" {
		if err := os.MkdirAll(c.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	_, err = bench.Run(ctx, c, e.Stdout)
	return err
}

// runBenchChild is a server under test: `klaxon bench child noop` or
// `klaxon bench child receiver [klaxon serve flags]`. It prints "url <URL>"
// once it listens and serves until it is signalled.
func runBenchChild(ctx context.Context, args []string, e Env) error {
	if len(args) == 0 {
		return fmt.Errorf("bench child needs noop or receiver")
	}
	kind := args[0]
	var c Config
	var cpuProfile, memProfile string
	fs := newFlagSet("klaxon bench child", "klaxon bench child noop|receiver [flags]", "A server under test for klaxon bench.", e.Stderr)
	serverFlags(fs, &c)
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	fs.StringVar(&memProfile, "memprofile", "", "write an allocation profile to `FILE` on exit")
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
	case "receiver":
		c.Listen = "127.0.0.1:0"
		app, err := OpenApp(ctx, c, nil)
		if err != nil {
			return err
		}
		defer app.Close()
		fmt.Fprintf(e.Stdout, "url %s\n", app.WebhookURL())
		return app.Serve(ctx)
	}
	return fmt.Errorf("bench child %q: want noop or receiver", kind)
}
