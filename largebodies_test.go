package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakRSS is a process's high-water resident set, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// 1,000 concurrent bodies of ~495 KB with ~46,000 keys each (the
// adversarial test took 3.9–4.8 GB and timed out 991 of 1,200 requests):
// klaxon's peak RSS stays under 512 MB, /healthz answers throughout, and
// every request is answered — taken or refused with 503 and Retry-After.
func TestLargeBodiesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildKlaxon(t)
	cmd, base := startServe(t, bin, t.TempDir(), "--accept-any-token")
	var body bytes.Buffer
	body.WriteString(`{"title":"large"`)
	for i := 0; body.Len() < 495<<10; i++ {
		fmt.Fprintf(&body, `,"k%d":%d`, i, i)
	}
	body.WriteString("}")
	payload := body.Bytes()

	transport := &http.Transport{MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 1000}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: 60 * time.Second, Transport: transport}
	var (
		wg                     sync.WaitGroup
		ok, refused, failed    atomic.Int64
		health, healthFailures atomic.Int64
		stop                   = make(chan struct{})
	)
	go func() { // /healthz keeps answering while the bodies arrive
		hc := &http.Client{Timeout: 10 * time.Second} // the whole suite shares two CPUs with this load
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := hc.Get(base + "/healthz")
			if err != nil {
				healthFailures.Add(1)
				continue
			}
			resp.Body.Close()
			health.Add(1)
		}
	}()
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(base+"/large-body-test/push-events", "application/json", bytes.NewReader(payload))
			if err != nil {
				failed.Add(1)
				return
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				ok.Add(1)
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
				refused.Add(1)
			default:
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	rss := peakRSS(t, cmd.Process.Pid)
	t.Logf("1,000 bodies of %d KB: %d stored, %d refused 503, %d failed; peak RSS %d MB; /healthz answered %d times, failed %d",
		len(payload)>>10, ok.Load(), refused.Load(), failed.Load(), rss>>20, health.Load(), healthFailures.Load())
	if rss > 512<<20 {
		t.Errorf("peak RSS %d MB, want under 512 MB", rss>>20)
	}
	if failed.Load() > 0 || ok.Load() == 0 {
		t.Errorf("%d requests failed (neither stored nor refused with Retry-After), %d stored", failed.Load(), ok.Load())
	}
	if healthFailures.Load() > 0 {
		t.Errorf("/healthz failed %d times under the load", healthFailures.Load())
	}
}
