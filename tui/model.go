package tui

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// viewID names the console's tabs.
type viewID int

const (
	viewOpen viewID = iota
	viewSuppressed
	viewResolved
	viewRequests
	viewCount
)

var viewNames = [viewCount]string{"Open", "Suppressed", "Resolved", "Requests"}

// Model is the console. It implements tea.Model.
type Model struct {
	src     Source
	opts    Options
	now     func() time.Time
	started time.Time // incidents first seen before this are not announced as new
	keys    KeyMap
	styles  Styles
	help    help.Model
	input   textinput.Model // the filter line

	width, height int

	view       viewID
	open       window[*incidents.Incident]
	resolved   window[*incidents.Incident]
	suppressed window[incidents.SuppressedEvent]
	requests   window[*incidents.Request]
	detail     detail
	integs     integrationsState // the integrations, and their page (i)

	query     string // the filter applied to the incident lists
	filtering bool   // the filter line has the keys
	filterSeq int

	marks     map[int64]bool // incidents marked for a bulk action
	fresh     map[int64]bool // new sev1 incidents not yet seen
	maxSeenID int64

	counts        counts
	countsLoaded  bool
	countsGen     int
	countsLoading bool
	countsDirty   bool
	countsErr     error

	sub       *subscription
	live      bool             // changes are being heard
	health    incidents.Health // whether klaxon is taking alerts (and the console hearing them)
	healthGen int              // health changes heard; a fetched health older than the last is dropped
	status    string
	statusErr bool
	statusAt  time.Time

	replaying int64 // the request being replayed (0: none)

	bell    bool     // this frame rings the terminal bell
	notes   []string // desktop notifications this frame carries (OSC 9)
	bellSeq int
}

// New returns the console over src.
func New(src Source, opts Options) Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	st := NewStyles(opts.Renderer)
	h := help.New()
	h.Styles = st.Help
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "filter title, details, integration"
	in.PromptStyle = st.Bold
	in.TextStyle = st.renderer.NewStyle()
	in.PlaceholderStyle = st.Dim
	in.CompletionStyle = st.Dim
	in.Cursor.Style = st.renderer.NewStyle()
	in.Cursor.TextStyle = st.renderer.NewStyle()
	in.Cursor.SetMode(cursor.CursorStatic)
	in.CharLimit = 200

	keys := DefaultKeyMap()
	keys.Replay.SetEnabled(opts.Replay != nil)
	incidentID := func(in *incidents.Incident) int64 { return in.ID }
	return Model{
		src:        src,
		opts:       opts,
		now:        now,
		started:    now().Truncate(time.Millisecond),
		keys:       keys,
		styles:     st,
		help:       h,
		input:      in,
		open:       newWindow(incidentID),
		resolved:   newWindow(incidentID),
		suppressed: newWindow(func(e incidents.SuppressedEvent) int64 { return e.ID }),
		requests:   newWindow(func(r *incidents.Request) int64 { return r.ID }),
		detail:     detail{vp: viewport.New(0, 0)},
		marks:      map[int64]bool{},
		fresh:      map[int64]bool{},
		sub:        newSubscription(),
		health:     incidents.Health{OK: true},
		width:      80,
		height:     24,
	}
}

// Init subscribes to changes (the first loads follow) and starts the clock
// that moves ages along.
func (m Model) Init() tea.Cmd {
	return tea.Batch(subscribeCmd(m.src, m.sub), tickCmd())
}

