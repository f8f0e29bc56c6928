package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"klaxon/incidents"
	"klaxon/remote"
	"klaxon/storage"
	"klaxon/termtext"
)

// Env is what a command runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interactive is true when stdin and stdout are a terminal (klaxon then
	// shows the console).
	Interactive bool
}

const usage = `klaxon — an on-call console with a Spike-compatible incident receiver

usage:
  klaxon [flags]                      receiver and console together
  klaxon serve [flags]                the receiver alone (for a service manager; logs to stderr)
  klaxon attach [URL]                 the console, attached to a klaxon running elsewhere
  klaxon integrations [list]          list integrations and their webhook URLs
  klaxon integrations add NAME [--service S] [--escalation E] [--kind webhook|healthchecks]
                             [--ack-timeout 30m] [--resolve-after 4h]
  klaxon integrations set NAME [--ack-timeout D] [--resolve-after D]
  klaxon incidents [--status S] [--severity V] [--q TEXT] [--format table|json|ndjson|csv]
  klaxon export [--since 24h] [--until TIME] [--format json|ndjson|csv]   incidents with timelines
  klaxon ack ID | klaxon resolve ID
  klaxon send URL --title T [--severity sev1] [--priority p2] [--body B] [--resolve]
  klaxon replay REQUEST_ID [--to URL]  send a journaled request again
  klaxon bench [--connections 64] [--duration 10s] [--runs 3]   load-test the receiver against a no-op handler

Every command takes --help. Common flags: --listen ADDR (default ` + DefaultListen + `),
--data-dir DIR (default $XDG_DATA_HOME/klaxon); each also as KLAXON_LISTEN, KLAXON_DATA_DIR.
`

// Run runs the command line args and returns the exit status.
func Run(ctx context.Context, args []string, e Env) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "":
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(e.Stderr, usage)
			fs := newFlagSet("klaxon", "klaxon [flags]", "flags of klaxon and klaxon serve:", e.Stderr)
			serverFlags(fs, &Config{})
			fs.PrintDefaults()
			return 0
		}
		err = runServer(ctx, args, e, true)
	case "serve":
		err = runServer(ctx, args, e, false)
	case "integrations":
		err = runIntegrations(ctx, args, e)
	case "incidents":
		err = runIncidents(ctx, args, e)
	case "ack", "acknowledge":
		err = runAct(ctx, "ack", "acknowledge", args, e)
	case "resolve":
		err = runAct(ctx, "resolve", "resolve", args, e)
	case "send":
		err = runSend(ctx, args, e)
	case "attach":
		err = runAttach(ctx, args, e)
	case "export":
		err = runExport(ctx, args, e)
	case "replay":
		err = runReplay(ctx, args, e)
	case "bench":
		err = runBench(ctx, args, e)
	case "help":
		fmt.Fprint(e.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(e.Stderr, "klaxon: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(e.Stderr, "klaxon: %s\n", termtext.Line(err.Error()))
	return 1
}

// errUsage marks a wrong command line whose message was printed already.
var errUsage = errors.New("usage")

func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "klaxon: "+format+"\n", args...)
	fs.Usage()
	return errUsage
}

func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return nil, errUsage
	}
	return pos, err
}

// runServer runs klaxon (console true) or klaxon serve.
func runServer(ctx context.Context, args []string, e Env, console bool) error {
	name, about := "klaxon serve", "Runs the receiver alone: push-events and the API, logging to stderr. It never prints a token."
	if console {
		name, about = "klaxon", "Runs the receiver and the on-call console together."
	}
	var c Config
	fs := newFlagSet(name, name+" [flags]", about, e.Stderr)
	serverFlags(fs, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unexpected argument %q", pos[0])
	}
	var logTo io.Writer
	if !console {
		logTo = e.Stderr
	}
	app, err := OpenApp(ctx, c, logTo)
	var inUse *DataDirInUseError
	if errors.As(err, &inUse) && console && e.Interactive {
		// Another klaxon has this data directory: if it answers at
		// --listen, offer its console instead of failing.
		client, cerr := newClient(c, apiBase(c))
		hc, _ := senderFor(c)
		if cerr == nil {
			if _, herr := client.Health(ctx); herr == nil && offerAttach(e.Stdin, e.Stdout, client.Base()) {
				return attach(ctx, client, hc, e)
			}
		}
	}
	if err != nil {
		return err
	}
	defer app.Close()
	if console {
		return runConsole(ctx, app, e)
	}
	if app.Warning != "" {
		fmt.Fprintf(e.Stderr, "klaxon: warning: %s\n", app.Warning)
	}
	fmt.Fprintf(e.Stderr, "klaxon: receiving on %s (data in %s); `klaxon integrations` shows the webhook URLs\n", app.BaseURL, c.DataDir)
	return app.Serve(ctx)
}

