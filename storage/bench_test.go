package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"klaxon/incidents"
)

// BenchmarkIngest measures the write path (group commit, fsync included) with
// 1 to 256 concurrent writers, for events that each open an incident and for
// events folded into 1,000 open incidents. ns/op is wall time per event
// across all writers, so 1e9/ns is events a second; batch/commit says how
// many events shared one commit.
//
//	go test ./storage -run XXX -bench Ingest -benchtime 20000x
func BenchmarkIngest(b *testing.B) {
	for _, pattern := range []string{"new", "repeat"} {
		for _, writers := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("%s/writers=%d", pattern, writers), func(b *testing.B) {
				benchIngest(b, pattern, writers)
			})
		}
	}
}

func benchIngest(b *testing.B, pattern string, writers int) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "klaxon.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	integ := &incidents.Integration{Name: "bench", Service: "bench", Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: time.Now()}
	if err := db.CreateIntegration(context.Background(), integ); err != nil {
		b.Fatal(err)
	}
	headers := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"bench"}, "Content-Length": {"150"}}
	event := func(w int, i int64) (incidents.Event, *incidents.Request) {
		// As klaxon bench sends them: each writer numbers its own titles,
		// so new keys go into the index at as many places as there are writers.
		title := "disk nearly full " + strconv.Itoa(w) + "-" + strconv.FormatInt(i, 10)
		if pattern == "repeat" {
			title = "disk nearly full on db-" + strconv.FormatInt(i%1000, 10)
		}
		raw := `{"title":"` + title + `","severity":"sev2","priority":"p3","body":{"host":"db-1","mount":"/var/lib/postgresql","used_percent":97.5}}`
		ev := incidents.Event{Key: title, Title: title, Severity: incidents.Sev2, Priority: "p3", Action: incidents.Trigger,
			Details: json.RawMessage(`{"host":"db-1","mount":"/var/lib/postgresql","used_percent":97.5}`), Raw: json.RawMessage(raw)}
		req := &incidents.Request{At: time.Now(), Remote: "127.0.0.1:40000", Method: "POST", Path: "/bench/push-events",
			Integration: "bench", Headers: headers, Body: raw}
		return ev, req
	}
	if pattern == "repeat" { // open the 1,000 incidents first
		for i := int64(0); i < 1000; i++ {
			ev, req := event(0, i)
			if _, err := db.Ingest(context.Background(), integ, ev, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	frames := countFrames(b, db)
	commitsBefore := db.commits.Load()
	cpuBefore := processCPU()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				ev, req := event(w, i)
				if _, err := db.Ingest(context.Background(), integ, ev, req); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.StopTimer()
	// CPU time says more than wall time on a machine shared with other work.
	b.ReportMetric(float64(processCPU()-cpuBefore)/float64(b.N), "cpu-ns/op")
	if commits := db.commits.Load() - commitsBefore; commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "batch/commit")
	}
	b.ReportMetric(float64(frames())/float64(b.N), "pages/op")
}

// countFrames counts the WAL frames (pages) the writer's commits write from
// now on, read from the WAL index after each commit; the function it returns
// says how many so far.
func countFrames(b *testing.B, db *DB) func() int64 {
	shm, err := os.Open(db.path + "-shm")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { shm.Close() })
	mxFrame := func() int64 { // the WAL index header's mxFrame, in native (here little-endian) order
		var buf [4]byte
		if _, err := shm.ReadAt(buf[:], 16); err != nil {
			return 0
		}
		return int64(binary.LittleEndian.Uint32(buf[:]))
	}
	var total atomic.Int64
	last := mxFrame()
	db.OnCommit(func(int) {
		now := mxFrame()
		if now < last { // the WAL restarted: the commit wrote it from its start
			last = 0
		}
		total.Add(now - last)
		last = now
	})
	return total.Load
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
