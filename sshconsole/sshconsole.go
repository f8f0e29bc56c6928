// Package sshconsole serves klaxon's console to SSH sessions: each session
// gets its own console with its own renderer, colour profile and window size.
// Only keys listed in an authorized_keys file get in.
package sshconsole

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/activeterm"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"

	"klaxon/tui"
)

// Options configure the SSH server.
type Options struct {
	Addr           string // where to listen, e.g. 127.0.0.1:2222
	HostKeyPath    string // the server's key, made on first start
	AuthorizedKeys string // an authorized_keys file; no other key gets in
	Console        tui.Options
	// Alerts, when set, gives each session its own channel of re-alerts.
	Alerts func() (<-chan tui.Alert, func())
	Logger *slog.Logger
}

// Server is a running SSH console server.
type Server struct {
	srv *ssh.Server
	log *slog.Logger
}

// New makes an SSH server that shows the console of src.
func New(src tui.Source, o Options) (*Server, error) {
	if o.AuthorizedKeys == "" {
		return nil, errors.New("--ssh needs --authorized-keys FILE: only the keys in it may open the console")
	}
	if _, err := os.Stat(o.AuthorizedKeys); err != nil {
		return nil, fmt.Errorf("--authorized-keys: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	handler := func(sess ssh.Session) *tea.Program {
		opts := o.Console
		opts.Renderer = bm.MakeRenderer(sess)
		stopAlerts := func() {}
		if o.Alerts != nil {
			opts.Alerts, stopAlerts = o.Alerts()
		}
		p, done := tui.NewProgram(src, opts, append(bm.MakeOptions(sess), tea.WithAltScreen())...)
		go func() {
			<-sess.Context().Done()
			stopAlerts()
			done()
		}()
		o.Logger.Info("ssh console opened", "user", sess.User(), "remote", sess.RemoteAddr().String())
		return p
	}
	srv, err := wish.NewServer(
		wish.WithAddress(o.Addr),
		wish.WithHostKeyPath(o.HostKeyPath),
		wish.WithAuthorizedKeys(o.AuthorizedKeys),
		wish.WithIdleTimeout(24*time.Hour),
		wish.WithMiddleware(
			bm.MiddlewareWithProgramHandler(handler, termenv.Ascii),
			activeterm.Middleware(), // a console needs a terminal: `ssh -T` is refused
		),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	return &Server{srv: srv, log: o.Logger}, nil
}

// Serve accepts sessions on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return fmt.Errorf("ssh: listen on %s: %w", s.srv.Addr, err)
	}
	return s.Serve(l)
}

// Shutdown closes the listener and ends the sessions' consoles.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return s.srv.Close()
	}
	return err
}
