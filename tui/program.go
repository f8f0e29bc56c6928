package tui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// NewProgram returns the console as a program, for callers that run it
// themselves (an SSH session sends its own window sizes). Call the returned
// function once the program has ended: it ends the console's subscription.
func NewProgram(src Source, opts Options, progOpts ...tea.ProgramOption) (*tea.Program, func()) {
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	m := New(src, opts)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithAltScreen()}, progOpts...)...)
	return p, m.sub.close
}
