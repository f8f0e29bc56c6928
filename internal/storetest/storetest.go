// Package storetest is the contract of klaxon's storage backends: every
// behaviour a store promises (incidents.Store and what the console, the
// metrics and retention use besides), as one suite that each backend runs
// against itself. storage (SQLite) runs it in storage/contract_test.go,
// pgstore (PostgreSQL) in pgstore/contract_test.go; a behaviour both must
// have belongs here, not in either package's own tests.
//
// A backend whose database several stores may use at once (several klaxon
// nodes on one PostgreSQL) runs RunShared as well: what must hold across
// nodes writing at the same time.
package storetest

import (
	"context"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// Store is what a backend offers klaxon.
type Store interface {
	incidents.Store
	Request(ctx context.Context, id int64) (*incidents.Request, error)
	TallyIncidents(ctx context.Context) (incidents.Tally, error)
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
	OpenCounts(ctx context.Context) ([]storage.OpenCount, error)
	Prune(ctx context.Context, r storage.Retention, now time.Time) (incidentsDropped, requestsDropped int64, err error)
	Migrations(ctx context.Context) ([]int, error)
	Close() error
}

// Options are the store options the suite sets (zero: the backend's default).
type Options struct {
	JournalLimit   int
	KeepSuppressed int
}

// Opener opens a test's database: each call is another store on it (a
// restart, or on a shared backend another node). It fails t when it cannot,
// and closes the store when the test ends (closing it earlier is fine).
type Opener func(t testing.TB, o Options) Store

// Backend is a kind of database under test.
type Backend struct {
	Name string
	// New makes an empty database for one test and returns its Opener.
	New func(t testing.TB) Opener
}

// Case is one behaviour of the contract.
type Case struct {
	Name string
	Test func(t *testing.T, b Backend)
}

// Run runs the contract's cases against b, each in parallel with the others.
func Run(t *testing.T, b Backend) {
	run(t, b, Cases)
}

// RunShared runs the cases that hold across several stores writing one
// database at once, for a backend that allows it.
func RunShared(t *testing.T, b Backend) {
	run(t, b, SharedCases)
}

func run(t *testing.T, b Backend, cases []Case) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			c.Test(t, b)
		})
	}
}

// h is one test's harness: a database, a store on it, a clock.
type h struct {
	t     *testing.T
	open  Opener
	s     Store
	clock time.Time
	ctx   context.Context
}

func start(t *testing.T, b Backend, o Options) *h {
	t.Helper()
	open := b.New(t)
	return &h{t: t, open: open, s: open(t, o), clock: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), ctx: context.Background()}
}

// reopen closes the store and opens the database again (a restart).
func (h *h) reopen(o Options) {
	h.t.Helper()
	if err := h.s.Close(); err != nil {
		h.t.Fatalf("close: %v", err)
	}
	h.s = h.open(h.t, o)
}

func (h *h) integration(name string) *incidents.Integration {
	h.t.Helper()
	return h.integrationOn(h.s, &incidents.Integration{Name: name, Service: name + "-svc", Kind: incidents.KindWebhook})
}

func (h *h) integrationOn(s Store, integ *incidents.Integration) *incidents.Integration {
	h.t.Helper()
	integ.Token = incidents.NewToken()
	if integ.CreatedAt.IsZero() {
		integ.CreatedAt = h.clock
	}
	if err := s.CreateIntegration(h.ctx, integ); err != nil {
		h.t.Fatal(err)
	}
	if integ.ID == 0 {
		h.t.Fatal("CreateIntegration set no ID")
	}
	return integ
}

// ingest sends ev a second after the last one: a trigger unless it says
// otherwise, keyed by its title unless it has a key.
func (h *h) ingest(integ *incidents.Integration, ev incidents.Event) incidents.IngestResult {
	h.t.Helper()
	h.clock = h.clock.Add(time.Second)
	res, err := h.s.Ingest(h.ctx, integ, event(ev), h.request())
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func event(ev incidents.Event) incidents.Event {
	if ev.Action == "" {
		ev.Action = incidents.Trigger
	}
	if ev.Key == "" {
		ev.Key = ev.Title
	}
	return ev
}

func (h *h) request() *incidents.Request {
	return &incidents.Request{At: h.clock, Remote: "127.0.0.1:5000", Method: "POST", Path: "/default/push-events",
		Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: "{}"}
}

func (h *h) act(id int64, kind incidents.EntryKind) *incidents.Incident {
	h.t.Helper()
	in, err := h.s.Act(h.ctx, id, incidents.PersonAction{Kind: kind, By: incidents.ByConsole}, h.clock)
	if err != nil {
		h.t.Fatalf("%s #%d: %v", kind, id, err)
	}
	return in
}

func (h *h) incident(id int64) *incidents.Incident {
	h.t.Helper()
	in, err := h.s.Incident(h.ctx, id)
	if err != nil {
		h.t.Fatalf("incident #%d: %v", id, err)
	}
	return in
}

func (h *h) list(f incidents.Filter) []string {
	h.t.Helper()
	var titles []string
	for range 100 {
		page, err := h.s.ListIncidents(h.ctx, f)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, in := range page.Items {
			titles = append(titles, in.Title)
		}
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			return titles
		}
	}
	h.t.Fatal("the list never ends")
	return nil
}

func (h *h) count(f incidents.Filter) int {
	h.t.Helper()
	n, err := h.s.CountIncidents(h.ctx, f)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func kinds(in *incidents.Incident) []string {
	var out []string
	for _, e := range in.Timeline {
		out = append(out, string(e.Kind))
	}
	return out
}
