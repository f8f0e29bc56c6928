package storetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// Cases are the contract's behaviours for one store at a time.
var Cases = []Case{
	{"MigratesAndReopens", migratesAndReopens},
	{"IngestCreateSuppressResolve", ingestCreateSuppressResolve},
	{"OneOpenIncidentPerKey", oneOpenIncidentPerKey},
	{"ConcurrentRepeatsCountExactly", concurrentRepeatsCountExactly},
	{"IngestAllIsOneTransaction", ingestAllIsOneTransaction},
	{"AFailingWriteLeavesTheOthers", aFailingWriteLeavesTheOthers},
	{"WebhookAcknowledgeAndIgnored", webhookAcknowledgeAndIgnored},
	{"OrderAndPaging", orderAndPaging},
	{"StatusFiltersKeepTheOrder", statusFiltersKeepTheOrder},
	{"Filters", filters},
	{"Actions", actions},
	{"RepeatsSeeWhatActionsChanged", repeatsSeeWhatActionsChanged},
	{"JournalIsBounded", journalIsBounded},
	{"JournalKeepsWhatWasSent", journalKeepsWhatWasSent},
	{"StormSamplesRawEvents", stormSamplesRawEvents},
	{"SuppressedEventsKeepTheFirstAndTheNewest", suppressedEventsKeepTheFirstAndTheNewest},
	{"StormKeepsTheFirstAndTheNewestRecorded", stormKeepsTheFirstAndTheNewestRecorded},
	{"SuppressedLimitReachesIncidentsFromBefore", suppressedLimitReachesIncidentsFromBefore},
	{"StormKeepsTheDatabaseSmall", stormKeepsTheDatabaseSmall},
	{"SuppressedListPages", suppressedListPages},
	{"Timers", timers},
	{"PruneKeepsOpenIncidents", pruneKeepsOpenIncidents},
	{"CountsAgree", countsAgree},
	{"Integrations", integrations},
	{"IntegrationLifecycle", integrationLifecycle},
	{"VerbatimAndMilliseconds", verbatimAndMilliseconds},
	{"OddText", oddText},
	{"BodiesRoundTripExactly", bodiesRoundTripExactly},
}

func migratesAndReopens(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	v, err := h.s.Migrations(h.ctx)
	if err != nil || len(v) == 0 || v[0] != 1 {
		t.Fatalf("migrations = %v, %v; want [1 …]", v, err)
	}
	integ := h.integration("default")
	h.ingest(integ, incidents.Event{Title: "disk full"})
	h.reopen(Options{})
	v2, err := h.s.Migrations(h.ctx)
	if err != nil || !slices.Equal(v, v2) {
		t.Fatalf("reopen: migrations %v then %v (%v)", v, v2, err)
	}
	if got := h.list(incidents.Filter{}); len(got) != 1 || got[0] != "disk full" {
		t.Fatalf("after reopen: %q", got)
	}
	all, err := h.s.Integrations(h.ctx)
	if err != nil || len(all) != 1 || all[0].Token != integ.Token || all[0].ID != integ.ID {
		t.Fatalf("integrations after reopen: %+v %v", all, err)
	}
}

func ingestCreateSuppressResolve(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	r1 := h.ingest(integ, incidents.Event{Title: "api down", Severity: incidents.Sev2, Raw: json.RawMessage(`{"title":"api down"}`)})
	if r1.Outcome != incidents.Created || r1.Incident.ID == 0 || r1.Incident.Integration != "default" || r1.Incident.Service != "default-svc" {
		t.Fatalf("first: %+v", r1)
	}
	r2 := h.ingest(integ, incidents.Event{Title: "api down", Severity: incidents.Sev1})
	if r2.Outcome != incidents.Folded || r2.Incident.ID != r1.Incident.ID || r2.Incident.Suppressed != 1 || r2.Incident.Severity != incidents.Sev1 {
		t.Fatalf("second: %s %+v", r2.Outcome, r2.Incident)
	}
	if !r2.Incident.LastSeen.Equal(h.clock) || !r2.Incident.FirstSeen.Equal(r1.Incident.FirstSeen) {
		t.Fatalf("a repeat moves last_seen only: first %v last %v", r2.Incident.FirstSeen, r2.Incident.LastSeen)
	}
	r3 := h.ingest(integ, incidents.Event{Title: "api down", Action: incidents.Resolve})
	if r3.Outcome != incidents.ResolvedBy || r3.Incident.Status != incidents.Resolved || r3.Incident.ResolvedBy != incidents.ByWebhook {
		t.Fatalf("resolve: %+v", r3)
	}
	r4 := h.ingest(integ, incidents.Event{Title: "api down"})
	if r4.Outcome != incidents.Created || r4.Incident.ID == r1.Incident.ID {
		t.Fatalf("trigger after resolve must open a new incident: %+v", r4)
	}
	got := h.incident(r1.Incident.ID)
	if k := strings.Join(kinds(got), ","); k != "triggered,suppressed,severity_changed,resolved" {
		t.Fatalf("timeline = %v", k)
	}
	if string(got.Timeline[0].Event) != `{"title":"api down"}` {
		t.Fatalf("raw event = %s", got.Timeline[0].Event)
	}
	if sc := got.Timeline[2]; sc.From != "sev2" || sc.To != "sev1" || sc.By != incidents.ByWebhook {
		t.Fatalf("severity change entry: %+v", sc)
	}
	if got.Status != incidents.Resolved || got.Suppressed != 1 || got.Severity != incidents.Sev1 || got.ResolvedAt == nil {
		t.Fatalf("stored incident: %+v", got)
	}
	sup, err := h.s.Suppressed(h.ctx, 10, "")
	if err != nil || len(sup.Items) != 1 || sup.Items[0].Incident != r1.Incident.ID || sup.Items[0].Title != "api down" || sup.Items[0].Repeats != 1 {
		t.Fatalf("suppressed = %+v %v", sup.Items, err)
	}
	reqs, err := h.s.Requests(h.ctx, 10, "")
	if err != nil || len(reqs.Items) != 4 || reqs.Items[0].Outcome != incidents.Created || reqs.Items[1].Outcome != incidents.ResolvedBy ||
		reqs.Items[3].Outcome != incidents.Created || reqs.Items[3].Incident != r1.Incident.ID {
		t.Fatalf("journal = %+v %v", reqs.Items, err)
	}
}

