package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

var clock = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func mustIntegration(t *testing.T, db *DB, name string) *incidents.Integration {
	t.Helper()
	integ := &incidents.Integration{Name: name, Service: name, Kind: incidents.KindWebhook, Token: incidents.NewToken(), CreatedAt: clock}
	if err := db.CreateIntegration(context.Background(), integ); err != nil {
		t.Fatal(err)
	}
	return integ
}

func ingest(t *testing.T, db *DB, integ *incidents.Integration, title string) incidents.IngestResult {
	t.Helper()
	res, err := db.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Action: incidents.Trigger},
		&incidents.Request{At: clock, Method: "POST", Path: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Nodes that start together migrate once: the others wait, then find the
// schema up to date.
func TestMigrationsDoNotRace(t *testing.T) {
	url := freshSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	dbs := make([]*DB, 6)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), url, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	v, err := dbs[3].Migrations(context.Background())
	files, _ := migrationList()
	if err != nil || len(v) != len(files) || v[0] != 1 {
		t.Fatalf("migrations %v (%v), want the %d embedded ones once", v, err, len(files))
	}
}

func TestRefusesWhatIsNotKlaxons(t *testing.T) {
	ctx := context.Background()
	url := freshSchema(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE notes (x text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url, Options{}); err == nil || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("a schema with another program's table: %v", err)
	}
	var tables int
	conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables)
	if tables != 1 {
		t.Fatalf("klaxon changed another program's schema: %d tables", tables)
	}

	// A schema migrated by a newer klaxon.
	url = freshSchema(t)
	db := openTest(t, url, Options{})
	db.Close()
	if _, err := connect(t, url).Exec(ctx, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url, Options{}); err == nil || !strings.Contains(err.Error(), "newer klaxon") {
		t.Fatalf("a newer schema: %v", err)
	}

	// A search_path naming no schema that exists.
	if _, err := Open(ctx, withSearchPath(t, testDatabase(t), "no_such_schema"), Options{}); err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("no schema: %v", err)
	}
	// Nobody listening there: a clear error, no password in it.
	bad := "postgres://klaxon:secret-pw@127.0.0.1:1/klaxon?connect_timeout=2"
	if _, err := Open(ctx, bad, Options{}); err == nil || strings.Contains(err.Error(), "secret-pw") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("nothing at the address: %v", err)
	}
}

// connect connects to url for a test's own statements.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// A server whose default is synchronous_commit off still gets durable
// commits from klaxon: a 200 means on disk.
func TestCommitsAreSynchronous(t *testing.T) {
	url := freshSchema(t) + "&options=-c%20synchronous_commit%3Doff"
	db := openTest(t, url, Options{})
	var sc string
	if err := db.writer.QueryRow(context.Background(), "SHOW synchronous_commit").Scan(&sc); err != nil || sc != "on" {
		t.Fatalf("writers' synchronous_commit = %q (%v), want on", sc, err)
	}
}

// Writes read what committed before each statement, whatever isolation the
// database defaults to.
func TestWritesReadCommitted(t *testing.T) {
	url := freshSchema(t) + "&options=-c%20default_transaction_isolation%3Dserializable"
	db := openTest(t, url, Options{})
	var iso string
	if err := db.write(context.Background(), need{}, func(w *wtx) error {
		return w.queryRow("SHOW transaction_isolation").Scan(&iso)
	}); err != nil || iso != "read committed" {
		t.Fatalf("a write transaction runs %q (%v), want read committed", iso, err)
	}
}

// holdWriter parks the writer on a job until the returned release is
// called, so that what is queued meanwhile commits together.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	held, unblock := make(chan struct{}), make(chan struct{})
	go db.write(context.Background(), need{}, func(*wtx) error {
		close(held)
		<-unblock
		return nil
	})
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release
}

func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(db.jobs) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(db.jobs), n)
		}
	}
}

