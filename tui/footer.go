package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

// footer is the component at the bottom of the screen: the status line
// (the filter line while it is open, else what happened last or what
// failed, and on the right the filter, the marks and where the selection
// is) and the help of whatever has the keys.
type footer struct {
	c      *common
	help   help.Model
	filter *filter
	on     part // what has the keys: its help and its status
	width  int
}

// part is what the footer asks of the component that has the keys.
type part interface {
	tea.Model
	help.KeyMap
	status() []string // the status line's right side
	loadErr() error
}

func newFooter(c *common, f *filter) *footer {
	h := help.New()
	h.Styles = c.styles.Help
	return &footer{c: c, help: h, filter: f}
}

func (f *footer) Init() tea.Cmd                       { return nil }
func (f *footer) Update(tea.Msg) (tea.Model, tea.Cmd) { return f, nil }
func (f *footer) ShortHelp() []key.Binding            { return nil }
func (f *footer) FullHelp() [][]key.Binding           { return nil }

// SetSize implements Component.
func (f *footer) SetSize(width, _ int) { f.width, f.help.Width = width, width }

// keys is the help shown: the filter's while it is open.
func (f *footer) keys() help.KeyMap {
	if f.filter.active {
		return f.filter
	}
	return f.on
}

// height is the footer's lines: the status line and the help.
func (f *footer) height() int {
	if !f.help.ShowAll {
		return 2
	}
	return 1 + lipgloss.Height(f.help.View(f.keys()))
}

// View draws the status line and the help.
func (f *footer) View() string { return f.statusLine() + "\n" + f.help.View(f.keys()) }

func (f *footer) statusLine() string {
	c, st := f.c, f.c.styles
	var right []string
	if c.query != "" && !f.filter.active {
		right = append(right, "filter: "+oneLine(c.query, 20))
	}
	if n := len(c.marks); n > 0 {
		right = append(right, thousands(n)+" marked")
	}
	right = append(right, f.on.status()...)
	r := st.Dim.Render(strings.Join(right, "  "))
	// The message gets what the right side leaves (a replay's answer is long).
	room := max(5, f.width-max(12, ansi.StringWidth(r))-2)
	var left string
	mine := c.status.shownTo(f.on)
	switch err := f.on.loadErr(); {
	case f.filter.active:
		left = f.filter.View()
	case c.confirm != nil:
		left = st.StatusErr.Render(oneLine(c.status.text, room))
	case mine && c.status.text != "" && c.status.err:
		left = st.StatusErr.Render("✗ " + oneLine(c.status.text, room-2))
	case mine && c.status.text != "":
		left = st.StatusOK.Render(oneLine(c.status.text, room))
	case err != nil:
		left = st.StatusErr.Render("✗ " + oneLine("cannot read: "+incidents.ErrorMessage(err), room-2))
	}
	gap := f.width - ansi.StringWidth(left) - ansi.StringWidth(r)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + r
}
