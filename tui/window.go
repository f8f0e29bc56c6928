package tui

import (
	"sync"
	"time"
)

// A list can hold 100,000 rows, so none is read whole: a window of a few
// chunks is read by keyset cursor, grown as the selection nears its end and
// slid back as it nears its start. Only the rows on screen are drawn.
const (
	chunkSize  = 200 // rows per query
	maxChunks  = 5   // chunks kept in memory, so at most 1,000 rows
	nearEdge   = 50  // rows from a window edge at which the next chunk is read
	seekChunks = 25  // chunks a reload reads past the window to find the selection
)

// window is the part of a long list held in memory, with the selection and
// scroll position. Until a person moves the selection it stays on the first
// row, and the list on its first rows, whatever arrives; once a person has
// chosen a row the selection follows its ID, not its index, so it stays on
// that incident as others arrive above it.
type window[T any] struct {
	idOf func(T) int64

	chunks []chunk[T]
	back   []string // the from-cursors of chunks slid off the front, oldest first
	items  []T      // the chunks' rows, flattened

	sel    int
	selID  int64
	offset int
	chosen bool // a person moved the selection: it follows selID

	// lines is how many lines a row takes, when not one (an integration
	// and its URL).
	lines func(T) int

	aim *aim[T] // the row under the cursor as the person saw it

	loadState
}

// aim is the row a person aims at: the one under the cursor in the last
// frame drawn, or the one a key moved the cursor to since. A key that acts
// applies to it, never to a row that a reload moved under the cursor after
// the frame the person saw. The copies of a model share it (View has a
// value receiver).
type aim[T any] struct {
	mu  sync.Mutex
	id  int64
	row T
}

func (a *aim[T]) set(id int64, row T) {
	a.mu.Lock()
	a.id, a.row = id, row
	a.mu.Unlock()
}

func (a *aim[T]) get() (int64, T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id, a.row
}

// loadState is where a list's loading stands.
type loadState struct {
	gen     int       // bumped when a person asks for another part of the list; older replies are ignored
	loading bool      // a load of generation gen is in flight
	since   time.Time // when it started
	dirty   bool      // something changed while loading: read again when it is back
	paused  bool      // changes came during the last load: the next waits (see refreshPause)
	stale   bool      // changed while not on screen: read again when shown
	loaded  bool      // the first load is back
	err     error
}

func newWindow[T any](idOf func(T) int64) window[T] { return window[T]{idOf: idOf, aim: &aim[T]{}} }

// Len is how many rows are held.
func (w *window[T]) Len() int { return len(w.items) }

// position is the selection's index in the whole list (approximate when the
// list changed above a part that was slid off).
func (w *window[T]) position() int { return len(w.back)*chunkSize + w.sel }

// positionIn is position for a list of total rows. A window that holds the
// list's end counts from there: what arrived above a part that was slid
// off (a storm pushing the selected incident down) does not move what
// follows it.
func (w *window[T]) positionIn(total int) int {
	if !w.atStart() && !w.more() && total >= len(w.items) {
		return total - len(w.items) + w.sel
	}
	return w.position()
}

// more reports whether rows follow the window.
func (w *window[T]) more() bool {
	return len(w.chunks) > 0 && w.chunks[len(w.chunks)-1].next != ""
}

// atStart reports whether the window starts at the top of the list.
func (w *window[T]) atStart() bool { return len(w.back) == 0 }

// selected returns the selected row.
func (w *window[T]) selected() (T, bool) {
	var zero T
	if w.sel < 0 || w.sel >= len(w.items) {
		return zero, false
	}
	return w.items[w.sel], true
}

// visible returns the rows on screen for a body of height lines (the last
// one cut when its rows take several lines).
func (w *window[T]) visible(height int) (rows []T, first int) {
	if height <= 0 || len(w.items) == 0 {
		return nil, 0
	}
	end := min(w.offset+height, len(w.items))
	if w.lines != nil {
		used := 0
		for end = w.offset; end < len(w.items) && used < height; end++ {
			used += w.lines(w.items[end])
		}
	}
	return w.items[w.offset:end], w.offset
}

