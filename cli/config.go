// Package cli is klaxon's command line: the flags and environment, the app
// that wires storage, receiver and console together, and the subcommands.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// DefaultListen is loopback only: nothing outside this machine can page it
// unless asked.
const DefaultListen = "127.0.0.1:8765"

// Config is what the common flags and KLAXON_* variables say.
type Config struct {
	Listen         string
	DataDir        string
	Database       string // postgres://… for a team's shared database; empty: SQLite in DataDir
	AcceptAnyToken bool
	LogFile        string
	NoBell         bool
	JournalLimit   int
	KeepSuppressed int
	APIToken       string // from KLAXON_API_TOKEN only: a flag would show in ps
	RateLimit      float64
	TLSCert        string
	TLSKey         string
	Retention      storage.Retention
	SSHAddr        string
	AuthorizedKeys string
	OnTrigger      string
	DesktopNotify  bool
	Realert        realertFlag
}

// realertFlag reads --realert sev1=5m,sev2=15m,none=1h (off: "off").
type realertFlag map[incidents.Severity]time.Duration

func (r *realertFlag) String() string {
	var parts []string
	for _, sev := range append(incidents.Severities, incidents.NoSeverity) {
		if d, ok := (*r)[sev]; ok && d > 0 {
			name := string(sev)
			if sev == incidents.NoSeverity {
				name = "none"
			}
			parts = append(parts, name+"="+d.String())
		}
	}
	return strings.Join(parts, ",")
}

func (r *realertFlag) Set(v string) error {
	m := realertFlag{}
	if v != "off" && v != "" {
		for _, part := range strings.Split(v, ",") {
			name, dur, ok := strings.Cut(strings.TrimSpace(part), "=")
			d, err := time.ParseDuration(dur)
			if !ok || err != nil || d < 0 {
				return fmt.Errorf("%q is not SEVERITY=DURATION (such as sev1=5m)", part)
			}
			sev := incidents.NoSeverity
			if name != "none" {
				if sev, err = incidents.ParseSeverity(name); err != nil || sev == incidents.NoSeverity {
					return fmt.Errorf("%q: severity is sev1, sev2, sev3 or none", part)
				}
			}
			m[sev] = d
		}
	}
	*r = m
	return nil
}

// env reads KLAXON_<NAME> (def when unset or empty), for a flag's default
// where the flag set does not go through parse.
func env(name, def string) string {
	if v, ok := os.LookupEnv("KLAXON_" + name); ok && v != "" {
		return v
	}
	return def
}

// envOf names the KLAXON_* variable of each flag that has one. parse sets
// each such flag from its variable before it reads the command line, through
// the flag's own parser, so that a value the flag would refuse is refused in
// the environment too (and the command line still wins).
var envOf = map[string]string{
	"listen":              "KLAXON_LISTEN",
	"data-dir":            "KLAXON_DATA_DIR",
	"database":            "KLAXON_DATABASE",
	"tls-cert":            "KLAXON_TLS_CERT",
	"tls-key":             "KLAXON_TLS_KEY",
	"accept-any-token":    "KLAXON_ACCEPT_ANY_TOKEN",
	"log-file":            "KLAXON_LOG_FILE",
	"desktop-notify":      "KLAXON_DESKTOP_NOTIFY",
	"no-bell":             "KLAXON_NO_BELL",
	"journal-limit":       "KLAXON_JOURNAL_LIMIT",
	"keep-suppressed":     "KLAXON_KEEP_SUPPRESSED",
	"rate-limit":          "KLAXON_RATE_LIMIT",
	"ssh":                 "KLAXON_SSH",
	"authorized-keys":     "KLAXON_AUTHORIZED_KEYS",
	"on-trigger":          "KLAXON_ON_TRIGGER",
	"realert":             "KLAXON_REALERT",
	"keep-resolved":       "KLAXON_KEEP_RESOLVED",
	"keep-resolved-count": "KLAXON_KEEP_RESOLVED_COUNT",
	"keep-requests":       "KLAXON_KEEP_REQUESTS",
}

// applyEnv sets fs's flags from their KLAXON_* variables (an empty one is
// unset). The flags count as not given (fs.Visit does not see them), so a
// command can still tell that a flag was named on its command line.
func applyEnv(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name, ok := envOf[f.Name]
		if !ok {
			return
		}
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %s, as for --%s; correct it or unset it", name, v, wants(f, err), f.Name))
		}
	})
	return errors.Join(errs...)
}

// wants says what a flag takes, for a value it refused with err.
func wants(f *flag.Flag, err error) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return "want true or false (or 1 or 0)"
		case time.Duration:
			return "want a duration such as 90s, 30m or 720h"
		case int, int64, uint, uint64:
			return "want a whole number"
		case float64:
			return "want a number"
		}
	}
	return err.Error()
}

// defaultDataDir is $XDG_DATA_HOME/klaxon, or ~/.local/share/klaxon.
func defaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "klaxon")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "klaxon")
	}
	return "klaxon-data"
}

