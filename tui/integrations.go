package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/senders"
	"klaxon/termtext"
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

// integrationsState is what the console knows of the integrations, and the
// integrations page.
type integrationsState struct {
	list    []integration
	loaded  bool
	err     error // why the last read failed
	loading bool
	dirty   bool // read again when the read in flight is back
	ticks   int  // ticks since the last read began

	open     bool // the page is shown
	sel, top int  // the selected integration, the first one on screen
}

// integrationsMsg carries the integrations as the Source lists them.
type integrationsMsg struct {
	list []integration
	err  error
}

// loadIntegrationsCmd reads the integrations (nil when src cannot list
// them). They get their URLs from webhookURL's address.
func loadIntegrationsCmd(src Source, webhookURL string) tea.Cmd {
	if !listsIntegrations(src) {
		return nil
	}
	base, _, err := senders.ParseWebhookURL(webhookURL)
	if err != nil {
		base = ""
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
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
			return integrationsMsg{err: err}
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
		return integrationsMsg{list: out}
	}
}

// refreshIntegrations reads the integrations again, unless a read is in
// flight: then once more when it is back.
func (m *Model) refreshIntegrations() tea.Cmd {
	cmd := loadIntegrationsCmd(m.src, m.opts.WebhookURL)
	if cmd == nil {
		return nil
	}
	if m.integs.loading {
		m.integs.dirty = true
		return nil
	}
	m.integs.loading, m.integs.ticks = true, 0
	return cmd
}

func (m *Model) receiveIntegrations(msg integrationsMsg) tea.Cmd {
	s := &m.integs
	s.loading = false
	s.err = msg.err
	if msg.err == nil {
		before := m.headerHeight()
		s.list, s.loaded = msg.list, true
		s.sel = min(s.sel, max(0, len(s.list)-1))
		if m.headerHeight() != before {
			m.layout() // the chaos warning came or went
		}
		m.scrollIntegrations()
	}
	if s.dirty {
		s.dirty = false
		return m.refreshIntegrations()
	}
	return nil
}

// knowsIntegration reports whether the console has heard of an
// integration by this name (a journal entry naming another one means the
// list is out of date: an integration adopted from an unknown token).
func (m *Model) knowsIntegration(name string) bool {
	for _, it := range m.integs.list {
		if it.Name == name {
			return true
		}
	}
	return false
}

// webhookKind is the kind of the integration whose URL the header shows,
// once the integrations are known ("" until then, or when none has it).
func (m *Model) webhookKind() incidents.Kind {
	if m.opts.WebhookURL == "" {
		return ""
	}
	for _, it := range m.integs.list {
		if it.URL == m.opts.WebhookURL {
			return it.Kind
		}
	}
	return ""
}

// webhookLine is the header's line with the webhook URL, and the kind that
// reads it when there is room: "(alertmanager)", else "(am)", else none.
func (m *Model) webhookLine() string {
	st := m.styles
	url := termtext.Line(m.opts.WebhookURL)
	line := st.Dim.Render("webhook ") + st.URL.Render(url)
	k := m.webhookKind()
	if k == "" {
		return line
	}
	room := m.width - 8 - ansi.StringWidth(url)
	for _, name := range []string{oneLine(string(k), 40), kindLabel(k, 4)} {
		if tail := " (" + name + ")"; ansi.StringWidth(tail) <= room {
			return line + st.Dim.Render(tail)
		}
	}
	return line
}

// anyChaos reports whether some integration's chaos is on (the header
// then has its chaos line).
func (m *Model) anyChaos() bool {
	for _, it := range m.integs.list {
		if it.Chaos.On() {
			return true
		}
	}
	return false
}

// chaosOn are the integrations whose chaos is on.
func (m *Model) chaosOn() []integration {
	var on []integration
	for _, it := range m.integs.list {
		if it.Chaos.On() {
			on = append(on, it)
		}
	}
	return on
}