// printWelcome shows where to send webhooks and a curl line that pages klaxon.
func printWelcome(w io.Writer, app *App) {
	url := app.WebhookURL()
	fmt.Fprintf(w, "klaxon is receiving on %s (data in %s)\n\n", app.BaseURL, app.Config.DataDir)
	fmt.Fprintf(w, "webhook URL (%s):\n  %s\n\n", termtext.Line(app.Default.Name), url)
	fmt.Fprintf(w, "page yourself:\n  %s\n\n", CurlLine(url))
	fmt.Fprintf(w, "then: klaxon incidents   (Ctrl+C stops)\n")
}

// CurlLine is a ready command that pages url.
func CurlLine(url string) string {
	return `curl -d '{"title":"test page","severity":"sev2"}' ` + url
}

func runIntegrations(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 && args[0] == "add" {
		return runIntegrationsAdd(ctx, args[1:], e)
	}
	if len(args) > 0 && args[0] == "set" {
		return runIntegrationsSet(ctx, args[1:], e)
	}
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	var c Config
	var asJSON bool
	fs := newFlagSet("klaxon integrations", "klaxon integrations [list] [--json] | klaxon integrations add NAME [flags]",
		"Lists integrations with their webhook URLs (the URL holds the token: share it only with the sender).", e.Stderr)
	commonFlags(fs, &c)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unknown integrations command %q (use list or add)", pos[0])
	}
	var list []remote.Integration
	err = withBackend(ctx, c, func(b backend) (err error) {
		list, err = b.Integrations(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []remote.Integration{}
		}
		return json.NewEncoder(e.Stdout).Encode(map[string]any{"integrations": list})
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSERVICE\tACK TIMEOUT\tRESOLVE AFTER\tWEBHOOK URL")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Line(in.Name), in.Kind, termtext.Line(in.Service),
			durationOrDash(in.AckTimeout), durationOrDash(in.ResolveAfter), termtext.Line(in.URL))
	}
	return tw.Flush()
}

func runIntegrationsAdd(ctx context.Context, args []string, e Env) error {
	var c Config
	var service, escalation, kind string
	fs := newFlagSet("klaxon integrations add", "klaxon integrations add NAME [--service S] [--escalation E] [--kind webhook|healthchecks]",
		"Creates an integration with a new random token and prints its webhook URL.", e.Stderr)
	commonFlags(fs, &c)
	fs.StringVar(&service, "service", "", "the service its incidents are filed under (default: NAME)")
	fs.StringVar(&escalation, "escalation", "", "the escalation policy name")
	fs.StringVar(&kind, "kind", "webhook", "how payloads are read: webhook (Spike's generic webhook) or healthchecks (healthchecks.io)")
	var timers incidents.Timers
	timerFlags(fs, &timers)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations add takes one NAME")
	}
	var in *remote.Integration
	err = withBackend(ctx, c, func(b backend) (err error) {
		if in, err = b.CreateIntegration(ctx, pos[0], service, escalation, incidents.Kind(kind)); err != nil {
			return err
		}
		if timers == (incidents.Timers{}) {
			return nil
		}
		in.AckTimeout, in.ResolveAfter = timers.AckTimeout, timers.ResolveAfter
		return b.SetTimers(ctx, in.Name, timers)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "integration %s (%s): %s\n", termtext.Line(in.Name), in.Kind, in.URL)
	return nil
}

func timerFlags(fs *flag.FlagSet, t *incidents.Timers) {
	fs.DurationVar(&t.AckTimeout, "ack-timeout", t.AckTimeout, "return an acknowledged incident to triggered after `DURATION` (e.g. 30m; 0: never)")
	fs.DurationVar(&t.ResolveAfter, "resolve-after", t.ResolveAfter, "resolve an open incident not seen for `DURATION` (e.g. 4h; 0: never)")
}

func durationOrDash(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.String()
}