// Update handles one message. It never blocks: reading and writing happen
// in the commands it returns.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return nil

	case tea.KeyMsg:
		return m.handleKey(msg)

	case subscribedMsg:
		m.live = true
		return tea.Batch(waitForChangesCmd(m.sub), m.refresh(m.view), m.refreshCounts(), loadHealthCmd(m.src, m.healthGen), m.refreshIntegrations())

	case integrationsMsg:
		return m.receiveIntegrations(msg)

	case healthMsg:
		if msg.gen != m.healthGen {
			return nil // a change heard since then says more
		}
		if m.setHealth(msg.h) {
			return m.reloadAll()
		}
		return nil

	case changesMsg:
		return m.handleChanges(msg)

	case windowMsg[*incidents.Incident]:
		if msg.view == viewResolved {
			return receive(m, &m.resolved, msg)
		}
		var announce tea.Cmd
		if msg.gen == m.open.gen && msg.err == nil {
			announce = m.announce(m.noticeMissed(msg.pages))
		}
		return tea.Batch(receive(m, &m.open, msg), announce)
	case windowMsg[incidents.SuppressedEvent]:
		return receive(m, &m.suppressed, msg)
	case windowMsg[*incidents.Request]:
		return receive(m, &m.requests, msg)

	case countsMsg:
		if msg.gen != m.countsGen {
			return nil
		}
		m.countsLoading = false
		m.countsErr = msg.err
		if msg.err == nil {
			m.counts, m.countsLoaded = msg.c, true
		}
		if m.countsDirty {
			m.countsDirty = false
			// Still "loading" for refreshCounts: changes meanwhile wait
			// for the count after the pause.
			m.countsLoading = true
			gen := m.countsGen
			return tea.Tick(refreshPause(msg.took), func(time.Time) tea.Msg { return countsDueMsg{gen} })
		}
		return nil

	case reloadDueMsg:
		st := m.list(msg.view).state()
		if msg.gen != st.gen || !st.paused {
			return nil
		}
		st.paused = false
		if st.loading {
			st.dirty = true // read again after the read in flight
			return nil
		}
		st.dirty = false // this read sees what changed during the pause
		return m.load(msg.view, m.list(msg.view).reload())

	case countsDueMsg:
		if msg.gen != m.countsGen {
			return nil
		}
		m.countsLoading, m.countsDirty = false, false // this count sees what changed during the pause
		return m.refreshCounts()

	case detailMsg:
		return m.receiveDetail(msg)

	case actedMsg:
		return m.handleActed(msg)

	case filterTypedMsg:
		if msg.seq == m.filterSeq && m.filtering {
			return m.applyQuery(m.input.Value())
		}
		return nil

	case tickMsg:
		if m.status != "" && !m.statusErr && m.now().Sub(m.statusAt) > 5*time.Second {
			m.status = ""
		}
		if in := m.detail.in; m.detail.kind == detailIncident && in != nil && (in.UnacknowledgesAt != nil || in.AutoResolvesAt != nil) {
			// Move "in 4m" along.
			m.detail.setContent(incidentPage(m.styles, in, m.now()), true)
		}
		m.integs.ticks++
		if m.integs.ticks >= integrationsEvery {
			return tea.Batch(tickCmd(), m.refreshIntegrations())
		}
		return tickCmd()

	case replayedMsg:
		m.replaying = 0
		what := "replayed request " + itoa(msg.id) + ": "
		msg.answer = strings.TrimSpace(msg.answer)
		switch {
		case msg.err != nil:
			m.setError("replay of request " + itoa(msg.id) + " failed: " + errorText(msg.err))
		case answerStatus(msg.answer) >= 400:
			m.setError(what + msg.answer)
		default:
			m.setStatus(what + msg.answer)
		}
		return nil

	case bellDoneMsg:
		if msg.n == m.bellSeq {
			m.bell, m.notes = false, nil
		}
		return nil
	}
	return nil
}

// receive puts a load's answer into w and starts what should follow: the
// reload asked for while it was in flight, or the next chunk when the
// selection is near an edge.
func receive[T any](m *Model, w *window[T], msg windowMsg[T]) tea.Cmd {
	if !w.apply(msg, m.listHeight()) {
		return nil
	}
	if msg.req.kind == loadEnd && m.status == readingToEnd {
		m.status = ""
	}
	if w.dirty {
		w.dirty, w.paused = false, true
		view, gen := msg.view, w.gen
		return tea.Tick(refreshPause(msg.took), func(time.Time) tea.Msg { return reloadDueMsg{view, gen} })
	}
	if req, ok := w.next(); ok {
		return m.load(msg.view, req)
	}
	return nil
}