// chaosWarning is the header's line while an integration answers some of
// its requests with errors on purpose: "⚡ chaos: am 503 to 30% of
// requests". Narrower, the names are cut, then only they are listed, then
// the line only says "⚡ chaos". It starts with ⚡ so it reads without colour.
func (m *Model) chaosWarning() string {
	on := m.chaosOn()
	if len(on) == 0 {
		return ""
	}
	full := func(nameWidth int) string {
		parts := make([]string, len(on))
		for i, it := range on {
			parts[i] = oneLine(it.Name, nameWidth) + " " + oneLine(it.Chaos.Describe(), 60)
		}
		return "⚡ chaos: " + strings.Join(parts, "; ")
	}
	names := func(nameWidth int) string {
		parts := make([]string, len(on))
		for i, it := range on {
			parts[i] = oneLine(it.Name, nameWidth)
		}
		return "⚡ chaos on " + strings.Join(parts, ", ")
	}
	text := "⚡ chaos"
	for _, c := range []string{full(40), full(12), names(12), names(6)} {
		if ansi.StringWidth(c) <= m.width {
			text = c
			break
		}
	}
	return m.styles.Chaos.Render(fit(text, m.width))
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

// ---- the integrations page ----

func (m *Model) openIntegrations() tea.Cmd {
	m.closeDetail()
	m.integs.open = true
	m.layout()
	m.scrollIntegrations()
	return m.refreshIntegrations()
}

func (m *Model) closeIntegrations() {
	if m.integs.open {
		m.integs.open = false
		m.layout()
	}
}

func (m *Model) integrationsKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.integs
	page := max(1, m.integrationsFit())
	switch {
	case key.Matches(msg, m.keys.Up):
		s.sel--
	case key.Matches(msg, m.keys.Down):
		s.sel++
	case key.Matches(msg, m.keys.PageUp):
		s.sel -= page
	case key.Matches(msg, m.keys.PageDown):
		s.sel += page
	case key.Matches(msg, m.keys.Home):
		s.sel = 0
	case key.Matches(msg, m.keys.End):
		s.sel = len(s.list) - 1
	case key.Matches(msg, m.keys.Setup):
		if s.sel >= 0 && s.sel < len(s.list) {
			m.openSetup(s.list[s.sel])
		}
		return nil
	case key.Matches(msg, m.keys.Back):
		m.closeIntegrations()
		return nil
	}
	s.sel = max(0, min(s.sel, len(s.list)-1))
	m.scrollIntegrations()
	return nil
}

// openSetup shows the block to paste into the sender of it.
func (m *Model) openSetup(it integration) {
	m.detail.kind, m.detail.id, m.detail.in, m.detail.req, m.detail.err = detailSetup, it.ID, nil, nil, nil
	m.detail.integ = &it
	m.layout()
	m.detail.setContent(setupPage(m.styles, it), false)
}

// integrationLines is how many lines an integration takes on the page.
func integrationLines(it integration) int {
	if it.Chaos.On() {
		return 3
	}
	return 2
}

// integrationsFit is about how many integrations fit on the page.
func (m *Model) integrationsFit() int { return max(1, (m.bodyHeight()-1)/2) }

// scrollIntegrations keeps the selected integration on screen.
func (m *Model) scrollIntegrations() {
	s := &m.integs
	room := m.bodyHeight() - 1
	s.top = max(0, min(s.top, s.sel))
	for s.top < s.sel {
		used := 0
		for i := s.top; i <= s.sel; i++ {
			used += integrationLines(s.list[i])
		}
		if used <= room {
			break
		}
		s.top++
	}
}

