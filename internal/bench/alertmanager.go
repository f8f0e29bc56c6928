package bench

// The peer: Prometheus Alertmanager, what a user would run instead of
// klaxon to take alerts. It keeps alerts in memory and commits nothing per
// alert. klaxon bench --peer alertmanager runs it beside klaxon in the same
// run, as a child process of its own, and drives its POST /api/v2/alerts
// with the same connections and patterns (see Load.alertmanagerBody).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PeerAlertmanager is the only peer klaxon bench knows.
const PeerAlertmanager = "alertmanager"

// alertmanagerNames are the names Alertmanager's binary has on PATH:
// Debian's package, then upstream's.
var alertmanagerNames = []string{"prometheus-alertmanager", "alertmanager"}

// FindAlertmanager returns path when it is given (checking that it runs),
// else the first of prometheus-alertmanager and alertmanager on PATH.
func FindAlertmanager(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("--alertmanager %s: %v", path, err)
		}
		return p, nil
	}
	for _, name := range alertmanagerNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("Alertmanager is not on PATH (as prometheus-alertmanager or alertmanager): " +
		"install it (Debian: apt-get install prometheus-alertmanager) or give --alertmanager PATH")
}

// AlertmanagerVersion is what `exe --version` says its version is ("0.25.0"),
// or "" when it does not say.
func AlertmanagerVersion(exe string) string {
	out, _ := exec.Command(exe, "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	_, v, ok := strings.Cut(line, "version ")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// alertmanagerConfig routes every alert to a receiver that notifies nothing:
// the peer only takes alerts, as klaxon bench's receiver only takes events.
const alertmanagerConfig = `route:
  receiver: "null"
receivers:
  - name: "null"
`

// startAlertmanager runs Alertmanager from exe with its configuration and
// storage in dir, clustering off, listening on a free loopback port, and
// returns once it says it is ready. Its URL is its POST /api/v2/alerts.
func startAlertmanager(exe, dir string) (*child, error) {
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(alertmanagerConfig), 0o600); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // another process may take the free port first
		port, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(exe, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
		log := &tailBuffer{max: 8 << 10}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", exe, err)
		}
		c := &child{cmd: cmd, URL: "http://" + addr + "/api/v2/alerts", done: make(chan error, 1)}
		go func() { c.done <- cmd.Wait() }()
		if lastErr = waitReady(c, "http://"+addr+"/-/ready"); lastErr == nil {
			return c, nil
		}
		c.stop()
		lastErr = fmt.Errorf("Alertmanager (%s): %v; its log:\n%s", exe, lastErr, log.String())
		if !strings.Contains(log.String(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

// waitReady polls ready until it answers 200, the child exits, or 30 s pass.
func waitReady(c *child, ready string) error {
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err // for stop
			return fmt.Errorf("it exited before it was ready: %v", err)
		default:
		}
		if resp, err := client.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("it was not ready within 30 s")
}

// fetchProfile saves a CPU profile of Alertmanager (whose alerts URL is
// alertsURL) taken over the next d from its own /debug/pprof, to file.
func fetchProfile(alertsURL string, d time.Duration, file string) error {
	u, err := url.Parse(alertsURL)
	if err != nil {
		return err
	}
	u.Path, u.RawQuery = "/debug/pprof/profile", "seconds="+strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
	resp, err := (&http.Client{Timeout: d + 30*time.Second}).Get(u.String())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", u, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// freeLoopbackPort is a port nothing listens on now.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it (a child's log).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