// list returns the window of view v.
func (m *Model) list(v viewID) list {
	switch v {
	case viewSuppressed:
		return &m.suppressed
	case viewResolved:
		return &m.resolved
	case viewRequests:
		return &m.requests
	}
	return &m.open
}

// incidentList returns the window of an incident view (nil for the others).
func (m *Model) incidentList(v viewID) *window[*incidents.Incident] {
	switch v {
	case viewOpen:
		return &m.open
	case viewResolved:
		return &m.resolved
	}
	return nil
}

// load starts reading req into view v's window.
func (m *Model) load(v viewID, req loadReq) tea.Cmd {
	st := m.list(v).state()
	st.loading, st.stale, st.since = true, false, m.now()
	src, query := m.src, m.query
	switch v {
	case viewSuppressed:
		return loadWindowCmd(v, st.gen, src.Suppressed, m.suppressed.idOf, req)
	case viewRequests:
		return loadWindowCmd(v, st.gen, src.Requests, m.requests.idOf, req)
	}
	status := "open"
	if v == viewResolved {
		status = string(incidents.Resolved)
	}
	fetch := func(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Incident], error) {
		return src.ListIncidents(ctx, incidents.Filter{Status: status, Query: query, Limit: limit, Cursor: cursor})
	}
	return loadWindowCmd(v, st.gen, fetch, m.open.idOf, req)
}

// refresh reads view v's window again, unless a read is in flight: then it
// reads once more when that one is back. So a storm of changes costs at
// most one read in flight and one after it.
func (m *Model) refresh(v viewID) tea.Cmd {
	w := m.list(v)
	if st := w.state(); st.loading || st.paused {
		st.dirty = true
		return nil
	}
	return m.load(v, w.reload())
}

// restart forgets view v's rows and reads its top again, ignoring what is in
// flight (a person asked for something else).
func (m *Model) restart(v viewID) tea.Cmd {
	m.list(v).reset()
	return m.load(v, firstRows())
}

// refreshCounts counts again, debounced like refresh.
func (m *Model) refreshCounts() tea.Cmd {
	if m.countsLoading {
		m.countsDirty = true
		return nil
	}
	m.countsLoading = true
	return countCmd(m.src, m.countsGen, m.query)
}

// handleChanges reacts to what the Source reports, and listens again.
func (m *Model) handleChanges(msg changesMsg) tea.Cmd {
	if msg.closed {
		if m.sub.ended() {
			return nil // the console ended it: it is quitting
		}
		m.live = false
		m.setError("live updates stopped; press a view key (1-4) to reload")
	}
	var cmds []tea.Cmd
	if !msg.closed {
		cmds = append(cmds, waitForChangesCmd(m.sub))
	}
	recovered := false
	if msg.health != nil {
		m.healthGen++
		recovered = m.setHealth(*msg.health)
	}
	if msg.resync || recovered {
		// Ask again: a klaxon reconnected to may have been unwell all along.
		cmds = append(cmds, loadHealthCmd(m.src, m.healthGen), m.refreshIntegrations())
	} else {
		for name := range msg.integrations {
			if !m.knowsIntegration(name) {
				cmds = append(cmds, m.refreshIntegrations()) // one made since (an adopted token)
				break
			}
		}
	}
	// Announce new sev1 incidents: ring and highlight until seen.
	var news []string
	for _, in := range msg.created {
		if in.ID <= m.maxSeenID || in.FirstSeen.Before(m.started) {
			continue
		}
		if in.Severity == incidents.Sev1 {
			m.fresh[in.ID] = true
			news = append(news, notification(in, false))
		}
	}
	for id := range msg.incidents {
		m.maxSeenID = max(m.maxSeenID, id)
	}
	// Re-alerts ring like new sev1s; the row is highlighted until seen,
	// unless its page is what is on screen.
	for _, in := range msg.realerts {
		if m.detail.kind != detailIncident || m.detail.id != in.ID {
			m.fresh[in.ID] = true
		}
		news = append(news, notification(in, true))
	}
	cmds = append(cmds, m.announce(news))

	// Health back: what is on screen may be from before the trouble.
	incidentsChanged := len(msg.incidents) > 0 || msg.resync || recovered
	requestsChanged := msg.requests > 0 || msg.resync || recovered
	mark := func(v viewID) {
		if v == m.view {
			cmds = append(cmds, m.refresh(v))
		} else {
			m.list(v).state().stale = true
		}
	}
	if incidentsChanged {
		mark(viewOpen)
		mark(viewResolved)
		mark(viewSuppressed)
	}
	if requestsChanged {
		mark(viewRequests)
	}
	if incidentsChanged || requestsChanged {
		cmds = append(cmds, m.refreshCounts())
	}
	if m.detail.kind == detailIncident && (msg.resync || recovered || msg.incidents[m.detail.id]) {
		cmds = append(cmds, m.refreshDetail())
	}
	return tea.Batch(cmds...)
}

