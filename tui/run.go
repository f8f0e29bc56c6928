package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Run runs the console on the alternate screen until q or ctrl+c, or until
// ctx is done (then it quits as if q was pressed and returns nil). progOpts
// go to tea.NewProgram after the console's own.
func Run(ctx context.Context, src Source, opts Options, progOpts ...tea.ProgramOption) error {
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	// Settle the colour profile (it reads the environment) before the
	// program owns the terminal.
	opts.Renderer.ColorProfile()
	p, done := NewProgram(src, opts, progOpts...)
	defer done()
	stop := context.AfterFunc(ctx, p.Quit)
	defer stop()
	_, err := p.Run()
	return err
}
