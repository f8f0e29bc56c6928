package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// listID names a list: which list a read answers.
type listID int

const (
	listOpen listID = iota
	listSuppressed
	listResolved
	listRequests
	listIntegrations
)

// list is the component of every list the console pages through (after
// gh-dash's section): Open, Suppressed, Resolved, Requests and the
// integrations. It owns the window of rows it holds and their loading (one
// read in flight, a pause under a storm, stale while not shown), the keys
// that move through them, and draws them as a table. What differs between
// lists is their rows.
type list[T any] struct {
	c      *common
	id     listID
	rows   rows[T]
	win    window[T]
	width  int
	height int  // the lines it has: the column titles and the rows
	shown  bool // it is the page on screen
	always bool // read even while not shown (the header needs the integrations)
	hidden bool // a tab only while shown (the integrations page)
}

// rows is what makes a list the Open list or the request journal: how its
// rows are read and drawn, and what the list does beyond moving through
// them. Embed noHooks for the defaults of the last three.
type rows[T any] interface {
	name() string // the tab's name
	what() string // the rows in a sentence: "Cannot read <what>"
	idOf(row T) int64
	read(c *common) fetcher[T]
	columns(l *list[T], rows []T) []column
	// draw appends a row's cells to cells, and says its mark (after ▶:
	// ● marked, ! new).
	draw(l *list[T], row T, t table, now time.Time, cells []cell) (mark rune, _ []cell)
	// empty is what the list says without rows (see list.emptyState).
	empty(l *list[T]) []string
	// total is how many rows the list has, as far as it is known, and
	// whether that is only a lower bound.
	total(l *list[T]) (n int, known, more bool)
	// concerns reports whether a change touches these rows.
	concerns(l *list[T], msg changesMsg) bool
	help(k KeyMap) helpKeys

	// key handles a key before the list moves on it (enter, actions …).
	key(l *list[T], msg tea.KeyMsg) (cmd tea.Cmd, handled bool)
	// update handles the messages the list does not (an action shown at
	// once, a new filter).
	update(l *list[T], msg tea.Msg) tea.Cmd
	// loaded is told of each read that came back.
	loaded(l *list[T], pages []chunk[T]) tea.Cmd
}

// noHooks are the defaults of rows' key, update and loaded.
type noHooks[T any] struct{}

func (noHooks[T]) key(*list[T], tea.KeyMsg) (tea.Cmd, bool) { return nil, false }
func (noHooks[T]) update(*list[T], tea.Msg) tea.Cmd         { return nil }
func (noHooks[T]) loaded(*list[T], []chunk[T]) tea.Cmd      { return nil }

func newList[T any](c *common, id listID, r rows[T]) *list[T] {
	return &list[T]{c: c, id: id, rows: r, win: newWindow(r.idOf), width: 80, height: 10}
}

// Init implements tea.Model; a list reads once it is shown or subscribed.
func (l *list[T]) Init() tea.Cmd { return nil }

// SetSize implements Component: width cells, height lines.
func (l *list[T]) SetSize(width, height int) {
	l.width, l.height = width, height
	l.win.scroll(l.rowsHeight())
}

// rowsHeight is the lines for rows, under the column titles.
func (l *list[T]) rowsHeight() int { return max(1, l.height-1) }

func (l *list[T]) ShortHelp() []key.Binding  { return l.rows.help(l.c.keys).ShortHelp() }
func (l *list[T]) FullHelp() [][]key.Binding { return l.rows.help(l.c.keys).FullHelp() }

// Focus shows the list, reading its rows when they are stale (and the
// integrations always). Nothing is read before the subscription.
func (l *list[T]) Focus() tea.Cmd {
	l.shown = true
	if !l.c.subscribed {
		return nil
	}
	if !l.c.live {
		l.win.stale = true // not hearing changes: showing it reads it again
	}
	var cmd tea.Cmd
	if st := &l.win.loadState; !st.loaded || st.stale || st.err != nil || l.always {
		cmd = l.refresh()
	}
	l.win.scroll(l.rowsHeight())
	return cmd
}

// Blur is told that another page is shown.
func (l *list[T]) Blur() { l.shown = false }