// runIntegrationsSet changes an integration's timers.
func runIntegrationsSet(ctx context.Context, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon integrations set", "klaxon integrations set NAME [--ack-timeout 30m] [--resolve-after 4h]",
		"Changes an integration's acknowledge timeout and resolve timer (0 turns one off; an unnamed flag keeps its value).", e.Stderr)
	commonFlags(fs, &c)
	var timers incidents.Timers
	timerFlags(fs, &timers)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations set takes one NAME")
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["ack-timeout"] && !given["resolve-after"] {
		return usageError(fs, "name --ack-timeout, --resolve-after or both")
	}
	return withBackend(ctx, c, func(b backend) error {
		list, err := b.Integrations(ctx)
		if err != nil {
			return err
		}
		for _, in := range list {
			if in.Name != pos[0] {
				continue
			}
			t := incidents.Timers{AckTimeout: in.AckTimeout, ResolveAfter: in.ResolveAfter}
			if given["ack-timeout"] {
				t.AckTimeout = timers.AckTimeout
			}
			if given["resolve-after"] {
				t.ResolveAfter = timers.ResolveAfter
			}
			if err := b.SetTimers(ctx, in.Name, t); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "integration %s: ack timeout %s, resolve after %s\n", termtext.Line(in.Name), durationOrDash(t.AckTimeout), durationOrDash(t.ResolveAfter))
			return nil
		}
		return fmt.Errorf("there is no integration named %q (klaxon integrations lists them)", termtext.Line(pos[0]))
	})
}

// withStore opens the data directory directly, for commands run while no
// klaxon answers. It takes the directory's lock like a running klaxon.
func withStore(ctx context.Context, c Config, fn func(svc *incidents.Service) error) error {
	if _, err := os.Stat(filepath.Join(c.DataDir, "klaxon.db")); err != nil {
		return fmt.Errorf("no klaxon answers at %s and there is no database in %s; start klaxon first (go run .), or pass --listen/--data-dir", c.Listen, c.DataDir)
	}
	lock, err := lockDataDir(c.DataDir)
	if err != nil {
		return fmt.Errorf("no klaxon answers at %s, but %v", c.Listen, err)
	}
	defer lock.Close()
	db, err := storage.Open(ctx, filepath.Join(c.DataDir, "klaxon.db"), storage.Options{JournalLimit: c.JournalLimit})
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(incidents.NewService(db, nil))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Age says a duration the way a person reads it at a glance: 5s, 3m, 2h, 4d.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func runAct(ctx context.Context, name, action string, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon "+name, "klaxon "+name+" ID", "Does "+action+" to incident ID (recorded as by: api).", e.Stderr)
	commonFlags(fs, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "%s takes one incident ID", name)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
	if err != nil || id < 1 {
		return usageError(fs, "%q is not an incident ID (a number, as in #12 or 12)", pos[0])
	}
	kind := map[string]incidents.EntryKind{"acknowledge": incidents.EntryAcknowledged, "resolve": incidents.EntryResolved}[action]
	var in *incidents.Incident
	err = withBackend(ctx, c, func(b backend) (err error) {
		in, err = b.Act(ctx, id, incidents.PersonAction{Kind: kind, By: incidents.ByAPI})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "#%d %s: %s\n", in.ID, in.Status, termtext.Line(orDash(in.Title)))
	return nil
}

func runSend(ctx context.Context, args []string, e Env) error {
	var title, severity, priority, body string
	var resolve bool
	fs := newFlagSet("klaxon send", "klaxon send URL --title T [--severity sev1] [--priority p2] [--body B] [--resolve]",
		"Sends one event to a webhook URL, as a monitoring tool would, and prints klaxon's answer.", e.Stderr)
	fs.StringVar(&title, "title", "", "the incident's title (its key)")
	fs.StringVar(&severity, "severity", "", "sev1, sev2 or sev3")
	fs.StringVar(&priority, "priority", "", "p1 … p5")
	fs.StringVar(&body, "body", "", "details: text, or a JSON object")
	fs.BoolVar(&resolve, "resolve", false, "resolve the open incident with this title")
	var c Config
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "trust this certificate `FILE` for an https:// URL, besides the system's (KLAXON_TLS_CERT)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "send takes one webhook URL")
	}
	ev := map[string]any{"title": title}
	if severity != "" {
		ev["severity"] = severity
	}
	if priority != "" {
		ev["priority"] = priority
	}
	if body != "" {
		if json.Valid([]byte(body)) && strings.HasPrefix(strings.TrimSpace(body), "{") {
			ev["body"] = json.RawMessage(body)
		} else {
			ev["body"] = body
		}
	}
	if resolve {
		ev["status"] = "resolve"
	}
	b, _ := json.Marshal(ev)
	hc, err := senderFor(c)
	if err != nil {
		return err
	}
	status, answer, err := sendRaw(ctx, hc, "POST", pos[0], "application/json", string(b))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "%d %s\n", status, termtext.Line(answer))
	if status/100 != 2 {
		return fmt.Errorf("refused with %d", status)
	}
	return nil
}
