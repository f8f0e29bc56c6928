package tui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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

// At 40 columns and fewer the webhook URL is wrapped whole, and the tab
// shown and the health indicator stay.
func TestNarrowKeepsTheURLTheTabAndTheIndicator(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "one", sev: incidents.Sev1})
	opts := f.options()
	opts.WebhookURL = "http://203.0.113.7:8080/Zm9vYmFyYmF6cXV4cXV1eA/push-events"
	d := drive(t, New(f.svc, opts), 40, 12)
	d.settle()
	for _, w := range []int{40, 30, 24} {
		d.send(tea.WindowSizeMsg{Width: w, Height: 12})
		screen := d.m.View()
		fitsIn(t, "narrow", screen, w, 12)
		lines := strings.Split(screen, "\n")
		if !strings.HasSuffix(lines[0], "● live") {
			t.Fatalf("at %d the indicator is gone:\n%s", w, screen)
		}
		if !strings.Contains(strings.Join(lines, ""), opts.WebhookURL) {
			t.Fatalf("at %d the URL is not whole:\n%s", w, screen)
		}
		if !strings.Contains(screen, "[1 Open 1]") {
			t.Fatalf("at %d the tab shown is gone:\n%s", w, screen)
		}
		d.key("4")
		if !strings.Contains(d.m.View(), "[4 Requests") {
			t.Fatalf("at %d the Requests tab is gone:\n%s", w, d.m.View())
		}
		d.key("1")
	}
	// Trouble: NOT RECEIVING stays too.
	d.send(changesMsg{incidents: map[int64]bool{}, health: &incidents.Health{OK: false, Problem: "disk full"}})
	if l := headerLine(&d.m); !strings.HasSuffix(l, notReceiving) {
		t.Fatalf("at 24: %q", l)
	}
}

// An incident seen this second reads "seen just now", not "seen now ago".
func TestDetailSaysSeenJustNow(t *testing.T) {
	f := newFixture(t)
	f.liveFrom()
	f.ingest(event{title: "fresh", sev: incidents.Sev1})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.settle()
	d.key("enter")
	d.settle()
	if !screenHas(&d.m, "seen just now") || screenHas(&d.m, "now ago") {
		t.Fatalf("header:\n%s", d.m.View())
	}
}

// The Open filter reads #75, sev1, p2 and ack as well as text.
func TestFilterReadsIDSeverityPriorityAndStatus(t *testing.T) {
	f := newFixture(t)
	a := f.ingest(event{title: "disk full", sev: incidents.Sev1})
	b := f.ingest(event{title: "disk slow", sev: incidents.Sev2})
	c := f.ingest(event{title: "cpu hot", sev: incidents.Sev2})
	ctx := context.Background()
	if _, err := f.svc.Acknowledge(ctx, b.ID, incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPriority(ctx, c.ID, "p2", incidents.ByAPI); err != nil {
		t.Fatal(err)
	}
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.settle()
	for _, tc := range []struct {
		q    string
		want []int64
	}{
		{"#" + itoa(b.ID), []int64{b.ID}},
		{"sev1", []int64{a.ID}},
		{"sev2 disk", []int64{b.ID}},
		{"p2", []int64{c.ID}},
		{"ack", []int64{b.ID}},
		{"trig disk", []int64{a.ID}},
		{"#" + itoa(a.ID) + " sev2", nil},
	} {
		d.send(queryMsg{q: tc.q})
		d.settle()
		if got := d.m.openIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.q, got, tc.want)
		}
		if n := d.m.c.tally.counts.open; n != len(tc.want) {
			t.Errorf("%q: the tab counts %d, want %d", tc.q, n, len(tc.want))
		}
	}
}

// The Requests list filters by text (/) and by outcome (o): refused only,
// accepted only, all. Client-side, over the journal pages read.
func TestRequestsFilterByTextAndOutcome(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "disk full", sev: incidents.Sev1})
	f.ingest(event{title: "cpu hot", sev: incidents.Sev2})
	if err := f.svc.Journal(context.Background(), &incidents.Request{At: t0.Add(time.Minute), Method: "POST", Path: "/<unknown>/push-events",
		Status: 404, Outcome: incidents.OutcomeError, Error: "no integration has this token", Body: "{}", Response: []byte(`{"ok":false}`)}); err != nil {
		t.Fatal(err)
	}
	d := drive(t, New(f.svc, f.options()), 120, 30)
	d.key("4")
	d.settle()
	if n := d.m.requests().win.Len(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	d.key("o")
	d.settle()
	if rs := d.m.requests().win.items; len(rs) != 1 || rs[0].Status != 404 {
		t.Fatalf("refused only: %d rows", len(rs))
	}
	d.key("o")
	d.settle()
	if n := d.m.requests().win.Len(); n != 2 {
		t.Fatalf("accepted only: %d rows, want 2", n)
	}
	d.key("/")
	d.typeText("cpu")
	d.key("enter")
	d.settle()
	if rs := d.m.requests().win.items; len(rs) != 1 || !strings.Contains(rs[0].Body, "cpu hot") {
		t.Fatalf("accepted and 'cpu': %d rows", len(rs))
	}
	if !screenHas(&d.m, "1/1") {
		t.Fatalf("the position does not count the matches:\n%s", d.m.View())
	}
	d.key("esc", "o")
	d.settle()
	if n := d.m.requests().win.Len(); n != 3 {
		t.Fatalf("all again: %d rows, want 3", n)
	}
}
