package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"klaxon/incidents"
	"klaxon/receiver"
)

// replayer replays journaled requests the way klaxon does: the same body,
// posted again to the integration's webhook URL on a real receiver over
// the fixture's storage.
type replayer struct {
	f     *fixture
	url   string
	calls atomic.Int32
}

func newReplayer(t *testing.T, f *fixture) *replayer {
	t.Helper()
	rs := receiver.New(f.svc, receiver.Options{BaseURL: "http://x", APIToken: "tok"})
	ts := httptest.NewServer(rs)
	t.Cleanup(ts.Close)
	return &replayer{f: f, url: ts.URL + "/" + f.integ.Token + "/push-events"}
}

func (r *replayer) Replay(ctx context.Context, id int64) (string, error) {
	r.calls.Add(1)
	req, err := r.f.svc.Request(ctx, id)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, r.url, strings.NewReader(req.Body))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))), nil
}

func TestReplayFromTheRequestsView(t *testing.T) {
	f := newFixture(t)
	in := f.ingest(event{title: "replay me", sev: incidents.Sev2})
	rp := newReplayer(t, f)
	opts := f.options()
	opts.Replay = rp.Replay
	d := drive(t, New(f.svc, opts), 120, 24)
	if strings.Contains(d.m.View(), "R replay") {
		t.Fatal("replay offered on the Open view")
	}
	d.key("R")
	if rp.calls.Load() != 0 || !strings.Contains(d.m.c.status.text, "Requests view") {
		t.Fatalf("R on the Open view: %d calls, status %q", rp.calls.Load(), d.m.c.status.text)
	}
	d.key("4")
	d.settle()
	if !screenHas(&d.m, "R replay") {
		t.Fatalf("the help does not offer replay:\n%s", d.m.View())
	}
	first, _ := d.m.requests().win.selected()

	// Pressed twice quickly: one replay.
	d.key("R", "R")
	if !strings.Contains(d.m.c.status.text, "still replaying request "+itoa(first.ID)) {
		t.Fatalf("status %q after a second R", d.m.c.status.text)
	}
	d.until("the answer", func(m *Model) bool { return strings.HasPrefix(m.c.status.text, "replayed") })
	if rp.calls.Load() != 1 {
		t.Fatalf("%d replays for one", rp.calls.Load())
	}
	want := "replayed request " + itoa(first.ID) + `: 200 {"ok":true,"action":"suppressed","incident":` + itoa(in.ID)
	if !strings.HasPrefix(d.m.c.status.text, want) || d.m.c.status.err {
		t.Fatalf("status %q, want it to start %q", d.m.c.status.text, want)
	}
	if !screenHas(&d.m, want) {
		t.Fatalf("the status line does not show the answer:\n%s", d.m.View())
	}
	// The replay's own journal entry arrives by the live changes.
	d.until("the new journal entry", func(m *Model) bool { return m.requests().win.Len() == 2 && m.c.tally.counts.requests == 2 })
	if f.incident(in.ID).Suppressed != 1 {
		t.Fatal("the replay did not reach the incident")
	}

	// From a request's page too.
	d.key("end", "enter")
	if d.m.detail.kind != detailRequest || !screenHas(&d.m, "R replay") {
		t.Fatalf("request page:\n%s", d.m.View())
	}
	id := d.m.detail.id
	d.key("R")
	d.until("the answer", func(m *Model) bool { return strings.HasPrefix(m.c.status.text, "replayed request "+itoa(id)) })
	d.until("the third journal entry", func(m *Model) bool { return m.c.tally.counts.requests == 3 })
	if d.m.detail.kind != detailRequest || d.m.detail.id != id {
		t.Fatal("replaying left the request's page")
	}
}

func TestReplayFailuresAndHostileAnswers(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "x", sev: incidents.Sev3})
	answer := make(chan func() (string, error), 1)
	opts := f.options()
	opts.Replay = func(ctx context.Context, id int64) (string, error) { return (<-answer)() }
	d := drive(t, New(f.svc, opts), 100, 24)
	d.key("4")
	d.settle()
	try := func(ans string, err error) {
		t.Helper()
		answer <- func() (string, error) { return ans, err }
		d.key("R")
		d.until("the answer", func(m *Model) bool { return m.actions.replaying == 0 })
		if r, bad := controlIn(d.m.View()); bad {
			t.Fatalf("control character %U on screen", r)
		}
	}
	try("", errors.New("request 1 went to a token that matched no integration; pass --to URL"))
	if !d.m.c.status.err || !screenHas(&d.m, "✗ replay of request 1 failed: request 1 went to a token") {
		t.Fatalf("a failed replay:\n%s", d.m.View())
	}
	try("", incidents.Errorf(incidents.ENOTFOUND, "no request 1"))
	if !strings.HasSuffix(d.m.c.status.text, "failed: no request 1") {
		t.Fatalf("status %q", d.m.c.status.text)
	}
	try(`422 {"ok":false,"error":"a resolve needs a title"}`, nil)
	if !d.m.c.status.err || !screenHas(&d.m, `replayed request 1: 422 {"ok":false`) {
		t.Fatalf("a refused replay is not shown as an error:\n%s", d.m.View())
	}
	try("200 "+hostile+strings.Repeat(" long", 100), nil)
	if d.m.c.status.err || !screenHas(&d.m, "replayed request 1: 200 ␛]0;pwned␇") || !screenHas(&d.m, "…") {
		t.Fatalf("a hostile answer:\n%s", d.m.View())
	}
}

func TestNoReplayWithoutOptionsReplay(t *testing.T) {
	f := newFixture(t)
	f.ingest(event{title: "x", sev: incidents.Sev3})
	d := drive(t, New(f.svc, f.options()), 100, 24)
	d.key("4")
	d.settle()
	d.key("?")
	if strings.Contains(d.m.View(), "replay") {
		t.Fatalf("replay offered without Options.Replay:\n%s", d.m.View())
	}
	d.key("R")
	if d.m.c.status.text != "" || d.m.actions.replaying != 0 {
		t.Fatalf("R did something: %q", d.m.c.status.text)
	}
	d.key("enter", "R")
	if d.m.c.status.text != "" || strings.Contains(d.m.View(), "replay") {
		t.Fatalf("R on a request's page did something: %q", d.m.c.status.text)
	}
}
