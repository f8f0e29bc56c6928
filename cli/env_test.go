package cli

import (
	"flag"
	"regexp"
	"strings"
	"testing"
)

// Every variable a flag's help names is read: a flag saying "(KLAXON_X)"
// is set from KLAXON_X. (KLAXON_DATABASE was named in the help and the
// README but read by nothing, so a node meant for the team's PostgreSQL
// started on SQLite in its data directory.)
func TestEveryVariableTheHelpNamesIsRead(t *testing.T) {
	var c Config
	fs := newFlagSet("klaxon serve", "klaxon serve [flags]", "", &syncBuffer{})
	serverFlags(fs, &c)
	named := regexp.MustCompile(`\((KLAXON_[A-Z_]+)\)`)
	checked := 0
	fs.VisitAll(func(f *flag.Flag) {
		m := named.FindStringSubmatch(f.Usage)
		if m == nil {
			return
		}
		checked++
		if got := envOf[f.Name]; got != m[1] {
			t.Errorf("--%s: help names %s, the flag reads %q", f.Name, m[1], got)
		}
	})
	if checked < 10 {
		t.Fatalf("only %d flags name a variable; the pattern no longer matches the help", checked)
	}
}

// KLAXON_DATABASE points a command at PostgreSQL like --database does: a
// node never falls back to SQLite in its data directory.
func TestDatabaseFromTheEnvironment(t *testing.T) {
	t.Setenv("KLAXON_DATABASE", "postgres://klaxon@127.0.0.1:1/klaxon?connect_timeout=2")
	var c Config
	fs := newFlagSet("klaxon serve", "klaxon serve [flags]", "", &syncBuffer{})
	serverFlags(fs, &c)
	if _, err := parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Database, "postgres://klaxon@127.0.0.1:1/") {
		t.Fatalf("Database = %q", c.Database)
	}
	dir := t.TempDir()
	code, _, errOut := run(t, "incidents", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Fatalf("incidents with an unreachable KLAXON_DATABASE: %d %q", code, errOut)
	}
}