// Writes that queue while one commits share the next commit; one that
// fails there undoes only its own work.
func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	db := openTest(t, freshSchema(t), Options{})
	integ := mustIntegration(t, db, "default")
	open := ingest(t, db, integ, "open")
	release := holdWriter(t, db)
	commits := db.Commits()
	var wg sync.WaitGroup
	results := make([]incidents.IngestResult, 6)
	errs := make([]error, 7)
	for i := range 6 {
		wg.Go(func() {
			results[i], errs[i] = db.Ingest(context.Background(), integ, incidents.Event{Key: fmt.Sprint("ok ", i), Title: fmt.Sprint("ok ", i), Action: incidents.Trigger},
				&incidents.Request{At: clock, Method: "POST", Path: "/x"})
		})
	}
	waitQueued(t, db, 6)
	bad := errors.New("this write fails halfway")
	wg.Go(func() {
		errs[6] = db.write(context.Background(), need{}, func(w *wtx) error {
			if _, err := w.exec(`INSERT INTO incidents (integration_id, title, status, first_seen, last_seen) VALUES ($1, 'half done', 'triggered', 0, 0)`, integ.ID); err != nil {
				return err
			}
			in := *open.Incident
			in.Status = incidents.Resolved
			w.updateIncident(&in)
			return bad
		})
	})
	waitQueued(t, db, 7)
	release()
	wg.Wait()
	if !errors.Is(errs[6], bad) {
		t.Fatalf("the bad write answered %v", errs[6])
	}
	for i := range 6 {
		if errs[i] != nil || results[i].Outcome != incidents.Created {
			t.Fatalf("good write %d: %v %+v", i, errs[i], results[i])
		}
	}
	if got := db.Commits() - commits; got != 2 {
		t.Fatalf("%d commits, want 2 (the held write, then the seven together)", got)
	}
	ctx := context.Background()
	if n, _ := db.CountIncidents(ctx, incidents.Filter{Status: "all", Query: "half done"}); n != 0 {
		t.Fatal("the bad write's insert was kept")
	}
	if in, _ := db.Incident(ctx, open.Incident.ID); in.Status != incidents.Triggered {
		t.Fatal("the bad write's resolve was kept")
	}
	if n, _ := db.CountRequests(ctx); n != 7 {
		t.Fatalf("%d journal entries, want 7", n)
	}
}

