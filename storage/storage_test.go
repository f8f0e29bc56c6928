package storage

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
)

func openTemp(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustIntegration(t *testing.T, db *DB, name string) *incidents.Integration {
	t.Helper()
	integ := &incidents.Integration{Name: name, Service: name + "-svc", Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: time.Now()}
	if err := db.CreateIntegration(context.Background(), integ); err != nil {
		t.Fatal(err)
	}
	return integ
}

var clock = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func ingest(t *testing.T, db *DB, integ *incidents.Integration, ev incidents.Event) incidents.IngestResult {
	t.Helper()
	clock = clock.Add(time.Second)
	if ev.Action == "" {
		ev.Action = incidents.Trigger
	}
	if ev.Key == "" {
		ev.Key = ev.Title
	}
	res, err := db.Ingest(context.Background(), integ, ev, &incidents.Request{At: clock, Method: "POST", Path: "/x/push-events"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMigratesFromEmptyAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Migrations(context.Background())
	if err != nil || len(v) == 0 || v[0] != 1 {
		t.Fatalf("migrations = %v, %v; want [1 …]", v, err)
	}
	integ := mustIntegration(t, db, "default")
	ingest(t, db, integ, incidents.Event{Title: "disk full"})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	v2, _ := db.Migrations(context.Background())
	if len(v2) != len(v) {
		t.Fatalf("reopen applied migrations again: %v then %v", v, v2)
	}
	page, err := db.ListIncidents(context.Background(), incidents.Filter{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Title != "disk full" {
		t.Fatalf("after reopen: %+v %v", page.Items, err)
	}
}

func TestRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o600)
	if _, err := Open(context.Background(), junk, Options{}); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: err = %v, want one naming the file", err)
	}
	if b, _ := os.ReadFile(junk); !strings.HasPrefix(string(b), "not a database") {
		t.Fatal("junk file was overwritten")
	}
	other := filepath.Join(dir, "other.db")
	o, _ := sql.Open("sqlite", other)
	if _, err := o.Exec("CREATE TABLE notes (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	o.Close()
	if _, err := Open(context.Background(), other, Options{}); err == nil || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("foreign db: err = %v", err)
	}
}

func TestIngestCreateSuppressResolve(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	r1 := ingest(t, db, integ, incidents.Event{Title: "api down", Severity: incidents.Sev2, Raw: json.RawMessage(`{"title":"api down"}`)})
	if r1.Outcome != incidents.Created {
		t.Fatalf("first: %v", r1.Outcome)
	}
	r2 := ingest(t, db, integ, incidents.Event{Title: "api down", Severity: incidents.Sev1})
	if r2.Outcome != incidents.Folded || r2.Incident.ID != r1.Incident.ID || r2.Incident.Suppressed != 1 || r2.Incident.Severity != incidents.Sev1 {
		t.Fatalf("second: %+v", r2.Incident)
	}
	r3 := ingest(t, db, integ, incidents.Event{Title: "api down", Action: incidents.Resolve})
	if r3.Outcome != incidents.ResolvedBy || r3.Incident.Status != incidents.Resolved {
		t.Fatalf("resolve: %+v", r3)
	}
	r4 := ingest(t, db, integ, incidents.Event{Title: "api down"})
	if r4.Outcome != incidents.Created || r4.Incident.ID == r1.Incident.ID {
		t.Fatalf("trigger after resolve must open a new incident: %+v", r4)
	}
	got, err := db.Incident(context.Background(), r1.Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range got.Timeline {
		kinds = append(kinds, string(e.Kind))
	}
	if strings.Join(kinds, ",") != "triggered,suppressed,severity_changed,resolved" {
		t.Fatalf("timeline = %v", kinds)
	}
	if string(got.Timeline[0].Event) != `{"title":"api down"}` {
		t.Fatalf("raw event = %s", got.Timeline[0].Event)
	}
	sup, err := db.Suppressed(context.Background(), 10, "")
	if err != nil || len(sup.Items) != 1 || sup.Items[0].Incident != r1.Incident.ID {
		t.Fatalf("suppressed = %+v %v", sup.Items, err)
	}
	reqs, _ := db.Requests(context.Background(), 10, "")
	if len(reqs.Items) != 4 || reqs.Items[0].Outcome != incidents.Created || reqs.Items[3].Outcome != incidents.Created {
		t.Fatalf("journal = %+v", reqs.Items)
	}
}

// One open incident per (integration, key) is the writer's rule (openKeys):
// it holds across a restart, a resolve, and a write that is rolled back.
func TestOneOpenIncidentPerKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	integ := mustIntegration(t, db, "default")
	other := mustIntegration(t, db, "other")
	first := ingest(t, db, integ, incidents.Event{Title: "dup", Key: "dup"})
	if res := ingest(t, db, other, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Created {
		t.Fatalf("the same key on another integration: %s, want created", res.Outcome)
	}
	db.Close()

	// After a restart, the repeat still folds into the open incident.
	db, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if res := ingest(t, db, integ, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.ID != first.Incident.ID {
		t.Fatalf("repeat after a restart: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, first.Incident.ID)
	}

	// A resolve that is rolled back leaves the incident open, and the key
	// still leads to it.
	boom := errors.New("fails after the resolve")
	err = db.write(context.Background(), func(tx *sql.Tx) error {
		in, err := scanIncident(tx.QueryRow(`SELECT `+incidentColumns+incidentFrom+`WHERE i.id = ?`, first.Incident.ID))
		if err != nil {
			return err
		}
		if _, err := incidents.ApplyAction(in, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByConsole}, clock); err != nil {
			return err
		}
		if err := db.updateIncident(tx, in); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write answered %v", err)
	}
	if res := ingest(t, db, integ, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.ID != first.Incident.ID {
		t.Fatalf("repeat after a rolled-back resolve: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, first.Incident.ID)
	}

	// A real resolve frees the key: the next trigger opens a new incident,
	// and its repeats fold into that one.
	if _, err := db.Act(context.Background(), first.Incident.ID, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	// The writer's index holds the open incidents only: resolved ones leave it.
	if n := len(db.ws.keys.ids) + len(db.ws.keys.extra); n != 1 {
		t.Fatalf("after the resolve the writer indexes %d keys, want the 1 still open", n)
	}
	second := ingest(t, db, integ, incidents.Event{Title: "dup", Key: "dup"})
	if second.Outcome != incidents.Created || second.Incident.ID == first.Incident.ID {
		t.Fatalf("trigger after resolve: %s #%d, want a new incident", second.Outcome, second.Incident.ID)
	}
	if res := ingest(t, db, integ, incidents.Event{Title: "dup", Key: "dup"}); res.Outcome != incidents.Folded || res.Incident.ID != second.Incident.ID {
		t.Fatalf("repeat: %s #%d, want folded into #%d", res.Outcome, res.Incident.ID, second.Incident.ID)
	}

	// Untitled incidents have no key and are never grouped.
	a := ingest(t, db, integ, incidents.Event{Title: "", Key: ""})
	b := ingest(t, db, integ, incidents.Event{Title: "", Key: ""})
	if a.Incident.ID == b.Incident.ID {
		t.Fatal("untitled events were grouped")
	}
}

func TestOrderAndPaging(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	// Inserted in an order unlike the expected one.
	specs := []struct {
		title string
		sev   incidents.Severity
		prio  incidents.Priority
	}{
		{"none-none-old", "", ""}, {"sev3-p1", "sev3", "p1"}, {"sev1-none", "sev1", ""},
		{"sev1-p2", "sev1", "p2"}, {"none-none-new", "", ""}, {"sev1-p2-newer", "sev1", "p2"},
	}
	for _, s := range specs {
		ingest(t, db, integ, incidents.Event{Title: s.title, Severity: s.sev, Priority: s.prio})
	}
	want := []string{"sev1-p2-newer", "sev1-p2", "sev1-none", "sev3-p1", "none-none-new", "none-none-old"}
	var got []string
	cursor := ""
	for i := 0; i < 10; i++ {
		page, err := db.ListIncidents(context.Background(), incidents.Filter{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Items {
			got = append(got, in.Title)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order:\n got %v\nwant %v", got, want)
	}
	if _, err := db.ListIncidents(context.Background(), incidents.Filter{Cursor: "!!"}); incidents.ErrorCode(err) != incidents.EINVALID {
		t.Fatalf("bad cursor: %v", err)
	}
	none := incidents.NoSeverity
	n, err := db.CountIncidents(context.Background(), incidents.Filter{Severity: &none})
	if err != nil || n != 2 {
		t.Fatalf("severity=none count = %d, %v", n, err)
	}
	n, _ = db.CountIncidents(context.Background(), incidents.Filter{Query: "P2-NEW"})
	if n != 1 {
		t.Fatalf("q count = %d", n)
	}
}

// Every status filter lists its incidents in SPEC §3 order, page by page;
// "all" interleaves open and resolved incidents by that order.
func TestStatusFiltersKeepTheOrder(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	type spec struct {
		title  string
		sev    incidents.Severity
		status incidents.Status
	}
	// Inserted in an order unlike the expected one; each later one is newer.
	specs := []spec{
		{"sev3 resolved", "sev3", incidents.Resolved}, {"sev1 acked", "sev1", incidents.Acknowledged},
		{"none triggered", "", incidents.Triggered}, {"sev1 resolved", "sev1", incidents.Resolved},
		{"sev2 triggered", "sev2", incidents.Triggered}, {"sev1 triggered", "sev1", incidents.Triggered},
		{"none resolved", "", incidents.Resolved}, {"sev2 acked", "sev2", incidents.Acknowledged},
	}
	for _, s := range specs {
		clock = clock.Add(time.Second)
		res := ingest(t, db, integ, incidents.Event{Title: s.title, Severity: s.sev})
		kind := map[incidents.Status]incidents.EntryKind{incidents.Acknowledged: incidents.EntryAcknowledged, incidents.Resolved: incidents.EntryResolved}[s.status]
		if kind != "" {
			if _, err := db.Act(context.Background(), res.Incident.ID, incidents.PersonAction{Kind: kind, By: incidents.ByConsole}, clock); err != nil {
				t.Fatal(err)
			}
		}
	}
	order := []string{"sev1 triggered", "sev1 resolved", "sev1 acked", "sev2 acked", "sev2 triggered", "sev3 resolved", "none resolved", "none triggered"}
	for _, status := range []string{"all", "open", "triggered", "acknowledged", "resolved"} {
		var want []string
		for _, title := range order {
			for _, s := range specs {
				if s.title == title && (status == "all" || string(s.status) == status ||
					status == "open" && s.status != incidents.Resolved) {
					want = append(want, title)
				}
			}
		}
		var got []string
		cursor := ""
		for range 10 {
			page, err := db.ListIncidents(context.Background(), incidents.Filter{Status: status, Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range page.Items {
				got = append(got, in.Title)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("status=%s:\n got %q\nwant %q", status, got, want)
		}
		if n, err := db.CountIncidents(context.Background(), incidents.Filter{Status: status}); err != nil || n != len(want) {
			t.Errorf("status=%s counts %d (%v), want %d", status, n, err, len(want))
		}
	}
}

// Each list reads a range of the order index, never every incident: "all"
// too, as two ranges merged.
func TestListsReadTheOrderIndex(t *testing.T) {
	db := openTemp(t, Options{})
	cursor := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("1%039d", 5)))
	for _, status := range []string{"all", "open", "triggered", "acknowledged", "resolved"} {
		for _, c := range []string{"", cursor} {
			q, args, err := listQuery(incidents.Filter{Status: status, Cursor: c}, 10)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.reader.Query("EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				rows.Scan(&id, &parent, &notused, &detail)
				plan = append(plan, detail)
			}
			rows.Close()
			joined := strings.Join(plan, "\n")
			if strings.Contains(joined, "SCAN i") || !strings.Contains(joined, "SEARCH i USING INDEX incidents_open_order") {
				t.Errorf("status=%s cursor=%q reads more than a range of the order index:\n%s", status, c, joined)
			}
		}
	}
}

func TestActions(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	id := ingest(t, db, integ, incidents.Event{Title: "x"}).Incident.ID
	ctx := context.Background()
	in, err := db.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock)
	if err != nil || in.Status != incidents.Acknowledged || in.AcknowledgedAt == nil {
		t.Fatalf("ack: %+v %v", in, err)
	}
	// Acknowledged still suppresses.
	if r := ingest(t, db, integ, incidents.Event{Title: "x"}); r.Outcome != incidents.Folded || r.Incident.Status != incidents.Acknowledged {
		t.Fatalf("trigger on acked: %+v", r)
	}
	in, _ = db.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByAPI}, clock)
	if in.Status != incidents.Resolved || in.ResolvedBy != incidents.ByAPI {
		t.Fatalf("resolve: %+v", in)
	}
	if _, err := db.Act(ctx, id, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByAPI}, clock); incidents.ErrorCode(err) != incidents.ECONFLICT {
		t.Fatalf("act on resolved: %v", err)
	}
	if _, err := db.Act(ctx, 999, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByAPI}, clock); incidents.ErrorCode(err) != incidents.ENOTFOUND {
		t.Fatalf("act on missing: %v", err)
	}
}

func TestJournalIsBounded(t *testing.T) {
	db := openTemp(t, Options{JournalLimit: 5})
	for i := 0; i < 12; i++ {
		if err := db.Journal(context.Background(), &incidents.Request{At: clock, Status: 404, Outcome: incidents.OutcomeError, Response: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := db.Requests(context.Background(), 100, "")
	if len(page.Items) != 5 || page.Items[0].ID != 12 {
		t.Fatalf("journal kept %d, newest %d", len(page.Items), page.Items[0].ID)
	}
}

// A key that repeats 20 times within a minute storms: the counter stays
// exact, the incident says it storms, and only every 10th repeat is recorded
// on its timeline; a minute after the storm's last burst it is calm again.
func TestStormSamplesRawEvents(t *testing.T) {
	db := openTemp(t, Options{KeepSuppressed: -1})
	integ := mustIntegration(t, db, "default")
	var res incidents.IngestResult
	for i := 1; i <= 60; i++ { // one a second: 60 in a minute
		res = ingest(t, db, integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if res.Incident.Suppressed != 59 || !res.Incident.Storming {
		t.Fatalf("after 60 in a minute: suppressed %d storming %v", res.Incident.Suppressed, res.Incident.Storming)
	}
	in, _ := db.Incident(context.Background(), res.Incident.ID)
	var recorded []string
	for _, e := range in.Timeline {
		if e.Kind == incidents.EntrySuppressed {
			recorded = append(recorded, string(e.Event))
		}
	}
	// Repeats 1–20 come before the storm (the 20th starts it); of 21–59
	// only the 30th, 40th and 50th are recorded (events 31, 41 and 51).
	if len(recorded) != 23 || recorded[19] != `{"n":21}` || recorded[20] != `{"n":31}` || recorded[22] != `{"n":51}` {
		t.Fatalf("recorded %d repeats %v, want 20 and then every 10th", len(recorded), recorded)
	}
	if !in.Storm.StormingAt(clock) || in.Storm.StormingAt(clock.Add(61*time.Second)) {
		t.Fatalf("storm state after reading back: %+v", in.Storm)
	}
	clock = clock.Add(2 * time.Minute)
	calm := ingest(t, db, integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(`{"n":99}`)})
	if calm.Incident.Storming || calm.Incident.Suppressed != 60 {
		t.Fatalf("a repeat after a quiet minute: storming %v suppressed %d", calm.Incident.Storming, calm.Incident.Suppressed)
	}
}