// Update implements tea.Model.
func (l *list[T]) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return l, l.key(msg)
	case windowMsg[T]:
		if msg.list != l.id {
			return l, nil
		}
		return l, l.receive(msg)
	case reloadDueMsg:
		if msg.list == l.id {
			return l, l.reloadDue(msg.gen)
		}
		return l, nil
	case subscribedMsg:
		if l.shown || l.always {
			return l, l.refresh()
		}
		return l, nil
	case changesMsg:
		if l.rows.concerns(l, msg) {
			return l, l.changed()
		}
	case actedMsg:
		// The change also arrives through the subscription; reading now
		// shows it even when the subscription is slow.
		acted := changesMsg{incidents: map[int64]bool{}}
		for _, id := range msg.act.ids {
			acted.incidents[id] = true
		}
		if l.rows.concerns(l, acted) {
			return l, l.changed()
		}
	}
	return l, l.rows.update(l, msg)
}

// changed reads the rows again when they are on screen, and otherwise
// when they are shown next.
func (l *list[T]) changed() tea.Cmd {
	if l.shown || l.always {
		return l.refresh()
	}
	l.win.stale = true
	return nil
}

// key gives the rows the key first, then moves through them.
func (l *list[T]) key(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := l.rows.key(l, msg); ok {
		return cmd
	}
	return l.move(msg)
}

// move moves through the rows for the keys every list answers to.
func (l *list[T]) move(msg tea.KeyMsg) tea.Cmd {
	k, w, h := l.c.keys, &l.win, l.rowsHeight()
	page := max(1, h-1)
	if w.lines != nil {
		page = max(1, h/2) // rows of two lines or more
	}
	switch {
	case key.Matches(msg, k.Up):
		w.move(-1, h)
	case key.Matches(msg, k.Down):
		w.move(1, h)
	case key.Matches(msg, k.PageUp):
		w.move(-page, h)
	case key.Matches(msg, k.PageDown):
		w.move(page, h)
	case key.Matches(msg, k.Home):
		if w.atStart() {
			w.top(h)
			return nil
		}
		w.unselect()
		return l.restart()
	case key.Matches(msg, k.End):
		if !w.more() {
			w.choose(w.Len()-1, h)
			return nil
		}
		w.chosen = true
		w.gen++ // what is in flight no longer matters
		l.c.setStatus(readingToEnd)
		return l.load(w.toEnd())
	case key.Matches(msg, k.Back):
		switch {
		case l.c.query != "":
			l.c.tell(queryMsg{})
		case len(l.c.marks) > 0:
			clear(l.c.marks)
		default:
			l.c.clearStatus()
		}
		return nil
	case key.Matches(msg, k.Filter):
		l.c.setStatus("the filter works on the Open and Resolved views")
		return nil
	case key.Matches(msg, k.Replay):
		l.c.setStatus("replay works on the Requests view (4)")
		return nil
	default:
		return nil
	}
	return l.next()
}

const readingToEnd = "reading to the end of the list…"

// next reads the chunk the selection came near, if any.
func (l *list[T]) next() tea.Cmd {
	if req, ok := l.win.next(); ok {
		return l.load(req)
	}
	return nil
}

// load starts reading req into the window.
func (l *list[T]) load(req loadReq) tea.Cmd {
	st := &l.win.loadState
	st.loading, st.stale, st.since = true, false, l.c.now()
	return loadWindowCmd(l.id, st.gen, l.rows.read(l.c), l.rows.idOf, req)
}

// refresh reads the window again, unless a read is in flight or paused:
// then once more after it. So a storm of changes costs at most one read in
// flight and one after it.
func (l *list[T]) refresh() tea.Cmd {
	if st := &l.win.loadState; st.loading || st.paused {
		st.dirty = true
		return nil
	}
	return l.load(l.win.reload())
}

// restart forgets the rows and reads the first ones again, ignoring what is
// in flight (a person asked for something else).
func (l *list[T]) restart() tea.Cmd {
	l.win.reset()
	return l.load(firstRows())
}