// One open incident per (integration, key): across a restart, a resolve,
// and integrations; untitled events are never grouped.
func oneOpenIncidentPerKey(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	other := h.integration("other")
	first := h.ingest(integ, incidents.Event{Title: "dup", Key: "dup"})
	if res := h.ingest(other, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Created {
		t.Fatalf("the same key on another integration: %s, want created", res.Outcome)
	}
	h.reopen(Options{})
	if res := h.ingest(integ, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.ID != first.Incident.ID {
		t.Fatalf("repeat after a restart: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, first.Incident.ID)
	}
	// The key, not the title, groups.
	if res := h.ingest(integ, incidents.Event{Title: "another title", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.Title != "dup" {
		t.Fatalf("same key, new title: %s %q, want folded into the incident titled dup", res.Outcome, res.Incident.Title)
	}
	h.act(first.Incident.ID, incidents.EntryResolved)
	second := h.ingest(integ, incidents.Event{Title: "dup", Key: "dup"})
	if second.Outcome != incidents.Created || second.Incident.ID == first.Incident.ID {
		t.Fatalf("trigger after resolve: %s #%d, want a new incident", second.Outcome, second.Incident.ID)
	}
	if res := h.ingest(integ, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.ID != second.Incident.ID {
		t.Fatalf("repeat: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, second.Incident.ID)
	}
	a := h.ingest(integ, incidents.Event{Title: "", Key: ""})
	c := h.ingest(integ, incidents.Event{Title: "", Key: ""})
	if a.Incident.ID == c.Incident.ID || a.Outcome != incidents.Created || c.Outcome != incidents.Created || a.Incident.Key != "" {
		t.Fatalf("untitled events were grouped: %+v %+v", a, c)
	}
	if res := h.ingest(integ, incidents.Event{Title: "", Key: "", Action: incidents.Resolve}); res.Outcome != incidents.Ignored {
		t.Fatalf("a resolve without a key: %s", res.Outcome)
	}
}

// Repeats of one key that arrive together fold into one incident, and its
// counter counts every one of them.
func concurrentRepeatsCountExactly(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	const n = 40
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []int64
		ids     = map[int64]bool{}
	)
	for i := range n {
		wg.Go(func() {
			req := &incidents.Request{At: h.clock.Add(time.Duration(i) * time.Millisecond), Method: "POST", Path: "/x"}
			res, err := h.s.Ingest(h.ctx, integ, event(incidents.Event{Title: "flood", Raw: json.RawMessage(`{}`)}), req)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[res.Incident.ID] = true
			if res.Outcome == incidents.Created {
				created = append(created, res.Incident.ID)
			}
		})
	}
	wg.Wait()
	if len(created) != 1 || len(ids) != 1 {
		t.Fatalf("%d created, %d incidents; want one", len(created), len(ids))
	}
	if in := h.incident(created[0]); in.Suppressed != n-1 {
		t.Fatalf("suppressed = %d, want %d", in.Suppressed, n-1)
	}
	if n, _ := h.s.CountRequests(h.ctx); n != 40 {
		t.Fatalf("journal has %d entries, want 40", n)
	}
}

// The events of one request apply in order in one transaction with one
// journal entry; an answer that fails stores none of it.
func ingestAllIsOneTransaction(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("am")
	evs := []incidents.Event{
		event(incidents.Event{Key: "fp1", Title: "one"}),
		event(incidents.Event{Key: "fp1", Title: "one again"}),
		event(incidents.Event{Key: "fp2", Title: "two", Warnings: []string{"odd severity"}}),
		event(incidents.Event{Key: "fp3", Title: "three", Action: incidents.Resolve}),
	}
	req := h.request()
	req.Kind = incidents.KindAlertmanager
	req.Warnings = []string{"the request's own"}
	answered := 0
	answer := func(results []incidents.IngestResult) (int, []byte, error) {
		answered++
		return 200, []byte(fmt.Sprintf(`{"ok":true,"summary":%q}`, incidents.Tallied(results))), nil
	}
	results, err := h.s.IngestAll(h.ctx, integ, evs, req, answer)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []incidents.Outcome
	for _, r := range results {
		outcomes = append(outcomes, r.Outcome)
	}
	want := []incidents.Outcome{incidents.Created, incidents.Folded, incidents.Created, incidents.Ignored}
	if !slices.Equal(outcomes, want) || results[1].Incident.ID != results[0].Incident.ID || results[3].Incident != nil {
		t.Fatalf("outcomes %v, want %v (the repeat folds into the incident the same request opened)", outcomes, want)
	}
	if answered == 0 || req.ID == 0 || req.Outcome != incidents.Mixed || req.Status != 200 || req.Incident != results[0].Incident.ID {
		t.Fatalf("journaled request: %+v", req)
	}
	got, err := h.s.Request(h.ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != incidents.Mixed || len(got.Alerts) != 4 || got.Alerts[1].Outcome != incidents.Folded || got.Alerts[2].Key != "fp2" ||
		got.Kind != incidents.KindAlertmanager || string(got.Response) != `{"ok":true,"summary":"2 created, 1 suppressed, 1 ignored"}` {
		t.Fatalf("journal entry: %+v", got)
	}
	if len(got.Warnings) != 3 || got.Warnings[0] != "the request's own" || got.Warnings[1] != "odd severity" || !strings.Contains(got.Warnings[2], "fp3") {
		t.Fatalf("journal warnings: %q", got.Warnings)
	}

	// An answer that fails undoes the whole request.
	before := h.count(incidents.Filter{Status: "all"})
	journal, _ := h.s.CountRequests(h.ctx)
	boom := errors.New("the answer cannot be made")
	_, err = h.s.IngestAll(h.ctx, integ, []incidents.Event{
		event(incidents.Event{Key: "fp9", Title: "nine"}),
		event(incidents.Event{Key: "fp1", Title: "one", Action: incidents.Resolve}),
	}, h.request(), func([]incidents.IngestResult) (int, []byte, error) { return 0, nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("a failing answer: %v", err)
	}
	after, _ := h.s.CountRequests(h.ctx)
	if n := h.count(incidents.Filter{Status: "all"}); n != before || after != journal {
		t.Fatalf("a failed request left %d incidents (had %d), %d journal entries (had %d)", n, before, after, journal)
	}
	if in := h.incident(results[0].Incident.ID); in.Status != incidents.Triggered || in.Suppressed != 1 {
		t.Fatalf("a failed request's resolve stayed: %+v", in)
	}
}

// A write that fails undoes only its own work, whatever shares its
// transaction (storage batches writes that arrive together).
func aFailingWriteLeavesTheOthers(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	open := h.ingest(integ, incidents.Event{Title: "open"})
	var wg sync.WaitGroup
	boom := errors.New("fails halfway")
	for round := range 5 {
		for i := range 8 {
			wg.Go(func() {
				title := fmt.Sprintf("ok %d/%d", round, i)
				res, err := h.s.Ingest(h.ctx, integ, event(incidents.Event{Title: title}), h.request())
				if err != nil || res.Outcome != incidents.Created {
					t.Errorf("good write %s: %v %+v", title, err, res)
				}
			})
		}
		wg.Go(func() {
			_, err := h.s.IngestAll(h.ctx, integ, []incidents.Event{
				event(incidents.Event{Title: "half done"}),
				event(incidents.Event{Title: "open", Action: incidents.Resolve}),
			}, h.request(), func([]incidents.IngestResult) (int, []byte, error) { return 0, nil, boom })
			if !errors.Is(err, boom) {
				t.Errorf("the bad write answered %v, want its own error", err)
			}
		})
		wg.Go(func() {
			if _, err := h.s.Act(h.ctx, 1<<40, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByAPI}, h.clock); incidents.ErrorCode(err) != incidents.ENOTFOUND {
				t.Errorf("an action on no incident: %v", err)
			}
		})
		wg.Wait()
	}
	if n := h.count(incidents.Filter{Query: "ok ", Status: "all"}); n != 40 {
		t.Fatalf("%d good writes stored, want 40", n)
	}
	if n := h.count(incidents.Filter{Query: "half done", Status: "all"}); n != 0 {
		t.Fatal("the bad write's first event was kept")
	}
	if in := h.incident(open.Incident.ID); in.Status != incidents.Triggered {
		t.Fatalf("the bad write's resolve was kept: %s", in.Status)
	}
	if n, _ := h.s.CountRequests(h.ctx); n != 41 {
		t.Fatalf("journal has %d entries, want the first and the 40 good ones", n)
	}
	if res := h.ingest(integ, incidents.Event{Title: "ok 2/3"}); res.Outcome != incidents.Folded {
		t.Fatalf("a repeat of a good write: %s", res.Outcome)
	}
}

// Senders that acknowledge (PagerDuty, Opsgenie) acknowledge the open
// incident; what finds nothing to do is ignored and says why.
func webhookAcknowledgeAndIgnored(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("pd")
	id := h.ingest(integ, incidents.Event{Title: "db slow", Key: "k1"}).Incident.ID
	res := h.ingest(integ, incidents.Event{Title: "db slow", Key: "k1", Action: incidents.Acknowledge})
	if res.Outcome != incidents.AckedBy || res.Incident.ID != id || res.Incident.Status != incidents.Acknowledged || res.Incident.AcknowledgedAt == nil {
		t.Fatalf("acknowledge: %+v", res)
	}
	res = h.ingest(integ, incidents.Event{Title: "db slow", Key: "k1", Action: incidents.Acknowledge})
	if res.Outcome != incidents.Ignored || res.Incident != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "acknowledged already") {
		t.Fatalf("acknowledge again: %+v", res)
	}
	res = h.ingest(integ, incidents.Event{Title: "nothing", Key: "k2", Action: incidents.Resolve, Warnings: []string{"w"}})
	if res.Outcome != incidents.Ignored || len(res.Warnings) != 2 || res.Warnings[0] != "w" || !strings.Contains(res.Warnings[1], "k2") {
		t.Fatalf("resolve with nothing open: %+v", res)
	}
	in := h.incident(id)
	if strings.Join(kinds(in), ",") != "triggered,acknowledged" || in.Timeline[1].By != incidents.ByWebhook {
		t.Fatalf("timeline: %+v", in.Timeline)
	}
	reqs, _ := h.s.Requests(h.ctx, 1, "")
	if r := reqs.Items[0]; r.Outcome != incidents.Ignored || r.Incident != 0 || len(r.Warnings) != 2 {
		t.Fatalf("journal of an ignored resolve: %+v", r)
	}
}

func orderAndPaging(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	specs := []struct {
		title string
		sev   incidents.Severity
		prio  incidents.Priority
	}{
		{"none-none-old", "", ""}, {"sev3-p1", "sev3", "p1"}, {"sev1-none", "sev1", ""},
		{"sev1-p2", "sev1", "p2"}, {"none-none-new", "", ""}, {"sev1-p2-newer", "sev1", "p2"},
	}
	for _, s := range specs {
		h.ingest(integ, incidents.Event{Title: s.title, Severity: s.sev, Priority: s.prio})
	}
	want := []string{"sev1-p2-newer", "sev1-p2", "sev1-none", "sev3-p1", "none-none-new", "none-none-old"}
	if got := h.list(incidents.Filter{Limit: 4}); !slices.Equal(got, want) {
		t.Fatalf("order:\n got %v\nwant %v", got, want)
	}
	// A repeat moves an incident up among its equals.
	h.ingest(integ, incidents.Event{Title: "none-none-old"})
	if got := h.list(incidents.Filter{Limit: 1}); got[4] != "none-none-old" {
		t.Fatalf("after a repeat: %v", got)
	}
	for _, c := range []string{"!!", base64.RawURLEncoding.EncodeToString([]byte("short"))} {
		if _, err := h.s.ListIncidents(h.ctx, incidents.Filter{Cursor: c}); incidents.ErrorCode(err) != incidents.EINVALID {
			t.Fatalf("bad cursor %q: %v", c, err)
		}
	}
	page, err := h.s.ListIncidents(h.ctx, incidents.Filter{Limit: 6})
	if err != nil || len(page.Items) != 6 || page.NextCursor != "" {
		t.Fatalf("a page that holds all: %d items, cursor %q, %v", len(page.Items), page.NextCursor, err)
	}
	page, err = h.s.ListIncidents(h.ctx, incidents.Filter{Status: "resolved"})
	if err != nil || page.Items == nil || len(page.Items) != 0 {
		t.Fatalf("an empty list is an empty page: %#v %v", page.Items, err)
	}
}

// Every status filter lists its incidents in SPEC §3 order, page by page;
// "all" interleaves open and resolved incidents by that order.
func statusFiltersKeepTheOrder(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	type spec struct {
		title  string
		sev    incidents.Severity
		status incidents.Status
	}
	specs := []spec{
		{"sev3 resolved", "sev3", incidents.Resolved}, {"sev1 acked", "sev1", incidents.Acknowledged},
		{"none triggered", "", incidents.Triggered}, {"sev1 resolved", "sev1", incidents.Resolved},
		{"sev2 triggered", "sev2", incidents.Triggered}, {"sev1 triggered", "sev1", incidents.Triggered},
		{"none resolved", "", incidents.Resolved}, {"sev2 acked", "sev2", incidents.Acknowledged},
	}
	for _, s := range specs {
		res := h.ingest(integ, incidents.Event{Title: s.title, Severity: s.sev})
		switch s.status {
		case incidents.Acknowledged:
			h.act(res.Incident.ID, incidents.EntryAcknowledged)
		case incidents.Resolved:
			h.act(res.Incident.ID, incidents.EntryResolved)
		}
	}
	order := []string{"sev1 triggered", "sev1 resolved", "sev1 acked", "sev2 acked", "sev2 triggered", "sev3 resolved", "none resolved", "none triggered"}
	for _, status := range []string{"all", "open", "triggered", "acknowledged", "resolved", ""} {
		var want []string
		for _, title := range order {
			for _, s := range specs {
				if s.title == title && (status == "all" || string(s.status) == status ||
					(status == "open" || status == "") && s.status != incidents.Resolved) {
					want = append(want, title)
				}
			}
		}
		if got := h.list(incidents.Filter{Status: status, Limit: 3}); !slices.Equal(got, want) {
			t.Errorf("status=%s:\n got %q\nwant %q", status, got, want)
		}
		if n := h.count(incidents.Filter{Status: status}); n != len(want) {
			t.Errorf("status=%s counts %d, want %d", status, n, len(want))
		}
	}
	if _, err := h.s.ListIncidents(h.ctx, incidents.Filter{Status: "closed"}); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("unknown status: %v", err)
	}
	if _, err := h.s.CountIncidents(h.ctx, incidents.Filter{Status: "closed"}); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("unknown status, counted: %v", err)
	}
}

func filters(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	web := h.integration("web")
	db := h.integration("Database")
	h.ingest(web, incidents.Event{Title: "Checkout slow", Severity: incidents.Sev1, Priority: "p2"})
	h.ingest(web, incidents.Event{Title: "cart errors", Details: json.RawMessage(`{"Region":"EU-West","code":503}`)})
	h.ingest(db, incidents.Event{Title: "replica lag", Severity: incidents.Sev3, Details: json.RawMessage(`"lag is 30s"`)})
	h.ingest(db, incidents.Event{Title: "disk", Priority: "p1"})
	sev1, none := incidents.Sev1, incidents.NoSeverity
	p1, noPrio := incidents.Priority("p1"), incidents.NoPriority
	cases := []struct {
		f    incidents.Filter
		want []string
	}{
		{incidents.Filter{Severity: &sev1}, []string{"Checkout slow"}},
		{incidents.Filter{Severity: &none}, []string{"disk", "cart errors"}},
		{incidents.Filter{Priority: &p1}, []string{"disk"}},
		{incidents.Filter{Priority: &noPrio}, []string{"replica lag", "cart errors"}},
		{incidents.Filter{Integration: "Database"}, []string{"replica lag", "disk"}},
		{incidents.Filter{Integration: "nope"}, nil},
		{incidents.Filter{Query: "CHECKOUT"}, []string{"Checkout slow"}},
		{incidents.Filter{Query: "eu-west"}, []string{"cart errors"}},        // object details: their JSON text
		{incidents.Filter{Query: `"code":503`}, []string{"cart errors"}},     // JSON text, verbatim
		{incidents.Filter{Query: "LAG IS"}, []string{"replica lag"}},         // string details
		{incidents.Filter{Query: "databa"}, []string{"replica lag", "disk"}}, // the integration's name
		{incidents.Filter{Query: "  disk  "}, []string{"disk"}},              // trimmed
		{incidents.Filter{Query: "100%_"}, nil},                              // no wildcards
		{incidents.Filter{Integration: "web", Severity: &none}, []string{"cart errors"}},
	}
	for _, c := range cases {
		if got := h.list(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
		if n := h.count(c.f); n != len(c.want) {
			t.Errorf("%+v: counts %d, want %d", c.f, n, len(c.want))
		}
	}
}

func actions(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	id := h.ingest(integ, incidents.Event{Title: "x", Severity: incidents.Sev2}).Incident.ID
	in := h.act(id, incidents.EntryAcknowledged)
	if in.Status != incidents.Acknowledged || in.AcknowledgedAt == nil || !in.AcknowledgedAt.Equal(h.clock) {
		t.Fatalf("ack: %+v", in)
	}
	if again := h.act(id, incidents.EntryAcknowledged); again.Status != incidents.Acknowledged {
		t.Fatalf("ack again: %+v", again)
	}
	if r := h.ingest(integ, incidents.Event{Title: "x"}); r.Outcome != incidents.Folded || r.Incident.Status != incidents.Acknowledged {
		t.Fatalf("trigger on acked: %+v", r)
	}
	if in := h.act(id, incidents.EntryUnacknowledged); in.Status != incidents.Triggered || in.AcknowledgedAt != nil {
		t.Fatalf("unack: %+v", in)
	}
	in, err := h.s.Act(h.ctx, id, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: incidents.Sev1, By: incidents.ByAPI}, h.clock)
	if err != nil || in.Severity != incidents.Sev1 {
		t.Fatalf("severity: %+v %v", in, err)
	}
	in, err = h.s.Act(h.ctx, id, incidents.PersonAction{Kind: incidents.EntryPriorityChanged, Priority: "p3", By: incidents.ByAPI}, h.clock)
	if err != nil || in.Priority != "p3" {
		t.Fatalf("priority: %+v %v", in, err)
	}
	in, err = h.s.Act(h.ctx, id, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByAPI}, h.clock)
	if err != nil || in.Status != incidents.Resolved || in.ResolvedBy != incidents.ByAPI || in.ResolvedAt == nil {
		t.Fatalf("resolve: %+v %v", in, err)
	}
	if _, err := h.s.Act(h.ctx, id, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByAPI}, h.clock); incidents.ErrorCode(err) != incidents.ECONFLICT {
		t.Fatalf("act on resolved: %v", err)
	}
	if _, err := h.s.Act(h.ctx, 999999, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByAPI}, h.clock); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("act on missing: %v", err)
	}
	if _, err := h.s.Incident(h.ctx, 999999); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("read a missing incident: %v", err)
	}
	got := h.incident(id)
	want := "triggered,acknowledged,suppressed,unacknowledged,severity_changed,priority_changed,resolved"
	if k := strings.Join(kinds(got), ","); k != want {
		t.Fatalf("timeline %s, want %s (an action that changes nothing records nothing)", k, want)
	}
	if e := got.Timeline[4]; e.By != incidents.ByAPI || e.From != "sev2" || e.To != "sev1" {
		t.Fatalf("severity entry: %+v", e)
	}
	if e := got.Timeline[5]; e.From != "" || e.To != "p3" {
		t.Fatalf("priority entry: %+v", e)
	}
}

