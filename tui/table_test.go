package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

// The incidents' columns at the widths the goldens were drawn at: the
// title takes what is left; INTEGRATION takes a third of the room between
// 10 and 24 cells, and gives way to the title below 36.
func TestColumnsAreLaidOutFromTheirDeclaration(t *testing.T) {
	rows := []*incidents.Incident{{ID: 7}, {ID: 12}}
	cols := incidentRows{}.columns(nil, rows)
	for _, c := range []struct {
		width int
		want  []int // SEV P #ID TITLE INTEGRATION REP STAT AGE
	}{
		{100, []int{4, 2, 3, 45, 22, 7, 4, 4}},
		{80, []int{4, 2, 3, 31, 16, 7, 4, 4}},
		{60, []int{4, 2, 3, 28, 0, 7, 4, 4}}, // 28 left: no INTEGRATION
		{20, []int{4, 2, 3, 5, 0, 7, 4, 4}},  // the title keeps its 5
	} {
		tb := layout(cols, c.width)
		if got := tb.widths; !equalInts(got, c.want) {
			t.Errorf("at %d: widths %v, want %v", c.width, got, c.want)
		}
		header := tb.header(NewStyles(asciiRenderer()))
		if c.width >= 36 && ansi.StringWidth(header) != c.width {
			t.Errorf("at %d the titles are %d wide: %q", c.width, ansi.StringWidth(header), header)
		}
	}
	// The requests' KIND widens on wide screens; PATH and REASON share 2:3.
	req := requestRows{}.columns(nil, nil)
	if w := layout(req, 119).widths; w[3] != 4 || w[4] != 32 || w[7] != 49 {
		t.Errorf("requests at 119: %v", w)
	}
	if w := layout(req, 120).widths; w[3] != 12 || w[4] != 29 || w[7] != 45 {
		t.Errorf("requests at 120: %v", w)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A row's cells are fitted to their columns, aligned, and text from a
// webhook is made inert for its column.
func TestRowsFitTheirColumns(t *testing.T) {
	st := NewStyles(asciiRenderer())
	tb := layout([]column{{title: "A", width: 3}, {title: "NAME", width: 5, grow: 1}, {title: "N", width: 4, align: alignRight}}, 20)
	row := tb.row(st, marker(true, '!'), []cell{{text: "abcdef"}, {text: hostile, raw: true}, {text: "7"}}, true)
	if row != "▶!ab… ␛]0;pwne…    7" {
		t.Fatalf("row %q", row)
	}
	if h := tb.header(st); h != "  A   NAME         N" || ansi.StringWidth(h) != 20 {
		t.Fatalf("header %q", h)
	}
	if strings.ContainsRune(row, '\x1b') {
		t.Fatal("an escape reached the row")
	}
}