// move changes the selection by delta rows and keeps it on screen: a
// person chose a row.
func (w *window[T]) move(delta, height int) {
	w.choose(w.sel+delta, height)
}

// choose selects row i for a person: from now on the selection follows it.
func (w *window[T]) choose(i, height int) {
	w.chosen = true
	w.selectIndex(i, height)
	w.see()
}

// top selects the first row for a person, and keeps the selection on the
// first row as others arrive (as before anyone moved it).
func (w *window[T]) top(height int) {
	w.chosen = false
	w.selectIndex(0, height)
	w.see()
}

// see records the selected row as the one the person aims at: View calls
// it for the list it draws, and a key that moves the selection does.
func (w *window[T]) see() {
	if it, ok := w.selected(); ok {
		w.aim.set(w.selID, it)
	}
}

// aimed is the row the person aims at (see aim): its copy in the rows now
// when they still hold it, else as it was drawn; the selected row when
// nothing was drawn yet.
func (w *window[T]) aimed() (T, bool) {
	id, row := w.aim.get()
	if id == 0 {
		return w.selected()
	}
	for _, it := range w.items {
		if w.idOf(it) == id {
			return it, true
		}
	}
	return row, true
}

// aimedIndex is the index of the aimed row in the rows, or -1.
func (w *window[T]) aimedIndex() int {
	id, _ := w.aim.get()
	if id == 0 {
		return w.sel
	}
	for i, it := range w.items {
		if w.idOf(it) == id {
			return i
		}
	}
	return -1
}

func (w *window[T]) selectIndex(i, height int) {
	if len(w.items) == 0 {
		w.sel, w.selID, w.offset = 0, 0, 0
		return
	}
	w.sel = max(0, min(i, len(w.items)-1))
	w.selID = w.idOf(w.items[w.sel])
	w.scroll(height)
}

// scroll keeps the selection inside the rows on screen.
func (w *window[T]) scroll(height int) {
	height = max(1, height)
	if w.lines != nil {
		// Rows of several lines: the first row on screen moves down until
		// the selected one fits.
		w.offset = max(0, min(w.offset, w.sel))
		for w.offset < w.sel {
			used := 0
			for i := w.offset; i <= w.sel; i++ {
				used += w.lines(w.items[i])
			}
			if used <= height {
				break
			}
			w.offset++
		}
		return
	}
	if w.sel < w.offset {
		w.offset = w.sel
	}
	if w.sel >= w.offset+height {
		w.offset = w.sel - height + 1
	}
	w.offset = max(0, min(w.offset, len(w.items)-height))
}

// next says what to read after the selection moved, if anything: the chunk
// after the window when the selection nears its end, the one before when it
// nears its start.
func (w *window[T]) next() (loadReq, bool) {
	if w.loading || len(w.chunks) == 0 {
		return loadReq{}, false
	}
	if w.more() && w.sel >= len(w.items)-nearEdge {
		return loadReq{kind: loadAppend, from: w.chunks[len(w.chunks)-1].next}, true
	}
	if len(w.back) > 0 && w.sel < nearEdge {
		n := len(w.back) - 1
		return loadReq{kind: loadReplace, from: w.back[n], chunks: min(len(w.chunks)+1, maxChunks), back: w.back[:n:n]}, true
	}
	return loadReq{}, false
}

// reload asks for the rows the window holds now, read again, and for the
// chosen row wherever arrivals above it have pushed it. A selection nobody
// chose stays at the top: only the first rows are read again.
func (w *window[T]) reload() loadReq {
	if len(w.chunks) == 0 {
		return loadReq{kind: loadReplace, chunks: 1}
	}
	if !w.chosen {
		return loadReq{kind: loadReplace, chunks: len(w.chunks)}
	}
	return loadReq{kind: loadReplace, from: w.chunks[0].from, chunks: len(w.chunks), back: w.back, seek: w.selID}
}