// A repeat folds into the incident as it is now, whatever changed it.
func repeatsSeeWhatActionsChanged(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	first := h.ingest(integ, incidents.Event{Title: "x", Severity: incidents.Sev2})
	h.ingest(integ, incidents.Event{Title: "x"})
	h.act(first.Incident.ID, incidents.EntryAcknowledged)
	if _, err := h.s.Act(h.ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: incidents.Sev1, By: incidents.ByConsole}, h.clock); err != nil {
		t.Fatal(err)
	}
	res := h.ingest(integ, incidents.Event{Title: "x"})
	if res.Incident.Status != incidents.Acknowledged || res.Incident.Severity != incidents.Sev1 || res.Incident.Suppressed != 2 {
		t.Fatalf("repeat after ack and severity change: %s %s ×%d, want acknowledged sev1 ×2",
			res.Incident.Status, res.Incident.Severity, res.Incident.Suppressed)
	}
	res = h.ingest(integ, incidents.Event{Title: "x", Severity: incidents.Sev2})
	in := h.incident(first.Incident.ID)
	last := in.Timeline[len(in.Timeline)-1]
	if res.Incident.Severity != incidents.Sev2 || in.Severity != incidents.Sev2 || last.Kind != incidents.EntrySeverityChanged || last.From != "sev1" {
		t.Fatalf("repeat with sev2 after the change to sev1: %s, last entry %+v", res.Incident.Severity, last)
	}
	h.act(first.Incident.ID, incidents.EntryResolved)
	if res := h.ingest(integ, incidents.Event{Title: "x"}); res.Outcome != incidents.Created {
		t.Fatalf("a trigger after the resolve: %s, want a new incident", res.Outcome)
	}
}

