package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// buildKlaxon builds the real binary once for the tests that run it.
func buildKlaxon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "klaxon")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
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

// A process killed with SIGKILL right after answering 200s keeps every
// event it answered 200 for.
func TestAnsweredEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	cmd, base := startServe(t, bin, dataDir, "--accept-any-token")
	url := base + "/durability-test/push-events"

	var (
		mu       sync.Mutex
		answered = map[string]int64{} // title → incident id, for each 200
		sent     atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				title := fmt.Sprintf("w%d-e%d", w, i)
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
	// Let it take load, then kill it mid-stream.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(answered) == 0 {
		t.Fatal("no request was answered 200 before the kill")
	}
	db, err := storage.Open(context.Background(), filepath.Join(dataDir, "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	for title, id := range answered {
		in, err := db.Incident(context.Background(), id)
		if err != nil || in.Title != title {
			t.Fatalf("answered 200 for %q as #%d, but after the kill: %v %v", title, id, in, err)
		}
	}
	total, _ := db.CountIncidents(context.Background(), incidents.Filter{Status: "all"})
	t.Logf("sent %d, answered 200: %d, stored after SIGKILL: %d", sent.Load(), len(answered), total)
}
