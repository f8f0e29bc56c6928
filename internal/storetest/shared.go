package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// SharedCases hold across several stores (klaxon nodes) on one database,
// writing at the same time.
var SharedCases = []Case{
	{"NodesShareOneIncidentList", nodesShareOneIncidentList},
	{"RepeatsAcrossNodesCountExactly", repeatsAcrossNodesCountExactly},
	{"NewKeyRaceAcrossNodes", newKeyRaceAcrossNodes},
	{"ResolveRaceAcrossNodes", resolveRaceAcrossNodes},
	{"TimersActOnceAcrossNodes", timersActOnceAcrossNodes},
	{"JournalBoundAcrossNodes", journalBoundAcrossNodes},
	{"RetentionAcrossNodes", retentionAcrossNodes},
}

// nodes opens n-1 more stores beside h's.
func (h *h) nodes(n int, o Options) []Store {
	h.t.Helper()
	out := []Store{h.s}
	for len(out) < n {
		out = append(out, h.open(h.t, o))
	}
	return out
}

func nodesShareOneIncidentList(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(2, Options{})
	integ := h.integrationOn(n[0], &incidents.Integration{Name: "shared", Service: "s", Kind: incidents.KindWebhook})
	all, err := n[1].Integrations(h.ctx)
	if err != nil || len(all) != 1 || all[0].Token != integ.Token || all[0].ID != integ.ID {
		t.Fatalf("the other node's integrations: %+v %v", all, err)
	}
	first, err := n[0].Ingest(h.ctx, integ, event(incidents.Event{Title: "down"}), h.request())
	if err != nil {
		t.Fatal(err)
	}
	second, err := n[1].Ingest(h.ctx, all[0], event(incidents.Event{Title: "down"}), h.request())
	if err != nil || second.Outcome != incidents.Folded || second.Incident.ID != first.Incident.ID || second.Incident.Suppressed != 1 {
		t.Fatalf("a repeat on the other node: %+v %v", second, err)
	}
	if _, err := n[1].Act(h.ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, h.clock); err != nil {
		t.Fatal(err)
	}
	in, err := n[0].Incident(h.ctx, first.Incident.ID)
	if err != nil || in.Status != incidents.Acknowledged || in.Suppressed != 1 || len(in.Timeline) != 3 {
		t.Fatalf("the first node reads %+v %v", in, err)
	}
	for i, s := range n {
		page, err := s.Requests(h.ctx, 10, "")
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("node %d lists %d journal entries (%v), want both nodes' 2", i, len(page.Items), err)
		}
	}
}

// Repeats of the same keys on several nodes at once, alone and in requests
// of several alerts in opposite orders: one incident per key, and every
// repeat counted.
func repeatsAcrossNodesCountExactly(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(3, Options{})
	integ := h.integration("am")
	keys := []string{"k1", "k2", "k3", "k4"}
	const perNode = 12
	var wg sync.WaitGroup
	for ni, s := range n {
		for g := range perNode {
			wg.Go(func() {
				evs := make([]incidents.Event, 0, len(keys))
				for _, k := range keys {
					evs = append(evs, event(incidents.Event{Key: k, Title: "alert " + k, Raw: json.RawMessage(`{}`)}))
				}
				if (ni+g)%2 == 1 {
					slices.Reverse(evs)
				}
				req := &incidents.Request{At: h.clock.Add(time.Duration(g) * time.Millisecond), Method: "POST", Path: "/am", Kind: incidents.KindAlertmanager}
				if _, err := s.IngestAll(h.ctx, integ, evs, req, nil); err != nil {
					t.Errorf("node %d: %v", ni, err)
				}
			})
		}
	}
	wg.Wait()
	total := int64(len(n) * perNode)
	for _, k := range keys {
		page, err := h.s.ListIncidents(h.ctx, incidents.Filter{Status: "all", Query: "alert " + k})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("key %s: %d incidents (%v), want one", k, len(page.Items), err)
		}
		if in := page.Items[0]; in.Suppressed != total-1 || in.Status != incidents.Triggered {
			t.Errorf("key %s: ×%d %s, want ×%d triggered", k, in.Suppressed, in.Status, total-1)
		}
	}
	if c, _ := h.s.CountRequests(h.ctx); c != int(total) {
		t.Errorf("%d journal entries, want %d", c, total)
	}
}

// A key new to every node, triggered on two nodes at the same moment, opens
// one incident: the other node folds into it.
func newKeyRaceAcrossNodes(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(2, Options{})
	integ := h.integration("race")
	for round := range 25 {
		var (
			wg      sync.WaitGroup
			results [2]incidents.IngestResult
			gate    = make(chan struct{})
		)
		for i, s := range n {
			wg.Go(func() {
				<-gate
				res, err := s.Ingest(h.ctx, integ, event(incidents.Event{Title: fmt.Sprint("race ", round)}), h.request())
				if err != nil {
					t.Errorf("round %d node %d: %v", round, i, err)
				}
				results[i] = res
			})
		}
		close(gate)
		wg.Wait()
		outcomes := []incidents.Outcome{results[0].Outcome, results[1].Outcome}
		slices.Sort(outcomes)
		if !slices.Equal(outcomes, []incidents.Outcome{incidents.Created, incidents.Folded}) ||
			results[0].Incident == nil || results[1].Incident == nil || results[0].Incident.ID != results[1].Incident.ID {
			t.Fatalf("round %d: %v, want one created and one folded into it", round, outcomes)
		}
	}
}

