package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a server under test, run as its own process so that its memory
// and CPU are measured apart from the load generator's.
type child struct {
	cmd  *exec.Cmd
	URL  string
	done chan error

	stopOnce sync.Once
	stopErr  error
}

// startChild runs exe with args, and env besides the bench's environment;
// the child prints "url <URL>" on its stdout once it listens.
func startChild(exe string, env []string, args ...string) (*child, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = childEnv(os.Environ(), env)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, out)
		c.done <- cmd.Wait()
	}()
	select {
	case c.URL = <-found:
		return c, nil
	case err := <-c.done:
		return nil, fmt.Errorf("the server under test exited before it listened: %v", err)
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		return nil, errors.New("the server under test did not say where it listens within 30 s")
	}
}

// childEnv is the environment of a server under test: the bench's (env),
// without KLAXON_DATABASE (a receiver keeps SQLite in its data directory
// unless its command line says --database), and with extra.
func childEnv(env, extra []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KLAXON_DATABASE=") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// stop asks the child to stop gracefully and waits for it. Calling it again
// returns the first call's answer.
func (c *child) stop() error {
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case c.stopErr = <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			c.stopErr = errors.New("the server under test did not stop within 30 s of SIGTERM")
		}
	})
	return c.stopErr
}

// usage is what /proc says about a process: its peak and current resident
// memory and the CPU time it has used.
type usage struct {
	PeakRSS, RSS int64 // bytes
	CPU          time.Duration
}

func (c *child) usage() usage {
	return procUsage(c.cmd.Process.Pid)
}

// procUsage reads /proc/PID/status (VmHWM, VmRSS) and /proc/PID/stat (utime,
// stime). Zero values where /proc cannot be read (not Linux).
func procUsage(pid int) usage {
	var u usage
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			switch name {
			case "VmHWM":
				u.PeakRSS = kb << 10
			case "VmRSS":
				u.RSS = kb << 10
			}
		}
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// The command name may hold spaces; fields are counted after its ')'.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 13 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				u.CPU = time.Duration(ut+st) * time.Second / clockTicks
			}
		}
	}
	return u
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc on every
// architecture Go supports.
const clockTicks = 100

// serveUntil runs serve until ctx is done; used by the children.
func serveUntil(ctx context.Context, serve func() error, shutdown func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return shutdown(sctx)
}

// machineBusy is the CPU time all processes have used so far, from
// /proc/stat (zero where it cannot be read).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