// noticeMissed finds, in rows read for the Open view, new sev1 incidents
// that no change announced: they arrived while the console was not hearing
// changes (an attached console's stream was down, or a resync replaced
// them). They ring and are highlighted as if heard live.
func (m *Model) noticeMissed(pages []chunk[*incidents.Incident]) []string {
	var news []string
	top := m.maxSeenID
	for _, c := range pages {
		for _, in := range c.items {
			top = max(top, in.ID)
			if in.ID <= m.maxSeenID || in.Severity != incidents.Sev1 || in.Status != incidents.Triggered || in.FirstSeen.Before(m.started) {
				continue
			}
			m.fresh[in.ID] = true
			news = append(news, notification(in, false))
		}
	}
	m.maxSeenID = top
	return news
}

// announce rings the bell (with Options.Bell) and sends desktop
// notifications (with Options.DesktopNotify) for events that deserve them,
// in the frames of the next 300 ms: the renderer writes a changed line
// once, so the BEL and OSC 9 reach the terminal once.
func (m *Model) announce(texts []string) tea.Cmd {
	if len(texts) == 0 {
		return nil
	}
	var notes []string
	if m.opts.DesktopNotify {
		notes = texts
		if len(notes) > maxNotes {
			notes = append(notes[:maxNotes:maxNotes], "klaxon: "+plural(len(texts)-maxNotes, "more alert", "more alerts"))
		}
	}
	if !m.opts.Bell && len(notes) == 0 {
		return nil
	}
	m.bellSeq++
	m.bell, m.notes = m.opts.Bell, notes
	n := m.bellSeq
	return tea.Tick(300*time.Millisecond, func(time.Time) tea.Msg { return bellDoneMsg{n} })
}

// maxNotes is how many desktop notifications one burst sends before it
// sums up the rest in one: a storm of sev1s should not bury the desktop.
const maxNotes = 3

// replay sends request id again through Options.Replay; one at a time, so
// a key pressed twice does not page twice.
func (m *Model) replay(id int64) tea.Cmd {
	if m.replaying != 0 {
		m.setStatus("still replaying request " + itoa(m.replaying) + "…")
		return nil
	}
	m.replaying = id
	m.setStatus("replaying request " + itoa(id) + "…")
	return replayCmd(m.opts.Replay, id)
}

// setHealth records klaxon's health and reports whether it just came back.
func (m *Model) setHealth(h incidents.Health) (recovered bool) {
	was := m.health.OK
	if !was && !h.OK && !m.health.Since.IsZero() && (h.Since.IsZero() || m.health.Since.Before(h.Since)) {
		// Still in trouble (a reconnect failed again, say): it began then.
		h.Since = m.health.Since
	}
	m.health = h
	if was != h.OK {
		m.layout() // the warning line comes or goes
	}
	return !was && h.OK
}

// reloadAll reads the view on screen and the counts again, and marks the
// other views to be read when shown.
func (m *Model) reloadAll() tea.Cmd {
	cmds := []tea.Cmd{m.refreshCounts()}
	for v := viewOpen; v < viewCount; v++ {
		if v == m.view {
			cmds = append(cmds, m.refresh(v))
		} else {
			m.list(v).state().stale = true
		}
	}
	if m.detail.kind == detailIncident {
		cmds = append(cmds, m.refreshDetail())
	}
	return tea.Batch(cmds...)
}

