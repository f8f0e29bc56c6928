package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
)

// holdWriter parks the writer on a job until the returned release is called,
// so that the writes queued meanwhile commit together in the next batch.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	held, unblock := make(chan struct{}), make(chan struct{})
	go db.write(context.Background(), func(*sql.Tx) error {
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

// waitQueued waits until n writes wait for the writer.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(db.jobs) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(db.jobs), n)
		}
	}
}

func repeat(t *testing.T, db *DB, integ *incidents.Integration, title string, n int) incidents.IngestResult {
	t.Helper()
	var res incidents.IngestResult
	for i := 0; i < n; i++ {
		// Slower than a storm (see TestStormSamplesRawEvents), so every
		// repeat keeps its payload.
		clock = clock.Add(3 * time.Second)
		res = ingest(t, db, integ, incidents.Event{Title: title, Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return res
}

// kept lists the "n" of the suppressed events incident id keeps, oldest first.
func kept(t *testing.T, db *DB, id int64) []int {
	t.Helper()
	in, err := db.Incident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ns []int
	for _, e := range in.Timeline {
		if e.Kind == incidents.EntrySuppressed {
			var ev struct{ N int }
			json.Unmarshal(e.Event, &ev)
			ns = append(ns, ev.N)
		}
	}
	return ns
}

func TestSuppressedEventsKeepTheFirstAndTheNewest(t *testing.T) {
	db := openTemp(t, Options{KeepSuppressed: 3})
	integ := mustIntegration(t, db, "default")
	res := repeat(t, db, integ, "storm", 21) // one trigger, 20 suppressed
	if res.Incident.Suppressed != 20 {
		t.Fatalf("suppressed = %d, want 20: the counter stays exact", res.Incident.Suppressed)
	}
	if got := fmt.Sprint(kept(t, db, res.Incident.ID)); got != "[1 2 3 18 19 20]" {
		t.Fatalf("kept suppressed events %s, want the first 3 and the newest 3: [1 2 3 18 19 20]", got)
	}
	in, _ := db.Incident(context.Background(), res.Incident.ID)
	if in.Suppressed != 20 || in.Timeline[0].Kind != incidents.EntryTriggered {
		t.Fatalf("incident after the storm: %+v", in)
	}
	page, _ := db.Suppressed(context.Background(), 100, "")
	if len(page.Items) != 6 || page.Items[0].Repeats != 20 {
		t.Fatalf("suppressed list: %d events (repeats %d), want the 6 kept", len(page.Items), page.Items[0].Repeats)
	}
}

// In a storm only every 10th repeat is recorded; the first and the newest
// recorded ones are kept all the same, and the counter counts every repeat.
func TestStormKeepsTheFirstAndTheNewestRecorded(t *testing.T) {
	db := openTemp(t, Options{KeepSuppressed: 3})
	integ := mustIntegration(t, db, "default")
	var res incidents.IngestResult
	for i := 1; i <= 200; i++ { // one a second: it storms from the 20th repeat
		res = ingest(t, db, integ, incidents.Event{Title: "flapping", Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if res.Incident.Suppressed != 199 {
		t.Fatalf("suppressed = %d, want 199", res.Incident.Suppressed)
	}
	// Repeat r is event r+1; repeats 1-20 and then every 10th are recorded.
	if got := fmt.Sprint(kept(t, db, res.Incident.ID)); got != "[2 3 4 171 181 191]" {
		t.Fatalf("kept %s, want the first 3 and the newest 3 recorded: [2 3 4 171 181 191]", got)
	}
}

func TestSuppressedLimitReachesIncidentsFromBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(context.Background(), path, Options{KeepSuppressed: -1})
	if err != nil {
		t.Fatal(err)
	}
	integ := mustIntegration(t, db, "default")
	id := repeat(t, db, integ, "old storm", 31).Incident.ID
	if n := len(kept(t, db, id)); n != 30 {
		t.Fatalf("without a limit %d kept, want all 30", n)
	}
	db.Close()
	db, err = Open(context.Background(), path, Options{KeepSuppressed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ingest(t, db, integ, incidents.Event{Title: "old storm", Raw: json.RawMessage(`{"n":31}`)})
	if got := fmt.Sprint(kept(t, db, id)); got != "[1 2 3 4 28 29 30 31]" {
		t.Fatalf("kept %s, want the first 4 and the newest 4", got)
	}
	ingest(t, db, integ, incidents.Event{Title: "old storm", Raw: json.RawMessage(`{"n":32}`)})
	if got := fmt.Sprint(kept(t, db, id)); got != "[1 2 3 4 29 30 31 32]" {
		t.Fatalf("kept %s after one more", got)
	}
}

func TestStormKeepsTheDatabaseSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3,000 events")
	}
	db := openTemp(t, Options{KeepSuppressed: 10, JournalLimit: 50})
	integ := mustIntegration(t, db, "default")
	repeat(t, db, integ, "storm", 3000)
	var entries, rows int
	db.reader.QueryRow(`SELECT count(*) FROM timeline`).Scan(&entries)
	db.reader.QueryRow(`SELECT count(*) FROM requests`).Scan(&rows)
	listed, _ := db.CountRequests(context.Background())
	if entries != 21 || rows < 50 || rows > 50+int(db.pruneStep()) || listed != 50 {
		t.Fatalf("after 3,000 repeats: %d timeline entries (want 1 + 10 + 10), %d journal rows (want 50 to %d), %d listed (want 50)",
			entries, rows, 50+db.pruneStep(), listed)
	}
	if page, _ := db.Requests(context.Background(), 1000, ""); len(page.Items) != 50 || page.Items[49].ID != page.Items[0].ID-49 {
		t.Fatalf("the journal lists %d entries, want the newest 50", len(page.Items))
	}
}

func TestOneBadWriteDoesNotFailItsBatch(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	open := ingest(t, db, integ, incidents.Event{Key: "open", Title: "open"})
	release := holdWriter(t, db)
	commits := db.commits.Load()

	var wg sync.WaitGroup
	results := make([]incidents.IngestResult, 4)
	errs := make([]error, 5)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = db.Ingest(context.Background(), integ, incidents.Event{Key: fmt.Sprint("ok ", i), Title: fmt.Sprint("ok ", i), Action: incidents.Trigger},
				&incidents.Request{At: clock, Method: "POST", Path: "/default/push-events"})
		}(i)
	}
	waitQueued(t, db, 4)
	bad := errors.New("this write fails halfway")
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[4] = db.write(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO incidents (integration_id, title, status, first_seen, last_seen)
				VALUES (?, 'half done', 'triggered', 0, 0)`, integ.ID); err != nil {
				return err
			}
			// It resolves an open incident before failing: undone too.
			in := *open.Incident
			in.Status = incidents.Resolved
			if err := db.updateIncident(tx, &in); err != nil {
				return err
			}
			return bad
		})
	}()
	waitQueued(t, db, 5)
	release()
	wg.Wait()

	if !errors.Is(errs[4], bad) {
		t.Fatalf("the bad write answered %v, want its own error", errs[4])
	}
	for i := 0; i < 4; i++ {
		if errs[i] != nil || results[i].Outcome != incidents.Created {
			t.Fatalf("good write %d in the same batch: %v %+v", i, errs[i], results[i])
		}
		if in, err := db.Incident(context.Background(), results[i].Incident.ID); err != nil || in.Title != fmt.Sprint("ok ", i) {
			t.Fatalf("good write %d not stored: %v %v", i, in, err)
		}
	}
	if n, _ := db.CountIncidents(context.Background(), incidents.Filter{Query: "half done", Status: "all"}); n != 0 {
		t.Fatal("the bad write's first statement was kept")
	}
	if reqs, _ := db.Requests(context.Background(), 100, ""); len(reqs.Items) != 5 {
		t.Fatalf("journal has %d entries, want the first and the 4 good ones", len(reqs.Items))
	}
	if got := db.commits.Load() - commits; got != 2 {
		t.Fatalf("%d commits, want 2 (the held write, then the five together)", got)
	}
	// Repeats find the incidents the batch opened, and the one the bad
	// write resolved before it was rolled back.
	for i, want := range []*incidents.Incident{results[0].Incident, results[3].Incident, open.Incident} {
		res := ingest(t, db, integ, incidents.Event{Key: want.Key, Title: want.Title})
		if res.Outcome != incidents.Folded || res.Incident.ID != want.ID {
			t.Fatalf("repeat %d of %q: %s #%d, want folded into #%d", i, want.Key, res.Outcome, res.Incident.ID, want.ID)
		}
	}
}

func TestJournalIsPrunedPerBatch(t *testing.T) {
	db := openTemp(t, Options{JournalLimit: 5})
	release := holdWriter(t, db)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db.Journal(context.Background(), &incidents.Request{At: clock, Status: 404, Outcome: incidents.OutcomeError, Response: json.RawMessage(`{}`)})
		}()
	}
	waitQueued(t, db, 20)
	release()
	wg.Wait()
	page, _ := db.Requests(context.Background(), 100, "")
	if len(page.Items) != 5 || page.Items[0].ID != 20 {
		t.Fatalf("journal kept %d (newest %d), want the newest 5", len(page.Items), page.Items[0].ID)
	}
}

// The statements every event runs must reach their rows through an index.
func TestHotStatementsUseIndexes(t *testing.T) {
	db := openTemp(t, Options{})
	for s, q := range statementSQL {
		rows, err := db.writer.Query("EXPLAIN QUERY PLAN "+q, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			if strings.HasPrefix(detail, "SCAN") {
				t.Errorf("statement %d scans: %s\n%s", s, detail, q)
			}
		}
		rows.Close()
	}
}

// A database made before migration 0002 takes it and gets the limit.
func TestMigratesFromTheFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", applicationID),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		string(first),
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO integrations (id, name, service, kind, token, created_at) VALUES (1, 'default', 'default', 'webhook', 'tok', 0)`,
		`INSERT INTO incidents (id, integration_id, dedup_key, title, status, suppressed, first_seen, last_seen)
			VALUES (1, 1, 'old', 'old', 'triggered', 12, 0, 0)`,
		`INSERT INTO timeline (incident_id, at, kind, actor, event) VALUES (1, 0, 'triggered', 'webhook', '{"n":0}')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := 1; i <= 12; i++ {
		raw.Exec(`INSERT INTO timeline (incident_id, at, kind, actor, event) VALUES (1, 0, 'suppressed', 'webhook', ?)`, fmt.Sprintf(`{"n":%d}`, i))
	}
	raw.Close()

	db, err := Open(context.Background(), path, Options{KeepSuppressed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Migrations(context.Background()); len(v) < 2 || v[1] != 2 {
		t.Fatalf("migrations = %v", v)
	}
	integ := &incidents.Integration{ID: 1, Name: "default", Service: "default", Kind: incidents.KindWebhook}
	r := ingest(t, db, integ, incidents.Event{Title: "old", Raw: json.RawMessage(`{"n":13}`)})
	if r.Outcome != incidents.Folded || r.Incident.Suppressed != 13 {
		t.Fatalf("repeat after migrating: %+v", r)
	}
	if got := fmt.Sprint(kept(t, db, 1)); got != "[1 2 12 13]" {
		t.Fatalf("kept %s, want [1 2 12 13]", got)
	}
	// Migration 0006 rebuilt incidents with foreign keys off; they are on again.
	var fk int
	if err := db.writer.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v) after migrating, want 1", fk, err)
	}
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// With MaxWait the writer waits that long for more writes to share a
// transaction.
func TestMaxWaitGathersWrites(t *testing.T) {
	db := openTemp(t, Options{MaxWait: time.Hour, MaxBatch: 3}) // a full batch ends the wait
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); db.write(context.Background(), func(*sql.Tx) error { return nil }) }()
	}
	integ := mustIntegration(t, db, "default")
	wg.Wait()
	commits := db.commits.Load()
	for _, title := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Action: incidents.Trigger},
				&incidents.Request{At: clock, Method: "POST", Path: "/default/push-events"}); err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(5 * time.Millisecond) // one after another, not together
	}
	wg.Wait()
	if got := db.commits.Load() - commits; got != 1 {
		t.Fatalf("a, b and c took %d commits, want 1", got)
	}
}

// A full disk fails the whole batch with EUNAVAILABLE (503, "send again"),
// and the writer takes writes again once there is room.
func TestFullDatabaseFailsTheBatchAsUnavailable(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	for i := 0; i < 50; i++ { // give the tables a few pages, so the next ones need new pages
		ingest(t, db, integ, incidents.Event{Title: fmt.Sprint("before ", i), Raw: json.RawMessage(`{"pad":"` + strings.Repeat("x", 500) + `"}`)})
	}
	// Hold the writer on a job that makes the disk "full": the database may
	// not grow by a page (max_page_count clamps to the current size).
	held, unblock := make(chan struct{}), make(chan struct{})
	go db.write(context.Background(), func(tx *sql.Tx) error {
		tx.Exec(`PRAGMA max_page_count = 1`)
		close(held)
		<-unblock
		return nil
	})
	<-held
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = db.Ingest(context.Background(), integ, incidents.Event{Key: fmt.Sprint("full ", i), Title: fmt.Sprint("full ", i),
				Action: incidents.Trigger, Raw: json.RawMessage(`{"pad":"` + strings.Repeat("y", 3000) + `"}`)},
				&incidents.Request{At: clock, Method: "POST", Path: "/default/push-events", Body: strings.Repeat("z", 3000)})
		}(i)
	}
	waitQueued(t, db, len(errs))
	close(unblock)
	wg.Wait()
	for i, err := range errs {
		if incidents.ErrorCode(err) != incidents.EUNAVAILABLE {
			t.Fatalf("write %d on a full database: %v, want EUNAVAILABLE", i, err)
		}
	}
	db.write(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`PRAGMA max_page_count = 4294967294`)
		return err
	})
	if r := ingest(t, db, integ, incidents.Event{Title: "after"}); r.Outcome != incidents.Created {
		t.Fatalf("after room is made: %+v", r)
	}
}

// A migration that runs with foreign keys off commits only if every
// reference still holds, and turns them on again either way.
func TestMigrationWithForeignKeysOffChecksReferences(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	ingest(t, db, integ, incidents.Event{Title: "keeps its integration"})
	ctx := context.Background()
	err := applyMigration(ctx, db.writer, "9999_bad.sql", 9999, fkOffMarker+"DELETE FROM integrations;")
	if err == nil || !strings.Contains(err.Error(), "incidents") {
		t.Fatalf("a migration orphaning incidents answered %v, want it refused naming incidents", err)
	}
	if list, _ := db.Integrations(ctx); len(list) != 1 {
		t.Fatalf("%d integrations after the refused migration, want it rolled back", len(list))
	}
	var fk int
	if err := db.writer.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
}

// A repeat folds into the incident as it is now, whatever changed it since
// the last repeat: the writer's copy of recently folded incidents (openRows)
// never answers for a row that an action changed.
func TestRepeatsSeeWhatActionsChanged(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	ctx := context.Background()
	first := ingest(t, db, integ, incidents.Event{Title: "x", Key: "x", Severity: incidents.Sev2})
	ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"})
	if _, err := db.Act(ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Act(ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntrySeverityChanged, Severity: incidents.Sev1, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	res := ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"})
	if res.Incident.Status != incidents.Acknowledged || res.Incident.Severity != incidents.Sev1 || res.Incident.Suppressed != 2 {
		t.Fatalf("repeat after ack and severity change: %s %s ×%d, want acknowledged sev1 ×2",
			res.Incident.Status, res.Incident.Severity, res.Incident.Suppressed)
	}
	// An event that moves the severity back is a change, and says so.
	res = ingest(t, db, integ, incidents.Event{Title: "x", Key: "x", Severity: incidents.Sev2})
	in, _ := db.Incident(ctx, first.Incident.ID)
	last := in.Timeline[len(in.Timeline)-1]
	if res.Incident.Severity != incidents.Sev2 || last.Kind != incidents.EntrySeverityChanged || last.From != "sev1" {
		t.Fatalf("repeat with sev2 after the change to sev1: %s, last entry %+v", res.Incident.Severity, last)
	}
	if _, err := db.Act(ctx, first.Incident.ID, incidents.PersonAction{Kind: incidents.EntryResolved, By: incidents.ByConsole}, clock); err != nil {
		t.Fatal(err)
	}
	if res := ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"}); res.Outcome != incidents.Created {
		t.Fatalf("a trigger after the resolve: %s, want a new incident", res.Outcome)
	}
}

// A repeat whose batch is rolled back and run again counts once.
func TestRepeatCountsOnceWhenItsBatchRunsAgain(t *testing.T) {
	db := openTemp(t, Options{})
	integ := mustIntegration(t, db, "default")
	ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"})
	ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"}) // the writer now holds a copy of x
	release := holdWriter(t, db)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		db.Ingest(context.Background(), integ, incidents.Event{Title: "x", Key: "x"}, &incidents.Request{At: clock})
	}()
	waitQueued(t, db, 1)
	go func() {
		defer wg.Done()
		db.write(context.Background(), func(*sql.Tx) error { return errors.New("fails, so the batch runs again") })
	}()
	waitQueued(t, db, 2)
	release()
	wg.Wait()
	res := ingest(t, db, integ, incidents.Event{Title: "x", Key: "x"})
	if res.Incident.Suppressed != 3 {
		t.Fatalf("suppressed = %d after three repeats, one of them in a batch run twice; want 3", res.Incident.Suppressed)
	}
	in, _ := db.Incident(context.Background(), res.Incident.ID)
	if in.Suppressed != 3 {
		t.Fatalf("stored suppressed = %d, want 3", in.Suppressed)
	}
}
