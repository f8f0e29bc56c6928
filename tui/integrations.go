package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/internal/termtext"
	"klaxon/senders"
)

// The console knows the integrations so that it can say which kind reads
// the webhook URL in the header, warn while an integration's chaos is on,
// and show the integrations page (i): each one's kind, dedup key and URL,
// and on enter the block to paste into its sender.

// integration is an integration as the console shows it.
type integration struct {
	incidents.Integration
	// URL is its webhook URL, made from the address of Options.WebhookURL
	// (every integration of a klaxon has the same); "" without one.
	URL string
}

// integrationsFetcher is IntegrationLister over a network: the remote
// client (klaxon attach), whose Integrations has the API's shape.
type integrationsFetcher interface {
	ListIntegrations(ctx context.Context) ([]*incidents.Integration, error)
}

// listsIntegrations reports whether the console can learn src's integrations.
func listsIntegrations(src Source) bool {
	switch src.(type) {
	case IntegrationLister, integrationsFetcher:
		return true
	}
	return false
}

// integrationsEvery is how many ticks (seconds) the console waits before it
// reads the integrations again: a chaos setting or a new integration made
// from the command line sends no change, so this is how the header learns
// of it. A list of a few rows costs nothing to read.
const integrationsEvery = 5

// integrationRows are the rows of the integrations page, read whole. The
// list is read even while the page is not shown: the header needs it.
type integrationRows struct {
	ticks *int // ticks since the last read began
}

func newIntegrationList(c *common) *list[integration] {
	l := newList[integration](c, listIntegrations, integrationRows{ticks: new(int)})
	l.always, l.hidden = true, true
	l.win.lines = integrationLines
	return l
}

// integrationLines is how many lines an integration takes on the page.
func integrationLines(it integration) int {
	if it.Chaos.On() {
		return 3
	}
	return 2
}

func (integrationRows) name() string                                            { return "Integrations" }
func (integrationRows) what() string                                            { return "the integrations" }
func (integrationRows) idOf(it integration) int64                               { return it.ID }
func (integrationRows) help(k KeyMap) helpKeys                                  { return k.integrationsHelp() }
func (integrationRows) loaded(*list[integration], []chunk[integration]) tea.Cmd { return nil }

// read lists them all in one page; they get their URLs from the webhook
// URL's address. A Source that cannot list them has none.
func (r integrationRows) read(c *common) fetcher[integration] {
	src := c.src
	base, _, err := senders.ParseWebhookURL(c.opts.WebhookURL)
	if err != nil {
		base = ""
	}
	*r.ticks = 0
	return func(ctx context.Context, _ int, _ string) (incidents.Page[integration], error) {
		var (
			all []*incidents.Integration
			err error
		)
		switch s := src.(type) {
		case IntegrationLister:
			all, err = s.Integrations(ctx)
		case integrationsFetcher:
			all, err = s.ListIntegrations(ctx)
		}
		if err != nil {
			return incidents.Page[integration]{}, err
		}
		out := make([]integration, 0, len(all))
		for _, in := range all {
			if in == nil {
				continue
			}
			it := integration{Integration: *in}
			if base != "" {
				it.URL = senders.Target{Base: base, Token: in.Token}.PushURL()
			}
			out = append(out, it)
		}
		return incidents.Page[integration]{Items: out}, nil
	}
}

func (integrationRows) columns(l *list[integration], _ []integration) []column {
	nameW := 4
	for _, it := range l.win.items {
		nameW = max(nameW, ansi.StringWidth(termtext.Line(it.Name)))
	}
	return []column{
		{title: "NAME", width: min(nameW, 20)},
		{title: "KIND", width: 12},
		{title: "DEDUP KEY", width: 5, grow: 1},
	}
}

func (integrationRows) draw(_ *list[integration], it integration, t table, _ time.Time, cells []cell) (rune, []cell) {
	kn := keyName(it.Kind)
	if kn == "" {
		kn = "—"
	}
	return ' ', append(cells,
		cell{text: it.Name, raw: true},
		cell{text: kindLabel(it.Kind, t.width("KIND"))},
		cell{text: kn},
	)
}