// handleKey routes a key press: the filter line first when it is open, then
// the detail page when it is shown, then the list.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	if msg.Alt && msg.Type == tea.KeyRunes && !msg.Paste {
		// No binding uses Alt: this is esc followed quickly by a key (a
		// terminal sends esc as the Alt prefix), e.g. esc then 2 over a slow
		// link. Take it as the two keys it was.
		back := m.handleKey(tea.KeyMsg{Type: tea.KeyEsc})
		msg.Alt = false
		return tea.Batch(back, m.handleKey(msg))
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed quickly (or over a slow link) can arrive together as
		// one message: take them one at a time.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			// After a "/", the rest goes to the filter line.
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		m.sub.close()
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return nil
	case key.Matches(msg, m.keys.NextView):
		return m.setView((m.view + 1) % viewCount)
	case key.Matches(msg, m.keys.PrevView):
		return m.setView((m.view + viewCount - 1) % viewCount)
	case key.Matches(msg, m.keys.ViewOpen):
		return m.setView(viewOpen)
	case key.Matches(msg, m.keys.ViewSuppressed):
		return m.setView(viewSuppressed)
	case key.Matches(msg, m.keys.ViewResolved):
		return m.setView(viewResolved)
	case key.Matches(msg, m.keys.ViewRequests):
		return m.setView(viewRequests)
	case key.Matches(msg, m.keys.Integrations):
		return m.openIntegrations()
	}
	if m.detail.kind != detailNone {
		return m.detailKey(msg)
	}
	if m.integs.open {
		return m.integrationsKey(msg)
	}
	cmd := m.listKey(msg)
	m.seeAimed()
	return cmd
}

// seeAimed ends the highlight of a new sev1 incident once a key is pressed
// with it under the cursor.
func (m *Model) seeAimed() {
	if w := m.incidentList(m.view); w != nil {
		if in, ok := w.aimed(); ok {
			delete(m.fresh, in.ID)
		}
	}
}

func (m *Model) listKey(msg tea.KeyMsg) tea.Cmd {
	w := m.list(m.view)
	h := m.listHeight()
	switch {
	case key.Matches(msg, m.keys.Up):
		w.move(-1, h)
	case key.Matches(msg, m.keys.Down):
		w.move(1, h)
	case key.Matches(msg, m.keys.PageUp):
		w.move(-max(1, h-1), h)
	case key.Matches(msg, m.keys.PageDown):
		w.move(max(1, h-1), h)
	case key.Matches(msg, m.keys.Home):
		if w.atStart() {
			w.top(h)
			return nil
		}
		w.unselect()
		return m.restart(m.view)
	case key.Matches(msg, m.keys.End):
		if !w.more() {
			w.choose(w.Len()-1, h)
			return nil
		}
		w.state().gen++ // what is in flight no longer matters
		m.setStatus(readingToEnd)
		return m.load(m.view, w.toEnd())
	case key.Matches(msg, m.keys.Detail):
		return m.openDetail()
	case key.Matches(msg, m.keys.Back):
		switch {
		case m.query != "":
			m.input.SetValue("")
			return m.applyQuery("")
		case len(m.marks) > 0:
			clear(m.marks)
		default:
			m.status, m.statusErr = "", false
		}
		return nil
	case key.Matches(msg, m.keys.Filter):
		if m.incidentList(m.view) == nil {
			m.setStatus("the filter works on the Open and Resolved views")
			return nil
		}
		m.filtering = true
		m.input.SetValue(m.query)
		m.input.CursorEnd()
		m.layout()
		return m.input.Focus()
	case key.Matches(msg, m.keys.Replay):
		if r, ok := m.requests.aimed(); ok && m.view == viewRequests {
			return m.replay(r.ID)
		}
		if m.view != viewRequests {
			m.setStatus("replay works on the Requests view (4)")
		}
		return nil
	case key.Matches(msg, m.keys.Mark):
		// Marks the row under the cursor as the person saw it, and moves on
		// from there.
		if il := m.incidentList(m.view); il != nil {
			if i := il.aimedIndex(); i >= 0 {
				in := il.items[i]
				if m.marks[in.ID] {
					delete(m.marks, in.ID)
				} else {
					m.marks[in.ID] = true
				}
				w.choose(i+1, h)
			}
		}
	default:
		return m.actionKey(msg)
	}
	if req, ok := w.next(); ok {
		return m.load(m.view, req)
	}
	return nil
}

