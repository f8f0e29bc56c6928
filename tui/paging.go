package tui

import (
	"context"
	"time"

	"klaxon/incidents"
)

// Reading a list: a window is read chunk by chunk by keyset cursor.

// chunk is one page of a list and the cursors around it.
type chunk[T any] struct {
	from  string // the cursor that read it ("" for the first page)
	items []T
	next  string // the cursor of the page after it ("" on the last)
}

// fetcher reads one page of a list.
type fetcher[T any] func(ctx context.Context, limit int, cursor string) (incidents.Page[T], error)

type loadKind int

const (
	loadReplace loadKind = iota // read `chunks` chunks from `from` and replace the window
	loadAppend                  // read one chunk from `from` and add it to the end
	loadEnd                     // read from `from` to the end of the list, keep the last chunks
)

// loadReq says what to read into a window.
type loadReq struct {
	kind   loadKind
	from   string
	chunks int
	back   []string // the window's back stack once a replace is done
	// seek is the selected row's ID, for a replace that reads the window
	// again: rows that arrived above it since may have pushed it past the
	// window, and then the replace reads on (at most seekChunks more) until
	// a chunk holds it.
	seek int64
}

// windowMsg carries what a load read. gen says which load it answers.
type windowMsg[T any] struct {
	list  listID
	gen   int
	req   loadReq
	pages []chunk[T]
	err   error
	took  time.Duration // how long reading took
}

// reloadDueMsg ends a list's pause after a reload (see refreshPause).
type reloadDueMsg struct {
	list listID
	gen  int
}

// fetchWindow does the reading for req; idOf names a row for req.seek. It
// runs inside a tea.Cmd.
func fetchWindow[T any](ctx context.Context, fetch fetcher[T], idOf func(T) int64, req loadReq) ([]chunk[T], error) {
	var out []chunk[T]
	cursor := req.from
	found := req.seek == 0
	for {
		page, err := fetch(ctx, chunkSize, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, chunk[T]{from: cursor, items: page.Items, next: page.NextCursor})
		if req.kind == loadEnd && len(out) > maxChunks {
			// Only the last chunks keep their rows; the others are cursors.
			out[len(out)-maxChunks-1].items = nil
		}
		for _, it := range page.Items {
			found = found || idOf(it) == req.seek
		}
		if page.NextCursor == "" || page.NextCursor == cursor {
			return sought(out, found, req), nil
		}
		if req.kind == loadAppend || (req.kind == loadReplace && len(out) >= req.chunks && (found || len(out) >= req.chunks+seekChunks)) {
			return sought(out, found, req), nil
		}
		cursor = page.NextCursor
	}
}

// sought is what a replace keeps of the chunks it read: all of them when
// they reach the selected row, else only the window asked for (the row is
// gone from the list, or further than a seek reads; the selection then
// stays where it was on screen, as when its incident is resolved).
func sought[T any](out []chunk[T], found bool, req loadReq) []chunk[T] {
	if req.kind == loadReplace && !found && len(out) > req.chunks {
		return out[:req.chunks]
	}
	return out
}
