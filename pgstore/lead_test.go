package pgstore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// One node leads at a time; when the leader's connection drops, it stops
// and another node takes over.
func TestLeadIsOneNodeAtATime(t *testing.T) {
	leadEvery = 100 * time.Millisecond
	t.Cleanup(func() { leadEvery = 2 * time.Second })
	url := freshSchema(t)
	nodes := []*DB{openTest(t, url, Options{}), openTest(t, url, Options{}), openTest(t, url, Options{})}
	var (
		mu      sync.Mutex
		leading = map[int]bool{}
		most    int
		leads   int
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); wg.Wait() }()
	for i, db := range nodes {
		wg.Go(func() {
			err := db.Lead(ctx, "notifier", func(lctx context.Context) {
				mu.Lock()
				leading[i] = true
				leads++
				most = max(most, len(leading))
				mu.Unlock()
				<-lctx.Done()
				mu.Lock()
				delete(leading, i)
				mu.Unlock()
			})
			if err != context.Canceled {
				t.Errorf("node %d: Lead returned %v", i, err)
			}
		})
	}
	leader := func() int {
		t.Helper()
		for deadline := time.Now().Add(connectWithin); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			for i := range leading {
				mu.Unlock()
				return i
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Fatal("no node leads")
			}
		}
	}
	first := leader()
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	if most != 1 || leads != 1 {
		t.Fatalf("%d nodes led at once, %d times", most, leads)
	}
	mu.Unlock()
	// Cut the leader's connection: the server frees its lock.
	lock := nodes[first].lockID("lead", "notifier")
	adminExec(t, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1`, int64(uint32(uint64(lock)>>32)), int64(uint32(lock)))
	for deadline := time.Now().Add(connectWithin); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := leads
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no node took over from the one cut off")
		}
	}
	// The cut-off node notices at its next check (it may lead alongside
	// the new leader until then, see Lead); then one node leads again.
	time.Sleep(5 * leadEvery)
	mu.Lock()
	defer mu.Unlock()
	if len(leading) != 1 {
		t.Fatalf("after the cut of node %d: %v lead, want one node", first, leading)
	}
}