// filterKey handles keys while the filter line is open. Arrows still move
// the selection, so a person can filter and pick without leaving it.
func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case msg.Type == tea.KeyCtrlC:
		m.sub.close()
		return tea.Quit
	case key.Matches(msg, m.keys.FilterApply):
		m.closeFilter()
		return m.applyQuery(m.input.Value())
	case key.Matches(msg, m.keys.FilterCancel):
		m.closeFilter()
		m.input.SetValue("")
		return m.applyQuery("")
	case msg.Type == tea.KeyUp || msg.Type == tea.KeyDown:
		return m.listKey(msg)
	}
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() == before {
		return cmd
	}
	m.filterSeq++
	seq := m.filterSeq
	return tea.Batch(cmd, tea.Tick(filterPause, func(time.Time) tea.Msg { return filterTypedMsg{seq} }))
}

func (m *Model) closeFilter() {
	m.filtering = false
	m.filterSeq++ // a pending pause no longer applies
	m.input.Blur()
	m.layout()
}

// applyQuery filters the incident lists by q (title, details, integration).
func (m *Model) applyQuery(q string) tea.Cmd {
	if q == m.query {
		return nil
	}
	m.query = q
	clear(m.marks)                            // act only on what can be seen
	m.counts.open, m.counts.resolved = -1, -1 // unknown until counted with the filter
	m.countsGen++
	m.countsLoading, m.countsDirty = false, false
	cmds := []tea.Cmd{m.refreshCounts()}
	for _, v := range []viewID{viewOpen, viewResolved} {
		if v == m.view {
			cmds = append(cmds, m.restart(v))
		} else {
			m.list(v).reset()
			m.list(v).state().stale = true
		}
	}
	return tea.Batch(cmds...)
}

// setView switches tabs, reading the view's rows when they are stale.
func (m *Model) setView(v viewID) tea.Cmd {
	m.closeDetail()
	m.closeIntegrations()
	m.view = v
	w := m.list(v)
	st := w.state()
	var cmds []tea.Cmd
	if !m.live {
		// Not hearing changes: a view key reads everything again.
		st.stale = true
		cmds = append(cmds, m.refreshCounts())
	}
	if !st.loaded || st.stale || st.err != nil {
		cmds = append(cmds, m.refresh(v))
	}
	w.scroll(m.listHeight())
	return tea.Batch(cmds...)
}

