package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"klaxon/incidents"
	"klaxon/metrics"
	"klaxon/notify"
	"klaxon/receiver"
	"klaxon/sshconsole"
	"klaxon/storage"
)

// ShutdownGrace is how long a stop waits for requests in flight.
const ShutdownGrace = 10 * time.Second

// App is one running klaxon: the data directory (locked), the database, the
// service and the HTTP receiver.
type App struct {
	Config   Config
	DB       *storage.DB
	Service  *incidents.Service
	Receiver *receiver.Server
	Log      *slog.Logger
	BaseURL  string
	APIToken string
	Default  *incidents.Integration // the default integration, when one was made or found
	Warning  string                 // something the person starting klaxon must read
	Metrics  *metrics.Metrics

	lock     *os.File
	logFile  *os.File
	listener net.Listener
	http     *http.Server
	ssh      *sshconsole.Server
	sshLn    net.Listener
	alerts   *alertHub // alerts for the consoles in this process
}

// OpenApp locks the data directory, opens the database, makes the default
// integration on first start and binds the listen address. logTo receives the
// log when no --log-file is given (nil: klaxon.log in the data directory).
func OpenApp(ctx context.Context, c Config, logTo io.Writer) (*App, error) {
	a := &App{Config: c, alerts: newAlertHub()}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory %s: %w", c.DataDir, err)
	}
	_ = os.Chmod(c.DataDir, 0o700)
	if err := a.openLog(logTo); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(c.DataDir)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.lock = lock
	a.DB, err = storage.Open(ctx, filepath.Join(c.DataDir, "klaxon.db"), storage.Options{JournalLimit: c.JournalLimit, KeepSuppressed: c.KeepSuppressed})
	if err != nil {
		a.Close()
		return nil, err
	}
	// The writer reads the open incidents' keys before its first write; have
	// it do so now, so that the first webhook does not wait for it.
	go a.DB.Warm(context.WithoutCancel(ctx))
	a.Service = incidents.NewService(a.DB, nil)
	if a.APIToken, err = apiToken(c); err != nil {
		a.Close()
		return nil, err
	}
	all, err := a.Service.Integrations(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	if len(all) == 0 {
		if a.Default, err = a.Service.CreateIntegration(ctx, "default", "default", "", incidents.KindWebhook); err != nil {
			a.Close()
			return nil, err
		}
	} else {
		a.Default = all[0]
		for _, in := range all {
			if in.Name == "default" {
				a.Default = in
			}
		}
	}
	a.listener, err = net.Listen("tcp", c.Listen)
	if err != nil {
		a.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s is already in use (another klaxon, or another program); choose another address with --listen", c.Listen)
		}
		return nil, fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	a.BaseURL = baseURL(a.listener.Addr().String())
	if (c.TLSCert == "") != (c.TLSKey == "") {
		a.Close()
		return nil, errors.New("--tls-cert and --tls-key go together: pass both, or neither")
	}
	if c.TLSCert != "" {
		a.BaseURL = "https" + strings.TrimPrefix(a.BaseURL, "http")
	}
	a.Metrics = metrics.New(a.DB, a.Log)
	a.DB.OnCommit(a.Metrics.ObserveCommit)
	a.Receiver = receiver.New(a.Service, receiver.Options{
		BaseURL: a.BaseURL, APIToken: a.APIToken, AcceptAnyToken: c.AcceptAnyToken, Logger: a.Log, RateLimit: c.RateLimit,
		Observer: a.Metrics, Metrics: a.Metrics.Handler(),
	})
	a.http = a.Receiver.HTTPServer(c.Listen, a.Log)
	a.listener = receiver.LimitListener(a.listener, maxConnections)
	if c.SSHAddr != "" {
		if err := a.openSSH(); err != nil {
			a.Close()
			return nil, err
		}
	}
	if !isLoopback(a.listener.Addr()) && c.TLSCert == "" {
		a.Warning = "listening beyond loopback without TLS (" + a.listener.Addr().String() + "): tokens cross the network in clear; pass --tls-cert and --tls-key"
		a.Log.Warn(a.Warning)
	}
	return a, nil
}

// maxConnections bounds open connections; more wait in the listen backlog.
const maxConnections = 4096

func (a *App) openLog(logTo io.Writer) error {
	path := a.Config.LogFile
	if path == "" && logTo == nil {
		path = filepath.Join(a.Config.DataDir, "klaxon.log")
	}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open the log file: %w", err)
		}
		a.logFile, logTo = f, f
	}
	a.Log = slog.New(slog.NewTextHandler(logTo, nil))
	return nil
}

// openSSH binds the SSH console's address (see sshconsole).
func (a *App) openSSH() error {
	srv, err := sshconsole.New(a.Service, sshconsole.Options{
		Addr:           a.Config.SSHAddr,
		HostKeyPath:    filepath.Join(a.Config.DataDir, "ssh_host_ed25519"),
		AuthorizedKeys: a.Config.AuthorizedKeys,
		Console:        a.consoleOptions(),
		Alerts:         a.alerts.Subscribe,
		Logger:         a.Log,
	})
	if err != nil {
		return err
	}
	if a.sshLn, err = net.Listen("tcp", a.Config.SSHAddr); err != nil {
		return fmt.Errorf("--ssh: listen on %s: %w", a.Config.SSHAddr, err)
	}
	a.ssh = srv
	return nil
}

