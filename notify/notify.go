// Package notify pages people beyond the console: it runs a command (for
// notify-send, a phone bridge, a script) with the incident as JSON on stdin
// when an incident is created, and again every so often while it stays
// triggered and unacknowledged (re-alerting).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"klaxon/incidents"
)

// Source is what the notifier reads (changes, and the triggered incidents)
// and where it publishes its re-alerts (*incidents.Service is one).
type Source interface {
	Subscribe() (<-chan incidents.Change, func())
	ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error)
	// Realerted publishes a re-alert as a change (incidents.ChangeRealert),
	// so every console, local, attached or over SSH, rings for it: on
	// every node of a team's klaxon, though only one node's notifier runs.
	Realerted(in *incidents.Incident)
}

// Options configure a Notifier.
type Options struct {
	// Command is run through sh -c with the incident's JSON on stdin and
	// KLAXON_REASON (created or realert), KLAXON_INCIDENT, KLAXON_SEVERITY
	// and KLAXON_TITLE in its environment, besides klaxon's own without
	// KLAXON_API_TOKEN (see withoutSecrets). Empty: no command.
	Command string
	// Realert is how often a triggered, unacknowledged incident alerts again,
	// by severity (NoSeverity for none). A missing or zero entry never
	// re-alerts.
	Realert map[incidents.Severity]time.Duration
	// Alert, when set, is called for each alert as well. Consoles need not
	// use it: a re-alert reaches them as a change (Source.Realerted).
	Alert func(in *incidents.Incident, reason string)
	// Timeout bounds one run of Command. Default 30 s.
	Timeout time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Notifier runs alerts. Run it with Run; it stops when its context ends.
type Notifier struct {
	src  Source
	opts Options

	mu        sync.Mutex
	lastAlert map[int64]time.Time // triggered incidents: when they last alerted
	running   sync.WaitGroup
}

// New returns a notifier over src.
func New(src Source, o Options) *Notifier {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Notifier{src: src, opts: o, lastAlert: map[int64]time.Time{}}
}

// Run alerts on new incidents and re-alerts on old ones until ctx ends, then
// waits for commands still running.
func (n *Notifier) Run(ctx context.Context, tick time.Duration) {
	changes, cancel := n.src.Subscribe()
	defer cancel()
	defer n.running.Wait()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			n.heard(ctx, c)
		case <-t.C:
			n.Realert(ctx)
		}
	}
}

// heard alerts for an incident that a webhook just created.
func (n *Notifier) heard(ctx context.Context, c incidents.Change) {
	in := c.Incident
	if in == nil {
		return
	}
	n.mu.Lock()
	_, known := n.lastAlert[in.ID]
	if !in.Status.Open() || in.Status == incidents.Acknowledged {
		delete(n.lastAlert, in.ID)
	} else if c.Kind == incidents.ChangeCreated && !known {
		// Nothing is remembered: a first re-alert counts from first_seen,
		// so a storm of new incidents costs no memory here.
		n.mu.Unlock()
		n.alert(ctx, in, "created")
		return
	}
	n.mu.Unlock()
}

// Realert alerts again for every triggered, unacknowledged incident whose
// severity's interval has passed since it last alerted.
func (n *Notifier) Realert(ctx context.Context) {
	if len(n.opts.Realert) == 0 {
		return
	}
	now := n.opts.Now()
	seen := map[int64]bool{}
	for sev, every := range n.opts.Realert {
		if every > 0 && !n.realertSeverity(ctx, sev, now, seen) {
			return
		}
	}
	n.mu.Lock()
	for id := range n.lastAlert {
		if !seen[id] {
			delete(n.lastAlert, id)
		}
	}
	n.mu.Unlock()
}

// realertSeverity re-alerts the triggered incidents of one severity that are
// due, marking in seen each one it looked at; false when it could not list.
//
// Only the first MaxRealerts of each severity, in SPEC §3 order, re-alert:
// past that many pages nobody reads them one by one, and walking them all
// every tick would cost a storm of new incidents dearly.
func (n *Notifier) realertSeverity(ctx context.Context, sev incidents.Severity, now time.Time, seen map[int64]bool) bool {
	f := incidents.Filter{Status: string(incidents.Triggered), Severity: &sev, Limit: MaxRealerts}
	page, err := n.src.ListIncidents(ctx, f)
	if err != nil {
		n.opts.Logger.Warn("re-alert: list triggered incidents", "severity", sev, "error", err)
		return false
	}
	every := n.opts.Realert[sev]
	for _, in := range page.Items {
		seen[in.ID] = true
		n.mu.Lock()
		last, ok := n.lastAlert[in.ID]
		if !ok {
			last = in.FirstSeen
		}
		due := now.Sub(last) >= every
		if due {
			n.lastAlert[in.ID] = now
		}
		n.mu.Unlock()
		if due {
			n.alert(ctx, in, "realert")
		}
	}
	return true
}

// secretEnv are the variables of klaxon's environment its commands do not
// get: the API token acts on every incident, and a paging script, or
// whatever it runs, has no need of it.
var secretEnv = []string{"KLAXON_API_TOKEN"}

// withoutSecrets is env without the variables of secretEnv.
func withoutSecrets(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(secretEnv, name) {
			out = append(out, kv)
		}
	}
	return out
}

// MaxRealerts is how many triggered incidents of one severity re-alert.
const MaxRealerts = 1000

func (n *Notifier) alert(ctx context.Context, in *incidents.Incident, reason string) {
	if reason == "realert" {
		n.src.Realerted(in) // a created alert was a change already
	}
	if n.opts.Alert != nil {
		n.opts.Alert(in, reason)
	}
	if n.opts.Command == "" {
		return
	}
	body, err := json.Marshal(in)
	if err != nil {
		return
	}
	n.running.Add(1)
	go func() {
		defer n.running.Done()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.opts.Timeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, "sh", "-c", n.opts.Command)
		cmd.Stdin = bytes.NewReader(body)
		cmd.Env = append(withoutSecrets(cmd.Environ()),
			"KLAXON_REASON="+reason,
			"KLAXON_INCIDENT="+strconv.FormatInt(in.ID, 10),
			"KLAXON_SEVERITY="+string(in.Severity),
			"KLAXON_TITLE="+in.Title,
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			n.opts.Logger.Warn("--on-trigger command failed", "incident", in.ID, "reason", reason, "error", err, "output", string(out))
		}
	}()
}
