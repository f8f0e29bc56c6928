package cli

import (
	"bufio"
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

	"klaxon/api"
	"klaxon/incidents"
	"klaxon/internal/termtext"
	"klaxon/remote"
	"klaxon/senders"
	"klaxon/storage"

	"golang.org/x/term"
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
  klaxon integrations [list] [--json] list integrations and their webhook URLs
  klaxon integrations add NAME [--service S] [--escalation E] [--kind K]
                             [--ack-timeout 30m] [--resolve-after 4h]
                             K: ` + kindNames + `
  klaxon integrations show NAME       one integration and the setup block for its sender
  klaxon integrations set NAME [--ack-timeout D] [--resolve-after D] [--chaos status=503,share=0.3|off]
  klaxon integrations remove NAME     it takes no more events; its incidents stay
  klaxon integrations rotate NAME [--grace 1h]   a new token (the old one works --grace longer)
  klaxon incidents [--status S] [--severity V] [--q TEXT] [--format table|json|ndjson|csv]
  klaxon export [--since 24h] [--until TIME] [--format json|ndjson|csv]   incidents with timelines
  klaxon ack ID… | unack ID… | resolve ID…         act on incidents, one line each
  klaxon severity ID… sev1|sev2|sev3|none | priority ID… p1…p5|none
  klaxon resolve --all [--integration N] [--severity V] [--q TEXT] [--yes]   every one the filters select
                                      (ack, unack, severity and priority take --all too)
  klaxon send URL --title T [--severity sev1] [--priority p2] [--body B] [--resolve]
  klaxon send --kind K URL [--title T] [--severity sev1] [--body B] [--resolve|--ack]   as sender K would
  klaxon replay REQUEST_ID [--to URL]  send a journaled request again
  klaxon db copy --from DIR --to postgres://…   copy a data directory's database into a team's PostgreSQL
  klaxon bench [--connections 64] [--duration 10s] [--runs 3]   load-test the receiver against a no-op handler
  klaxon completion bash|zsh|fish     a shell completion script (source <(klaxon completion bash))

Every command takes --help. Common flags: --listen ADDR (default ` + DefaultListen + `),
--data-dir DIR (default $XDG_DATA_HOME/klaxon); each also as KLAXON_LISTEN, KLAXON_DATA_DIR.
`

// commandNames are the commands, for suggestions and completion.
var commandNames = []string{"serve", "attach", "integrations", "incidents", "export", "ack", "unack", "resolve",
	"severity", "priority", "send", "replay", "bench", "db", "completion", "help"}

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
		err = runAct(ctx, actAck, args, e)
	case "unack", "unacknowledge":
		err = runAct(ctx, actUnack, args, e)
	case "resolve":
		err = runAct(ctx, actResolve, args, e)
	case "severity":
		err = runAct(ctx, actSeverity, args, e)
	case "priority":
		err = runAct(ctx, actPriority, args, e)
	case "send":
		err = runSend(ctx, args, e)
	case "attach":
		err = runAttach(ctx, args, e)
	case "export":
		err = runExport(ctx, args, e)
	case "replay":
		err = runReplay(ctx, args, e)
	case "db":
		err = runDB(ctx, args, e)
	case "bench":
		err = runBench(ctx, args, e)
	case "completion":
		err = runCompletion(args, e)
	case "__complete":
		runComplete(ctx, args, e)
		return 0
	case "help":
		fmt.Fprint(e.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(e.Stderr, "klaxon: unknown command %q%s\nsee klaxon help\n", cmd, didYouMean(cmd, append(commandNames, "acknowledge", "unacknowledge")))
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	}
	fmt.Fprintf(e.Stderr, "klaxon: %s\n", termtext.Line(err.Error()))
	return 1
}

// errUsage marks a wrong command line whose message was printed already.
var errUsage = errors.New("usage")

// errReported marks a failure whose messages were printed already.
var errReported = errors.New("failed")

// usageError prints what is wrong with the command line, the command's usage
// line and where its help is.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "klaxon: "+format+"\n", args...)
	shortUsage(fs)
	return errUsage
}

// parse sets fs's flags from their KLAXON_* variables, then from args, and
// returns the positional arguments. --help prints the whole help (and
// returns flag.ErrHelp); a wrong flag prints the error and the usage line; a
// variable whose value its flag refuses stops the command, named.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	envErr := applyEnv(fs)
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {} // the flag package's own call: parse prints what fits
	fs.SetOutput(io.Discard)
	pos, err := parseInterspersed(fs, args)
	fs.Usage = help
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return pos, err
	case err != nil:
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag -" + name + flagSuggestion(fs, strings.TrimLeft(name, "-"))
		}
		fmt.Fprintf(out, "klaxon: %s\n", msg)
		shortUsage(fs)
		return nil, errUsage
	case envErr != nil:
		fmt.Fprintf(out, "klaxon: %s\n", strings.ReplaceAll(envErr.Error(), "\n", "\nklaxon: "))
		return nil, errUsage
	}
	return pos, nil
}

// flagSuggestion names the flag of fs nearest to the unknown flag name.
func flagSuggestion(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := nearest(name, names); s != "" {
		return " (did you mean --" + s + "?)"
	}
	return ""
}

// didYouMean is "; did you mean X?" for the candidate nearest to word, or "".
func didYouMean(word string, candidates []string) string {
	if s := nearest(word, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// nearest is the candidate a mistyped word most likely meant: the one fewest
// edits away (at most 2, and fewer than half the word), else the only one
// the word begins, else "".
func nearest(word string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), c); d < bestD && 2*d < len([]rune(c)) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(word) >= 2 && strings.HasPrefix(c, strings.ToLower(word)) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// neighbours that make a into b.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
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
	return app.Run(ctx)
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

// kindNames are the integration kinds (incidents.Kinds), for usage lines.
const kindNames = "webhook|healthchecks|alertmanager|grafana|pagerduty|opsgenie"

// kindAbout says which sender each kind reads, for --kind's help.
var kindAbout = map[incidents.Kind]string{
	incidents.KindWebhook:      "Spike.sh's generic webhook (curl, scripts)",
	incidents.KindHealthchecks: "healthchecks.io's Spike.sh integration",
	incidents.KindAlertmanager: "Prometheus Alertmanager's webhook_configs",
	incidents.KindGrafana:      "a Grafana alerting webhook contact point",
	incidents.KindPagerDuty:    "PagerDuty Events API v2 (Alertmanager's pagerduty_configs, any PagerDuty sender)",
	incidents.KindOpsgenie:     "Opsgenie's Alert API (Alertmanager's opsgenie_configs, any Opsgenie sender)",
}

// kindHelp lists every kind with its sender.
func kindHelp(intro string) string {
	var b strings.Builder
	b.WriteString(intro)
	for _, k := range incidents.Kinds {
		fmt.Fprintf(&b, "\n  %-13s %s", k, kindAbout[k])
	}
	return b.String()
}

const integrationsUsage = "klaxon integrations [list] [--json] | add NAME [--kind K] [flags] | show NAME | set NAME [flags] | remove NAME | rotate NAME [--grace D]"

// integrationsCommands are integrations' own commands.
var integrationsCommands = []string{"list", "add", "show", "set", "remove", "rotate"}

func runIntegrations(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runIntegrationsAdd(ctx, args[1:], e)
		case "show":
			return runIntegrationsShow(ctx, args[1:], e)
		case "set":
			return runIntegrationsSet(ctx, args[1:], e)
		case "remove", "rm", "delete":
			return runIntegrationsRemove(ctx, args[1:], e)
		case "rotate":
			return runIntegrationsRotate(ctx, args[1:], e)
		case "list":
			args = args[1:]
		}
	}
	var c Config
	var asJSON bool
	fs := newFlagSet("klaxon integrations", integrationsUsage,
		"Lists integrations with their webhook URLs (the URL holds the token: share it only with the sender).\n\n"+
			"  list     this list (the default)\n"+
			"  add      make one, and print the setup block for its sender\n"+
			"  show     print one, with the setup block for its sender\n"+
			"  set      change its timers and chaos\n"+
			"  remove   stop taking its events (its token answers 404); its incidents stay, under its name\n"+
			"  rotate   give it a new token; the old one answers 404, or keeps working for --grace\n\n"+
			"Each takes --help.", e.Stderr)
	commonFlags(fs, &c)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unknown integrations command %q%s (use %s)", pos[0], didYouMean(pos[0], integrationsCommands), strings.Join(integrationsCommands, ", "))
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
		// GET /api/v1/integrations's answer, indented as incidents --json.
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(api.IntegrationList{Integrations: list})
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
	fs := newFlagSet("klaxon integrations add", "klaxon integrations add NAME [--service S] [--escalation E] [--kind "+kindNames+"]",
		"Creates an integration with a new random token and prints its webhook URL and the setup block for its sender\n(what to paste into alertmanager.yml, a Grafana contact point, …).", e.Stderr)
	commonFlags(fs, &c)
	fs.StringVar(&service, "service", "", "the service its incidents are filed under (default: NAME)")
	fs.StringVar(&escalation, "escalation", "", "the escalation policy name")
	fs.StringVar(&kind, "kind", "webhook", kindHelp("read the payloads of sender `K`, one of:"))
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
	shown := withSetup(*in)
	fmt.Fprintf(e.Stdout, "integration %s (%s): %s\n", termtext.Line(in.Name), in.Kind, termtext.Line(in.URL))
	fmt.Fprintf(e.Stdout, "\n%s", termtext.Block(shown.Setup))
	return nil
}

// runIntegrationsShow prints one integration and the setup block for its
// sender again.
func runIntegrationsShow(ctx context.Context, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon integrations show", "klaxon integrations show NAME",
		"Prints an integration: its kind, service, dedup key, timers, chaos and webhook URL, and the setup block for its sender.\nThe URL and the block hold the token: share them only with the sender.", e.Stderr)
	commonFlags(fs, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations show takes one NAME")
	}
	var in remote.Integration
	err = withBackend(ctx, c, func(b backend) error {
		found, err := integrationNamed(ctx, b, pos[0])
		in = found
		return err
	})
	if err != nil {
		return err
	}
	in = withSetup(in)
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "integration\t%s\n", termtext.Line(in.Name))
	fmt.Fprintf(tw, "kind\t%s\n", in.Kind)
	fmt.Fprintf(tw, "service\t%s\n", termtext.Line(orDash(in.Service)))
	fmt.Fprintf(tw, "escalation\t%s\n", termtext.Line(orDash(in.Escalation)))
	fmt.Fprintf(tw, "dedup key\t%s\n", in.DedupKey)
	fmt.Fprintf(tw, "ack timeout\t%s\n", durationOrDash(in.AckTimeout))
	fmt.Fprintf(tw, "resolve after\t%s\n", durationOrDash(in.ResolveAfter))
	fmt.Fprintf(tw, "chaos\t%s\n", in.Chaos.Describe())
	fmt.Fprintf(tw, "webhook URL\t%s\n", termtext.Line(in.URL))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "\n%s", termtext.Block(in.Setup))
	return nil
}

// integrationNamed finds the integration called name, or says how to list them.
func integrationNamed(ctx context.Context, b backend, name string) (remote.Integration, error) {
	list, err := b.Integrations(ctx)
	if err != nil {
		return remote.Integration{}, err
	}
	for _, in := range list {
		if in.Name == name {
			return in, nil
		}
	}
	return remote.Integration{}, fmt.Errorf("there is no integration named %q (klaxon integrations lists them)", termtext.Line(name))
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

// runIntegrationsSet changes an integration's timers and chaos setting.
func runIntegrationsSet(ctx context.Context, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon integrations set", "klaxon integrations set NAME [--ack-timeout 30m] [--resolve-after 4h] [--chaos status=503,share=0.3,delay=2s|off]",
		"Changes an integration's acknowledge timeout, resolve timer and chaos setting (0 turns a timer off, --chaos off\nturns chaos off; an unnamed flag keeps its value).", e.Stderr)
	commonFlags(fs, &c)
	var timers incidents.Timers
	timerFlags(fs, &timers)
	var chaos incidents.Chaos
	fs.Func("chaos", "answer a share of its requests with an error status, or late, without storing them, to see how\nits sender retries: `status=503,share=0.3,delay=2s` (any of them; share defaults to 1); off turns it off", func(v string) (err error) {
		chaos, err = incidents.ParseChaos(v)
		return err
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations set takes one NAME")
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	setTimers := given["ack-timeout"] || given["resolve-after"]
	if !setTimers && !given["chaos"] {
		return usageError(fs, "name --ack-timeout, --resolve-after, --chaos or several")
	}
	return withBackend(ctx, c, func(b backend) error {
		in, err := integrationNamed(ctx, b, pos[0])
		if err != nil {
			return err
		}
		if setTimers {
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
		}
		if given["chaos"] {
			if err := b.SetChaos(ctx, in.Name, chaos); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "integration %s: chaos %s\n", termtext.Line(in.Name), chaos.Describe())
		}
		return nil
	})
}

// runIntegrationsRemove removes an integration: its token answers 404
// saying so; its incidents stay, under its name.
func runIntegrationsRemove(ctx context.Context, args []string, e Env) error {
	var c Config
	fs := newFlagSet("klaxon integrations remove", "klaxon integrations remove NAME",
		"Removes an integration: from now on its webhook URL answers 404, saying the integration was removed, and it\n"+
			"is listed no more. Its incidents stay, under its name (open ones stay open). Adding an integration of the\n"+
			"same name later brings it back with a new token.", e.Stderr)
	commonFlags(fs, &c)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations remove takes one NAME")
	}
	var open int
	err = withBackend(ctx, c, func(b backend) error {
		in, err := integrationNamed(ctx, b, pos[0])
		if err != nil {
			return err
		}
		list, err := listAll(ctx, b, incidents.Filter{Status: "open", Integration: in.Name}, 0)
		if err != nil {
			return err
		}
		open = len(list)
		m, err := managerOf(b)
		if err != nil {
			return err
		}
		return m.RemoveIntegration(ctx, in.Name)
	})
	if err != nil {
		return err
	}
	name := termtext.Line(pos[0])
	fmt.Fprintf(e.Stdout, "integration %s removed: its webhook URL answers 404 from now on (\"this integration was removed\")\n", name)
	fmt.Fprintf(e.Stdout, "its incidents stay, under the name %s", name)
	if open > 0 {
		verb := "are"
		if open == 1 {
			verb = "is"
		}
		fmt.Fprintf(e.Stdout, "; %d %s open (klaxon resolve --integration %s --all resolves them)", open, verb, shellQuote(name))
	}
	fmt.Fprintln(e.Stdout)
	return nil
}

// runIntegrationsRotate gives an integration a new token.
func runIntegrationsRotate(ctx context.Context, args []string, e Env) error {
	var c Config
	var grace time.Duration
	fs := newFlagSet("klaxon integrations rotate", "klaxon integrations rotate NAME [--grace 1h]",
		"Gives an integration a new random token (a new webhook URL) and prints it with the setup block for its sender.\n"+
			"The old token answers 404 from now on, saying it was replaced, or with --grace keeps working that much longer,\n"+
			"while the sender is moved to the new URL.", e.Stderr)
	commonFlags(fs, &c)
	fs.DurationVar(&grace, "grace", 0, "keep the old token working this much longer (e.g. 1h; at most 720h)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "integrations rotate takes one NAME")
	}
	if grace < 0 || grace > incidents.MaxGrace {
		return usageError(fs, "--grace is between 0 and %s", incidents.MaxGrace)
	}
	var (
		in    *remote.Integration
		until time.Time
	)
	err = withBackend(ctx, c, func(b backend) error {
		found, err := integrationNamed(ctx, b, pos[0])
		if err != nil {
			return err
		}
		m, err := managerOf(b)
		if err != nil {
			return err
		}
		in, until, err = m.RotateIntegration(ctx, found.Name, grace)
		return err
	})
	if err != nil {
		return err
	}
	shown := withSetup(*in)
	fmt.Fprintf(e.Stdout, "integration %s (%s) has a new token: %s\n", termtext.Line(in.Name), in.Kind, termtext.Line(in.URL))
	if grace > 0 {
		fmt.Fprintf(e.Stdout, "the old token keeps working until %s (%s); then it answers 404\n", incidents.FormatTime(until), grace)
	} else {
		fmt.Fprintln(e.Stdout, "the old token answers 404 from now on, saying it was replaced")
	}
	fmt.Fprintf(e.Stdout, "\n%s", termtext.Block(shown.Setup))
	return nil
}

// integrationManager removes integrations and rotates their tokens: the
// running klaxon through its API (*remote.Client), or the data directory
// (serviceBackend).
type integrationManager interface {
	RemoveIntegration(ctx context.Context, name string) error
	RotateIntegration(ctx context.Context, name string, grace time.Duration) (*remote.Integration, time.Time, error)
}

var (
	_ integrationManager = (*remote.Client)(nil)
	_ integrationManager = serviceBackend{}
)

// managerOf is b's integrationManager.
func managerOf(b backend) (integrationManager, error) {
	m, ok := b.(integrationManager)
	if !ok {
		return nil, fmt.Errorf("this klaxon cannot remove integrations or rotate tokens")
	}
	return m, nil
}

// RemoveIntegration removes an integration as remote.Client does.
func (s serviceBackend) RemoveIntegration(ctx context.Context, name string) error {
	_, err := s.Service.RemoveIntegration(ctx, name)
	return err
}

// RotateIntegration gives an integration a new token as remote.Client does.
func (s serviceBackend) RotateIntegration(ctx context.Context, name string, grace time.Duration) (*remote.Integration, time.Time, error) {
	in, until, err := s.Service.RotateToken(ctx, name, grace)
	if err != nil {
		return nil, time.Time{}, err
	}
	shown := asShown(in, s.base)
	return &shown, until, nil
}

// shellQuote quotes s for a shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// withStore opens the data directory directly, for commands run while no
// klaxon answers. It reads without a lock; a write takes the directory's
// lock like a running klaxon (see readFirst).
func withStore(ctx context.Context, c Config, fn func(svc *incidents.Service) error) error {
	if c.Database != "" {
		db, err := openPostgres(ctx, c)
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(incidents.NewService(db, nil))
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "klaxon.db")); err != nil {
		return fmt.Errorf("no klaxon answers at %s and there is no database in %s; start klaxon first (go run .), or pass --listen/--data-dir", c.Listen, c.DataDir)
	}
	db, err := storage.Open(ctx, filepath.Join(c.DataDir, "klaxon.db"), readFirst(c))
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

// act is a command that changes incidents: ack, unack, resolve, severity,
// priority.
type act struct {
	name  string
	kind  incidents.EntryKind
	about string
}

var (
	actAck = act{"ack", incidents.EntryAcknowledged,
		"Acknowledges incidents: someone is on them (recorded as by: api). One line an incident says what it did;\nan incident acknowledged already stays as it is."}
	actUnack = act{"unack", incidents.EntryUnacknowledged,
		"Unacknowledges incidents: they are triggered again, and re-alert (recorded as by: api)."}
	actResolve = act{"resolve", incidents.EntryResolved,
		"Resolves incidents (recorded as by: api). Resolved is final: a later trigger opens a new incident.\nWith --all it asks first (on a terminal), or needs --yes."}
	actSeverity = act{"severity", incidents.EntrySeverityChanged,
		"Sets the severity of incidents; none clears it (recorded as by: api)."}
	actPriority = act{"priority", incidents.EntryPriorityChanged,
		"Sets the priority of incidents; none clears it (recorded as by: api)."}
)

// values is what the command takes after the IDs ("" for none).
func (ac act) values() string {
	switch ac.kind {
	case incidents.EntrySeverityChanged:
		return "sev1|sev2|sev3|none"
	case incidents.EntryPriorityChanged:
		return "p1|p2|p3|p4|p5|none"
	}
	return ""
}

// actTarget is an incident to act on, as it was before (or why it could not
// be read).
type actTarget struct {
	id     int64
	before *incidents.Incident
	err    error
}

func runAct(ctx context.Context, ac act, args []string, e Env) error {
	var (
		c         Config
		ff        filterFlags
		all, yes  bool
		value     = ac.values()
		valueArg  = ""
		filterUse = "[--integration N] [--severity V] [--priority P] [--q TEXT] [--status S]"
	)
	if value != "" {
		valueArg = " " + value
	}
	usage := "klaxon " + ac.name + " ID…" + valueArg + " | klaxon " + ac.name + " --all " + filterUse + valueArg
	if ac.kind == incidents.EntryResolved {
		usage += " [--yes]"
	}
	fs := newFlagSet("klaxon "+ac.name, usage, ac.about+"\n\nIDs are as in 12 or #12; --all takes every incident that the filters select (those of klaxon incidents),\nopen ones only.", e.Stderr)
	commonFlags(fs, &c)
	ff.add(fs, "open")
	fs.BoolVar(&all, "all", false, "act on every incident the filters select (without filters: every open incident)")
	if ac.kind == incidents.EntryResolved {
		fs.BoolVar(&yes, "yes", false, "with --all, resolve without asking (needed when stdin is not a terminal)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	a := incidents.PersonAction{Kind: ac.kind, By: incidents.ByAPI}
	if value != "" {
		if len(pos) == 0 {
			return usageError(fs, "name the new %s last: %s", ac.name, strings.ReplaceAll(value, "|", ", "))
		}
		raw := pos[len(pos)-1]
		pos = pos[:len(pos)-1]
		v, perr := raw, error(nil)
		if strings.EqualFold(v, "none") {
			v = ""
		} else if strings.TrimSpace(v) == "" {
			perr = errors.New("empty")
		}
		if perr == nil && ac.kind == incidents.EntrySeverityChanged {
			a.Severity, perr = incidents.ParseSeverity(v)
		} else if perr == nil {
			a.Priority, perr = incidents.ParsePriority(v)
		}
		if perr != nil {
			return usageError(fs, "%q is not a %s: the last argument is the new one, %s", raw, ac.name, strings.ReplaceAll(value, "|", ", "))
		}
	}
	filtered := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "status", "severity", "priority", "integration", "q":
			filtered = true
		}
	})
	switch {
	case all && len(pos) > 0:
		return usageError(fs, "name incident IDs or --all, not both")
	case !all && len(pos) == 0 && filtered:
		return usageError(fs, "the filters select incidents with --all: klaxon %s --all …", ac.name)
	case !all && len(pos) == 0:
		return usageError(fs, "%s takes incident IDs (12 or #12), or --all", ac.name)
	case !all && filtered:
		return usageError(fs, "the filters go with --all, not with incident IDs")
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, p := range pos {
		id, err := strconv.ParseInt(strings.TrimPrefix(p, "#"), 10, 64)
		if err != nil || id < 1 {
			return usageError(fs, "%q is not an incident ID (a number, as in #12 or 12)", p)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var f incidents.Filter
	if all {
		switch ff.status {
		case "open", "triggered", "acknowledged":
		default:
			return usageError(fs, "--status %q: only open incidents can change; use open, triggered or acknowledged", ff.status)
		}
		if f, err = ff.filter(); err != nil {
			return usageError(fs, "%v", err)
		}
	}
	return withBackend(ctx, c, func(b backend) error {
		var targets []actTarget
		if all {
			list, err := listAll(ctx, b, f, 0)
			if err != nil {
				return err
			}
			for _, in := range list {
				targets = append(targets, actTarget{id: in.ID, before: in})
			}
			if len(targets) == 0 {
				if ff.integration != "" {
					// A misspelt name selects nothing: say so, not "no incidents".
					if _, err := integrationNamed(ctx, b, ff.integration); err != nil {
						return err
					}
				}
				fmt.Fprintf(e.Stdout, "no %s incidents match; nothing changed\n", ff.status)
				return nil
			}
			if ac.kind == incidents.EntryResolved && !yes {
				if err := confirmResolve(fs, targets, e); err != nil {
					return err
				}
			}
		} else {
			for _, id := range ids {
				in, err := b.Incident(ctx, id)
				if errors.Is(err, remote.ErrNotRunning) {
					return err
				}
				targets = append(targets, actTarget{id: id, before: in, err: err})
			}
		}
		return applyAct(ctx, b, ac, a, targets, all, e)
	})
}

// confirmResolve asks before resolving what --all selected: on a terminal
// "resolve N incidents? y/N"; elsewhere it needs --yes.
func confirmResolve(fs *flag.FlagSet, targets []actTarget, e Env) error {
	n := len(targets)
	if !stdinIsTerminal(e) {
		return usageError(fs, "resolve --all selects %d incident%s; resolving is final, so pass --yes to resolve them when stdin is not a terminal", n, plural(n))
	}
	fmt.Fprintf(e.Stderr, "%d incident%s to resolve:\n", n, plural(n))
	for i, t := range targets {
		if i == 10 {
			fmt.Fprintf(e.Stderr, "  … and %d more\n", n-i)
			break
		}
		fmt.Fprintf(e.Stderr, "  #%d %s %s %s\n", t.id, orDash(string(t.before.Severity)), termtext.Line(t.before.Integration), termtext.Line(cut(orDash(t.before.Title), 60)))
	}
	fmt.Fprintf(e.Stderr, "resolve %d incident%s? y/N ", n, plural(n))
	answer, _ := bufio.NewReader(e.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	fmt.Fprintln(e.Stderr, "nothing resolved")
	return errReported
}

// stdinIsTerminal reports whether a person can answer a question on stdin.
func stdinIsTerminal(e Env) bool {
	if e.Stdin == nil {
		return false
	}
	if e.Interactive {
		return true
	}
	f, ok := e.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// applyAct carries out a on each target and prints one line for each: what
// changed, or that it was so already; then, for several, how many changed.
func applyAct(ctx context.Context, b backend, ac act, a incidents.PersonAction, targets []actTarget, all bool, e Env) error {
	changed, failed := 0, 0
	fail := func(err error) {
		failed++
		fmt.Fprintf(e.Stderr, "klaxon: %s\n", termtext.Line(err.Error()))
	}
	for _, t := range targets {
		if t.err != nil {
			fail(t.err)
			continue
		}
		// Resolved is final (SPEC §3): every action on a resolved incident,
		// resolving it again included, is refused, as the API's 409 says.
		before := t.before
		if before.Status == incidents.Resolved {
			fail(resolvedError(ac, before))
			continue
		}
		after, err := b.Act(ctx, t.id, a)
		if errors.Is(err, remote.ErrNotRunning) {
			return err
		}
		if incidents.ErrorCode(err) == incidents.ECONFLICT {
			err = resolvedError(ac, before) // resolved meanwhile
		}
		if err != nil {
			fail(err)
			continue
		}
		did, line := actLine(ac, before, after)
		if did {
			changed++
		}
		fmt.Fprintf(e.Stdout, "#%d %s: %s\n", t.id, line, termtext.Line(orDash(after.Title)))
	}
	if all || len(targets) > 1 {
		fmt.Fprintf(e.Stdout, "%d of %d changed", changed, len(targets))
		if failed > 0 {
			fmt.Fprintf(e.Stdout, ", %d refused", failed)
		}
		fmt.Fprintln(e.Stdout)
	}
	if failed > 0 {
		return errReported
	}
	return nil
}

// resolvedError refuses an action on the resolved incident in.
func resolvedError(ac act, in *incidents.Incident) error {
	if ac.kind == incidents.EntryResolved {
		return fmt.Errorf("#%d already resolved: %s", in.ID, orDash(in.Title))
	}
	return fmt.Errorf("#%d is resolved, and a resolved incident cannot change (a new trigger opens a new incident): %s", in.ID, orDash(in.Title))
}

// actLine says what an action did to an incident, from before and after it:
// whether it changed it, and how ("acknowledged", "already acknowledged",
// "severity sev3 → sev1").
func actLine(ac act, before, after *incidents.Incident) (bool, string) {
	switch ac.kind {
	case incidents.EntrySeverityChanged:
		from, to := noneIfEmpty(string(before.Severity)), noneIfEmpty(string(after.Severity))
		if from == to {
			return false, "severity already " + to
		}
		return true, "severity " + from + " → " + to
	case incidents.EntryPriorityChanged:
		from, to := noneIfEmpty(string(before.Priority)), noneIfEmpty(string(after.Priority))
		if from == to {
			return false, "priority already " + to
		}
		return true, "priority " + from + " → " + to
	case incidents.EntryUnacknowledged:
		if before.Status == after.Status {
			return false, "already " + string(after.Status)
		}
		return true, "unacknowledged, " + string(after.Status) + " again"
	}
	if before.Status == after.Status {
		return false, "already " + string(after.Status)
	}
	return true, string(after.Status)
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func runSend(ctx context.Context, args []string, e Env) error {
	var title, severity, priority, body, kind string
	var resolve, ack bool
	var urlFile string
	fs := newFlagSet("klaxon send", "klaxon send [--kind K] URL|--url-file FILE --title T [--severity sev1] [--priority p2] [--body B] [--resolve|--ack]",
		"Sends one event to a webhook URL, as a monitoring tool would, and prints klaxon's answer.\n"+
			"The URL holds the integration's token: --url-file keeps it off the command line, where ps shows it.\n"+
			"With --kind, it sends what that sender really sends (the payload, route and headers of an Alertmanager\n"+
			"notification, a PagerDuty event, …) to the klaxon of URL; the same command again is the sender's repeat.", e.Stderr)
	fs.StringVar(&kind, "kind", "", kindHelp("send as sender `K` would (default webhook), one of:"))
	fs.StringVar(&title, "title", "", "the incident's title (its key for webhook; with --kind, the alert's name and summary)")
	fs.StringVar(&severity, "severity", "", "sev1, sev2 or sev3 (with --kind, said in the sender's own words)")
	fs.StringVar(&priority, "priority", "", "p1 … p5 (webhook only)")
	fs.StringVar(&body, "body", "", "details: text, or a JSON object")
	fs.BoolVar(&resolve, "resolve", false, "resolve the open incident with this title (with --kind: the firing's command again plus --resolve;\nan alertmanager or grafana alert is its labels, --severity included)")
	fs.BoolVar(&ack, "ack", false, "acknowledge the open incident with this title (--kind pagerduty or opsgenie)")
	fs.StringVar(&urlFile, "url-file", "", "read the webhook URL from `FILE` (- for stdin) instead of the command line, where ps shows its token")
	var c Config
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "trust this certificate `FILE` for an https:// URL, besides the system's (KLAXON_TLS_CERT)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case urlFile != "" && len(pos) > 0:
		return usageError(fs, "give the webhook URL or --url-file, not both")
	case urlFile == "" && len(pos) != 1:
		return usageError(fs, "send takes one webhook URL (or --url-file FILE)")
	}
	target := ""
	if urlFile != "" {
		if target, err = readURLFile(urlFile, e.Stdin); err != nil {
			return err
		}
	} else {
		target = pos[0]
	}
	if resolve && ack {
		return usageError(fs, "--resolve and --ack do not go together")
	}
	k := incidents.KindWebhook
	if kind != "" {
		if k, err = incidents.ParseKind(kind); err != nil {
			return usageError(fs, "--kind: %v", err)
		}
	}
	var req senders.Request
	if k == incidents.KindWebhook {
		if ack {
			return usageError(fs, "webhook senders cannot acknowledge; --ack needs --kind pagerduty or opsgenie")
		}
		req = webhookRequest(target, title, severity, priority, body, resolve)
	} else {
		if priority != "" {
			return usageError(fs, "--priority is for --kind webhook; %s senders say priority through --severity", k)
		}
		sev, err := incidents.ParseSeverity(severity)
		if err != nil {
			return usageError(fs, "--severity: %v", err)
		}
		base, token, err := senders.ParseWebhookURL(target)
		if err != nil {
			return hideToken(err, target, urlFile != "")
		}
		step := senders.Firing
		if resolve {
			step = senders.Resolved
		} else if ack {
			step = senders.Acknowledge
		}
		req, err = senders.Drill(senders.Target{Base: base, Token: token, Kind: k}, senders.Alert{Title: title, Severity: sev, Details: body}, step)
		if err != nil {
			return hideToken(err, target, urlFile != "")
		}
	}
	hc, err := senderFor(c)
	if err != nil {
		return err
	}
	status, answer, err := sendRequest(ctx, hc, req)
	if err != nil {
		return hideToken(err, target, urlFile != "")
	}
	fmt.Fprintf(e.Stdout, "%d %s\n", status, termtext.Line(answer))
	if status/100 != 2 {
		return fmt.Errorf("refused with %d", status)
	}
	return nil
}

// webhookRequest is the Spike webhook event klaxon send has always sent:
// the title as given, the body as a JSON object when it is one.
func webhookRequest(url, title, severity, priority, body string, resolve bool) senders.Request {
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
	return senders.Request{Method: "POST", URL: url, Header: map[string]string{"Content-Type": "application/json"}, Body: b}
}