// receive puts a read's answer into the window and starts what should
// follow: the read asked for while it was in flight (after a pause), or the
// next chunk when the selection is near an edge.
func (l *list[T]) receive(msg windowMsg[T]) tea.Cmd {
	w := &l.win
	if !w.apply(msg, l.rowsHeight()) {
		return nil
	}
	if msg.req.kind == loadEnd && l.c.status.text == readingToEnd {
		l.c.clearStatus()
	}
	var hook tea.Cmd
	if msg.err == nil {
		hook = l.rows.loaded(l, msg.pages)
	}
	if w.dirty {
		w.dirty, w.paused = false, true
		id, gen := l.id, w.gen
		return tea.Batch(hook, tea.Tick(refreshPause(msg.took), func(time.Time) tea.Msg { return reloadDueMsg{id, gen} }))
	}
	return tea.Batch(hook, l.next())
}

// reloadDue ends the pause after a read during which changes came.
func (l *list[T]) reloadDue(gen int) tea.Cmd {
	st := &l.win.loadState
	if gen != st.gen || !st.paused {
		return nil
	}
	st.paused = false
	if st.loading {
		st.dirty = true // read again after the read in flight
		return nil
	}
	st.dirty = false // this read sees what changed during the pause
	return l.load(l.win.reload())
}

// View draws the column titles and the rows on screen, or what the list
// says without rows.
func (l *list[T]) View() string {
	rows, first := l.win.visible(l.rowsHeight())
	if len(rows) == 0 {
		return strings.Join(l.rows.empty(l), "\n")
	}
	l.win.see() // this frame is what a key will act on
	st := l.c.styles
	t := layout(l.rows.columns(l, rows), l.width)
	out := make([]string, 0, l.height)
	out = append(out, t.header(st))
	now := l.c.now()
	below, _ := l.rows.(interface {
		below(l *list[T], row T) []string
	})
	cells := make([]cell, 0, len(t.cols))
	for i, r := range rows {
		var mark rune
		mark, cells = l.rows.draw(l, r, t, now, cells[:0])
		selected := first+i == l.win.sel
		out = append(out, t.row(st, marker(selected, mark), cells, selected))
		if below != nil {
			out = append(out, below.below(l, r)...)
		}
	}
	if len(out) > l.height {
		out = out[:l.height]
	}
	return strings.Join(out, "\n")
}

// emptyState is what every list says while it has no rows to show
// because of a failed first read or while its first read runs.
func (l *list[T]) emptyState() ([]string, bool) {
	st := l.c.styles
	switch w := &l.win; {
	case w.err != nil && !w.loaded:
		prefix := "Cannot read " + l.rows.what() + ": "
		return []string{"", "  " + st.StatusErr.Render(prefix+oneLine(incidents.ErrorMessage(w.err), l.width-3-len(prefix)))}, true
	case !w.loaded:
		return []string{"", st.Dim.Render("  Loading…")}, true
	}
	return nil, false
}

// tab is the list's label on its tab: its name and how many rows it has,
// "…" before they are counted, "200+" for a lower bound.
func (l *list[T]) tab() string {
	n, known, more := l.rows.total(l)
	switch {
	case !known || n < 0:
		return l.rows.name() + " …"
	case more:
		return l.rows.name() + " " + thousands(n) + "+"
	}
	return l.rows.name() + " " + thousands(n)
}

// slowLoad is how long a read runs before the status line says so; a
// local database answers well before, and a flickering word helps nobody.
const slowLoad = 500 * time.Millisecond

// status is the right side of the status line: "loading…" during a slow
// read, and where the selection is ("38,754/38,755").
func (l *list[T]) status() []string {
	var out []string
	if st := &l.win.loadState; st.loading && l.c.now().Sub(st.since) >= slowLoad {
		out = append(out, "loading…")
	}
	if l.win.Len() > 0 {
		total, _, _ := l.rows.total(l)
		pos := l.win.positionIn(total)
		total = max(total, pos+1)
		out = append(out, thousands(pos+1)+"/"+thousands(total))
	}
	return out
}

// loadErr is why the last read for the list on screen failed, if it did:
// its rows', or the counts on the tabs.
func (l *list[T]) loadErr() error {
	if l.win.err != nil || l.hidden {
		return l.win.err
	}
	return l.c.tally.err
}

func (l *list[T]) isHidden() bool { return l.hidden }

// aimedID is the ID of the row a key acts on, 0 for none.
func (l *list[T]) aimedID() int64 {
	if r, ok := l.win.aimed(); ok {
		return l.rows.idOf(r)
	}
	return 0
}
