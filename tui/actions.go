package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// actMsg asks for a person's action on incidents: a key in a list or on an
// incident's page. The root hands it to every component, so each shows it
// on its copies at once, and to actions, which carries it out.
type actMsg struct {
	verb     string // for the status line: "acknowledged", "severity sev2:"
	ids      []int64
	action   incidents.PersonAction
	fromPage bool // from an incident's page: the marks stay
	// before is each incident as the person saw it when pressing the key
	// (those on screen), so the answer can say what did not change.
	before map[int64]incidents.Incident
	// confirmed: a resolve the person said yes to (resolved is final).
	confirmed bool
}

// seen records in as the person saw it before the action.
func (a *actMsg) seen(in *incidents.Incident) {
	if in == nil {
		return
	}
	if a.before == nil {
		a.before = map[int64]incidents.Incident{}
	}
	a.before[in.ID] = *in
}

// prompt is the question asked before a resolve: resolve #12 "disk full"? y/N
func (a actMsg) prompt() string {
	if len(a.ids) == 1 {
		q := "resolve #" + itoa(a.ids[0])
		if in, ok := a.before[a.ids[0]]; ok && !untitled(in.Title) {
			q += " " + `"` + oneLine(in.Title, 40) + `"`
		}
		return q + "? y/N"
	}
	return "resolve " + plural(len(a.ids), "marked incident", "marked incidents") + "? y/N"
}

// changed reports whether the action changed in, by what was seen before
// it; an incident not seen before counts as changed.
func (a actMsg) changed(in *incidents.Incident) bool {
	b, ok := a.before[in.ID]
	if !ok || in == nil {
		return true
	}
	switch a.action.Kind {
	case incidents.EntryAcknowledged, incidents.EntryUnacknowledged:
		return b.Status != in.Status
	case incidents.EntrySeverityChanged:
		return b.Severity != in.Severity
	case incidents.EntryPriorityChanged:
		return b.Priority != in.Priority
	}
	return true
}

// already is what an action that changed nothing says: "already acknowledged".
func (a actMsg) already() string {
	switch a.action.Kind {
	case incidents.EntryAcknowledged:
		return "already acknowledged"
	case incidents.EntryUnacknowledged:
		return "already triggered"
	case incidents.EntrySeverityChanged:
		return "already " + labelOr(string(a.action.Severity))
	case incidents.EntryPriorityChanged:
		return "already " + labelOr(string(a.action.Priority))
	}
	return "unchanged"
}

// applies reports whether the action is for incident id.
func (a actMsg) applies(id int64) bool { return slices.Contains(a.ids, id) }

// apply is in after the action, by the domain's own rules, so that pressing
// s twice quickly cycles twice (in itself if the action does not apply).
func (a actMsg) apply(in *incidents.Incident, now time.Time) *incidents.Incident {
	cp := *in
	if _, err := incidents.ApplyAction(&cp, a.action, now); err != nil {
		return in
	}
	return &cp
}

var (
	severityCycle = []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity}
	priorityCycle = []incidents.Priority{"p1", "p2", "p3", "p4", "p5", incidents.NoPriority}
)

// isAction reports whether msg is one of the action keys (a u r s S p P).
func isAction(k KeyMap, msg tea.KeyMsg) bool {
	return key.Matches(msg, k.Acknowledge, k.Unacknowledge, k.Resolve, k.Severity, k.SeverityBack, k.Priority, k.PriorityBack)
}

// actionFor is the action key msg asks for on ids, a severity or priority
// counted on from ref's; ok is false for any other key.
func actionFor(k KeyMap, msg tea.KeyMsg, ids []int64, ref *incidents.Incident) (a actMsg, ok bool) {
	switch {
	case key.Matches(msg, k.Acknowledge):
		a.action, a.verb = incidents.PersonAction{Kind: incidents.EntryAcknowledged}, "acknowledged"
	case key.Matches(msg, k.Unacknowledge):
		a.action, a.verb = incidents.PersonAction{Kind: incidents.EntryUnacknowledged}, "unacknowledged"
	case key.Matches(msg, k.Resolve):
		a.action, a.verb = incidents.PersonAction{Kind: incidents.EntryResolved}, "resolved"
	case key.Matches(msg, k.Severity, k.SeverityBack):
		var cur incidents.Severity
		if ref != nil {
			cur = ref.Severity
		}
		sev := cycle(severityCycle, cur, key.Matches(msg, k.SeverityBack))
		a.action, a.verb = incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: sev}, "severity "+labelOr(string(sev))+":"
	case key.Matches(msg, k.Priority, k.PriorityBack):
		var cur incidents.Priority
		if ref != nil {
			cur = ref.Priority
		}
		p := cycle(priorityCycle, cur, key.Matches(msg, k.PriorityBack))
		a.action, a.verb = incidents.PersonAction{Kind: incidents.EntryPriorityChanged, Priority: p}, "priority "+labelOr(string(p))+":"
	default:
		return a, false
	}
	a.ids = ids
	a.action.By = incidents.ByConsole
	return a, true
}

