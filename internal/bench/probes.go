package bench

// What klaxon bench reads besides the load it drives: how long the disk takes
// to sync, and how many events shared each of the receiver's commits.

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// syncLatency measures what every commit of the receiver waits for: it
// writes pages (each with its 24-byte frame header, as SQLite's WAL does)
// into a file in dir and syncs it, n times, and returns the median and the
// 99th percentile of the syncs. A durable receiver cannot commit faster than
// this, whatever it does with its CPU.
func syncLatency(dir string, pages, n int) (p50, p99 time.Duration, err error) {
	f, err := os.CreateTemp(dir, "klaxon-bench-sync-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page, header := make([]byte, 4096), make([]byte, 24)
	frame := int64(len(page) + len(header))
	// Write on through a file of its final size, as SQLite goes through the
	// WAL it reuses.
	size := 2048 * frame
	if err := f.Truncate(size); err != nil {
		return 0, 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	took := make([]time.Duration, 0, n)
	var off int64
	for range n {
		for range pages {
			if off+frame > size {
				off = 0
			}
			if _, err := f.WriteAt(header, off); err != nil {
				return 0, 0, err
			}
			if _, err := f.WriteAt(page, off+int64(len(header))); err != nil {
				return 0, 0, err
			}
			off += frame
		}
		start := time.Now()
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[len(took)/2], took[len(took)*99/100], nil
}

// commitStats reads the receiver's commits and the writes they held from its
// /metrics (klaxon_commit_batch_size), given its webhook URL. ok is false
// for a server without them (the no-op handler).
func commitStats(webhookURL string) (commits, writes float64, ok bool) {
	u, err := url.Parse(webhookURL)
	if err != nil {
		return 0, 0, false
	}
	u.Path, u.RawQuery = "/metrics", ""
	resp, err := http.Get(u.String())
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, false
	}
	var found int
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), " ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "klaxon_commit_batch_size_count":
			commits, found = v, found+1
		case "klaxon_commit_batch_size_sum":
			writes, found = v, found+1
		}
	}
	return commits, writes, found == 2
}
