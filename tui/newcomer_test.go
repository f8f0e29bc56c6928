package tui

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"klaxon/incidents"
)

// cutOff is an attached klaxon out of reach: its actions fail as a network
// error does, and it says when it retries.
type cutOff struct{ *incidents.Service }

func (cutOff) Base() string { return "http://ops.example:8080" }
func (cutOff) Disconnected() (time.Time, bool) {
	return time.Now().Add(3500 * time.Millisecond), true
}
func (cutOff) Act(context.Context, int64, incidents.PersonAction) (*incidents.Incident, error) {
	return nil, errors.New(`Post "http://ops.example:8080/api/v1/incidents/1/acknowledge": dial tcp: connection refused`)
}

func TestActingWhileDisconnectedSaysSo(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "one", sev: incidents.Sev1})
	d := drive(t, New(cutOff{f.svc}, f.options()), 100, 24)
	d.settle()
	d.key("a")
	d.until("the refusal", func(m *Model) bool { return m.c.status.err })
	if want := "not connected to http://ops.example:8080; retrying in 4 s"; d.m.c.status.text != want {
		t.Fatalf("status %q, want %q", d.m.c.status.text, want)
	}
}

// A message belongs to the view it came from and goes away after a while.
func TestStatusBelongsToItsViewAndExpires(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "one", sev: incidents.Sev1})
	var skew atomic.Int64
	opts := f.options()
	opts.Now = func() time.Time { return f.now().Add(time.Duration(skew.Load())) }
	d := drive(t, New(f.svc, opts), 100, 24)
	d.settle()
	d.key("4", "a") // requests cannot be acted on: said in Requests
	msg := "requests cannot be acted on"
	if !screenHas(&d.m, msg) {
		t.Fatalf("no message:\n%s", d.m.View())
	}
	d.key("1")
	if screenHas(&d.m, msg) {
		t.Fatalf("the Requests view's message followed into Open:\n%s", d.m.View())
	}
	d.key("4")
	if !screenHas(&d.m, msg) {
		t.Fatalf("the message left its own view at once:\n%s", d.m.View())
	}
	skew.Store(int64(11 * time.Second))
	d.send(tickMsg{})
	if screenHas(&d.m, msg) || d.m.c.status.text != "" {
		t.Fatalf("the message outlived 10 s:\n%s", d.m.View())
	}
	// Errors expire too.
	d.m.c.setError("boom")
	skew.Store(int64(22 * time.Second))
	d.send(tickMsg{})
	if d.m.c.status.text != "" {
		t.Fatal("an error did not expire")
	}
}
