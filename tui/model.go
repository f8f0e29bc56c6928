package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

// Model is the console, the root of its components (component.go): the
// header, the pages (the lists, one on screen), an open page about one
// incident or request (detail), the filter line and the footer. It keeps
// only their sizes, which one has the keys, the routing of messages, and
// the keys that work everywhere. It implements tea.Model.
type Model struct {
	c       *common
	sub     *subscription
	header  *header
	pages   []page        // the tabs, in order
	tabKeys []key.Binding // the key of each page's tab
	shown   int           // the page on screen
	last    int           // the last page shown that is always a tab
	detail  *detail
	filter  *filter
	footer  *footer
	actions *actions

	width, height int
	body          int // the lines between the tabs and the status line
	healthGen     int // health changes heard; a fetched health older than the last is dropped
}

// New returns the console over src.
func New(src Source, opts Options) Model {
	c := newCommon(src, opts)
	keys := c.keys
	integs := newIntegrationList(c)
	m := Model{
		c: c, sub: newSubscription(), width: 80, height: 24,
		pages: []page{
			newIncidentList(c, listOpen, incidentRows{title: "Open", status: "open", missed: true}),
			newList[incidents.SuppressedEvent](c, listSuppressed, suppressedRows{}),
			newIncidentList(c, listResolved, incidentRows{title: "Resolved", status: string(incidents.Resolved)}),
			newList[*incidents.Request](c, listRequests, requestRows{}),
			integs,
		},
		tabKeys: []key.Binding{keys.ViewOpen, keys.ViewSuppressed, keys.ViewResolved, keys.ViewRequests, keys.Integrations},
		header:  newHeader(c, integs),
		detail:  newDetail(c),
		filter:  newFilter(c),
		actions: &actions{c: c},
	}
	m.footer = newFooter(c, m.filter)
	m.pages[m.shown].Focus() // nothing is read before the subscription
	m.footer.on = m.focused()
	m.relayout()
	return m
}

// Init subscribes to changes (the first reads follow) and starts the clock
// that moves ages along.
func (m Model) Init() tea.Cmd {
	return tea.Batch(subscribeCmd(m.c.src, m.sub), tickCmd())
}

// Update handles one message. It never blocks: reading and writing happen
// in the commands it returns.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	cmd := m.dispatch(msg)
	m.relayout()
	return cmd
}

// dispatch routes msg, then what the components told the root meanwhile.
func (m *Model) dispatch(msg tea.Msg) tea.Cmd {
	m.c.focus = m.focused()
	cmds := []tea.Cmd{m.route(msg)}
	for len(m.c.told) > 0 {
		told := m.c.told[0]
		m.c.told = m.c.told[1:]
		m.c.focus = m.focused()
		cmds = append(cmds, m.route(told))
	}
	m.footer.on = m.focused()
	m.c.focus = m.footer.on
	return tea.Batch(cmds...)
}

func (m *Model) route(msg tea.Msg) tea.Cmd {
	c := m.c
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil
	case tea.KeyMsg:
		return m.key(msg)
	case subscribedMsg:
		c.live, c.subscribed = true, true
		return tea.Batch(waitForChangesCmd(m.sub), c.tally.refresh(), loadHealthCmd(c.src, m.healthGen), m.broadcast(msg))
	case changesMsg:
		return m.hear(msg)
	case healthMsg:
		if msg.gen == m.healthGen && c.setHealth(msg.h) {
			return m.changed(changesMsg{incidents: map[int64]bool{}, resync: true}) // back: read everything again
		}
		return nil
	case countsMsg, countsDueMsg:
		return c.tally.update(msg)
	case showMsg:
		return m.detail.show(msg)
	case closePageMsg:
		return m.setPage(m.last)
	case filterMsg:
		return m.filter.open()
	case queryMsg:
		if msg.q == c.query && !msg.outcome {
			return m.broadcast(msg)
		}
		c.query = msg.q
		clear(c.marks) // act only on what can be seen
		return tea.Batch(c.tally.filtered(), m.broadcast(msg))
	case actMsg:
		if msg.asks() {
			c.ask(msg)
			return nil
		}
		return tea.Batch(m.broadcast(msg), m.actions.update(msg))
	case actedMsg, replayMsg, replayedMsg:
		return tea.Batch(m.broadcast(msg), m.actions.update(msg))
	case tickMsg:
		if c.status.expired(c.now()) && c.confirm == nil {
			c.clearStatus()
		}
		return tea.Batch(tickCmd(), m.broadcast(msg))
	case bellDoneMsg:
		c.alarm.done(msg)
		return nil
	}
	return m.broadcast(msg)
}

// broadcast hands msg to every component; each takes what is its own.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.pages)+2)
	for _, p := range m.pages {
		_, cmd := p.Update(msg)
		cmds = append(cmds, cmd)
	}
	_, dc := m.detail.Update(msg)
	_, fc := m.filter.Update(msg)
	return tea.Batch(append(cmds, dc, fc)...)
}

