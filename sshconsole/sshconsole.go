// Package sshconsole serves klaxon's console to SSH sessions: each session
// gets its own console with its own renderer, colour profile and window size.
//
// Only keys listed in the authorized_keys file (--authorized-keys) get in.
// The file is read at each attempt, as sshd reads it, so an edit takes effect
// at the next connection. Its options are honoured as sshd(8) honours them,
// and a key whose line asks for what klaxon cannot do is refused:
//
//   - from="pattern-list": the client's address must match. Patterns are
//     addresses, CIDR networks (10.0.0.0/8, 2001:db8::/32) and wildcards
//     (192.168.1.*, 10.0.0.?), separated by commas; a pattern after ! refuses
//     whoever it matches, whatever else matches. As with sshd's default
//     UseDNS no, host names are not looked up: a name pattern matches only
//     the address written out. A pattern sshd would refuse (10.0.0.1/8, a
//     mask too long, an empty one) refuses the line.
//   - expiry-time="YYYYMMDD[HHMM[SS]][Z]": the key is refused from then on
//     (local time, or UTC with Z).
//   - command="…": klaxon's SSH server runs only the console, so a key with a
//     forced command is refused (command="" forces nothing and is accepted).
//   - no-pty, and restrict without a later pty: the console needs a terminal,
//     so the key is refused.
//   - verify-required is refused, and so is a security key (sk-…) without
//     no-touch-required: klaxon cannot check that the key was touched or
//     verified.
//   - cert-authority lines let nothing in: klaxon takes no certificates.
//   - no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-user-rc,
//     permitopen=, permitlisten=, tunnel=, environment=, principals= and their
//     opposites are accepted: klaxon forwards nothing, runs no ~/.ssh/rc and
//     sets no environment, so they hold already.
//   - any other option refuses the line, as sshd skips a line it cannot read.
//
// As in sshd, the first line that holds the key and whose from= and
// expiry-time= let it in decides. A refused key is logged with its SHA256
// fingerprint, the line and the reason (never the key itself); lines that
// refuse their key whoever offers it are also logged at start.
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
	gossh "golang.org/x/crypto/ssh"

	"klaxon/tui"
)

// Options configure the SSH server.
type Options struct {
	Addr           string      // where to listen, e.g. 127.0.0.1:2222
	HostKeyPath    string      // the server's key, made on first start
	AuthorizedKeys string      // an authorized_keys file; no other key gets in
	Console        tui.Options // re-alerts reach each session's console as changes of src
	Logger         *slog.Logger
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
	data, err := os.ReadFile(o.AuthorizedKeys)
	if err != nil {
		return nil, fmt.Errorf("--authorized-keys: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for _, r := range refusals(data) {
		o.Logger.Warn("ssh: authorized_keys has a key klaxon will refuse", "file", o.AuthorizedKeys, "reason", r.reason)
	}
	handler := func(sess ssh.Session) *tea.Program {
		opts := o.Console
		opts.Renderer = bm.MakeRenderer(sess)
		p, done := tui.NewProgram(src, opts, append(bm.MakeOptions(sess), tea.WithAltScreen())...)
		go func() {
			<-sess.Context().Done()
			done()
		}()
		fp := ""
		if k := sess.PublicKey(); k != nil {
			fp = gossh.FingerprintSHA256(k)
		}
		o.Logger.Info("ssh console opened", "user", sess.User(), "remote", sess.RemoteAddr().String(), "fingerprint", fp)
		return p
	}
	srv, err := wish.NewServer(
		wish.WithAddress(o.Addr),
		wish.WithHostKeyPath(o.HostKeyPath),
		wish.WithPublicKeyAuth(func(ctx ssh.Context, key ssh.PublicKey) bool {
			return allow(o.AuthorizedKeys, o.Logger, ctx, key)
		}),
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

// allow is the public-key check: the authorized_keys file, read now, with
// its options (see the package doc). A refusal is logged.
func allow(path string, log *slog.Logger, ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	data, err := os.ReadFile(path)
	if err != nil {
		log.Error("ssh key refused: the authorized_keys file cannot be read", "fingerprint", fp, "remote", addrString(ctx.RemoteAddr()), "error", err)
		return false
	}
	v := authorize(data, key, remoteIP(ctx.RemoteAddr()), time.Now())
	if !v.ok {
		level := slog.LevelWarn
		if v.reason == notListed {
			level = slog.LevelInfo // a key nobody listed: a stranger, or another of the client's keys
		}
		log.Log(context.Background(), level, "ssh key refused", "fingerprint", fp, "type", key.Type(),
			"user", ctx.User(), "remote", addrString(ctx.RemoteAddr()), "reason", v.reason)
	}
	return v.ok
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
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