// firstRows asks for the first rows of the list.
func firstRows() loadReq { return loadReq{kind: loadReplace, chunks: 1} }

// toEnd asks for the rows up to the end of the list.
func (w *window[T]) toEnd() loadReq {
	if len(w.chunks) == 0 {
		return loadReq{kind: loadEnd}
	}
	return loadReq{kind: loadEnd, from: w.chunks[len(w.chunks)-1].next}
}

// apply puts what a load read into the window and finds the selected row
// again by its ID. It reports whether the message was for this window's
// current generation.
func (w *window[T]) apply(msg windowMsg[T], height int) bool {
	if msg.gen != w.gen {
		return false
	}
	w.loading = false
	if msg.err != nil {
		w.err = msg.err
		return true
	}
	w.err = nil
	line := w.sel - w.offset // where the selection is on screen, to keep it there
	atTop := w.offset == 0 && w.atStart()
	switch msg.req.kind {
	case loadReplace:
		w.chunks, w.back = msg.pages, msg.req.back
	case loadAppend:
		if !w.more() || w.chunks[len(w.chunks)-1].next != msg.req.from {
			w.dirty = true // the window changed under this load; read it again
			return true
		}
		w.chunks = append(w.chunks, msg.pages...)
	case loadEnd:
		w.chunks = append(w.chunks, msg.pages...)
	}
	// Slide what is beyond maxChunks off the front.
	dropped := 0
	for len(w.chunks) > maxChunks {
		w.back = append(w.back, w.chunks[0].from)
		dropped += len(w.chunks[0].items)
		w.chunks = w.chunks[1:]
	}
	w.flatten()
	w.loaded = true
	if msg.req.kind == loadEnd {
		w.choose(len(w.items)-1, height) // end was pressed
		return true
	}
	w.sel -= dropped
	w.reselect(line, atTop, height)
	return true
}

// flatten lays the chunks' rows out in one slice, a copy, so rows can be
// changed on screen without touching what was read.
func (w *window[T]) flatten() {
	n := 0
	for _, c := range w.chunks {
		n += len(c.items)
	}
	items := make([]T, 0, n)
	for _, c := range w.chunks {
		items = append(items, c.items...)
	}
	w.items = items
}

// reselect finds the selected ID in the rows (keeping the index when it is
// gone) and puts it back on screen line `line` when it can. A list that was
// scrolled to the top stays there, so what arrives at the top is seen. A
// selection nobody chose stays on the first row.
func (w *window[T]) reselect(line int, atTop bool, height int) {
	found := false
	if !w.chosen {
		w.sel, atTop = 0, true
	} else if w.selID != 0 {
		for i, it := range w.items {
			if w.idOf(it) == w.selID {
				w.sel, found = i, true
				break
			}
		}
	}
	if !found {
		w.sel = max(0, min(w.sel, len(w.items)-1))
	}
	if len(w.items) == 0 {
		w.sel, w.selID, w.offset = 0, 0, 0
		return
	}
	w.selID = w.idOf(w.items[w.sel])
	if atTop {
		w.offset = 0
	} else {
		w.offset = w.sel - line
	}
	w.scroll(height)
}

// unselect drops the selected ID, so the next rows are selected from the top.
func (w *window[T]) unselect() { w.selID = 0 }

// reset forgets the rows (for a new filter) and invalidates loads in
// flight. The selected ID stays, so the selection stays on that incident
// when the new rows hold it.
func (w *window[T]) reset() {
	w.chunks, w.back, w.items = nil, nil, nil
	w.sel, w.offset = 0, 0
	w.gen++
	w.loading, w.dirty, w.loaded, w.paused = false, false, false, false
}