// hear takes a message of changes from the one road, and listens again.
func (m *Model) hear(msg changesMsg) tea.Cmd {
	c := m.c
	var cmds []tea.Cmd
	if msg.closed {
		if m.sub.ended() {
			return nil // the console ended it: it is quitting
		}
		c.live = false
		c.setError("live updates stopped; press a view key (1-4) to reload")
		c.status.owner = nil // every view's
	} else {
		cmds = append(cmds, waitForChangesCmd(m.sub))
	}
	recovered := false
	if msg.health != nil {
		m.healthGen++
		recovered = c.setHealth(*msg.health)
	}
	if msg.resync || recovered {
		// Ask again: a klaxon reconnected to may have been unwell all along.
		cmds = append(cmds, loadHealthCmd(c.src, m.healthGen))
	}
	// Health back: what is on screen may be from before the trouble.
	msg.resync = msg.resync || recovered
	cmds = append(cmds, c.alarm.heard(msg, m.detail.showing()), m.changed(msg))
	return tea.Batch(cmds...)
}

// changed hands changes to every component, and counts again.
func (m *Model) changed(msg changesMsg) tea.Cmd {
	var count tea.Cmd
	if len(msg.incidents) > 0 || msg.requests > 0 || msg.resync {
		count = m.c.tally.refresh()
	}
	return tea.Batch(count, m.broadcast(msg))
}

// key routes a key press: the keys that work everywhere, then the filter
// line when it is open, the open page, or the page on screen.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.keys
	if msg.Alt && msg.Type == tea.KeyRunes && !msg.Paste {
		// No binding uses Alt: this is esc followed quickly by a key (a
		// terminal sends esc as the Alt prefix), e.g. esc then 2 over a slow
		// link. Take it as the two keys it was.
		back := m.dispatch(tea.KeyMsg{Type: tea.KeyEsc})
		msg.Alt = false
		return tea.Batch(back, m.dispatch(msg))
	}
	if m.c.confirm != nil && msg.Type != tea.KeyCtrlC {
		m.c.answer(msg) // resolve? y/N: the key answers, nothing else
		return nil
	}
	if m.filter.active {
		switch {
		case msg.Type == tea.KeyCtrlC:
			m.sub.close()
			return tea.Quit
		case msg.Type == tea.KeyUp || msg.Type == tea.KeyDown:
			_, cmd := m.pages[m.shown].Update(msg) // arrows still move the selection
			return cmd
		}
		_, cmd := m.filter.Update(msg)
		return cmd
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed quickly (or over a slow link) can arrive together as
		// one message: take them one at a time (after a "/", the rest goes
		// to the filter line).
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmds = append(cmds, m.dispatch(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}))
		}
		return tea.Batch(cmds...)
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.sub.close()
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.footer.help.ShowAll = !m.footer.help.ShowAll
		return nil
	case key.Matches(msg, k.NextView):
		return m.setPage(m.cycle(1))
	case key.Matches(msg, k.PrevView):
		return m.setPage(m.cycle(-1))
	}
	for i, b := range m.tabKeys {
		if key.Matches(msg, b) {
			return m.setPage(i)
		}
	}
	_, cmd := m.focused().Update(msg)
	return cmd
}

// focused is the component that has the keys (but the filter line's).
func (m *Model) focused() part {
	if m.detail.shown() {
		return m.detail
	}
	return m.pages[m.shown]
}

// cycle is the page delta tabs away from the last one shown, among those
// that are always tabs.
func (m *Model) cycle(delta int) int {
	i := m.last
	for {
		i = (i + delta + len(m.pages)) % len(m.pages)
		if !m.pages[i].isHidden() {
			return i
		}
	}
}

// setPage shows page i (closing an open incident's or request's page).
func (m *Model) setPage(i int) tea.Cmd {
	m.detail.close()
	if i != m.shown {
		m.pages[m.shown].Blur()
	}
	m.shown = i
	if !m.pages[i].isHidden() {
		m.last = i
	}
	var count tea.Cmd
	if !m.c.live {
		count = m.c.tally.refresh() // not hearing changes: a view key reads everything again
	}
	return tea.Batch(count, m.pages[i].Focus())
}

// relayout sizes the components for the screen, when it or the lines the
// header and the footer take have changed.
func (m *Model) relayout() {
	widthChanged := m.width != m.header.width
	m.header.SetSize(m.width, 0) // its lines depend on the width (the URL wraps)
	body := max(2, m.height-m.header.height()-1-m.footer.height())
	if body == m.body && !widthChanged {
		return
	}
	m.body = body
	for _, c := range []Component{m.header, m.footer, m.filter, m.detail} {
		c.SetSize(m.width, body)
	}
	for _, p := range m.pages {
		p.SetSize(m.width, body)
	}
}

// View draws the screen: exactly height lines, none wider than width. A
// frame that rings carries the bell and the desktop notifications.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.header.lines()...)
	lines = append(lines, tabs(m.c.styles, m.pages, m.tabKeys, m.shown, m.width))
	var body string
	if m.detail.shown() {
		body = m.detail.View()
	} else {
		body = m.pages[m.shown].View()
	}
	bodyLines := strings.Split(body, "\n")
	for len(bodyLines) < m.body {
		bodyLines = append(bodyLines, "")
	}
	lines = append(lines, bodyLines[:m.body]...)
	lines = append(lines, strings.Split(m.footer.View(), "\n")...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "")
		}
	}
	return strings.Join(lines, "\n") + m.c.alarm.frame()
}

// closePageMsg closes a page that is a tab only while shown (esc on the
// integrations page).
type closePageMsg struct{}
