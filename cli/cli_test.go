package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// run runs a command line in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// startServe runs `klaxon serve` in-process until the test ends.
func startServe(t *testing.T, addr, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"serve", "--listen", addr, "--data-dir", dir}, Env{Stdout: &errb, Stderr: &errb})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	})
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not come up: %s", errb.String())
}

var urlRE = regexp.MustCompile(`http://\S+/push-events`)

func TestCommandsAgainstARunningKlaxon(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}

	code, out, errOut := run(t, append([]string{"integrations", "add", "grafana", "--kind", "healthchecks"}, common...)...)
	if code != 0 || !strings.Contains(out, "grafana (healthchecks)") || !urlRE.MatchString(out) {
		t.Fatalf("integrations add: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"integrations"}, common...)...)
	if code != 0 || !strings.Contains(out, "default") || !strings.Contains(out, "grafana") {
		t.Fatalf("integrations: %d %q", code, out)
	}
	urls := urlRE.FindAllString(out, -1)
	defaultURL := urls[0]

	code, out, _ = run(t, "send", defaultURL, "--title", "db down\x1b]0;pwned\x07", "--severity", "sev1", "--body", `{"host":"db-1"}`)
	if code != 0 || !strings.Contains(out, `"action":"created"`) {
		t.Fatalf("send: %d %q", code, out)
	}
	run(t, "send", defaultURL, "--title", "db down\x1b]0;pwned\x07")
	code, out, _ = run(t, append([]string{"incidents"}, common...)...)
	if code != 0 || !strings.Contains(out, "#1") || !strings.Contains(out, "×1") || !strings.Contains(out, "sev1") {
		t.Fatalf("incidents: %d %q", code, out)
	}
	if strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "db down␛]0;pwned␇") {
		t.Fatalf("incidents printed webhook text raw: %q", out)
	}
	code, out, _ = run(t, append([]string{"ack", "#1"}, common...)...)
	if code != 0 || !strings.Contains(out, "acknowledged") {
		t.Fatalf("ack: %d %q", code, out)
	}
	code, out, _ = run(t, append([]string{"incidents", "--json"}, common...)...)
	var list struct{ Incidents []incidents.Incident }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Incidents) != 1 || list.Incidents[0].Status != incidents.Acknowledged {
		t.Fatalf("incidents --json: %d %q", code, out)
	}
	code, _, _ = run(t, append([]string{"resolve", "1"}, common...)...)
	if code != 0 {
		t.Fatal("resolve failed")
	}
	code, _, errOut = run(t, append([]string{"resolve", "1"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "resolved") {
		t.Fatalf("resolve twice: %d %q, want a 409 explained", code, errOut)
	}
	code, out, _ = run(t, "send", defaultURL, "--title", "nothing open", "--resolve")
	if code != 0 || !strings.Contains(out, `"ignored"`) {
		t.Fatalf("send --resolve: %q", out)
	}
	code, out, _ = run(t, "send", strings.Replace(defaultURL, "/push-events", "x/push-events", 1), "--title", "t")
	if code != 1 || !strings.Contains(out, "404") {
		t.Fatalf("send to a wrong URL: %d %q", code, out)
	}
	// A second klaxon on the same data directory refuses, naming the holder.
	code, _, errOut = run(t, "serve", "--listen", freeAddr(t), "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, "in use by another klaxon (pid ") {
		t.Fatalf("second klaxon: %d %q", code, errOut)
	}
	// And one on the same address says so.
	code, _, errOut = run(t, "serve", "--listen", addr, "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "already in use") {
		t.Fatalf("same address: %d %q", code, errOut)
	}
}

func TestCommandsWithoutARunningKlaxon(t *testing.T) {
	addr, dir := freeAddr(t), filepath.Join(t.TempDir(), "data") // klaxon makes it, 0700
	common := []string{"--listen", addr, "--data-dir", dir}
	code, _, errOut := run(t, append([]string{"incidents"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "start klaxon first") {
		t.Fatalf("no database yet: %d %q", code, errOut)
	}
	// Make the data directory by starting and stopping a klaxon.
	func() {
		ctx, cancel := context.WithCancel(context.Background())
		app, err := OpenApp(ctx, Config{Listen: addr, DataDir: dir}, &syncBuffer{})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		app.Run(ctx)
		app.Close()
	}()
	code, out, _ := run(t, append([]string{"integrations", "add", "ci"}, common...)...)
	if code != 0 || !strings.Contains(out, "/push-events") {
		t.Fatalf("integrations add offline: %d %q", code, out)
	}
	code, out, _ = run(t, append([]string{"incidents"}, common...)...)
	if code != 0 || !strings.Contains(out, "no open incidents") {
		t.Fatalf("incidents offline: %d %q", code, out)
	}
	code, _, errOut = run(t, append([]string{"ack", "7"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "no incident #7") {
		t.Fatalf("ack offline: %d %q", code, errOut)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v, want 0700", st.Mode().Perm())
	}
	st, err = os.Stat(filepath.Join(dir, "api-token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("api-token mode %v, want 0600", st.Mode().Perm())
	}
}

func TestRefusesAForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "klaxon.db")
	os.WriteFile(db, []byte("this is somebody's notes, not a database"), 0o600)
	code, _, errOut := run(t, "serve", "--listen", freeAddr(t), "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, db) || !strings.Contains(errOut, "not a klaxon database") {
		t.Fatalf("foreign file: %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(db); string(b) != "this is somebody's notes, not a database" {
		t.Fatal("the foreign file was changed")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"send", "--help"}, {"integrations", "add", "--help"}, {"incidents", "-h"}} {
		code, _, errOut := run(t, args...)
		if code != 0 || !strings.Contains(errOut, "usage:") {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, "explode"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, _ := run(t, "send"); code != 2 {
		t.Errorf("send without URL: %d", code)
	}
	if code, _, errOut := run(t, "ack", "abc"); code != 2 || !strings.Contains(errOut, "not an incident ID") {
		t.Errorf("ack abc: %d %q", code, errOut)
	}
}

// Neither the log nor klaxon serve's own output ever shows a token.
func TestServeNeverPrintsATokenOrLogsOne(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"serve", "--listen", addr, "--data-dir", dir}, Env{Stdout: &out, Stderr: &out})
	}()
	var url string
	for i := 0; i < 200 && url == ""; i++ {
		time.Sleep(20 * time.Millisecond)
		_, list, _ := run(t, "integrations", "--listen", addr, "--data-dir", dir)
		url = urlRE.FindString(list)
	}
	if url == "" {
		t.Fatal("no webhook URL")
	}
	token := strings.Split(strings.TrimPrefix(url, "http://"+addr+"/"), "/")[0]
	run(t, "send", url, "--title", "x")
	run(t, "send", strings.Replace(url, token, token+"x", 1), "--title", "x")
	http.Get(url) // 405
	cancel()
	<-done
	logged := out.String()
	if strings.Contains(logged, token) {
		t.Fatalf("serve output shows the token: %q", logged)
	}
	if !strings.Contains(logged, "receiving on") {
		t.Fatalf("serve said nothing: %q", logged)
	}
	apiTok, _ := os.ReadFile(filepath.Join(dir, "api-token"))
	if strings.Contains(logged, strings.TrimSpace(string(apiTok))) {
		t.Fatal("serve output shows the API token")
	}
}
