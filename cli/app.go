package cli

import (
	"bytes"
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
	"klaxon/pgstore"
	"klaxon/receiver"
	"klaxon/sshconsole"
	"klaxon/storage"

	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"
)

// ShutdownGrace is how long a stop waits for requests in flight.
const ShutdownGrace = 10 * time.Second

// App is one running klaxon: the data directory (locked), the database, the
// service and the HTTP receiver.
type App struct {
	Config   Config
	DB       *storage.DB // SQLite in the data directory; nil with --database
	PG       *pgstore.DB // a team's PostgreSQL (--database); nil without
	Store    appStore    // whichever of the two
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

	stopFollow func()        // ends followOthers
	following  chan struct{} // closed when followOthers has ended
	sshLn      net.Listener
}

// OpenApp locks the data directory, opens the database, makes the default
// integration on first start and binds the listen address. logTo receives the
// log when no --log-file is given (nil: klaxon.log in the data directory).
func OpenApp(ctx context.Context, c Config, logTo io.Writer) (*App, error) {
	a := &App{Config: c}
	openToOthers, err := ensureDataDir(c.DataDir)
	if err != nil {
		return nil, err
	}
	if err := a.openLog(logTo); err != nil {
		return nil, err
	}
	if openToOthers != "" {
		a.warn(openToOthers)
	}
	if c.Database != "" {
		// A team's PostgreSQL: several nodes share it, so there is no data
		// directory lock; the data directory keeps the api token and log.
		if a.PG, err = openPostgres(ctx, c); err != nil {
			a.Close()
			return nil, err
		}
		a.Store = a.PG
		a.Log.Info("database: PostgreSQL", "url", redactURL(c.Database))
	} else {
		lock, err := lockDataDir(c.DataDir)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.lock = lock
		a.DB, err = storage.Open(ctx, filepath.Join(c.DataDir, "klaxon.db"), storage.Options{JournalLimit: c.JournalLimit, KeepSuppressed: c.KeepSuppressed})
		if err != nil {
			a.Close()
			return nil, dataDirError(c.DataDir, err)
		}
		a.Store = a.DB
		if took, complete := a.DB.QuickCheck(); complete {
			a.Log.Info("database checked (quick_check)", "took", took.Round(time.Millisecond))
		} else {
			a.Log.Warn("database check (quick_check) cut short to start in time; run `sqlite3 DB 'PRAGMA integrity_check'` on a copy to check it whole", "took", took.Round(time.Millisecond), "db", a.DB.Path())
		}
	}
	// The writer reads the open incidents' keys before its first write; have
	// it do so now, so that the first webhook does not wait for it.
	go a.Store.Warm(context.WithoutCancel(ctx))
	a.Service = incidents.NewService(a.Store, nil)
	if a.PG != nil {
		a.followOthers(ctx)
	}
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
	a.Metrics = metrics.New(a.Store, a.Log)
	a.Store.OnCommit(a.Metrics.ObserveCommit)
	a.Receiver = receiver.New(a.Service, receiver.Options{
		BaseURL: a.BaseURL, APIToken: a.APIToken, AcceptAnyToken: c.AcceptAnyToken, Logger: a.Log, RateLimit: c.RateLimit,
		Observer: a.Metrics, Metrics: a.Metrics.Handler(),
	})
	a.http = a.Receiver.HTTPServer(c.Listen, a.Log)
	a.listener = netutil.LimitListener(a.listener, maxConnections)
	if c.TLSCert != "" {
		a.listener = receiver.PlainHTTPOnTLS(a.listener, a.BaseURL)
	}
	if c.SSHAddr != "" {
		if err := a.openSSH(); err != nil {
			a.Close()
			return nil, err
		}
	}
	if !isLoopback(a.listener.Addr()) && c.TLSCert == "" {
		a.warn("listening beyond loopback without TLS (" + a.listener.Addr().String() + "): tokens cross the network in clear; pass --tls-cert and --tls-key")
	}
	return a, nil
}

// warn logs msg and adds it to what the person starting klaxon must read.
func (a *App) warn(msg string) {
	a.Log.Warn(msg)
	if a.Warning != "" {
		a.Warning += "; "
	}
	a.Warning += msg
}

// ensureDataDir creates a missing data directory 0700. An existing one keeps
// its mode: --data-dir may name a directory others share (even /tmp, mode
// 1777), and klaxon's files in it are 0600 anyway. When others may read or
// enter it, it says so (a warning for the log).
func ensureDataDir(dir string) (openToOthers string, err error) {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create the data directory %s: %w", dir, err)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("the data directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("the data directory %s is a file, not a directory; pass another --data-dir", dir)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("the data directory %s is open to others (mode %04o); klaxon's files in it are 0600, but the directory is left as it is: give klaxon a directory of its own (mode 0700) to keep even their names private", dir, perm|modeBits(st.Mode())), nil
	}
	return "", nil
}