// targets are the incidents an action applies to: the marked ones in an
// incident view, else the selected one (or the incident of the selected
// suppressed event, or the one shown in detail).
func (m *Model) targets() (ids []int64, ref *incidents.Incident) {
	if m.detail.kind == detailIncident {
		if m.detail.in != nil {
			return []int64{m.detail.id}, m.detail.in
		}
		return []int64{m.detail.id}, nil
	}
	switch m.view {
	case viewSuppressed:
		if ev, ok := m.suppressed.aimed(); ok {
			return []int64{ev.Incident}, nil
		}
		return nil, nil
	case viewRequests:
		return nil, nil
	}
	w := m.incidentList(m.view)
	sel, hasSel := w.aimed()
	if len(m.marks) == 0 {
		if hasSel {
			return []int64{sel.ID}, sel
		}
		return nil, nil
	}
	for id := range m.marks {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if hasSel && m.marks[sel.ID] {
		ref = sel
	} else {
		for _, in := range w.items {
			if m.marks[in.ID] {
				ref = in
				break
			}
		}
	}
	return ids, ref
}

// actionKey acts on the target incidents for a/u/r/s/S/p/P.
func (m *Model) actionKey(msg tea.KeyMsg) tea.Cmd {
	var (
		a    incidents.PersonAction
		verb string
	)
	ids, ref := m.targets()
	switch {
	case key.Matches(msg, m.keys.Acknowledge):
		a, verb = incidents.PersonAction{Kind: incidents.EntryAcknowledged}, "acknowledged"
	case key.Matches(msg, m.keys.Unacknowledge):
		a, verb = incidents.PersonAction{Kind: incidents.EntryUnacknowledged}, "unacknowledged"
	case key.Matches(msg, m.keys.Resolve):
		a, verb = incidents.PersonAction{Kind: incidents.EntryResolved}, "resolved"
	case key.Matches(msg, m.keys.Severity), key.Matches(msg, m.keys.SeverityBack):
		var cur incidents.Severity
		if ref != nil {
			cur = ref.Severity
		}
		sev := cycle(severityCycle, cur, key.Matches(msg, m.keys.SeverityBack))
		a, verb = incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: sev}, "severity "+labelOr(string(sev))+":"
	case key.Matches(msg, m.keys.Priority), key.Matches(msg, m.keys.PriorityBack):
		var cur incidents.Priority
		if ref != nil {
			cur = ref.Priority
		}
		p := cycle(priorityCycle, cur, key.Matches(msg, m.keys.PriorityBack))
		a, verb = incidents.PersonAction{Kind: incidents.EntryPriorityChanged, Priority: p}, "priority "+labelOr(string(p))+":"
	default:
		return nil
	}
	if len(ids) == 0 {
		if m.view == viewRequests && m.detail.kind == detailNone {
			m.setStatus("requests cannot be acted on; switch to Open (1)")
		}
		return nil
	}
	a.By = incidents.ByConsole
	m.applyLocally(ids, a)
	if a.Kind == incidents.EntryAcknowledged || a.Kind == incidents.EntryUnacknowledged || a.Kind == incidents.EntryResolved {
		if m.detail.kind == detailNone {
			clear(m.marks) // done with them; severity and priority keep them to cycle again
		}
	}
	return actCmd(m.src, verb, ids, a)
}

// applyLocally shows an action on the rows at once, by the domain's own
// rules, so that pressing s twice quickly cycles twice. The reload that
// follows the action replaces these copies with what was stored.
func (m *Model) applyLocally(ids []int64, a incidents.PersonAction) {
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	now := m.now()
	update := func(in *incidents.Incident) *incidents.Incident {
		cp := *in
		if _, err := incidents.ApplyAction(&cp, a, now); err != nil {
			return in
		}
		return &cp
	}
	for _, w := range []*window[*incidents.Incident]{&m.open, &m.resolved} {
		for i, in := range w.items {
			if want[in.ID] {
				w.items[i] = update(in)
			}
		}
	}
	if m.detail.in != nil && want[m.detail.in.ID] {
		m.detail.in = update(m.detail.in)
		m.detail.setContent(incidentPage(m.styles, m.detail.in, m.now()), true)
	}
}

const readingToEnd = "reading to the end of the list…"

var (
	severityCycle = []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity}
	priorityCycle = []incidents.Priority{"p1", "p2", "p3", "p4", "p5", incidents.NoPriority}
)