func journalIsBounded(t *testing.T, b Backend) {
	h := start(t, b, Options{JournalLimit: 5})
	var ids []int64
	for range 40 {
		req := &incidents.Request{At: h.clock, Status: 404, Outcome: incidents.OutcomeError, Response: json.RawMessage(`{}`)}
		if err := h.s.Journal(h.ctx, req); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, req.ID)
	}
	page, err := h.s.Requests(h.ctx, 100, "")
	if err != nil || len(page.Items) != 5 || page.Items[0].ID != ids[39] || page.Items[4].ID != ids[35] {
		t.Fatalf("journal lists %d (%v), want the newest 5", len(page.Items), err)
	}
	if n, _ := h.s.CountRequests(h.ctx); n != 5 {
		t.Fatalf("journal counts %d, want 5", n)
	}
	if _, err := h.s.Request(h.ctx, ids[0]); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("an entry past the limit: %v", err)
	}
	if r, err := h.s.Request(h.ctx, ids[36]); err != nil || r.ID != ids[36] {
		t.Fatalf("an entry within it: %v", err)
	}
	page, _ = h.s.Requests(h.ctx, 2, "")
	next, err := h.s.Requests(h.ctx, 2, page.NextCursor)
	if err != nil || len(next.Items) != 2 || next.Items[0].ID != ids[37] {
		t.Fatalf("second page: %+v %v", next.Items, err)
	}
	if _, err := h.s.Requests(h.ctx, 2, "@@"); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("bad cursor: %v", err)
	}
}

