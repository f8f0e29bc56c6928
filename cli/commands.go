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
	"klaxon/senders"
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
  klaxon integrations add NAME [--service S] [--escalation E] [--kind K]
                             [--ack-timeout 30m] [--resolve-after 4h]
                             K: ` + kindNames + `
  klaxon integrations show NAME       one integration and the setup block for its sender
  klaxon integrations set NAME [--ack-timeout D] [--resolve-after D] [--chaos status=503,share=0.3|off]
  klaxon incidents [--status S] [--severity V] [--q TEXT] [--format table|json|ndjson|csv]
  klaxon export [--since 24h] [--until TIME] [--format json|ndjson|csv]   incidents with timelines
  klaxon ack ID | klaxon resolve ID
  klaxon send URL --title T [--severity sev1] [--priority p2] [--body B] [--resolve]
  klaxon send --kind K URL [--title T] [--severity sev1] [--body B] [--resolve|--ack]   as sender K would
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

const integrationsUsage = "klaxon integrations [list] [--json] | add NAME [--kind K] [flags] | show NAME | set NAME [flags]"

func runIntegrations(ctx context.Context, args []string, e Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runIntegrationsAdd(ctx, args[1:], e)
		case "show":
			return runIntegrationsShow(ctx, args[1:], e)
		case "set":
			return runIntegrationsSet(ctx, args[1:], e)
		case "list":
			args = args[1:]
		}
	}
	var c Config
	var asJSON bool
	fs := newFlagSet("klaxon integrations", integrationsUsage,
		"Lists integrations with their webhook URLs (the URL holds the token: share it only with the sender).\n"+
			"add makes one, show prints one with the setup block for its sender, set changes its timers and chaos;\n"+
			"each takes --help.", e.Stderr)
	commonFlags(fs, &c)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "unknown integrations command %q (use list, add, show or set)", pos[0])
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
