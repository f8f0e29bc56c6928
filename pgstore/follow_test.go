package pgstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
)

// follower collects what Follow hands over.
type follower struct {
	mu  sync.Mutex
	got []Remote
	new chan struct{}
}

func follow(t *testing.T, db *DB) *follower {
	t.Helper()
	f := &follower{new: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Follow(ctx, func(r Remote) {
			f.mu.Lock()
			f.got = append(f.got, r)
			f.mu.Unlock()
			select {
			case f.new <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	f.waitFor(t, connectWithin, "the first resync", func(r Remote) bool { return r.Resync })
	return f
}

// connectWithin bounds the time Follow takes to connect (and authenticate:
// SCRAM is slow on purpose, the more so under the race detector), which the
// bound on changes does not cover.
const connectWithin = 10 * time.Second

// wait waits (a second at most: the bound) until something handed
// over matches, and takes everything up to it.
func (f *follower) wait(t *testing.T, what string, match func(Remote) bool) Remote {
	t.Helper()
	return f.waitFor(t, time.Second, what, match)
}

func (f *follower) waitFor(t *testing.T, within time.Duration, what string, match func(Remote) bool) Remote {
	t.Helper()
	deadline := time.After(within)
	for {
		f.mu.Lock()
		for i, r := range f.got {
			if match(r) {
				f.got = f.got[i+1:]
				f.mu.Unlock()
				return r
			}
		}
		f.mu.Unlock()
		select {
		case <-f.new:
		case <-deadline:
			f.mu.Lock()
			defer f.mu.Unlock()
			t.Fatalf("within %v, no %s; heard %+v", within, what, f.got)
		}
	}
}

func (f *follower) none(t *testing.T, what string, match func(Remote) bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.got {
		if match(r) {
			t.Fatalf("heard %s: %+v", what, r)
		}
	}
}

// What one node commits reaches the others within a second: incidents with
// what the event did, journal entries, integrations; a node does not hear
// its own.
func TestFollowHearsOtherNodes(t *testing.T) {
	url := freshSchema(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	fa, fb := follow(t, a), follow(t, b)
	ctx := context.Background()

	integ := mustIntegration(t, a, "shared")
	fb.wait(t, "integrations changed", func(r Remote) bool { return r.Integrations })
	req := &incidents.Request{At: clock, Method: "POST", Path: "/shared/push-events"}
	res, err := a.Ingest(ctx, integ, incidents.Event{Key: "disk", Title: "disk", Action: incidents.Trigger, Severity: incidents.Sev1}, req)
	if err != nil {
		t.Fatal(err)
	}
	r := fb.wait(t, "the new incident", func(r Remote) bool { return r.Incident != nil })
	if r.Incident.ID != res.Incident.ID || r.Outcome != incidents.Created || r.Kind != incidents.ChangeCreated || r.Incident.Title != "disk" ||
		r.Incident.Integration != "shared" || r.Incident.Severity != incidents.Sev1 {
		t.Fatalf("heard %+v %+v", r.Change, r.Incident)
	}
	r = fb.wait(t, "the journal entry", func(r Remote) bool { return r.Request != nil })
	if r.Request.ID != req.ID || r.Request.Outcome != incidents.Created {
		t.Fatalf("heard request %+v", r.Request)
	}
	if _, err := a.Act(ctx, res.Incident.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	r = fb.wait(t, "the acknowledgement", func(r Remote) bool { return r.Incident != nil })
	if r.Incident.Status != incidents.Acknowledged || r.Outcome != "" || r.Kind != incidents.ChangeAcknowledged {
		t.Fatalf("heard %+v", r)
	}
	if err := a.SetChaos(ctx, "shared", incidents.Chaos{Status: 503, Share: 1}); err != nil {
		t.Fatal(err)
	}
	fb.wait(t, "chaos changed", func(r Remote) bool { return r.Integrations })

	if err := a.SetTimers(ctx, "shared", incidents.Timers{AckTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	fb.wait(t, "timers changed", func(r Remote) bool { return r.Integrations })
	if changed, err := a.ApplyTimers(ctx, clock.Add(time.Hour)); err != nil || len(changed) != 1 {
		t.Fatalf("timers: %v %v", changed, err)
	}
	r = fb.wait(t, "the timer's change", func(r Remote) bool { return r.Incident != nil })
	if r.Kind != incidents.ChangeUnacknowledged || r.Incident.Status != incidents.Triggered {
		t.Fatalf("heard %+v", r)
	}

	// And the other way round.
	if _, err := b.Ingest(ctx, integ, incidents.Event{Key: "disk", Title: "disk", Action: incidents.Trigger}, &incidents.Request{At: clock}); err != nil {
		t.Fatal(err)
	}
	r = fa.wait(t, "the repeat", func(r Remote) bool { return r.Incident != nil })
	if r.Outcome != incidents.Folded || r.Kind != incidents.ChangeSuppressed || r.Incident.Suppressed != 1 {
		t.Fatalf("heard %+v", r)
	}
	time.Sleep(100 * time.Millisecond)
	fa.none(t, "its own change", func(r Remote) bool { return r.Incident != nil && r.Incident.Suppressed == 0 })
	fb.none(t, "its own change", func(r Remote) bool { return r.Incident != nil && r.Incident.Suppressed == 1 })
}

// When Follow's connection drops it connects again and hands over a
// Resync (what was committed meanwhile went unheard); changes then flow
// again.
func TestFollowResyncsAfterADrop(t *testing.T) {
	url := freshSchema(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	fb := follow(t, b)
	integ := mustIntegration(t, a, "default")
	fb.wait(t, "integrations changed", func(r Remote) bool { return r.Integrations })
	for range 2 {
		pid := b.followBackend()
		if pid == 0 {
			t.Fatal("Follow has no connection")
		}
		adminExec(t, "SELECT pg_terminate_backend($1)", int32(pid))
		fb.waitFor(t, connectWithin, "a resync after the drop", func(r Remote) bool { return r.Resync })
		if b.followBackend() == pid {
			t.Fatal("Follow kept the cut connection")
		}
		ingest(t, a, integ, "after the drop")
		fb.wait(t, "a change after the drop", func(r Remote) bool { return r.Incident != nil })
	}
}

// Changes is Follow as a channel; a reader that falls behind gets a Resync
// in place of what it missed.
func TestChangesFallsBackToResync(t *testing.T) {
	url := freshSchema(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Changes(ctx, 2)
	select {
	case r := <-ch:
		if !r.Resync {
			t.Fatalf("first: %+v", r)
		}
	case <-time.After(connectWithin):
		t.Fatal("no first resync")
	}
	integ := mustIntegration(t, a, "default")
	for i := range 5 {
		ingest(t, a, integ, "t"+string(rune('a'+i)))
	}
	// 1 resync, 1 integration, 5 incidents, 5 journal entries: past the
	// buffer of 2 that nobody reads.
	for deadline := time.Now().Add(5 * time.Second); b.heard.Load() < 12; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Follow handed over %d changes, want 12", b.heard.Load())
		}
	}
	var got []Remote
	for len(ch) > 0 {
		got = append(got, <-ch)
	}
	if len(got) == 0 || !got[len(got)-1].Resync && !got[0].Resync {
		t.Fatalf("a reader behind by more than its buffer got %+v, want a resync", got)
	}
	cancel()
	for range ch {
	}
}

// A re-alert commits nothing, yet reaches the other nodes: the node that
// re-alerts announces it (through its Service), the others hear a change of
// kind realert with the incident as it is, and the node itself does not
// hear it back. A re-alert of an incident acknowledged since rings nowhere.
func TestFollowHearsRealerts(t *testing.T) {
	url := freshSchema(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	fa, fb := follow(t, a), follow(t, b)
	ctx := context.Background()
	svc := incidents.NewService(a, func() time.Time { return clock })
	local, stop := svc.Subscribe()
	defer stop()

	integ := mustIntegration(t, a, "shared")
	res := ingest(t, a, integ, "disk full")
	fb.wait(t, "the new incident", func(r Remote) bool { return r.Incident != nil && r.Kind == incidents.ChangeCreated })
	in, err := a.Incident(ctx, res.Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	in.Title = "as the notifier had it" // the others read it fresh
	svc.Realerted(in)
	if c := <-local; c.Kind != incidents.ChangeRealert || c.Incident.ID != in.ID {
		t.Fatalf("the node's own broker heard %+v", c)
	}
	r := fb.wait(t, "the re-alert", func(r Remote) bool { return r.Incident != nil && r.Kind == incidents.ChangeRealert })
	if r.Incident.ID != in.ID || r.Incident.Title != "disk full" || r.Incident.Integration != "shared" || r.Outcome != "" {
		t.Fatalf("heard %+v %+v", r.Change, r.Incident)
	}

	if _, err := b.Act(ctx, in.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	if err := a.AnnounceRealert(ctx, in.ID); err != nil { // the leader had not heard of it yet
		t.Fatal(err)
	}
	ingest(t, a, integ, "after") // notifications arrive in order: once this is heard, so was the re-alert
	fb.wait(t, "the next incident", func(r Remote) bool {
		if r.Kind == incidents.ChangeRealert {
			t.Errorf("b heard a re-alert of an incident it acknowledged: %+v", r.Incident)
		}
		return r.Incident != nil && r.Incident.Title == "after"
	})
	ingest(t, b, integ, "from b")
	fa.wait(t, "b's incident", func(r Remote) bool {
		if r.Kind == incidents.ChangeRealert {
			t.Errorf("a heard its own re-alert: %+v", r.Change)
		}
		return r.Incident != nil && r.Incident.Title == "from b"
	})
}