func journalKeepsWhatWasSent(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	req := &incidents.Request{At: h.clock.Add(123 * time.Millisecond), Remote: "10.0.0.1:4242", Method: "POST", Path: "/<unknown>/push-events",
		Headers: map[string][]string{"Authorization": {"[redacted]"}, "X-Many": {"a", "b"}}, Body: `{"title":` + "\n" + `"x"}`,
		Truncated: true, Status: 404, Outcome: incidents.OutcomeError, Error: "no integration has this token",
		Warnings: []string{"w1"}, Kind: incidents.KindGrafana, Response: json.RawMessage(`{"ok":false}`)}
	if err := h.s.Journal(h.ctx, req); err != nil {
		t.Fatal(err)
	}
	got, err := h.s.Request(h.ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(req.At) || got.Remote != req.Remote || got.Method != "POST" || got.Path != req.Path || got.Integration != "" ||
		!slices.Equal(got.Headers["X-Many"], []string{"a", "b"}) || got.Body != req.Body || !got.Truncated || got.Status != 404 ||
		got.Outcome != incidents.OutcomeError || got.Error != req.Error || !slices.Equal(got.Warnings, []string{"w1"}) ||
		got.Kind != incidents.KindGrafana || string(got.Response) != `{"ok":false}` || got.Incident != 0 || got.Alerts != nil {
		t.Fatalf("journal entry:\n got %+v\nwant %+v", got, req)
	}
	integ := h.integration("default")
	r := h.request()
	r.Integration = "default"
	res, err := h.s.Ingest(h.ctx, integ, event(incidents.Event{Title: "t"}), r)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = h.s.Request(h.ctx, r.ID)
	if got.Integration != "default" || got.Incident != res.Incident.ID || got.Status != 200 || got.Alerts != nil ||
		string(got.Response) != fmt.Sprintf(`{"ok":true,"action":"created","incident":%d,"warnings":[]}`, res.Incident.ID) {
		t.Fatalf("an accepted request's entry: %+v (%s)", got, got.Response)
	}
}

// A key that repeats 20 times within a minute storms: the counter stays
// exact, the incident says it storms, and only every 10th repeat is recorded
// on its timeline; a minute after the storm's last burst it is calm again.
func stormSamplesRawEvents(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: -1})
	integ := h.integration("default")
	var res incidents.IngestResult
	for i := 1; i <= 60; i++ {
		res = h.ingest(integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if res.Incident.Suppressed != 59 || !res.Incident.Storming {
		t.Fatalf("after 60 in a minute: suppressed %d storming %v", res.Incident.Suppressed, res.Incident.Storming)
	}
	in := h.incident(res.Incident.ID)
	var recorded []string
	for _, e := range in.Timeline {
		if e.Kind == incidents.EntrySuppressed {
			recorded = append(recorded, string(e.Event))
		}
	}
	if len(recorded) != 23 || recorded[19] != `{"n":21}` || recorded[20] != `{"n":31}` || recorded[22] != `{"n":51}` {
		t.Fatalf("recorded %d repeats %v, want 20 and then every 10th", len(recorded), recorded)
	}
	if !in.Storm.StormingAt(h.clock) || in.Storm.StormingAt(h.clock.Add(61*time.Second)) {
		t.Fatalf("storm state after reading back: %+v", in.Storm)
	}
	h.clock = h.clock.Add(2 * time.Minute)
	calm := h.ingest(integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(`{"n":99}`)})
	if calm.Incident.Storming || calm.Incident.Suppressed != 60 {
		t.Fatalf("a repeat after a quiet minute: storming %v suppressed %d", calm.Incident.Storming, calm.Incident.Suppressed)
	}
}

// repeat sends title n times, 4 s apart (slower than a storm), each with
// its number.
func (h *h) repeat(integ *incidents.Integration, title string, from, n int) incidents.IngestResult {
	h.t.Helper()
	var res incidents.IngestResult
	for i := from; i < from+n; i++ {
		h.clock = h.clock.Add(3 * time.Second)
		res = h.ingest(integ, incidents.Event{Title: title, Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return res
}

// kept lists the "n" of the suppressed events incident id keeps, oldest first.
func (h *h) kept(id int64) []int {
	h.t.Helper()
	var ns []int
	for _, e := range h.incident(id).Timeline {
		if e.Kind == incidents.EntrySuppressed {
			var ev struct{ N int }
			json.Unmarshal(e.Event, &ev)
			ns = append(ns, ev.N)
		}
	}
	return ns
}

func suppressedEventsKeepTheFirstAndTheNewest(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: 3})
	integ := h.integration("default")
	res := h.repeat(integ, "storm", 0, 21) // one trigger, 20 suppressed
	if res.Incident.Suppressed != 20 {
		t.Fatalf("suppressed = %d, want 20: the counter stays exact", res.Incident.Suppressed)
	}
	if got := fmt.Sprint(h.kept(res.Incident.ID)); got != "[1 2 3 18 19 20]" {
		t.Fatalf("kept suppressed events %s, want the first 3 and the newest 3: [1 2 3 18 19 20]", got)
	}
	in := h.incident(res.Incident.ID)
	if in.Suppressed != 20 || in.Timeline[0].Kind != incidents.EntryTriggered {
		t.Fatalf("incident after the storm: %+v", in)
	}
	page, _ := h.s.Suppressed(h.ctx, 100, "")
	if len(page.Items) != 6 || page.Items[0].Repeats != 20 {
		t.Fatalf("suppressed list: %d events (repeats %d), want the 6 kept", len(page.Items), page.Items[0].Repeats)
	}
	// A severity change while trimming keeps both.
	res = h.ingest(integ, incidents.Event{Title: "storm", Severity: incidents.Sev1, Raw: json.RawMessage(`{"n":21}`)})
	if got := fmt.Sprint(h.kept(res.Incident.ID)); got != "[1 2 3 19 20 21]" || res.Incident.Severity != incidents.Sev1 {
		t.Fatalf("kept %s severity %s after a repeat that changes the severity", got, res.Incident.Severity)
	}
	if in := h.incident(res.Incident.ID); in.Severity != incidents.Sev1 || in.Suppressed != 21 {
		t.Fatalf("stored: %s ×%d", in.Severity, in.Suppressed)
	}
}

func stormKeepsTheFirstAndTheNewestRecorded(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: 3})
	integ := h.integration("default")
	var res incidents.IngestResult
	for i := 1; i <= 200; i++ { // one a second: it storms from the 20th repeat
		res = h.ingest(integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if res.Incident.Suppressed != 199 {
		t.Fatalf("suppressed = %d, want 199", res.Incident.Suppressed)
	}
	if got := fmt.Sprint(h.kept(res.Incident.ID)); got != "[2 3 4 171 181 191]" {
		t.Fatalf("kept %s, want the first 3 and the newest 3 recorded: [2 3 4 171 181 191]", got)
	}
}

func suppressedLimitReachesIncidentsFromBefore(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: -1})
	integ := h.integration("default")
	id := h.repeat(integ, "old storm", 0, 31).Incident.ID
	if n := len(h.kept(id)); n != 30 {
		t.Fatalf("without a limit %d kept, want all 30", n)
	}
	h.reopen(Options{KeepSuppressed: 4})
	h.repeat(integ, "old storm", 31, 1)
	if got := fmt.Sprint(h.kept(id)); got != "[1 2 3 4 28 29 30 31]" {
		t.Fatalf("kept %s, want the first 4 and the newest 4", got)
	}
	h.repeat(integ, "old storm", 32, 1)
	if got := fmt.Sprint(h.kept(id)); got != "[1 2 3 4 29 30 31 32]" {
		t.Fatalf("kept %s after one more", got)
	}
}