// below are the lines under an integration's row: its URL, and its chaos.
func (integrationRows) below(l *list[integration], it integration) []string {
	st, w := l.c.styles, l.width
	var out []string
	if it.URL != "" {
		out = append(out, "    "+st.URL.Render(oneLine(it.URL, w-4)))
	} else {
		out = append(out, st.Dim.Render("    (URL unknown here: klaxon integrations prints it)"))
	}
	if it.Chaos.On() {
		out = append(out, "    "+st.StatusErr.Render(oneLine("⚡ chaos: "+it.Chaos.Describe(), w-4)))
	}
	return out
}

func (integrationRows) empty(l *list[integration]) []string {
	st := l.c.styles
	if !listsIntegrations(l.c.src) {
		return []string{"", "  This console cannot list the integrations of its klaxon.",
			st.Dim.Render("  klaxon integrations lists them, with their URLs.")}
	}
	if out, ok := l.emptyState(); ok {
		return out
	}
	return []string{"", "  No integrations yet. Make one for a sender:",
		"    " + st.Code.Render("klaxon integrations add NAME --kind alertmanager")}
}

func (integrationRows) total(l *list[integration]) (int, bool, bool) {
	return l.win.Len(), l.win.loaded, false
}

// concerns: after a resync, and when a journal entry names an integration
// the console has not heard of (one adopted from an unknown token).
func (integrationRows) concerns(l *list[integration], msg changesMsg) bool {
	if !listsIntegrations(l.c.src) {
		return false
	}
	if msg.resync {
		return true
	}
	for name := range msg.integrations {
		if !knowsIntegration(l.win.items, name) {
			return true
		}
	}
	return false
}

// knowsIntegration reports whether list has an integration by this name.
func knowsIntegration(list []integration, name string) bool {
	for _, it := range list {
		if it.Name == name {
			return true
		}
	}
	return false
}

// key: enter shows the setup, esc closes the page; actions do nothing here.
func (integrationRows) key(l *list[integration], msg tea.KeyMsg) (tea.Cmd, bool) {
	k := l.c.keys
	switch {
	case key.Matches(msg, k.Setup):
		if it, ok := l.win.aimed(); ok {
			l.c.tell(showMsg{setup: &it})
		}
	case key.Matches(msg, k.Back):
		l.c.tell(closePageMsg{})
	case key.Matches(msg, k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End):
		return l.move(msg), true
	}
	return nil, true
}

// update reads them again every few ticks: chaos and new integrations
// send no change.
func (r integrationRows) update(l *list[integration], msg tea.Msg) tea.Cmd {
	if _, ok := msg.(tickMsg); ok && listsIntegrations(l.c.src) {
		*r.ticks++
		if *r.ticks >= integrationsEvery {
			return l.refresh()
		}
	}
	return nil
}

// kindShort names kinds in a narrow column.
var kindShort = map[incidents.Kind]string{
	incidents.KindWebhook:      "web",
	incidents.KindHealthchecks: "hc",
	incidents.KindAlertmanager: "am",
	incidents.KindGrafana:      "graf",
	incidents.KindPagerDuty:    "pd",
	incidents.KindOpsgenie:     "og",
}

// kindLabel is a kind in width cells: its name when it fits, else its
// short name. The kind may come over the network, so it is made inert.
func kindLabel(k incidents.Kind, width int) string {
	if k == "" {
		return ""
	}
	if ansi.StringWidth(string(k)) <= width {
		return oneLine(string(k), width)
	}
	if s, ok := kindShort[k]; ok {
		return fit(s, width)
	}
	return oneLine(string(k), width)
}

// knownKind reports whether klaxon reads k (a kind from a newer klaxon
// over the network is shown, but its dedup key is not guessed).
func knownKind(k incidents.Kind) bool {
	for _, known := range incidents.Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// keyName is the payload field k's incidents are keyed by, "" when unknown.
func keyName(k incidents.Kind) string {
	if !knownKind(k) {
		return ""
	}
	return k.KeyName()
}