// cycle returns the value after cur in order (before it when back).
func cycle[T comparable](order []T, cur T, back bool) T {
	i := 0
	for j, v := range order {
		if v == cur {
			i = j
		}
	}
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

func (m *Model) handleActed(msg actedMsg) tea.Cmd {
	switch {
	case len(msg.errs) == 0 && len(msg.ids) == 1:
		m.setStatus(sentence(msg.verb, "#"+itoa(msg.ids[0])))
	case len(msg.errs) == 0:
		m.setStatus(sentence(msg.verb, plural(len(msg.ids), "incident", "incidents")))
	case len(msg.ids) == 1:
		m.setError(incidents.ErrorMessage(msg.errs[0]))
	default:
		m.setError(thousands(len(msg.errs)) + " of " + thousands(len(msg.ids)) + " failed: " + incidents.ErrorMessage(msg.errs[0]))
	}
	// The change also arrives through the subscription; reading now shows it
	// even when the subscription is slow. Both are debounced into one read.
	cmds := []tea.Cmd{m.refresh(m.view), m.refreshCounts()}
	for _, v := range []viewID{viewOpen, viewResolved, viewSuppressed} {
		if v != m.view {
			m.list(v).state().stale = true
		}
	}
	if m.detail.kind == detailIncident {
		cmds = append(cmds, m.refreshDetail())
	}
	return tea.Batch(cmds...)
}

// sentence writes "#12 acknowledged" or "severity sev2: #12".
func sentence(verb, what string) string {
	if verb != "" && verb[len(verb)-1] == ':' {
		return verb + " " + what
	}
	return what + " " + verb
}

func (m *Model) setStatus(s string) {
	m.status, m.statusErr, m.statusAt = s, false, m.now()
}

func (m *Model) setError(s string) {
	m.status, m.statusErr, m.statusAt = s, true, m.now()
}

// openDetail shows the page of the selected row.
func (m *Model) openDetail() tea.Cmd {
	switch m.view {
	case viewRequests:
		r, ok := m.requests.aimed()
		if !ok {
			return nil
		}
		m.detail.kind, m.detail.id, m.detail.req, m.detail.err = detailRequest, r.ID, r, nil
		m.layout()
		m.detail.setContent(requestPage(m.styles, r), false)
		return nil
	case viewSuppressed:
		ev, ok := m.suppressed.aimed()
		if !ok {
			return nil
		}
		return m.showIncident(ev.Incident)
	}
	in, ok := m.incidentList(m.view).aimed()
	if !ok {
		return nil
	}
	return m.showIncident(in.ID)
}

func (m *Model) showIncident(id int64) tea.Cmd {
	delete(m.fresh, id)
	m.detail.kind, m.detail.id, m.detail.in, m.detail.req, m.detail.err = detailIncident, id, nil, nil, nil
	m.detail.gen++
	m.detail.loading, m.detail.dirty = true, false
	m.detail.setContent("", false)
	m.layout()
	return loadDetailCmd(m.src, m.detail.gen, id)
}

func (m *Model) refreshDetail() tea.Cmd {
	if m.detail.loading {
		m.detail.dirty = true
		return nil
	}
	m.detail.loading = true
	return loadDetailCmd(m.src, m.detail.gen, m.detail.id)
}

func (m *Model) receiveDetail(msg detailMsg) tea.Cmd {
	if msg.gen != m.detail.gen || m.detail.kind != detailIncident {
		return nil
	}
	m.detail.loading = false
	m.detail.err = msg.err
	if msg.err == nil {
		first := m.detail.in == nil
		m.detail.in = msg.in
		m.detail.setContent(incidentPage(m.styles, msg.in, m.now()), !first)
	}
	if m.detail.dirty {
		m.detail.dirty = false
		return m.refreshDetail()
	}
	return nil
}

func (m *Model) closeDetail() {
	if m.detail.kind == detailNone {
		return
	}
	m.detail.kind, m.detail.in, m.detail.req, m.detail.integ = detailNone, nil, nil, nil
	m.detail.gen++ // ignore a load in flight
	m.detail.loading, m.detail.dirty = false, false
	m.layout()
}

func (m *Model) detailKey(msg tea.KeyMsg) tea.Cmd {
	vp := &m.detail.vp
	switch {
	case key.Matches(msg, m.keys.Back):
		m.closeDetail()
	case key.Matches(msg, m.keys.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, m.keys.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, m.keys.PageUp):
		vp.PageUp()
	case key.Matches(msg, m.keys.PageDown):
		vp.PageDown()
	case key.Matches(msg, m.keys.Home):
		vp.GotoTop()
	case key.Matches(msg, m.keys.End):
		vp.GotoBottom()
	case key.Matches(msg, m.keys.Replay) && m.detail.kind == detailRequest:
		return m.replay(m.detail.id)
	default:
		if m.detail.kind == detailIncident {
			return m.actionKey(msg)
		}
	}
	return nil
}