func stormKeepsTheDatabaseSmall(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: 10, JournalLimit: 50})
	integ := h.integration("default")
	res := h.repeat(integ, "storm", 0, 400)
	if n, _ := h.s.CountSuppressed(h.ctx); n != 20 {
		t.Fatalf("%d suppressed events stored after 400 repeats, want 10 + 10", n)
	}
	if in := h.incident(res.Incident.ID); len(in.Timeline) != 21 || in.Suppressed != 399 {
		t.Fatalf("timeline of %d entries ×%d, want 21 ×399", len(in.Timeline), in.Suppressed)
	}
	if n, _ := h.s.CountRequests(h.ctx); n != 50 {
		t.Fatalf("the journal counts %d entries, want 50", n)
	}
	if page, _ := h.s.Requests(h.ctx, 1000, ""); len(page.Items) != 50 || page.Items[49].ID >= page.Items[0].ID {
		t.Fatalf("the journal lists %d entries, want the newest 50", len(page.Items))
	}
}

func suppressedListPages(t *testing.T, b Backend) {
	h := start(t, b, Options{KeepSuppressed: -1})
	integ := h.integration("default")
	a := h.repeat(integ, "a", 0, 4).Incident // 3 suppressed
	c := h.repeat(integ, "c", 0, 3).Incident // 2 suppressed
	var got []string
	cursor := ""
	for range 10 {
		page, err := h.s.Suppressed(h.ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			got = append(got, fmt.Sprintf("%s%d/%d", e.Title, e.Repeats, e.Incident))
			if e.Status != incidents.Triggered || e.At.IsZero() || len(e.Event) == 0 {
				t.Fatalf("suppressed event: %+v", e)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := []string{
		fmt.Sprintf("c2/%d", c.ID), fmt.Sprintf("c2/%d", c.ID),
		fmt.Sprintf("a3/%d", a.ID), fmt.Sprintf("a3/%d", a.ID), fmt.Sprintf("a3/%d", a.ID),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("suppressed, newest first:\n got %v\nwant %v", got, want)
	}
	if _, err := h.s.Suppressed(h.ctx, 2, "%%"); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("bad cursor: %v", err)
	}
}

func timers(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integrationOn(h.s, &incidents.Integration{Name: "timed", Service: "s", Kind: incidents.KindWebhook, AckTimeout: 30 * time.Minute})
	untimed := h.integration("untimed")
	acked := h.ingest(integ, incidents.Event{Title: "acked"}).Incident
	quiet := h.ingest(integ, incidents.Event{Title: "quiet"}).Incident
	other := h.ingest(untimed, incidents.Event{Title: "no timers"}).Incident
	h.act(acked.ID, incidents.EntryAcknowledged)
	h.act(other.ID, incidents.EntryAcknowledged)

	if changed, err := h.s.ApplyTimers(h.ctx, h.clock.Add(29*time.Minute)); err != nil || len(changed) != 0 {
		t.Fatalf("early: %v %v", changed, err)
	}
	changed, err := h.s.ApplyTimers(h.ctx, h.clock.Add(31*time.Minute))
	if err != nil || len(changed) != 1 || changed[0].ID != acked.ID || changed[0].Status != incidents.Triggered {
		t.Fatalf("ack timeout: %+v %v", changed, err)
	}
	if again, err := h.s.ApplyTimers(h.ctx, h.clock.Add(32*time.Minute)); err != nil || len(again) != 0 {
		t.Fatalf("a timer that acted acts again: %+v %v", again, err)
	}
	in := h.incident(acked.ID)
	last := in.Timeline[len(in.Timeline)-1]
	if last.Kind != incidents.EntryUnacknowledged || last.By != incidents.ByTimer || in.AcknowledgedAt != nil {
		t.Fatalf("timeline: %+v", last)
	}

	// Resolve timer: 1h after last seen; a repeat moves it.
	if err := h.s.SetTimers(h.ctx, "timed", incidents.Timers{ResolveAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	h.clock = h.clock.Add(50 * time.Minute)
	h.ingest(integ, incidents.Event{Title: "quiet"}) // seen again
	changed, _ = h.s.ApplyTimers(h.ctx, h.clock.Add(30*time.Minute))
	if len(changed) != 1 || changed[0].ID != acked.ID || changed[0].Status != incidents.Resolved || changed[0].ResolvedBy != incidents.ByTimer {
		t.Fatalf("resolve timer: %+v", changed)
	}
	changed, _ = h.s.ApplyTimers(h.ctx, h.clock.Add(61*time.Minute))
	if len(changed) != 1 || changed[0].ID != quiet.ID {
		t.Fatalf("resolve after quiet: %+v", changed)
	}
	if in := h.incident(other.ID); in.Status != incidents.Acknowledged {
		t.Fatal("an integration without timers was touched")
	}
	if err := h.s.SetTimers(h.ctx, "nope", incidents.Timers{}); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("unknown integration: %v", err)
	}
	all, _ := h.s.Integrations(h.ctx)
	if all[0].ResolveAfter != time.Hour || all[0].AckTimeout != 0 {
		t.Fatalf("stored timers: %+v", all[0])
	}

	// Due both ways, an incident resolves.
	if err := h.s.SetTimers(h.ctx, "timed", incidents.Timers{AckTimeout: time.Minute, ResolveAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	both := h.ingest(integ, incidents.Event{Title: "both"}).Incident
	h.act(both.ID, incidents.EntryAcknowledged)
	changed, _ = h.s.ApplyTimers(h.ctx, h.clock.Add(2*time.Minute))
	if len(changed) != 1 || changed[0].Status != incidents.Resolved {
		t.Fatalf("due both ways: %+v", changed)
	}
	if in := h.incident(both.ID); strings.Join(kinds(in), ",") != "triggered,acknowledged,resolved" {
		t.Fatalf("due both ways, timeline %v", kinds(in))
	}
}

func pruneKeepsOpenIncidents(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	var resolvedIDs []int64
	for i := range 8 {
		title := fmt.Sprintf("r%d", i)
		h.ingest(integ, incidents.Event{Title: title})
		h.ingest(integ, incidents.Event{Title: title}) // a suppressed event, to go with it
		r := h.ingest(integ, incidents.Event{Title: title, Action: incidents.Resolve})
		resolvedIDs = append(resolvedIDs, r.Incident.ID)
	}
	open := h.ingest(integ, incidents.Event{Title: "still open"}).Incident.ID
	h.ingest(integ, incidents.Event{Title: "still open"})
	h.s.Journal(h.ctx, &incidents.Request{At: h.clock.Add(-30 * 24 * time.Hour), Status: 400, Response: json.RawMessage(`{}`)})

	gone, reqs, err := h.s.Prune(h.ctx, storage.Retention{ResolvedCount: 3}, h.clock)
	if err != nil || gone != 5 || reqs != 0 {
		t.Fatalf("prune by count: %d incidents, %d requests, %v", gone, reqs, err)
	}
	for i, id := range resolvedIDs {
		_, err := h.s.Incident(h.ctx, id)
		if kept := err == nil; kept != (i >= 5) {
			t.Fatalf("resolved #%d kept=%v", id, kept)
		}
	}
	gone, reqs, err = h.s.Prune(h.ctx, storage.Retention{ResolvedFor: time.Hour, JournalFor: 24 * time.Hour}, h.clock.Add(2*time.Hour))
	if err != nil || gone != 3 || reqs != 1 {
		t.Fatalf("prune by age: %d incidents, %d requests, %v", gone, reqs, err)
	}
	if n := h.count(incidents.Filter{Status: "all"}); n != 1 {
		t.Fatalf("left %d incidents, want the open one", n)
	}
	if in, err := h.s.Incident(h.ctx, open); err != nil || in.Status != incidents.Triggered {
		t.Fatalf("open incident: %v", err)
	}
	if n, _ := h.s.CountSuppressed(h.ctx); n != 1 {
		t.Fatalf("%d suppressed events left, want the open incident's 1: a timeline outlived its incident", n)
	}
	if gone, reqs, err := h.s.Prune(h.ctx, storage.DefaultRetention, h.clock); err != nil || gone+reqs != 0 {
		t.Fatalf("nothing left to prune: %d, %d, %v", gone, reqs, err)
	}
}

func countsAgree(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	sevs := []incidents.Severity{incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.NoSeverity}
	prios := []incidents.Priority{"p1", "p5", incidents.NoPriority}
	for i := range 40 {
		h.ingest(integ, incidents.Event{Title: fmt.Sprint("t", i), Severity: sevs[i%4], Priority: prios[i%3]})
	}
	for i := 0; i < 40; i += 3 {
		h.ingest(integ, incidents.Event{Title: fmt.Sprint("t", i), Action: incidents.Resolve})
	}
	h.ingest(integ, incidents.Event{Title: "t1"}) // a suppressed repeat
	tally, err := h.s.TallyIncidents(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sev := range sevs {
		want := h.count(incidents.Filter{Status: "open", Severity: &sev})
		if tally.Open[sev] != want || want == 0 {
			t.Errorf("open %q: tally %d, count %d", sev, tally.Open[sev], want)
		}
	}
	if want := h.count(incidents.Filter{Status: "resolved"}); tally.Resolved != want || want == 0 {
		t.Errorf("resolved: tally %d, count %d", tally.Resolved, want)
	}
	if n, err := h.s.CountSuppressed(h.ctx); err != nil || n != 1 {
		t.Errorf("suppressed %d, %v", n, err)
	}
	if n, err := h.s.CountRequests(h.ctx); err != nil || n != 55 {
		t.Errorf("requests %d, %v", n, err)
	}
	counts, err := h.s.OpenCounts(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		sev, prio := incidents.Severity(c.Severity), incidents.Priority(c.Priority)
		if want := h.count(incidents.Filter{Severity: &sev, Priority: &prio}); c.N != want {
			t.Errorf("open %s/%s: %d, count %d", c.Severity, c.Priority, c.N, want)
		}
		total += c.N
	}
	if total != tally.OpenTotal() || len(counts) != 8 {
		t.Errorf("open counts add up to %d in %d groups, want %d in 8 (4 severities, 2 priorities)", total, len(counts), tally.OpenTotal())
	}
}

func integrations(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	created := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	var made []*incidents.Integration
	for _, k := range incidents.Kinds {
		made = append(made, h.integrationOn(h.s, &incidents.Integration{Name: "i-" + string(k), Service: "svc", Escalation: "esc", Kind: k, CreatedAt: created}))
	}
	err := h.s.CreateIntegration(h.ctx, &incidents.Integration{Name: "i-webhook", Service: "x", Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: created})
	if incidents.ErrorCode(err) != incidents.EINVALID || !strings.Contains(err.Error(), "i-webhook") {
		t.Fatalf("a taken name: %v", err)
	}
	chaos := incidents.Chaos{Status: 503, Share: 0.3, Delay: 2 * time.Second}
	if err := h.s.SetChaos(h.ctx, "i-grafana", chaos); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetChaos(h.ctx, "nope", chaos); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("chaos on no integration: %v", err)
	}
	if err := h.s.SetTimers(h.ctx, "i-pagerduty", incidents.Timers{AckTimeout: 90 * time.Second, ResolveAfter: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	all, err := h.s.Integrations(h.ctx)
	if err != nil || len(all) != len(incidents.Kinds) {
		t.Fatalf("integrations: %d, %v", len(all), err)
	}
	for i, in := range all {
		m := made[i]
		if in.ID != m.ID || in.Name != m.Name || in.Kind != m.Kind || in.Token != m.Token || in.Service != "svc" ||
			in.Escalation != "esc" || !in.CreatedAt.Equal(created) {
			t.Errorf("integration %d: %+v, made %+v", i, in, m)
		}
	}
	if g := all[3]; g.Chaos != chaos {
		t.Errorf("chaos read back: %+v", g.Chaos)
	}
	if p := all[4]; p.AckTimeout != 90*time.Second || p.ResolveAfter != 2*time.Hour || p.Chaos.On() {
		t.Errorf("timers read back: %+v", p)
	}
	if err := h.s.SetChaos(h.ctx, "i-grafana", incidents.Chaos{}); err != nil {
		t.Fatal(err)
	}
	all, _ = h.s.Integrations(h.ctx)
	if all[3].Chaos.On() {
		t.Errorf("chaos off read back: %+v", all[3].Chaos)
	}
}

// Details and raw events are kept exactly as sent; times to the millisecond.
func verbatimAndMilliseconds(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	h.clock = h.clock.Add(987 * time.Millisecond)
	details := json.RawMessage(`{ "b" : 1,  "a":[2, 1.50], "é":"\u00e9" }`)
	raw := json.RawMessage(`{"title":"x",  "extra" : {"z":null}}`)
	res := h.ingest(integ, incidents.Event{Title: "x", Details: details, Raw: raw})
	in := h.incident(res.Incident.ID)
	if string(in.Details) != string(details) || string(in.Timeline[0].Event) != string(raw) {
		t.Fatalf("details %s, event %s: not verbatim", in.Details, in.Timeline[0].Event)
	}
	if !in.FirstSeen.Equal(h.clock) || in.FirstSeen.Location() != time.UTC || !in.Timeline[0].At.Equal(h.clock) {
		t.Fatalf("first seen %v, want %v in UTC", in.FirstSeen, h.clock)
	}
	if res := h.ingest(integ, incidents.Event{Title: "no details"}); res.Incident.Details != nil {
		t.Fatalf("no details: %s", res.Incident.Details)
	}
	if in := h.incident(h.ingest(integ, incidents.Event{Title: "null details", Details: json.RawMessage(`null`)}).Incident.ID); in.Details != nil {
		t.Fatalf("null details read back as %s", in.Details)
	}
	str := h.ingest(integ, incidents.Event{Title: "string details", Details: json.RawMessage(`"plain text"`)})
	if in := h.incident(str.Incident.ID); string(in.Details) != `"plain text"` {
		t.Fatalf("string details read back as %s", in.Details)
	}
}

// Whatever text a webhook carries (a NUL, bytes that are not UTF-8) is
// stored rather than refused, and its repeats still fold.
func oddText(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	title := "disk \x00 full \xff\xfe on \u2603"
	first := h.ingest(integ, incidents.Event{Title: title, Raw: json.RawMessage(`{"title":"disk \u0000 full"}`)})
	again := h.ingest(integ, incidents.Event{Title: title})
	if first.Outcome != incidents.Created || again.Outcome != incidents.Folded || again.Incident.ID != first.Incident.ID {
		t.Fatalf("odd title: %s then %s", first.Outcome, again.Outcome)
	}
	in := h.incident(first.Incident.ID)
	if !strings.HasPrefix(in.Title, "disk ") || !strings.HasSuffix(in.Title, " on \u2603") {
		t.Fatalf("title read back as %q", in.Title)
	}
	if string(in.Timeline[0].Event) != `{"title":"disk \u0000 full"}` {
		t.Fatalf("raw event read back as %s", in.Timeline[0].Event)
	}
	req := &incidents.Request{At: h.clock, Remote: "x", Method: "POST", Path: "/p\x00", Body: "a\x00b\xffc", Status: 400,
		Outcome: incidents.OutcomeError, Error: "bad \xff", Response: json.RawMessage(`{}`)}
	if err := h.s.Journal(h.ctx, req); err != nil {
		t.Fatalf("an odd body: %v", err)
	}
	got, err := h.s.Request(h.ctx, req.ID)
	if err != nil || !strings.HasPrefix(got.Body, "a") || !strings.HasSuffix(got.Body, "c") {
		t.Fatalf("odd body read back as %q (%v)", got.Body, err)
	}
	if n := h.count(incidents.Filter{Query: "full \xff"}); n > 1 {
		t.Fatalf("an odd query counts %d", n)
	}
}

// A journaled body reads back byte for byte, whatever it holds (bytes that
// are not UTF-8, NUL), refused or accepted, listed or read alone, and after
// a restart: klaxon replay resends it and the API gives it as body_base64.
func bodiesRoundTripExactly(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	integ := h.integration("default")
	bodies := []string{
		"title=caf\xe9&x=\xff\xfe",         // Latin-1 form, bytes that are not UTF-8
		"{\"title\":\"a\x00b\"}\x00",       // NUL in valid UTF-8
		"\x00\xff\x00 \u2603 \xc3",         // both, and a cut-off sequence
		"\x1f\x8b\x08\x00\x00\x00\x00\x00", // a gzip header
		"{\"title\":\"\u2603\"}",           // plain UTF-8 stays as it is
		"",
	}
	var ids []int64
	for i, body := range bodies {
		h.clock = h.clock.Add(time.Second)
		req := h.request()
		req.Body = body
		if i%2 == 0 { // refused
			req.Status, req.Outcome, req.Response = 400, incidents.OutcomeError, json.RawMessage(`{"ok":false}`)
			if err := h.s.Journal(h.ctx, req); err != nil {
				t.Fatalf("journal body %q: %v", body, err)
			}
		} else if _, err := h.s.Ingest(h.ctx, integ, event(incidents.Event{Title: fmt.Sprint("body ", i)}), req); err != nil {
			t.Fatalf("ingest with body %q: %v", body, err)
		}
		ids = append(ids, req.ID)
	}
	check := func(when string) {
		t.Helper()
		page, err := h.s.Requests(h.ctx, 100, "")
		if err != nil || len(page.Items) != len(bodies) {
			t.Fatalf("%s: the journal lists %d entries (%v), want %d", when, len(page.Items), err, len(bodies))
		}
		for i, body := range bodies {
			got, err := h.s.Request(h.ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != body {
				t.Errorf("%s: body %q read back as %q", when, body, got.Body)
			}
			if listed := page.Items[len(bodies)-1-i]; listed.ID != ids[i] || listed.Body != body {
				t.Errorf("%s: body %q listed as %q (#%d)", when, body, listed.Body, listed.ID)
			}
		}
	}
	check("at once")
	h.reopen(Options{})
	check("after a restart")
}

// Removing integrations, rotating their tokens and bringing removed ones
// back (incidents.LifecycleStore).
func integrationLifecycle(t *testing.T, b Backend) {
	h := start(t, b, Options{})
	ls, ok := h.s.(incidents.LifecycleStore)
	if !ok {
		t.Fatal("the store cannot remove integrations or rotate tokens (incidents.LifecycleStore)")
	}
	a := h.integration("a")
	other := h.integration("other")
	t1 := a.Token
	id := h.ingest(a, incidents.Event{Title: "before"}).Incident.ID
	at := h.clock
	lc, err := ls.IntegrationLifecycle(h.ctx)
	if err != nil || len(lc.Removed) != 0 || len(lc.Retired) != 0 {
		t.Fatalf("a fresh lifecycle: %+v %v", lc, err)
	}
	if err := ls.RotateToken(h.ctx, "a", "t2", at, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ls.RotateToken(h.ctx, "nope", "t9", at, at); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("rotate no integration: %v", err)
	}
	all, _ := h.s.Integrations(h.ctx)
	if all[0].Token != "t2" || all[1].Token != other.Token {
		t.Fatalf("after the rotation: %q, %q", all[0].Token, all[1].Token)
	}
	lc, _ = ls.IntegrationLifecycle(h.ctx)
	if len(lc.Retired) != 1 || lc.Retired[0].SHA256 != sha256.Sum256([]byte(t1)) || lc.Retired[0].Reason != incidents.RetiredRotated ||
		lc.Retired[0].Integration != a.ID || !lc.Retired[0].At.Equal(at) || !lc.Retired[0].WorksUntil.Equal(at.Add(time.Hour)) {
		t.Fatalf("retired after the rotation: %+v", lc.Retired)
	}
	// A second rotation ends the first one's grace.
	at2 := at.Add(time.Minute)
	if err := ls.RotateToken(h.ctx, "a", "t3", at2, at2); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetChaos(h.ctx, "a", incidents.Chaos{Status: 503, Share: 1}); err != nil {
		t.Fatal(err)
	}
	at3 := at.Add(2 * time.Minute)
	if err := ls.RemoveIntegration(h.ctx, "a", at3); err != nil {
		t.Fatal(err)
	}
	if err := ls.RemoveIntegration(h.ctx, "a", at3); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("remove a removed integration: %v", err)
	}
	if err := ls.RotateToken(h.ctx, "a", "t9", at3, at3); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("rotate a removed integration: %v", err)
	}
	lc, _ = ls.IntegrationLifecycle(h.ctx)
	if len(lc.Removed) != 1 || !lc.Removed[a.ID].Equal(at3) || len(lc.Retired) != 3 {
		t.Fatalf("after the removal: %+v", lc)
	}
	until := map[[32]byte]incidents.RetiredToken{}
	for _, rt := range lc.Retired {
		until[rt.SHA256] = rt
	}
	if rt := until[sha256.Sum256([]byte(t1))]; !rt.WorksUntil.Equal(at2) {
		t.Fatalf("the first token's grace after a second rotation: %+v", rt)
	}
	if rt := until[sha256.Sum256([]byte("t3"))]; rt.Reason != incidents.RetiredRemoved || !rt.WorksUntil.Equal(at3) {
		t.Fatalf("the removed integration's token: %+v", rt)
	}
	if in := h.incident(id); in.Integration != "a" {
		t.Fatalf("a removed integration's incident shows %q", in.Integration)
	}
	all, _ = h.s.Integrations(h.ctx)
	if len(all) != 2 || all[0].Chaos.On() {
		t.Fatalf("a removed integration's row stays, chaos off: %+v", all[0])
	}
	back := &incidents.Integration{Name: "a", Service: "new-svc", Kind: incidents.KindGrafana, Token: "t4", CreatedAt: at3, ResolveAfter: time.Hour}
	if err := ls.ReviveIntegration(h.ctx, back); err != nil {
		t.Fatal(err)
	}
	if err := ls.ReviveIntegration(h.ctx, &incidents.Integration{Name: "other", Token: "t5", Kind: incidents.KindWebhook}); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("revive an integration in use: %v", err)
	}
	lc, _ = ls.IntegrationLifecycle(h.ctx)
	all, _ = h.s.Integrations(h.ctx)
	if back.ID != a.ID || len(lc.Removed) != 0 || all[0].Token != "t4" || all[0].Service != "new-svc" || all[0].Kind != incidents.KindGrafana ||
		all[0].ResolveAfter != time.Hour || !all[0].CreatedAt.Equal(at3) {
		t.Fatalf("brought back: %+v, lifecycle %+v", all[0], lc)
	}
	if res := h.ingest(all[0], incidents.Event{Title: "before"}); res.Outcome != incidents.Folded || res.Incident.ID != id {
		t.Fatalf("a repeat after coming back: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, id)
	}
}