// SSHAddr is where the SSH console listens ("" when it does not).
func (a *App) SSHAddr() string {
	if a.sshLn == nil {
		return ""
	}
	return a.sshLn.Addr().String()
}

// WebhookURL is the default integration's webhook URL.
func (a *App) WebhookURL() string {
	if a.Default == nil {
		return ""
	}
	return receiver.WebhookURL(a.BaseURL, a.Default.Token)
}

// Serve runs the HTTP server until ctx ends, then shuts it down gracefully:
// no new connections, requests in flight finish (up to ShutdownGrace).
func (a *App) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if a.Config.TLSCert != "" {
			errc <- a.http.ServeTLS(a.listener, a.Config.TLSCert, a.Config.TLSKey)
			return
		}
		errc <- a.http.Serve(a.listener)
	}()
	// Background work stops, and is waited for, before Serve returns, so
	// that Close never pulls the database from under it.
	bg, stopBackground := context.WithCancel(ctx)
	var background sync.WaitGroup
	defer func() {
		stopBackground()
		background.Wait()
	}()
	notifier := notify.New(a.Service, notify.Options{
		Command: a.Config.OnTrigger, Realert: a.Config.Realert, Alert: a.alerts.Publish, Logger: a.Log,
	})
	background.Go(func() { a.pruneEvery(bg, 10*time.Minute) })
	background.Go(func() { a.runTimersEvery(bg, 5*time.Second) })
	background.Go(func() { notifier.Run(bg, 15*time.Second) })
	if a.ssh != nil {
		go func() {
			if err := a.ssh.Serve(a.sshLn); err != nil {
				errc <- err
			}
		}()
		a.Log.Info("klaxon console over ssh", "addr", a.sshLn.Addr().String())
	}
	a.Log.Info("klaxon receiving", "addr", a.listener.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if a.ssh != nil {
		_ = a.ssh.Shutdown(sctx)
	}
	err := a.http.Shutdown(sctx)
	a.Log.Info("klaxon stopped receiving", "error", err)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// pruneEvery drops old resolved incidents and journal entries now and then,
// until ctx ends.
func (a *App) pruneEvery(ctx context.Context, every time.Duration) {
	for {
		n, r, err := a.DB.Prune(ctx, a.Config.Retention, a.Service.Now())
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("prune old data", "error", err)
		} else if n+r > 0 {
			a.Log.Info("pruned old data", "incidents", n, "requests", r)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// runTimersEvery carries out the integrations' acknowledge timeouts and
// resolve timers, until ctx ends.
func (a *App) runTimersEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := a.Service.RunTimers(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("run timers", "error", err)
		} else if n > 0 {
			a.Log.Info("timers acted", "incidents", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close closes the database (after its queued writes) and unlocks the data
// directory.
func (a *App) Close() error {
	var errs []error
	if a.sshLn != nil && a.ssh == nil {
		a.sshLn.Close()
	}
	if a.DB != nil {
		errs = append(errs, a.DB.Close())
		a.DB = nil
	}
	if a.lock != nil {
		_ = syscall.Flock(int(a.lock.Fd()), syscall.LOCK_UN)
		errs = append(errs, a.lock.Close())
		a.lock = nil
	}
	if a.logFile != nil {
		errs = append(errs, a.logFile.Close())
		a.logFile = nil
	}
	return errors.Join(errs...)
}

// lockDataDir takes an exclusive lock on the data directory so that two
// klaxons never write one database. The lock file holds the owner's pid.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(owner))
		if pid == "" {
			pid = "unknown"
		}
		return nil, &DataDirInUseError{Dir: dir, PID: pid}
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// DataDirInUseError says another klaxon holds the data directory.
type DataDirInUseError struct {
	Dir, PID string
}

func (e *DataDirInUseError) Error() string {
	return fmt.Sprintf("the data directory %s is in use by another klaxon (pid %s); attach to it (klaxon attach), use it (klaxon incidents, klaxon ack … talk to it), stop it, or pass another --data-dir", e.Dir, e.PID)
}

// apiToken is KLAXON_API_TOKEN, else the api-token file in the data
// directory, made (mode 0600) on first start.
func apiToken(c Config) (string, error) {
	if c.APIToken != "" {
		return c.APIToken, nil
	}
	path := filepath.Join(c.DataDir, "api-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	tok := incidents.NewToken()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the API token file: %w", err)
	}
	return tok, nil
}

// readAPIToken finds the API token without making one.
func readAPIToken(c Config) string {
	if c.APIToken != "" {
		return c.APIToken
	}
	b, _ := os.ReadFile(filepath.Join(c.DataDir, "api-token"))
	return strings.TrimSpace(string(b))
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
