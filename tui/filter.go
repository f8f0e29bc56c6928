package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// filter is the component of the filter line (/): it filters the incident
// lists by title, details or integration as a person types, once typing
// pauses. While it is open it has the keys, but for the arrows, which still
// move the list's selection.
type filter struct {
	c      *common
	input  textinput.Model
	active bool
	seq    int // bumped at each change; a pause that ends after another change is ignored
}

// filterMsg asks for the filter line (a list's /).
type filterMsg struct{}

// queryMsg applies a filter to the incident lists ("" clears it).
type queryMsg struct {
	q       string
	outcome bool // the Requests list's outcome changed (o)
}

// filterTypedMsg applies what was typed once typing pauses.
type filterTypedMsg struct{ seq int }

const filterPause = 120 * time.Millisecond

func newFilter(c *common) *filter {
	st := c.styles
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "filter: text, #id, sev1, p2, ack"
	in.PromptStyle = st.Bold
	in.TextStyle = st.renderer.NewStyle()
	in.PlaceholderStyle = st.Dim
	in.CompletionStyle = st.Dim
	in.Cursor.Style = st.renderer.NewStyle()
	in.Cursor.TextStyle = st.renderer.NewStyle()
	in.Cursor.SetMode(cursor.CursorStatic)
	in.CharLimit = 200
	return &filter{c: c, input: in}
}

// Init implements tea.Model.
func (f *filter) Init() tea.Cmd { return nil }

// SetSize implements Component.
func (f *filter) SetSize(width, _ int) { f.input.Width = max(10, width-40) }

func (f *filter) ShortHelp() []key.Binding  { return f.c.keys.filterHelp().ShortHelp() }
func (f *filter) FullHelp() [][]key.Binding { return f.c.keys.filterHelp().FullHelp() }

// open opens the filter line on the filter applied now.
func (f *filter) open() tea.Cmd {
	f.active = true
	f.input.SetValue(f.c.query)
	f.input.CursorEnd()
	return f.input.Focus()
}

func (f *filter) close() {
	f.active = false
	f.seq++ // a pending pause no longer applies
	f.input.Blur()
}

// Update implements tea.Model.
func (f *filter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return f, f.key(msg)
	case filterTypedMsg:
		if msg.seq == f.seq && f.active {
			f.c.tell(queryMsg{q: f.input.Value()})
		}
	case queryMsg:
		if !f.active {
			f.input.SetValue(msg.q) // esc in a list cleared it
		}
	}
	return f, nil
}

func (f *filter) key(msg tea.KeyMsg) tea.Cmd {
	k := f.c.keys
	switch {
	case key.Matches(msg, k.FilterApply):
		f.close()
		f.c.tell(queryMsg{q: f.input.Value()})
		return nil
	case key.Matches(msg, k.FilterCancel):
		f.close()
		f.input.SetValue("")
		f.c.tell(queryMsg{})
		return nil
	}
	before := f.input.Value()
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	if f.input.Value() == before {
		return cmd
	}
	f.seq++
	seq := f.seq
	return tea.Batch(cmd, tea.Tick(filterPause, func(time.Time) tea.Msg { return filterTypedMsg{seq} }))
}

// View is the filter line.
func (f *filter) View() string { return f.input.View() }
