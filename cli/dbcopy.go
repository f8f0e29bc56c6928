package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"klaxon/pgstore"
)

const dbUsage = "klaxon db copy --from DIR --to postgres://USER@HOST/DB [--live]"

// runDB runs `klaxon db …`: what concerns the database as a whole.
func runDB(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 && args[0] == "copy" {
		return runDBCopy(ctx, args[1:], e)
	}
	fs := newFlagSet("klaxon db", dbUsage,
		"  copy   copy a data directory's SQLite database into a team's PostgreSQL\n\nEach takes --help.", e.Stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError(fs, "db needs a command: copy")
	}
	return usageError(fs, "unknown db command %q%s (use copy)", pos[0], didYouMean(pos[0], []string{"copy"}))
}

// runDBCopy copies a data directory's SQLite database into PostgreSQL: a
// team that started on one box moves to several nodes on one PostgreSQL
// keeping its history, and its senders keep their webhook URLs.
func runDBCopy(ctx context.Context, args []string, e Env) error {
	var from, to string
	var live bool
	flags := newFlagSet("klaxon db copy", dbUsage,
		"Copies the klaxon database in --from (klaxon.db) into the PostgreSQL at --to, so that a team can move from one\n"+
			"box to klaxon nodes on PostgreSQL without losing history or re-pointing senders: integrations keep their tokens\n"+
			"(webhook URLs keep working), timers, chaos, removals and retired tokens; incidents keep their ids, every column and\n"+
			"their timelines; the request journal comes along. The target must hold no klaxon data (a fresh database or\n"+
			"schema); everything is copied in one transaction, all or nothing. The SQLite file is only read. Journaled bodies\n"+
			"are copied byte for byte; other text with bytes PostgreSQL's text cannot hold (not UTF-8, NUL) keeps U+FFFD in\n"+
			"their place (it says how many).\n\n"+
			"Stop the klaxon using --from first: a copy of a running one (--live) misses what it takes after the copy starts.", e.Stderr)
	flags.StringVar(&from, "from", defaultDataDir(), "the data `DIR` to copy (KLAXON_DATA_DIR)")
	flags.StringVar(&to, "to", "", "the PostgreSQL to copy into, `postgres://USER@HOST/DB` (?search_path=S for a schema); its schema is made or brought up to date")
	flags.BoolVar(&live, "live", false, "copy even while a klaxon runs on --from: one consistent snapshot, without what it takes afterwards")
	if d := os.Getenv("KLAXON_DATA_DIR"); d != "" {
		from = d
	}
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(flags, "unexpected argument %q", pos[0])
	}
	if to == "" {
		return usageError(flags, "--to names the PostgreSQL to copy into (postgres://USER@HOST/DB)")
	}
	if !isPostgres(to) {
		return usageError(flags, "--to %q is not a postgres:// URL", redactURL(to))
	}
	path := filepath.Join(from, "klaxon.db")
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the data directory %s: %w", from, err)
		}
		return fmt.Errorf("%s holds no klaxon database (no klaxon.db): --from names the data directory of the klaxon to copy", from)
	}
	if !live {
		release, err := holdDataDir(from, path)
		if err != nil {
			return err
		}
		defer release() // after the copy has closed the database
	} else {
		fmt.Fprintf(e.Stderr, "copying a snapshot of %s as it is now (--live): what its klaxon takes from now on is not copied\n", from)
	}
	res, err := pgstore.ImportSQLite(ctx, path, to, pgstore.ImportOptions{Progress: func(table string, rows int64) {
		if rows > 0 {
			fmt.Fprintf(e.Stderr, "copying %s…\n", copyCount(rows, table))
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprint(e.Stdout, copyReport(res, from, to))
	return nil
}

// copyReport is what a copy prints: what it copied, anything it could not
// keep as it was, and what to do next.
func copyReport(res *pgstore.Imported, from, to string) string {
	var b strings.Builder
	integ := copyCount(res.Integrations, "integrations")
	var extra []string
	if res.Removed > 0 {
		extra = append(extra, fmt.Sprintf("%s removed", thousands(int(res.Removed))))
	}
	if res.RetiredTokens > 0 {
		extra = append(extra, copyCount(res.RetiredTokens, "retired_tokens"))
	}
	if len(extra) > 0 {
		integ += " (" + strings.Join(extra, ", ") + ")"
	}
	fmt.Fprintf(&b, "copied %s, %s, %s, %s in %s\n", integ, copyCount(res.Incidents, "incidents"),
		copyCount(res.Timeline, "timeline"), copyCount(res.Requests, "requests"), copySeconds(res.Took))
	fmt.Fprintf(&b, "  into schema %s of %s\n", res.Schema, redactURL(to))
	for _, col := range sortedKeys(res.Replaced) {
		n := res.Replaced[col]
		what := fmt.Sprintf("%s values of %s", thousands(int(n)), col)
		fmt.Fprintf(&b, "  %s held bytes PostgreSQL's text cannot (not UTF-8, or NUL): kept with U+FFFD in their place, as klaxon on PostgreSQL stores them when they arrive\n", what)
	}
	for _, table := range sortedKeys(res.Skipped) {
		fmt.Fprintf(&b, "  left out %s that belong to nothing in %s (their %s is gone)\n",
			copyCount(res.Skipped[table], table), from, map[string]string{"timeline": "incident", "incidents": "integration", "retired_tokens": "integration"}[table])
	}
	fmt.Fprintf(&b, "next: start klaxon (each node of the team) with --database %s; senders keep their webhook URLs, the tokens are the same.\n", redactURL(to))
	if _, err := os.Stat(filepath.Join(from, "api-token")); err == nil && os.Getenv("KLAXON_API_TOKEN") == "" {
		fmt.Fprintf(&b, "Give the nodes KLAXON_API_TOKEN=$(cat %s) so that API clients and klaxon attach keep working.\n", filepath.Join(from, "api-token"))
	}
	fmt.Fprintf(&b, "Do not start klaxon on %s without --database again: what it took there would not reach PostgreSQL.\n", from)
	return b.String()
}

// copyCount is "1,204,000 timeline entries", "1 incident".
func copyCount(n int64, table string) string {
	names, ok := map[string][2]string{
		"integrations":   {"integration", "integrations"},
		"retired_tokens": {"retired token", "retired tokens"},
		"incidents":      {"incident", "incidents"},
		"timeline":       {"timeline entry", "timeline entries"},
		"requests":       {"request", "requests"},
	}[table]
	if !ok {
		names = [2]string{table, table}
	}
	if n == 1 {
		return "1 " + names[0]
	}
	return thousands(int(n)) + " " + names[1]
}

// copySeconds is "41 s", or "2.3 s" under ten.
func copySeconds(d time.Duration) string {
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// holdDataDir makes sure no klaxon runs on dir: it takes shared locks on
// the data directory's lock file and on the database file (the exclusive
// locks a running klaxon holds), so that none starts on dir while the copy
// reads it; release drops them. It never writes either file.
func holdDataDir(dir, db string) (release func(), err error) {
	var held []*os.File
	release = func() {
		for _, f := range held {
			f.Close() // drops its flock
		}
	}
	for _, p := range []string{filepath.Join(dir, "lock"), db} {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // no klaxon ever locked it
		}
		if err != nil {
			release()
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			f.Close()
			release()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &copyInUseError{DataDirInUseError{Dir: dir, PID: lockHolder(p)}}
			}
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		held = append(held, f)
	}
	return release, nil
}

// copyInUseError refuses to copy a data directory a klaxon runs on.
type copyInUseError struct{ DataDirInUseError }

func (e *copyInUseError) Error() string {
	return fmt.Sprintf("the data directory %s is in use by a klaxon (pid %s): stop it for a consistent copy, then copy; "+
		"or pass --live to copy it as it is now while it runs (what it takes afterwards is not copied)", e.Dir, e.PID)
}

func (e *copyInUseError) Unwrap() error { return &e.DataDirInUseError }

// lockHolder is the pid of the process holding an exclusive flock on path,
// from /proc/locks, else the pid a klaxon wrote into it (its lock file);
// "unknown" when neither tells.
func lockHolder(path string) string {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) == nil {
		dev := uint64(st.Dev)
		major := (dev>>8)&0xfff | (dev>>32)&^0xfff
		minor := dev&0xff | (dev>>12)&^0xff
		want := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
		if f, err := os.Open("/proc/locks"); err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				// 1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
				fields := strings.Fields(sc.Text())
				if len(fields) >= 6 && fields[1] == "FLOCK" && fields[3] == "WRITE" && fields[5] == want {
					return fields[4]
				}
			}
		}
	}
	if filepath.Base(path) == "lock" {
		if b, err := os.ReadFile(path); err == nil {
			if pid := strings.TrimSpace(string(b)); pid != "" {
				return pid
			}
		}
	}
	return "unknown"
}