// A resolve on one node while another folds repeats: every trigger lands in
// exactly one incident, and at most one is open.
func resolveRaceAcrossNodes(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(2, Options{})
	integ := h.integration("flap")
	first := h.ingest(integ, incidents.Event{Title: "flap"})
	const triggers = 60
	var wg sync.WaitGroup
	wg.Go(func() {
		for range triggers {
			if _, err := n[1].Ingest(h.ctx, integ, event(incidents.Event{Title: "flap"}), h.request()); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		time.Sleep(5 * time.Millisecond)
		if _, err := n[0].Act(h.ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByConsole}, h.clock); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	page, err := h.s.ListIncidents(h.ctx, incidents.Filter{Status: "all", Query: "flap"})
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	open := 0
	for _, in := range page.Items {
		counted += 1 + in.Suppressed
		if in.Status.Open() {
			open++
		}
	}
	if counted != triggers+1 || open > 1 || len(page.Items) > 2 {
		t.Fatalf("%d incidents (%d open) count %d triggers, want %d in at most 2, at most one open", len(page.Items), open, counted, triggers+1)
	}
}

// Every node runs its timers; each due incident changes once.
func timersActOnceAcrossNodes(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(3, Options{})
	integ := h.integrationOn(h.s, &incidents.Integration{Name: "timed", Service: "s", Kind: incidents.KindWebhook, AckTimeout: time.Minute})
	const due = 230 // more than one timer pass takes
	for i := range due {
		res := h.ingest(integ, incidents.Event{Title: fmt.Sprint("t", i)})
		h.act(res.Incident.ID, incidents.EntryAcknowledged)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		changed = map[int64]int{}
	)
	for ni, s := range n {
		wg.Go(func() {
			for range 20 {
				got, err := s.ApplyTimers(h.ctx, h.clock.Add(2*time.Minute))
				if err != nil {
					t.Errorf("node %d: %v", ni, err)
					return
				}
				mu.Lock()
				for _, in := range got {
					changed[in.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(changed) != due {
		t.Fatalf("%d incidents changed, want %d", len(changed), due)
	}
	for id, times := range changed {
		if times != 1 {
			t.Fatalf("incident #%d changed %d times", id, times)
		}
		in := h.incident(id)
		if in.Status != incidents.Triggered || len(in.Timeline) != 3 || in.Timeline[2].Kind != incidents.EntryUnacknowledged {
			t.Fatalf("incident #%d: %s, timeline %v", id, in.Status, kinds(in))
		}
	}
}

// The journal's bound is the database's, whichever node wrote what.
func journalBoundAcrossNodes(t *testing.T, b Backend) {
	h := start(t, b, Options{JournalLimit: 20})
	n := h.nodes(2, Options{JournalLimit: 20})
	var wg sync.WaitGroup
	for _, s := range n {
		for range 4 {
			wg.Go(func() {
				for range 25 {
					if err := s.Journal(h.ctx, &incidents.Request{At: h.clock, Status: 404, Outcome: incidents.OutcomeError, Response: json.RawMessage(`{}`)}); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	var lists [][]int64
	for i, s := range n {
		if c, err := s.CountRequests(h.ctx); err != nil || c != 20 {
			t.Fatalf("node %d counts %d (%v), want 20", i, c, err)
		}
		page, err := s.Requests(h.ctx, 100, "")
		if err != nil || len(page.Items) != 20 {
			t.Fatalf("node %d lists %d (%v), want 20", i, len(page.Items), err)
		}
		var ids []int64
		for _, r := range page.Items {
			ids = append(ids, r.ID)
		}
		lists = append(lists, ids)
	}
	if !slices.Equal(lists[0], lists[1]) {
		t.Fatalf("the nodes list different journals: %v and %v", lists[0], lists[1])
	}
}

// Several nodes pruning at once keep the whole database's limits.
func retentionAcrossNodes(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	n := h.nodes(3, Options{})
	integ := h.integration("default")
	for i := range 40 {
		title := fmt.Sprint("r", i)
		h.ingest(integ, incidents.Event{Title: title})
		h.ingest(integ, incidents.Event{Title: title, Action: incidents.Resolve})
	}
	h.ingest(integ, incidents.Event{Title: "open"})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		dropped int64
	)
	for _, s := range n {
		wg.Go(func() {
			gone, _, err := s.Prune(h.ctx, storage.Retention{ResolvedCount: 5}, h.clock)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			dropped += gone
			mu.Unlock()
		})
	}
	wg.Wait()
	// One more pass picks up what a node that found another at it left.
	gone, _, err := h.s.Prune(h.ctx, storage.Retention{ResolvedCount: 5}, h.clock)
	if err != nil {
		t.Fatal(err)
	}
	if dropped+gone != 35 {
		t.Fatalf("the nodes dropped %d and then %d, want 35 in all", dropped, gone)
	}
	if c := h.count(incidents.Filter{Status: "resolved"}); c != 5 {
		t.Fatalf("%d resolved incidents kept, want the newest 5", c)
	}
	if c := h.count(incidents.Filter{}); c != 1 {
		t.Fatalf("%d open incidents, want 1", c)
	}
}
