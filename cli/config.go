// Package cli is klaxon's command line: the flags and environment, the app
// that wires storage, receiver and console together, and the subcommands.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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

// env reads KLAXON_<NAME>.
func env(name, def string) string {
	if v, ok := os.LookupEnv("KLAXON_" + name); ok && v != "" {
		return v
	}
	return def
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(env(name, "false"))
	return v
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

// commonFlags adds --listen and --data-dir (and their KLAXON_* defaults) to fs.
func commonFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Listen, "listen", env("LISTEN", DefaultListen), "address to listen on `ADDR` (KLAXON_LISTEN); loopback only by default")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", defaultDataDir()), "`DIR` for the database, api token and log (KLAXON_DATA_DIR)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "the certificate `FILE` the klaxon at --listen serves: trust it and speak HTTPS to it (KLAXON_TLS_CERT)")
	c.APIToken = os.Getenv("KLAXON_API_TOKEN")
}

// serverFlags adds the flags of klaxon and klaxon serve.
func serverFlags(fs *flag.FlagSet, c *Config) {
	commonFlags(fs, c)
	fs.Lookup("tls-cert").Usage = "serve HTTPS with this certificate `FILE` (with --tls-key) (KLAXON_TLS_CERT)"
	fs.BoolVar(&c.AcceptAnyToken, "accept-any-token", envBool("ACCEPT_ANY_TOKEN"), "make an unknown token an integration named after it, instead of a 404; for developing an integration locally (KLAXON_ACCEPT_ANY_TOKEN)")
	fs.StringVar(&c.LogFile, "log-file", env("LOG_FILE", ""), "write the log to `FILE` (KLAXON_LOG_FILE); default: klaxon.log in the data directory, or stderr for serve")
	fs.BoolVar(&c.DesktopNotify, "desktop-notify", envBool("DESKTOP_NOTIFY"), "also send new sev1s and re-alerts as desktop notifications (OSC 9: iTerm2, WezTerm, kitty, foot, Windows Terminal) (KLAXON_DESKTOP_NOTIFY)")
	fs.BoolVar(&c.NoBell, "no-bell", envBool("NO_BELL"), "do not ring the terminal bell for a new sev1 incident (KLAXON_NO_BELL)")
	limit, _ := strconv.Atoi(env("JOURNAL_LIMIT", "10000"))
	fs.IntVar(&c.JournalLimit, "journal-limit", limit, "how many requests the request journal keeps, newest first (KLAXON_JOURNAL_LIMIT)")
	keep, _ := strconv.Atoi(env("KEEP_SUPPRESSED", "100"))
	fs.IntVar(&c.KeepSuppressed, "keep-suppressed", keep, "keep the first `N` and the newest N suppressed events of each incident (the counter counts them all); -1 keeps every one (KLAXON_KEEP_SUPPRESSED)")
	rate, _ := strconv.ParseFloat(env("RATE_LIMIT", "0"), 64)
	fs.Float64Var(&c.RateLimit, "rate-limit", rate, "most events a second `N` one integration may send before klaxon answers 429; 0 is no limit (KLAXON_RATE_LIMIT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("TLS_KEY", ""), "the certificate's private key `FILE` (KLAXON_TLS_KEY)")
	fs.StringVar(&c.SSHAddr, "ssh", env("SSH", ""), "also serve the console over SSH on `ADDR` (e.g. 127.0.0.1:2222), with --authorized-keys (KLAXON_SSH)")
	fs.StringVar(&c.AuthorizedKeys, "authorized-keys", env("AUTHORIZED_KEYS", ""), "the authorized_keys `FILE` of who may open the SSH console; no other key gets in (KLAXON_AUTHORIZED_KEYS)")
	fs.StringVar(&c.OnTrigger, "on-trigger", env("ON_TRIGGER", ""), "run `COMMAND` (through sh -c) with the incident as JSON on stdin when an incident is created or re-alerts (KLAXON_ON_TRIGGER)")
	c.Realert = realertFlag{}
	_ = c.Realert.Set(env("REALERT", "sev1=5m,sev2=15m"))
	fs.Var(&c.Realert, "realert", "alert again while an incident stays triggered and unacknowledged, every `SEV=DURATION,…` (sev1, sev2, sev3, none; off for never) (KLAXON_REALERT)")
	d := storage.DefaultRetention
	fs.DurationVar(&c.Retention.ResolvedFor, "keep-resolved", envDuration("KEEP_RESOLVED", d.ResolvedFor), "keep resolved incidents this long after they resolved; 0 keeps them (KLAXON_KEEP_RESOLVED)")
	keepCount, _ := strconv.Atoi(env("KEEP_RESOLVED_COUNT", strconv.Itoa(d.ResolvedCount)))
	fs.IntVar(&c.Retention.ResolvedCount, "keep-resolved-count", keepCount, "keep at most `N` resolved incidents, newest first; 0 is no limit (KLAXON_KEEP_RESOLVED_COUNT)")
	fs.DurationVar(&c.Retention.JournalFor, "keep-requests", envDuration("KEEP_REQUESTS", d.JournalFor), "keep request journal entries this long; 0 keeps them (KLAXON_KEEP_REQUESTS)")
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}

// newFlagSet makes a flag set whose --help prints usage, a description and the flags.
func newFlagSet(name, usage, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n%s\n", usage, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
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