// cycle returns the value after cur in order (before it when back).
func cycle[T comparable](order []T, cur T, back bool) T {
	i := max(0, slices.Index(order, cur))
	if back {
		return order[(i+len(order)-1)%len(order)]
	}
	return order[(i+1)%len(order)]
}

func labelOr(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func sortIDs(ids []int64) { slices.Sort(ids) }

// replayMsg asks to send a journaled request again (R).
type replayMsg struct{ id int64 }

// asks reports whether a must be confirmed first: a resolve, which is final.
func (a actMsg) asks() bool { return a.action.Kind == incidents.EntryResolved && !a.confirmed }

// ask holds a until the person answers (the root takes the answer, y or
// anything else).
func (c *common) ask(a actMsg) {
	c.confirm = &a
	c.setStatus(a.prompt())
}

// answer takes the key pressed while a resolve waits: y resolves, any
// other key leaves the incidents as they are.
func (c *common) answer(msg tea.KeyMsg) {
	a := *c.confirm
	c.confirm = nil
	if msg.Type == tea.KeyRunes && (string(msg.Runes) == "y" || string(msg.Runes) == "Y") {
		a.confirmed = true
		c.clearStatus()
		c.tell(a)
		return
	}
	c.setStatus("not resolved")
}

// actions carries out what a person asks: actions on incidents, through
// the Source (by: console), and replays through Options.Replay, one at a
// time, so a key pressed twice does not page twice. It says how they went
// in the status line.
type actions struct {
	c         *common
	replaying int64 // the request being replayed (0: none)
}

func (a *actions) update(msg tea.Msg) tea.Cmd {
	c := a.c
	switch msg := msg.(type) {
	case actMsg:
		switch msg.action.Kind {
		case incidents.EntryAcknowledged, incidents.EntryUnacknowledged, incidents.EntryResolved:
			if !msg.fromPage {
				clear(c.marks) // done with them; severity and priority keep them to cycle again
			}
		}
		return actCmd(c.src, msg)
	case actedMsg:
		changed := 0
		for _, in := range msg.done {
			if msg.act.changed(in) {
				changed++
			}
		}
		n := len(msg.act.ids)
		switch {
		case len(msg.errs) == 0 && n == 1 && changed == 0:
			c.setStatus("#" + itoa(msg.act.ids[0]) + " " + msg.act.already())
		case len(msg.errs) == 0 && n == 1:
			c.setStatus(sentence(msg.act.verb, "#"+itoa(msg.act.ids[0])))
		case len(msg.errs) == 0 && changed == n:
			c.setStatus(sentence(msg.act.verb, plural(n, "incident", "incidents")))
		case len(msg.errs) == 0:
			c.setStatus(strings.TrimSuffix(msg.act.verb, ":") + ": " + thousands(changed) + " of " + thousands(n) + " changed (" +
				thousands(n-changed) + " " + msg.act.already() + ")")
		case n == 1:
			c.setError(c.actionError(msg.errs[0]))
		default:
			c.setError(thousands(len(msg.errs)) + " of " + thousands(n) + " failed: " + c.actionError(msg.errs[0]))
		}
		return c.tally.refresh()
	case replayMsg:
		if a.replaying != 0 {
			c.setStatus("still replaying request " + itoa(a.replaying) + "…")
			return nil
		}
		a.replaying = msg.id
		c.setStatus("replaying request " + itoa(msg.id) + "…")
		return replayCmd(c.opts.Replay, msg.id)
	case replayedMsg:
		a.replaying = 0
		what := "replayed request " + itoa(msg.id) + ": "
		answer := strings.TrimSpace(msg.answer)
		switch {
		case msg.err != nil:
			c.setError("replay of request " + itoa(msg.id) + " failed: " + errorText(msg.err))
		case answerStatus(answer) >= 400:
			c.setError(what + answer)
		default:
			c.setStatus(what + answer)
		}
	}
	return nil
}

// sentence writes "#12 acknowledged" or "severity sev2: #12".
func sentence(verb, what string) string {
	if verb != "" && verb[len(verb)-1] == ':' {
		return verb + " " + what
	}
	return what + " " + verb
}