// modeBits are the setuid, setgid and sticky bits of m as chmod(1) writes them.
func modeBits(m os.FileMode) os.FileMode {
	var b os.FileMode
	if m&os.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// dataDirError says a database another klaxon writes as the data directory
// in use (the lock file may have been deleted: the database's own lock
// still holds).
func dataDirError(dir string, err error) error {
	var inUse *storage.InUseError
	if errors.As(err, &inUse) {
		pid := "unknown"
		if inUse.PID > 0 {
			pid = strconv.Itoa(inUse.PID)
		}
		return &DataDirInUseError{Dir: dir, PID: pid}
	}
	return err
}

// readFirst are the storage options of a command that opens the data
// directory directly because no klaxon answers at --listen: it reads
// without any lock (storage.Options.ReadFirst), so that `klaxon incidents`
// or `klaxon export` never keeps a klaxon from starting, nor waits for one
// that listens elsewhere; its first write, if any, takes the data
// directory's lock (and the database's) as a running klaxon does.
func readFirst(c Config) storage.Options {
	return storage.Options{JournalLimit: c.JournalLimit, ReadFirst: true, WriteLock: func() (func(), error) {
		lock, err := lockDataDir(c.DataDir)
		if err != nil {
			return nil, fmt.Errorf("no klaxon answers at %s, but %w", c.Listen, err)
		}
		return func() {
			_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
			lock.Close()
		}, nil
	}}
}

// exportChunk is how many incidents, with their timelines, `klaxon export`
// holds at once.
const exportChunk = 100

// exportIncidents writes the incidents f selects that were seen between from
// and to, each with its timeline, as writeIncidents would write them all,
// but reading them a page at a time and writing exportChunk at a time, so
// that its memory does not grow with the database: exporting 103,892
// incidents peaked at 615–629 MiB when they were all gathered first, and
// at 31.8 MiB so (/usr/bin/time -v). Each chunk is
// written by writeIncidents itself (so its escaping and its columns hold);
// for JSON and CSV the chunks are joined into one document.
func exportIncidents(ctx context.Context, b backend, f incidents.Filter, from, to time.Time, format string, w io.Writer) error {
	out := &exportWriter{w: w, format: format}
	chunk := make([]*incidents.Incident, 0, exportChunk)
	f.Limit = 1000
	for {
		page, err := b.ListIncidents(ctx, f)
		if err != nil {
			return err
		}
		for _, in := range page.Items {
			// Seen in the range: it had started by its end and was still
			// being seen at its start.
			if in.FirstSeen.After(to) || in.LastSeen.Before(from) {
				continue
			}
			full, err := b.Incident(ctx, in.ID)
			if err != nil {
				return err
			}
			if chunk = append(chunk, full); len(chunk) == exportChunk {
				if err := out.write(chunk); err != nil {
					return err
				}
				chunk = chunk[:0]
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if len(chunk) > 0 {
		if err := out.write(chunk); err != nil {
			return err
		}
	}
	return out.close()
}

// exportWriter joins chunks written by writeIncidents into one document.
type exportWriter struct {
	w       io.Writer
	format  string
	buf     bytes.Buffer
	started bool
}

// The JSON document writeIncidents writes around its incidents.
const (
	jsonHead = "{\n  \"incidents\": [\n"
	jsonTail = "\n  ]\n}\n"
)

func (x *exportWriter) write(chunk []*incidents.Incident) error {
	if x.format == "ndjson" {
		return writeIncidents(x.w, x.format, chunk)
	}
	x.buf.Reset()
	if err := writeIncidents(&x.buf, x.format, chunk); err != nil {
		return err
	}
	doc := x.buf.Bytes()
	switch x.format {
	case "json":
		body, head := bytes.CutPrefix(doc, []byte(jsonHead))
		body, tail := bytes.CutSuffix(body, []byte(jsonTail))
		if !head || !tail {
			return fmt.Errorf("export: writeIncidents wrote JSON of an unexpected layout: %.40q", doc)
		}
		if x.started {
			doc = append([]byte(",\n"), body...)
		} else {
			doc = append([]byte(jsonHead), body...)
		}
	case "csv":
		if x.started { // the header once
			if _, rows, ok := bytes.Cut(doc, []byte("\n")); ok {
				doc = rows
			}
		}
	}
	x.started = true
	_, err := x.w.Write(doc)
	return err
}

func (x *exportWriter) close() error {
	switch {
	case !x.started:
		return writeIncidents(x.w, x.format, nil)
	case x.format == "json":
		_, err := io.WriteString(x.w, jsonTail)
		return err
	}
	return nil
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

// Run serves until ctx ends: the HTTP receiver, the SSH console (with
// --ssh) and the background work (pruning, timers, the notifier), all
// started in one errgroup. Then it shuts down gracefully: no new
// connections, requests in flight finish (up to ShutdownGrace), and the
// background work stops after them and is waited for before Run returns, so
// that Close never pulls the database from under it. A server that fails
// stops the rest, and Run returns its error.
func (a *App) Run(ctx context.Context) error {
	g, serving := errgroup.WithContext(ctx)
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()

	g.Go(a.serveHTTP)
	var sshLn *acceptingListener
	if a.ssh != nil {
		sshLn = newAcceptingListener(a.sshLn)
		g.Go(func() error {
			defer sshLn.started() // also when Serve fails before it accepts
			if err := a.ssh.Serve(sshLn); err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		})
		a.Log.Info("klaxon console over ssh", "addr", a.sshLn.Addr().String())
	}
	a.Log.Info("klaxon receiving", "addr", a.listener.Addr().String())

	// The background parts end only when background does: they log their
	// errors and go on, so that a failed prune never stops the receiver.
	g.Go(func() error { a.pruneEvery(background, 10*time.Minute); return nil })
	g.Go(func() error { a.runTimersEvery(background, 5*time.Second); return nil })
	notifier := notify.New(a.Service, notify.Options{
		Command: a.Config.OnTrigger, Realert: a.Config.Realert, Logger: a.Log,
	})
	g.Go(func() error {
		if a.PG == nil {
			notifier.Run(background, 15*time.Second)
			return nil
		}
		// Several nodes share the database: one node at a time pages (runs
		// --on-trigger and re-alerts). Changes committed by the others
		// reach this node through followOthers, started in OpenApp. Lead
		// returns only background's end.
		_ = a.PG.Lead(background, "notifier", func(ctx context.Context) { notifier.Run(ctx, 15*time.Second) })
		return nil
	})

	g.Go(func() error {
		<-serving.Done()
		defer stopBackground() // once the requests in flight have finished
		return a.shutdown(sshLn)
	})
	return g.Wait()
}

// serveHTTP serves the receiver on the app's listener until shutdown.
func (a *App) serveHTTP() error {
	var err error
	if a.Config.TLSCert != "" {
		err = a.http.ServeTLS(a.listener, a.Config.TLSCert, a.Config.TLSKey)
	} else {
		err = a.http.Serve(a.listener)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

// shutdown stops the servers gracefully: no new connections, requests in
// flight finish (up to ShutdownGrace). sshLn is the SSH console's listener
// (nil without --ssh).
func (a *App) shutdown(sshLn *acceptingListener) error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if a.ssh != nil {
		// The SSH server learns of its listener in Serve: a Shutdown before
		// then would miss it, and wait for it the whole grace.
		<-sshLn.accepting
		_ = a.ssh.Shutdown(ctx)
	}
	err := a.http.Shutdown(ctx)
	if err != nil {
		a.Log.Warn("klaxon stopped receiving", "error", err)
	} else {
		a.Log.Info("klaxon stopped receiving")
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// acceptingListener says when Serve first accepts on it.
type acceptingListener struct {
	net.Listener
	accepting chan struct{} // closed at the first Accept
	once      sync.Once
}

func newAcceptingListener(l net.Listener) *acceptingListener {
	return &acceptingListener{Listener: l, accepting: make(chan struct{})}
}

func (l *acceptingListener) Accept() (net.Conn, error) {
	l.started()
	return l.Listener.Accept()
}

func (l *acceptingListener) started() { l.once.Do(func() { close(l.accepting) }) }

// followOthers publishes the changes other nodes commit to the shared
// PostgreSQL on this node's broker, until Close. It returns once this node
// hears them (its first LISTEN connection is up), so that a node says it is
// receiving only when its consoles and streams will also show what the
// others take; after 10 s it goes on, warning.
func (a *App) followOthers(ctx context.Context) {
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopFollow, a.following = stop, make(chan struct{})
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(a.following)
		_ = a.PG.Follow(fctx, func(r pgstore.Remote) {
			if r.Change.Resync {
				once.Do(func() { close(ready) })
			}
			a.Service.PublishRemote(fctx, r.Change, r.Integrations)
		})
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		a.warn("not yet hearing the changes other klaxon nodes commit (PostgreSQL LISTEN); this node's consoles may miss them until it does")
	}
}

// pruneEvery drops old resolved incidents and journal entries now and then,
// until ctx ends.
func (a *App) pruneEvery(ctx context.Context, every time.Duration) {
	for {
		n, r, err := a.Store.Prune(ctx, a.Config.Retention, a.Service.Now())
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
	if a.stopFollow != nil {
		a.stopFollow()
		<-a.following
		a.stopFollow = nil
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
		a.Store, a.DB, a.PG = nil, nil, nil
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