func (m *Model) integrationsView(height int) []string {
	st := m.styles
	s := &m.integs
	switch {
	case !listsIntegrations(m.src):
		return []string{"", "  This console cannot list the integrations of its klaxon.",
			st.Dim.Render("  klaxon integrations lists them, with their URLs.")}
	case !s.loaded && s.err != nil:
		return []string{"", "  " + st.StatusErr.Render("Cannot read the integrations: "+oneLine(incidents.ErrorMessage(s.err), m.width-32))}
	case !s.loaded:
		return []string{"", st.Dim.Render("  Loading…")}
	case len(s.list) == 0:
		return []string{"", "  No integrations yet. Make one for a sender:",
			"    " + st.Code.Render("klaxon integrations add NAME --kind alertmanager")}
	}
	nameW := 4
	for _, it := range s.list {
		nameW = max(nameW, ansi.StringWidth(termtext.Line(it.Name)))
	}
	nameW = min(nameW, 20)
	const kindW = 12
	keyW := max(5, m.width-2-nameW-1-kindW-1)
	out := []string{st.Columns.Render("  " + fit("NAME", nameW) + " " + fit("KIND", kindW) + " " + fit("DEDUP KEY", keyW))}
	for i := s.top; i < len(s.list) && len(out) < height; i++ {
		it := s.list[i]
		kn := keyName(it.Kind)
		if kn == "" {
			kn = "—"
		}
		cells := fit(oneLine(it.Name, nameW), nameW) + " " + fit(kindLabel(it.Kind, kindW), kindW) + " " + fit(kn, keyW)
		if i == s.sel {
			out = append(out, "▶ "+st.Selected.Render(cells))
		} else {
			out = append(out, "  "+cells)
		}
		if it.URL != "" {
			out = append(out, "    "+st.URL.Render(oneLine(it.URL, m.width-4)))
		} else {
			out = append(out, st.Dim.Render("    (URL unknown here: klaxon integrations prints it)"))
		}
		if it.Chaos.On() {
			out = append(out, "    "+st.StatusErr.Render(oneLine("⚡ chaos: "+it.Chaos.Describe(), m.width-4)))
		}
	}
	if len(out) > height {
		out = out[:height]
	}
	return out
}

// setupPage is the block to paste into the sender of it (senders.Setup),
// made inert: a name or token adopted from a request path is untrusted.
func setupPage(st Styles, it integration) string {
	base, token, err := senders.ParseWebhookURL(it.URL)
	if it.URL == "" || err != nil {
		return st.Dim.Render("This console does not know klaxon's address, so it cannot write the setup.\n`klaxon integrations` prints each integration's URL.")
	}
	if it.Token != "" {
		token = it.Token
	}
	block := senders.Setup(senders.Target{Base: base, Token: token, Kind: it.Kind, Name: it.Name})
	return strings.TrimRight(termtext.Block(block), "\n")
}

// wrapSetup wraps a setup block for width cells so that it still pastes:
// a cut comment goes on as a comment, and a cut YAML line goes on indented
// deeper (a quoted value folds back into one line).
func wrapSetup(text string, width int) string {
	if width <= 0 {
		return text
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " "))]
		cont := lead + "    "
		if strings.HasPrefix(strings.TrimLeft(l, " "), "#") {
			cont = lead + "#   "
		}
		if ansi.StringWidth(cont) > width/2 {
			cont = ""
		}
		out = append(out, hangWrap(l, width, cont)...)
	}
	return strings.Join(out, "\n")
}

// hangWrap cuts l into lines of at most width cells at spaces (anywhere
// when a word is too long), each line after the first starting with cont.
func hangWrap(l string, width int, cont string) []string {
	var out []string
	for ansi.StringWidth(l) > width {
		head := ansi.Truncate(l, width, "")
		cut := strings.LastIndexByte(head, ' ')
		if cut <= len(cont) || strings.TrimSpace(head[:cut]) == "" {
			cut = len(head) // no space to cut at: cut the word
		}
		if cut == 0 {
			break
		}
		out = append(out, strings.TrimRight(l[:cut], " "))
		l = cont + strings.TrimLeft(l[cut:], " ")
	}
	return append(out, l)
}
