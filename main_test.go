package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildKlaxon builds the real binary once for the tests that run it.
func buildKlaxon(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "klaxon-test-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "klaxon")
		cmd := exec.Command("go", "build", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// startServe runs `klaxon serve` on a free loopback port and returns its base URL.
func startServe(t *testing.T, bin, dataDir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, extra...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`receiving on (http://[0-9.:]+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return cmd, base
	case <-time.After(20 * time.Second):
		t.Fatal("klaxon serve did not say where it listens")
	}
	return nil, ""
}

// A process killed with SIGKILL under load keeps every event it answered 200
// for, and its database passes integrity_check. KLAXON_CRASH_ROUNDS=N runs N
// rounds on one data directory (restarting after each kill); the default is 2.
func TestAnsweredEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	rounds := 2
	if v, err := strconv.Atoi(os.Getenv("KLAXON_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	var sentTotal, answeredTotal int64
	for round := 0; round < rounds; round++ {
		sent, answered := crashRound(t, bin, dataDir, round)
		sentTotal += sent
		answeredTotal += int64(answered)
	}
	t.Logf("%d rounds: %d requests sent, %d answered 200, 0 lost", rounds, sentTotal, answeredTotal)
}

// crashRound drives a fresh klaxon with 64 connections, kills it with SIGKILL
// at a random moment, and checks every 200 against the reopened database.
func crashRound(t *testing.T, bin, dataDir string, round int) (int64, int) {
	t.Helper()
	cmd, base := startServe(t, bin, dataDir, "--accept-any-token")
	url := base + "/durability-test/push-events"
	var (
		mu       sync.Mutex
		answered = map[string]int64{} // title → incident id, for each 200
		sent     atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 5 * time.Second, Transport: transport}
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				title := fmt.Sprintf("r%d-w%d-e%d", round, w, i)
				sent.Add(1)
				resp, err := client.Post(url, "application/json", strings.NewReader(`{"title":"`+title+`","severity":"sev2"}`))
				if err != nil {
					return // the server is gone
				}
				var a struct {
					Incident int64 `json:"incident"`
				}
				json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					answered[title] = a.Incident
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill it at a random moment once it has taken some load.
	time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(answered) == 0 {
		t.Fatalf("round %d: no request was answered 200 before the kill", round)
	}
	db, err := storage.Open(context.Background(), filepath.Join(dataDir, "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	lost := 0
	for title, id := range answered {
		if in, err := db.Incident(context.Background(), id); err != nil || in.Title != title {
			lost++
			t.Errorf("round %d: answered 200 for %q as #%d, but after the kill: %v", round, title, id, err)
		}
	}
	t.Logf("round %d: sent %d, answered 200: %d, lost %d", round, sent.Load(), len(answered), lost)
	return sent.Load(), len(answered)
}

// SIGTERM lets a request in flight finish (and commit) before the process
// exits; a second signal exits at once.
func TestGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	cmd, base := startServe(t, bin, dataDir, "--accept-any-token")
	addr := strings.TrimPrefix(base, "http://")

	// A request whose body is still arriving when the signal comes.
	body := `{"title":"in flight at shutdown"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graceful/push-events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// New connections are refused while it drains.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted after SIGTERM")
	}
	conn.Write([]byte(body[10:]))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("in-flight request: %d", resp.StatusCode)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	db, err := storage.Open(context.Background(), filepath.Join(dataDir, "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, _ := db.ListIncidents(context.Background(), incidents.Filter{})
	if len(page.Items) != 1 || page.Items[0].Title != "in flight at shutdown" {
		t.Fatalf("after graceful stop: %+v", page.Items)
	}

	// Second signal: a stuck request would hold the drain for 10 s; the
	// second SIGTERM ends it at once.
	cmd2, base2 := startServe(t, bin, t.TempDir())
	stuck, err := net.Dial("tcp", strings.TrimPrefix(base2, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fmt.Fprintf(stuck, "POST /x/push-events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	cmd2.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	cmd2.Process.Signal(syscall.SIGTERM)
	err = cmd2.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("second signal: %v, want exit status 130", err)
	}
	t.Logf("second signal ended the drain after %v", time.Since(start).Round(time.Millisecond))
}