// Without the dedup keys' advisory locks, two nodes opening one incident at
// once meet at the partial unique index: the loser applies its event again
// and folds it. (The locks make that rare; this is what stays when they do
// not help.)
func TestUniqueViolationAppliesTheEventAgain(t *testing.T) {
	url := freshSchema(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	a.noLocks, b.noLocks = true, true
	integ := mustIntegration(t, a, "race")
	for round := range 40 {
		var wg sync.WaitGroup
		var got [2]incidents.IngestResult
		gate := make(chan struct{})
		for i, db := range []*DB{a, b} {
			wg.Go(func() {
				<-gate
				// Two events per request, so that the loser's batch holds
				// a savepoint's worth of work to keep.
				res, err := db.IngestAll(context.Background(), integ, []incidents.Event{
					{Key: fmt.Sprint("own ", i, round), Title: "own", Action: incidents.Trigger},
					{Key: fmt.Sprint("k", round), Title: "shared", Action: incidents.Trigger},
				}, &incidents.Request{At: clock}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = res[1]
			})
		}
		close(gate)
		wg.Wait()
		if got[0].Incident == nil || got[1].Incident == nil || got[0].Incident.ID != got[1].Incident.ID ||
			got[0].Outcome == got[1].Outcome {
			t.Fatalf("round %d: %s and %s", round, got[0].Outcome, got[1].Outcome)
		}
	}
	t.Logf("batches run again: %d", a.reruns.Load()+b.reruns.Load())
	if a.reruns.Load()+b.reruns.Load() == 0 {
		t.Fatal("no round met a unique violation: the test tested nothing")
	}
}

// A node whose connections are cut (a restarted server, a failover) answers
// 503 for what was in flight at most, and then writes again.
func TestRecoversWhenConnectionsAreCut(t *testing.T) {
	url := freshSchema(t)
	db := openTest(t, url, Options{})
	integ := mustIntegration(t, db, "default")
	ingest(t, db, integ, "before")
	var app string
	db.reader.QueryRow(context.Background(), "SHOW application_name").Scan(&app)
	adminExec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app)
	ctx := context.Background()
	for attempt := 1; ; attempt++ {
		_, err := db.Ingest(ctx, integ, incidents.Event{Key: "after", Title: "after", Action: incidents.Trigger}, &incidents.Request{At: clock})
		if err == nil {
			break
		}
		// Each of the writers' dead connections may fail one write.
		if incidents.ErrorCode(err) != incidents.EUNAVAILABLE || attempt == 5 {
			t.Fatalf("attempt %d after the cut: %v (code %s)", attempt, err, incidents.ErrorCode(err))
		}
	}
	if _, err := db.ListIncidents(ctx, incidents.Filter{}); err != nil {
		// A read on a cut connection may fail once; the next works.
		if _, err := db.ListIncidents(ctx, incidents.Filter{}); err != nil {
			t.Fatal(err)
		}
	}
}

// The statements every event runs reach their rows through an index, on
// a database of some size whose statistics are known.
func TestHotStatementsUseIndexes(t *testing.T) {
	db := openTest(t, freshSchema(t), Options{KeepSuppressed: -1})
	ctx := context.Background()
	integ := mustIntegration(t, db, "default")
	evs := make([]incidents.Event, 0, 400)
	for i := range 400 {
		evs = append(evs, incidents.Event{Key: fmt.Sprint("k", i%100), Title: "t", Action: incidents.Trigger})
	}
	if _, err := db.IngestAll(ctx, integ, evs, &incidents.Request{At: clock}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(ctx, "ANALYZE incidents, timeline, requests"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.reader.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET enable_seqscan")
	explain := func(sql string, args ...any) string {
		rows, err := conn.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	cases := []struct {
		sql   string
		args  []any
		index string
	}{
		{openIncidentSQL, []any{1, "k"}, "incidents_one_open_per_key"},
		{prefetchSQL, []any{[]int64{1, 1, 1}, []string{"k1", "k2", "k3"}}, "incidents_one_open_per_key"},
		{`SELECT id FROM requests WHERE id > ` + newestBoundSQL("$1"), []any{10000}, "requests_pkey"},
		{`SELECT id FROM timeline WHERE incident_id = $1 AND kind = 'suppressed' ORDER BY id LIMIT 1 OFFSET $2`, []any{1, 3}, "timeline_by_incident"},
	}
	for _, status := range []string{"open", "all", "triggered", "resolved"} {
		q, a, err := listQuery(incidents.Filter{Status: status}, 10)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			sql   string
			args  []any
			index string
		}{q, a, "incidents_open_order"})
	}
	for _, c := range cases {
		if plan := explain(c.sql, c.args...); !strings.Contains(plan, c.index) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s\ndoes not read %s:\n%s", c.sql, c.index, plan)
		}
	}
}

func TestPayloadsFitANotification(t *testing.T) {
	var n notes
	for i := range 333 {
		n.incident(int64(1e12+i), incidents.AckedBy)
		n.request(int64(1e12 + i))
	}
	n.integrationsChanged()
	ps := n.payloads("0123456789abcdef")
	var incidentsSeen, requestsSeen, integrations int
	for _, p := range ps {
		if len(p) >= 8000 {
			t.Fatalf("a payload of %d bytes", len(p))
		}
		var got payload
		if err := json.Unmarshal([]byte(p), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Incidents) != len(got.Outcomes) {
			t.Fatal("incidents and outcomes differ in number")
		}
		incidentsSeen += len(got.Incidents)
		requestsSeen += len(got.Requests)
		if got.Integrations {
			integrations++
		}
	}
	if incidentsSeen != 333 || requestsSeen != 333 || integrations != 1 || len(ps) != 4 {
		t.Fatalf("%d payloads carry %d incidents, %d requests, %d integration changes", len(ps), incidentsSeen, requestsSeen, integrations)
	}
	if (notes{}).payloads("x") != nil {
		t.Fatal("nothing changed, yet a notification")
	}
}
