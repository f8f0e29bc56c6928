package cli

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"klaxon/internal/testkit"
)

var copiedRE = regexp.MustCompile(`^copied 2 integrations, 2 incidents, 3 timeline entries, 3 requests in \d+\.\d s\n`)

// klaxon db copy refuses a data directory a klaxon runs on, naming it,
// unless --live; copies a stopped one, printing the counts; refuses a
// target that holds data; and a klaxon on the copy takes the senders'
// webhook URLs as they were, folding a repeat into the copied incident.
func TestDBCopy(t *testing.T) {
	target := testkit.PostgresURL(t)
	addr, dir := freeAddr(t), t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan int)
	var serveOut syncBuffer
	go func() {
		served <- Run(ctx, []string{"serve", "--listen", addr, "--data-dir", dir}, Env{Stdout: &serveOut, Stderr: &serveOut})
	}()
	waitHealthy(t, "http://"+addr)
	common := []string{"--listen", addr, "--data-dir", dir}
	code, out, errOut := run(t, append([]string{"integrations", "add", "prom", "--kind", "alertmanager"}, common...)...)
	if code != 0 {
		t.Fatalf("integrations add: %d %q %q", code, out, errOut)
	}
	_, out, _ = run(t, append([]string{"integrations"}, common...)...)
	hook := urlRE.FindString(out) // the default integration's
	for _, title := range []string{"disk full", "disk full", "cert expires"} {
		if code, out, _ := run(t, "send", hook, "--title", title); code != 0 {
			t.Fatalf("send: %d %q", code, out)
		}
	}

	// A klaxon runs on it: refused, naming it.
	code, out, errOut = run(t, "db", "copy", "--from", dir, "--to", target)
	if code != 1 || out != "" || !strings.Contains(errOut, "in use by a klaxon (pid "+strconv.Itoa(os.Getpid())+")") || !strings.Contains(errOut, "--live") {
		t.Fatalf("a copy while a klaxon runs: %d %q %q", code, out, errOut)
	}
	// --live copies it as it is.
	live := testkit.PostgresURL(t)
	code, out, errOut = run(t, "db", "copy", "--live", "--from", dir, "--to", live)
	if code != 0 || !copiedRE.MatchString(out) || !strings.Contains(errOut, "snapshot") {
		t.Fatalf("a --live copy: %d %q %q", code, out, errOut)
	}
	stop()
	if code := <-served; code != 0 {
		t.Fatalf("serve: %d %s", code, serveOut.String())
	}

	// Stopped: copied.
	code, out, errOut = run(t, "db", "copy", "--from", dir, "--to", target)
	if code != 0 || !copiedRE.MatchString(out) || !strings.Contains(errOut, "copying 2 incidents") {
		t.Fatalf("a copy: %d %q %q", code, out, errOut)
	}
	if os.Getenv("KLAXON_API_TOKEN") == "" && !strings.Contains(out, "KLAXON_API_TOKEN=$(cat "+filepath.Join(dir, "api-token")+")") {
		t.Errorf("the copy does not say how the nodes keep the API token: %q", out)
	}
	if u, _ := url.Parse(target); u.User != nil {
		if pw, ok := u.User.Password(); ok && strings.Contains(out+errOut, pw) {
			t.Fatal("the copy printed the database's password")
		}
	}
	// Again into the same target: refused, saying why.
	code, out, errOut = run(t, "db", "copy", "--from", dir, "--to", target)
	if code != 1 || !strings.Contains(errOut, "already holds 2 integrations, 2 incidents and 3 journal entries") || !strings.Contains(errOut, "fresh") {
		t.Fatalf("a second copy: %d %q %q", code, out, errOut)
	}

	// A klaxon on the copy takes the old webhook URL; a repeat folds into
	// the copied incident #1.
	addr2 := freeAddr(t)
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	go func() {
		served <- Run(ctx2, []string{"serve", "--listen", addr2, "--data-dir", t.TempDir(), "--database", target}, Env{Stdout: &serveOut, Stderr: &serveOut})
	}()
	waitHealthy(t, "http://"+addr2)
	moved := strings.Replace(hook, addr, addr2, 1)
	code, out, _ = run(t, "send", moved, "--title", "disk full")
	if code != 0 || !strings.Contains(out, `"action":"suppressed"`) || !strings.Contains(out, `"incident":1`) {
		t.Fatalf("a repeat sent to the copy: %d %q", code, out)
	}
	code, out, _ = run(t, "send", moved, "--title", "new after the move")
	if code != 0 || !strings.Contains(out, `"action":"created"`) || !strings.Contains(out, `"incident":3`) {
		t.Fatalf("a new incident on the copy: %d %q", code, out)
	}
	stop2()
	if code := <-served; code != 0 {
		t.Fatalf("serve on the copy: %d %s", code, serveOut.String())
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for range 250 {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", base)
}

// What klaxon db copy refuses before it reads anything.
func TestDBCopyUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"db"}, 2, "db needs a command: copy"},
		{[]string{"db", "cpy"}, 2, `did you mean copy`},
		{[]string{"db", "copy", "--from", dir}, 2, "--to names the PostgreSQL"},
		{[]string{"db", "copy", "--from", dir, "--to", "mysql://x"}, 2, "not a postgres:// URL"},
		{[]string{"db", "copy", "--from", dir, "--to", "postgres://u:secret@127.0.0.1:1/x"}, 1, "holds no klaxon database"},
		{[]string{"db", "copy", "--help"}, 0, "usage: klaxon db copy"},
	} {
		code, _, errOut := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) || strings.Contains(errOut, "secret") {
			t.Errorf("%v: %d %q; want %d saying %q", c.args, code, errOut, c.code, c.says)
		}
	}
}

// The refusal of a held data directory is a DataDirInUseError.
func TestDBCopyInUseIsDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	_, err = holdDataDir(dir, filepath.Join(dir, "klaxon.db"))
	var inUse *DataDirInUseError
	if !errors.As(err, &inUse) || inUse.PID != strconv.Itoa(os.Getpid()) {
		t.Fatalf("holdDataDir on a locked directory: %v", err)
	}
	lock.Close()
	release, err := holdDataDir(dir, filepath.Join(dir, "klaxon.db"))
	if err != nil {
		t.Fatal(err)
	}
	// While the copy holds it, no klaxon starts on it.
	if _, err := lockDataDir(dir); !errors.As(err, &inUse) {
		t.Fatalf("a klaxon starting during a copy: %v", err)
	}
	release()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("a klaxon starting after a copy: %v", err)
	}
	again.Close()
}
