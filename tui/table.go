package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Every list is drawn as a table whose columns are declared once, with
// their title, width and alignment, and whether they grow into the room the
// fixed columns leave (after gh-dash's table). The table lays them out for
// the screen's width; a row is a marker (the selection and marks), then its
// cells, one space apart.

type align int

const (
	alignLeft align = iota
	alignRight
)

// column is one column of a table.
type column struct {
	title string
	width int // cells; for a growing column, the fewest it takes
	align align
	// grow, when set, makes the column take a share of the room left by
	// the fixed columns, in proportion to grow; the last growing column
	// takes what the shares leave.
	grow int
	// An optional growing column is there only when the room is at least
	// need cells; it then takes room/share of it, at most max. (The
	// incidents' INTEGRATION column gives way to the title below 36.)
	need, share, max int
	// wideFrom, when set, widens the column to wide cells on screens of at
	// least wideFrom cells.
	wideFrom, wide int
	// keep: the cell keeps its own style on the selected row (the
	// severity badge), where the other cells are drawn selected.
	keep bool
}

// markerWidth is the cells before a row's first column: ▶ for the
// selection, and ● for a mark or ! for a new sev1.
const markerWidth = 2

// table is a set of columns laid out for a width.
type table struct {
	cols   []column
	widths []int // 0: the column is left out at this width
}

// layout lays cols out for a screen width cells wide.
func layout(cols []column, width int) table {
	t := table{cols: cols, widths: make([]int, len(cols))}
	fixed, seps, weights := markerWidth, -1, 0
	for i, c := range cols {
		w := c.width
		if c.wideFrom > 0 && width >= c.wideFrom {
			w = c.wide
		}
		t.widths[i] = w
		if c.need > 0 {
			continue // optional: placed below
		}
		seps++
		if c.grow > 0 {
			weights += c.grow
		} else {
			fixed += w
		}
	}
	room := width - fixed - seps
	least := 0
	for _, c := range cols {
		if c.grow > 0 && c.need == 0 {
			least += c.width
		}
	}
	room = max(room, least)
	// Optional columns take their share first, with their separator.
	left := room
	for i, c := range cols {
		if c.need == 0 {
			continue
		}
		if room < c.need {
			t.widths[i] = 0
			continue
		}
		w := max(c.width, room/c.share)
		if c.max > 0 {
			w = min(w, c.max)
		}
		t.widths[i] = w
		left -= w + 1
	}
	// The growing columns share the rest; the last takes the remainder.
	last := -1
	given := 0
	for i, c := range cols {
		if c.grow > 0 && c.need == 0 {
			last = i
			t.widths[i] = max(c.width, left*c.grow/weights)
			given += t.widths[i]
		}
	}
	if last >= 0 {
		given -= t.widths[last]
		t.widths[last] = max(cols[last].width, left-given)
	}
	return t
}

// width is the width of the column titled title (0: left out or none).
func (t table) width(title string) int {
	for i, c := range t.cols {
		if c.title == title {
			return t.widths[i]
		}
	}
	return 0
}

// fitCell pads or cuts text (inert already) to column i's width.
func (t table) fitCell(i int, text string) string {
	if t.cols[i].align == alignRight {
		return fitRight(text, t.widths[i])
	}
	return fit(text, t.widths[i])
}

// header is the line of column titles.
func (t table) header(st Styles) string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", markerWidth))
	first := true
	for i, c := range t.cols {
		if t.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(t.fitCell(i, c.title))
	}
	return st.Columns.Render(b.String())
}

// cell is one cell of a row: its text and the style it is drawn in (nil:
// plain). raw text came from a webhook or over the network: the table makes
// it inert (oneLine) for its column; other text is the console's own.
type cell struct {
	text  string
	style *lipgloss.Style
	raw   bool
}

// row draws one row: the marker, then the cells fitted to their columns.
// On the selected row every cell but those that keep their style is drawn
// in st.Selected, so the selection reads as one bar.
func (t table) row(st Styles, marker string, cells []cell, selected bool) string {
	var b, bar strings.Builder
	b.WriteString(marker)
	first := true
	for i, c := range cells {
		if t.widths[i] == 0 {
			continue
		}
		text := c.text
		if c.raw {
			text = oneLine(text, t.widths[i])
		}
		text = t.fitCell(i, text)
		to := &b
		if selected && !t.cols[i].keep {
			to = &bar
		}
		if !first {
			to.WriteByte(' ')
		}
		first = false
		if c.style == nil || to == &bar {
			to.WriteString(text)
		} else {
			to.WriteString(c.style.Render(text))
		}
	}
	if bar.Len() > 0 {
		b.WriteString(st.Selected.Render(bar.String()))
	}
	return b.String()
}

// marker is a row's first two cells: ▶ when selected, then its mark.
func marker(selected bool, mark rune) string {
	switch {
	case selected && mark == ' ':
		return "▶ "
	case selected:
		return "▶" + string(mark)
	case mark == ' ':
		return "  "
	}
	return " " + string(mark)
}