// commonFlags adds --listen, --data-dir and --tls-cert to fs; parse sets them
// from their KLAXON_* variables.
func commonFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Listen, "listen", DefaultListen, "address to listen on `ADDR` (KLAXON_LISTEN); loopback only by default")
	fs.StringVar(&c.DataDir, "data-dir", defaultDataDir(), "`DIR` for the database, api token and log (KLAXON_DATA_DIR)")
	fs.StringVar(&c.Database, "database", "", "a team's shared PostgreSQL, `postgres://USER@HOST/DB` (KLAXON_DATABASE); without it, SQLite in --data-dir")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "the certificate `FILE` the klaxon at --listen serves: trust it and speak HTTPS to it (KLAXON_TLS_CERT)")
	c.APIToken = os.Getenv("KLAXON_API_TOKEN")
}

// serverFlags adds the flags of klaxon and klaxon serve; parse sets them from
// their KLAXON_* variables.
func serverFlags(fs *flag.FlagSet, c *Config) {
	commonFlags(fs, c)
	fs.Lookup("tls-cert").Usage = "serve HTTPS with this certificate `FILE` (with --tls-key) (KLAXON_TLS_CERT)"
	fs.BoolVar(&c.AcceptAnyToken, "accept-any-token", false, "make an unknown token an integration named after it, instead of a 404; for developing an integration locally (KLAXON_ACCEPT_ANY_TOKEN)")
	fs.StringVar(&c.LogFile, "log-file", "", "write the log to `FILE` (KLAXON_LOG_FILE); default: klaxon.log in the data directory, or stderr for serve")
	fs.BoolVar(&c.DesktopNotify, "desktop-notify", false, "also send new sev1s and re-alerts as desktop notifications (OSC 9: iTerm2, WezTerm, kitty, foot, Windows Terminal) (KLAXON_DESKTOP_NOTIFY)")
	fs.BoolVar(&c.NoBell, "no-bell", false, "do not ring the terminal bell for a new sev1 incident (KLAXON_NO_BELL)")
	fs.IntVar(&c.JournalLimit, "journal-limit", 10000, "how many requests the request journal keeps, newest first (KLAXON_JOURNAL_LIMIT)")
	fs.IntVar(&c.KeepSuppressed, "keep-suppressed", 100, "keep the first `N` and the newest N suppressed events of each incident (the counter counts them all); -1 keeps every one (KLAXON_KEEP_SUPPRESSED)")
	fs.Float64Var(&c.RateLimit, "rate-limit", 0, "most events a second `N` one integration may send before klaxon answers 429; 0 is no limit (KLAXON_RATE_LIMIT)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "the certificate's private key `FILE` (KLAXON_TLS_KEY)")
	fs.StringVar(&c.SSHAddr, "ssh", "", "also serve the console over SSH on `ADDR` (e.g. 127.0.0.1:2222), with --authorized-keys (KLAXON_SSH)")
	fs.StringVar(&c.AuthorizedKeys, "authorized-keys", "", "the authorized_keys `FILE` of who may open the SSH console; no other key gets in (KLAXON_AUTHORIZED_KEYS)")
	fs.StringVar(&c.OnTrigger, "on-trigger", "", "run `COMMAND` (through sh -c) with the incident as JSON on stdin when an incident is created or re-alerts (KLAXON_ON_TRIGGER)")
	c.Realert = realertFlag{}
	_ = c.Realert.Set("sev1=5m,sev2=15m")
	fs.Var(&c.Realert, "realert", "alert again while an incident stays triggered and unacknowledged, every `SEV=DURATION,…` (sev1, sev2, sev3, none; off for never) (KLAXON_REALERT)")
	d := storage.DefaultRetention
	fs.DurationVar(&c.Retention.ResolvedFor, "keep-resolved", d.ResolvedFor, "keep resolved incidents this long after they resolved; 0 keeps them (KLAXON_KEEP_RESOLVED)")
	fs.IntVar(&c.Retention.ResolvedCount, "keep-resolved-count", d.ResolvedCount, "keep at most `N` resolved incidents, newest first; 0 is no limit (KLAXON_KEEP_RESOLVED_COUNT)")
	fs.DurationVar(&c.Retention.JournalFor, "keep-requests", d.JournalFor, "keep request journal entries this long; 0 keeps them (KLAXON_KEEP_REQUESTS)")
}

// newFlagSet makes a flag set whose --help prints usage, a description and
// the flags. A wrong command line prints only the error, the usage line and
// where the rest is (parse, usageError).
func newFlagSet(name, usage, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: %s\n\n%s\n", usage, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// usageLine is the first paragraph fs.Usage prints: "usage: …".
func usageLine(fs *flag.FlagSet) string {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	line, _, _ := strings.Cut(b.String(), "\n\n")
	return strings.TrimSpace(line)
}

// shortUsage prints the usage line and where the whole help is, after an
// error on the command line: not the whole flag list, which would push the
// error off the screen.
func shortUsage(fs *flag.FlagSet) {
	out := fs.Output()
	if line := usageLine(fs); line != "" && line != "usage:" {
		fmt.Fprintln(out, line)
	}
	fmt.Fprintf(out, "see %s --help\n", fs.Name())
}

// parseInterspersed parses flags that may come before or after positional
// arguments (klaxon send URL --title T), returning the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// baseURL is how senders on this machine reach an address we listen on.
func baseURL(addr string) string {
	host, port, ok := strings.Cut(addr, ":")
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port, ok = addr[:i], addr[i+1:], true
	}
	if !ok {
		return "http://" + addr
	}
	switch host {
	case "", "0.0.0.0", "[::]", "::":
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	return "http://" + host + ":" + port
}
