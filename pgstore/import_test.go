package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// importFixture is a SQLite database made through storage as klaxon makes
// one, with what a copy must carry: integrations of several kinds with
// timers and chaos, a removed one, a rotated token (still in its grace),
// incidents new, folded (trimmed past KeepSuppressed), keyless,
// acknowledged, resolved by a person and by a sender, with severity and
// priority, an Alertmanager request of several alerts, and refused
// requests whose bodies PostgreSQL's text cannot hold.
type importFixture struct {
	path     string
	clock    time.Time
	web, am  *incidents.Integration // web's token is the rotated one
	oldToken string                 // web's token before the rotation
	gone     *incidents.Integration // removed
	open     *incidents.Incident    // open, keyed "disk full" on web
	badBody  string                 // a journaled body that is not UTF-8
	nulBody  string                 // one with a NUL
}

func makeImportFixture(t *testing.T) *importFixture {
	t.Helper()
	ctx := context.Background()
	f := &importFixture{path: filepath.Join(t.TempDir(), "klaxon.db"), clock: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, err := storage.Open(ctx, f.path, storage.Options{KeepSuppressed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := incidents.NewService(db, func() time.Time { return f.clock })
	tick := func() { f.clock = f.clock.Add(time.Second) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	req := func(path, body string) *incidents.Request {
		tick()
		return &incidents.Request{At: f.clock, Remote: "10.0.0.7:5100", Method: "POST", Path: path,
			Headers: map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"curl/8"}}, Body: body}
	}
	ingest := func(integ *incidents.Integration, ev incidents.Event) *incidents.Incident {
		t.Helper()
		if ev.Action == "" {
			ev.Action = incidents.Trigger
		}
		if ev.Raw == nil {
			ev.Raw = json.RawMessage(fmt.Sprintf(`{"title":%q}`, ev.Title))
		}
		res, err := svc.Ingest(ctx, integ, ev, req("/"+integ.Token+"/push-events", string(ev.Raw)))
		must(err)
		return res.Incident
	}

	f.web, err = svc.CreateIntegration(ctx, "web", "shop", "ops-primary", incidents.KindWebhook)
	must(err)
	f.am, err = svc.CreateIntegration(ctx, "prom", "", "", incidents.KindAlertmanager)
	must(err)
	f.gone, err = svc.CreateIntegration(ctx, "old-grafana", "grafana", "", incidents.KindGrafana)
	must(err)
	must(svc.SetTimers(ctx, "prom", incidents.Timers{AckTimeout: 30 * time.Minute, ResolveAfter: 4 * time.Hour}))
	chaos, err := incidents.ParseChaos("status=503,share=0.3")
	must(err)
	must(svc.SetChaos(ctx, "web", chaos))

	ingest(f.gone, incidents.Event{Key: "g", Title: "grafana said so", Severity: incidents.Sev3})
	f.open = ingest(f.web, incidents.Event{Key: "disk full", Title: "disk full on db-1", Severity: incidents.Sev1,
		Details: json.RawMessage(`{"host":"db-1","free":"0 B"}`)})
	for i := range 6 { // folded, past KeepSuppressed at each end
		ingest(f.web, incidents.Event{Key: "disk full", Title: "disk full on db-1", Raw: json.RawMessage(fmt.Sprintf(`{"repeat":%d}`, i))})
	}
	acked := ingest(f.web, incidents.Event{Key: "latency", Title: "p99 latency 2s", Priority: "p2"})
	tick()
	_, err = svc.Acknowledge(ctx, acked.ID, incidents.ByConsole)
	must(err)
	tick()
	_, err = svc.SetSeverity(ctx, acked.ID, incidents.Sev2, incidents.ByAPI)
	must(err)
	resolved := ingest(f.web, incidents.Event{Key: "cert", Title: "certificate expires in 3 days"})
	tick()
	_, err = svc.Resolve(ctx, resolved.ID, incidents.ByConsole)
	must(err)
	ingest(f.web, incidents.Event{Title: "a keyless one"})
	ingest(f.web, incidents.Event{Key: "flap", Title: "flapping"})
	ingest(f.web, incidents.Event{Key: "flap", Title: "flapping", Action: incidents.Resolve})
	ingest(f.web, incidents.Event{Key: "flap", Title: "flapping again"}) // a new incident for a resolved key

	evs := []incidents.Event{
		{Key: "am-1", Title: "InstanceDown", Action: incidents.Trigger, Raw: json.RawMessage(`{"alertname":"InstanceDown"}`)},
		{Key: "am-2", Title: "HighLoad", Action: incidents.Trigger, Severity: incidents.Sev2, Raw: json.RawMessage(`{"alertname":"HighLoad"}`)},
	}
	r := req("/"+f.am.Token+"/alertmanager", `{"alerts":[{},{}]}`)
	r.Kind = incidents.KindAlertmanager
	results, err := svc.IngestAll(ctx, f.am, evs, r, nil)
	must(err)
	if len(results) != 2 {
		t.Fatalf("alertmanager: %d results", len(results))
	}

	// Refused requests the journal keeps with bodies text cannot hold (and
	// a path: text other than a body keeps U+FFFD in PostgreSQL).
	f.badBody = "{\"title\":\"caf\xe9\"}\xff\xfe"
	bad := req("/nope/push-events", f.badBody)
	bad.Status, bad.Outcome, bad.Error, bad.Response = 404, incidents.OutcomeError, "no such integration", json.RawMessage(`{"error":"no such integration"}`)
	bad.Warnings = []string{"not UTF-8"}
	bad.Truncated = true
	must(svc.Journal(ctx, bad))
	f.nulBody = "{\"title\":\"a\u0000b\"}\x00"
	nul := req("/nope\x00/push-events", f.nulBody)
	nul.Status, nul.Outcome, nul.Response = 400, incidents.OutcomeError, json.RawMessage(`{}`)
	must(svc.Journal(ctx, nul))

	// The token of web rotated (the old one works an hour more), and the
	// grafana integration removed (its incident stays).
	f.oldToken = f.web.Token
	tick()
	f.web, _, err = svc.RotateToken(ctx, "web", time.Hour)
	must(err)
	tick()
	_, err = svc.RemoveIntegration(ctx, "old-grafana")
	must(err)
	return f
}

// sqliteState reads back everything a store shows of the fixture.
type storeState struct {
	Integrations []*incidents.Integration
	Lifecycle    incidents.Lifecycle
	Incidents    []*incidents.Incident
	Requests     []*incidents.Request
	Suppressed   []incidents.SuppressedEvent
	Tally        incidents.Tally
	Counts       [3]int
}

type stateStore interface {
	incidents.Store
	incidents.LifecycleStore
	Request(ctx context.Context, id int64) (*incidents.Request, error)
}

func readState(t *testing.T, s stateStore) storeState {
	t.Helper()
	ctx := context.Background()
	var st storeState
	var err error
	if st.Integrations, err = s.Integrations(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Lifecycle, err = s.IntegrationLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	f := incidents.Filter{Status: "all", Limit: 3}
	for {
		page, err := s.ListIncidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Items {
			full, err := s.Incident(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			st.Incidents = append(st.Incidents, full)
		}
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
	}
	for cursor := ""; ; {
		page, err := s.Requests(ctx, 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			one, err := s.Request(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one, r) {
				t.Errorf("request #%d alone differs from the list's:\n%+v\n%+v", r.ID, one, r)
			}
			st.Requests = append(st.Requests, r)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	sp, err := s.Suppressed(ctx, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	st.Suppressed = sp.Items
	if st.Tally, err = s.TallyIncidents(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range []incidents.Filter{{Status: "all"}, {Status: "open"}, {Status: "resolved"}} {
		if st.Counts[i], err = s.CountIncidents(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// A copy of a SQLite database reads back the same through pgstore:
// integrations and their tokens (a rotated one in its grace still taken, a
// removed one's refused saying so), every incident with its id and
// timeline, the journal (bodies exactly, even those text cannot hold;
// other text with U+FFFD in place of what text cannot hold, counted). A
// second copy is refused; after the copy a
// repeat folds into the copied open incident, and new rows take ids past
// the copied ones.
func TestImportSQLite(t *testing.T) {
	url := freshSchema(t)
	f := makeImportFixture(t)
	ctx := context.Background()

	src, err := storage.Open(ctx, f.path, storage.Options{ReadFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	want := readState(t, src)
	src.Close()

	var progress []string
	res, err := ImportSQLite(ctx, f.path, url, ImportOptions{Progress: func(table string, rows int64) {
		progress = append(progress, fmt.Sprintf("%s:%d", table, rows))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(progress, " "); got != "integrations:3 retired_tokens:2 incidents:9 timeline:17 requests:17" {
		t.Errorf("progress %s", got)
	}
	if res.Integrations != 3 || res.Removed != 1 || res.RetiredTokens != 2 || res.Incidents != 9 || res.Requests != 17 || res.Timeline != 17 {
		t.Errorf("copied %+v", res)
	}
	if want := map[string]int64{"requests.path": 1}; !reflect.DeepEqual(res.Replaced, want) {
		t.Errorf("replaced %v, want %v", res.Replaced, want)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}

	pg := openTest(t, url, Options{KeepSuppressed: 2})
	got := readState(t, pg)
	// Bodies are exact; other text that text could not hold is U+FFFD
	// there; the rest is the same.
	for _, r := range want.Requests {
		if r.Body == f.nulBody {
			r.Path = "/nope\uFFFD/push-events"
		}
	}
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"integrations", got.Integrations, want.Integrations},
		{"lifecycle", got.Lifecycle, want.Lifecycle},
		{"incidents", got.Incidents, want.Incidents},
		{"requests", got.Requests, want.Requests},
		{"suppressed", got.Suppressed, want.Suppressed},
		{"tally", got.Tally, want.Tally},
		{"counts", got.Counts, want.Counts},
	} {
		if part.name == "requests" {
			for i := range min(len(got.Requests), len(want.Requests)) {
				if !reflect.DeepEqual(got.Requests[i], want.Requests[i]) {
					t.Logf("request %d:\n got %#v\nwant %#v", i, *got.Requests[i], *want.Requests[i])
				}
			}
		}
		if !reflect.DeepEqual(part.got, part.want) {
			g, _ := json.MarshalIndent(part.got, "", " ")
			w, _ := json.MarshalIndent(part.want, "", " ")
			t.Errorf("%s differ after the copy:\n got %s\nwant %s", part.name, g, w)
		}
	}
	// The text column holds those bodies as text can (what a klaxon from
	// before migration 0003 reads), the exact bytes beside.
	rows, err := pg.reader.Query(ctx, "SELECT body, body_bytes FROM requests WHERE body_bytes IS NOT NULL ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for rows.Next() {
		var text string
		var exact []byte
		if err := rows.Scan(&text, &exact); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text+" = "+strconv.Quote(string(exact)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"{\"title\":\"caf\uFFFD\"}\uFFFD = " + strconv.Quote(f.badBody), // a run of bad bytes is one U+FFFD
		"{\"title\":\"a\uFFFDb\"}\uFFFD = " + strconv.Quote(f.nulBody)}; !slices.Equal(texts, want) {
		t.Errorf("bodies text cannot hold are stored as %q, want %q", texts, want)
	}
	if len(got.Incidents) != 9 || len(got.Requests) != 17 || len(got.Suppressed) == 0 {
		t.Fatalf("%d incidents, %d requests, %d suppressed events", len(got.Incidents), len(got.Requests), len(got.Suppressed))
	}

	// The senders' tokens work as they did.
	svc := incidents.NewService(pg, func() time.Time { return f.clock.Add(time.Minute) })
	for _, tok := range []string{f.web.Token, f.oldToken} {
		integ, err := svc.IntegrationByToken(ctx, tok)
		if err != nil || integ == nil || integ.ID != f.web.ID || integ.Name != "web" {
			t.Fatalf("web's token %s… after the copy: %+v, %v", tok[:6], integ, err)
		}
	}
	if integ, err := svc.IntegrationByToken(ctx, f.am.Token); err != nil || integ == nil || integ.AckTimeout != 30*time.Minute || integ.ResolveAfter != 4*time.Hour {
		t.Fatalf("prom's token after the copy: %+v, %v", integ, err)
	}
	if integ, err := svc.IntegrationByToken(ctx, f.gone.Token); integ != nil || incidents.ErrorCode(err) != incidents.ENOTFOUND || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("the removed integration's token after the copy: %+v, %v", integ, err)
	}

	// A repeat folds into the copied open incident; a new one takes an id
	// past the copied ones.
	web, _ := svc.IntegrationByToken(ctx, f.web.Token)
	before, err := pg.Incident(ctx, f.open.ID)
	if err != nil {
		t.Fatal(err)
	}
	res1, err := svc.Ingest(ctx, web, incidents.Event{Action: incidents.Trigger, Key: "disk full", Title: "disk full on db-1", Raw: json.RawMessage(`{}`)},
		&incidents.Request{At: f.clock.Add(time.Minute), Method: "POST", Path: "/x/push-events", Body: "{}", Response: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res1.Outcome != incidents.Folded || res1.Incident.ID != f.open.ID || res1.Incident.Suppressed != before.Suppressed+1 {
		t.Fatalf("a repeat after the copy: %s into #%d with %d suppressed; want folded into #%d with %d",
			res1.Outcome, res1.Incident.ID, res1.Incident.Suppressed, f.open.ID, before.Suppressed+1)
	}
	// Its timeline still keeps the first two and the newest two suppressed
	// events (KeepSuppressed 2), the newest now the one just sent.
	folded, err := pg.Incident(ctx, f.open.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range folded.Timeline {
		if e.Kind == incidents.EntrySuppressed {
			kept = append(kept, string(e.Event))
		}
	}
	if want := []string{`{"repeat":0}`, `{"repeat":1}`, `{"repeat":5}`, `{}`}; !reflect.DeepEqual(kept, want) {
		t.Fatalf("the suppressed events kept after a fold on the copy: %q; want %q", kept, want)
	}
	res2, err := svc.Ingest(ctx, web, incidents.Event{Action: incidents.Trigger, Key: "new", Title: "new after the copy", Raw: json.RawMessage(`{}`)},
		&incidents.Request{At: f.clock.Add(time.Minute), Method: "POST", Path: "/x/push-events", Body: "{}", Response: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var maxID, maxEntry int64
	for _, in := range want.Incidents {
		maxID = max(maxID, in.ID)
		for _, e := range in.Timeline {
			maxEntry = max(maxEntry, e.ID)
		}
	}
	if res2.Outcome != incidents.Created || res2.Incident.ID <= maxID {
		t.Fatalf("a new incident after the copy: %s #%d, the copied ids go to %d", res2.Outcome, res2.Incident.ID, maxID)
	}
	after, _ := pg.Incident(ctx, res2.Incident.ID)
	if e := after.Timeline[0].ID; e <= maxEntry {
		t.Fatalf("a new timeline entry took id %d, the copied ones go to %d", e, maxEntry)
	}
	if got, _ := pg.CountRequests(ctx); got != 19 {
		t.Fatalf("%d requests in the journal after two more; want 19", got)
	}
	mine, err := svc.CreateIntegration(ctx, "after", "", "", incidents.KindWebhook)
	if err != nil || mine.ID <= f.gone.ID {
		t.Fatalf("an integration made after the copy: %+v, %v", mine, err)
	}

	// A second copy into the same target is refused, and changes nothing.
	_, err = ImportSQLite(ctx, f.path, url, ImportOptions{})
	var ne *NotEmptyError
	if !errors.As(err, &ne) || ne.Integrations != 4 || ne.Incidents != 10 {
		t.Fatalf("a second copy: %v; want NotEmptyError of 4 integrations and 10 incidents", err)
	}
	if !strings.Contains(err.Error(), "already holds 4 integrations, 10 incidents and 19 journal entries") || !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Errorf("the refusal says %q", err)
	}
	if n, _ := pg.CountIncidents(ctx, incidents.Filter{Status: "all"}); n != 10 {
		t.Fatalf("%d incidents after a refused copy; want 10", n)
	}
}

// A copy that fails part way leaves the target as it was: the copy is one
// transaction.
func TestImportSQLiteAllOrNothing(t *testing.T) {
	url := freshSchema(t)
	f := makeImportFixture(t)
	ctx := context.Background()
	// The target refuses the journal's rows (the last table copied).
	pg := openTest(t, url, Options{})
	pg.Close()
	adminExec(t, "ALTER TABLE "+schemaOf(t, url)+".requests ADD CONSTRAINT no_posts CHECK (method <> 'POST') NOT VALID")
	_, err := ImportSQLite(ctx, f.path, url, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "copy requests") {
		t.Fatalf("a copy the target refuses at its last table: %v", err)
	}
	pg = openTest(t, url, Options{})
	if all, err := pg.Integrations(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after a failed copy the target holds %d integrations (%v); want none", len(all), err)
	}
	if n, err := pg.CountIncidents(ctx, incidents.Filter{Status: "all"}); err != nil || n != 0 {
		t.Fatalf("after a failed copy the target holds %d incidents (%v); want none", n, err)
	}
}

// A timeline entry whose incident is gone (none should be: SQLite's foreign
// keys cascade) is left out and counted, rather than failing the copy.
func TestImportSQLiteLeavesOutOrphans(t *testing.T) {
	url := freshSchema(t)
	f := makeImportFixture(t)
	adminOnSQLite(t, f.path, "INSERT INTO timeline (incident_id, at, kind, actor) VALUES (999, 0, 'triggered', 'webhook')")
	res, err := ImportSQLite(context.Background(), f.path, url, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Timeline != 17 || !reflect.DeepEqual(res.Skipped, map[string]int64{"timeline": 1}) {
		t.Fatalf("copied %d timeline entries, skipped %v; want 17 and the orphan skipped", res.Timeline, res.Skipped)
	}
}

// A database from an older klaxon is refused without being changed, and so
// is a file that is not klaxon's.
func TestImportSQLiteRefusesOtherFiles(t *testing.T) {
	url := freshSchema(t)
	ctx := context.Background()
	f := makeImportFixture(t)
	adminOnSQLite(t, f.path, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
	_, err := ImportSQLite(ctx, f.path, url, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "older klaxon") {
		t.Fatalf("a database of an older schema: %v", err)
	}
	f2 := makeImportFixture(t)
	adminOnSQLite(t, f2.path, "ALTER TABLE incidents ADD COLUMN runbook TEXT")
	_, err = ImportSQLite(ctx, f2.path, url, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "[runbook]") {
		t.Fatalf("a database with a column this klaxon does not know: %v", err)
	}
}

// schemaOf is the schema a freshSchema URL uses.
func schemaOf(t *testing.T, u string) string {
	t.Helper()
	p, err := neturl.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query().Get("search_path")
}

// adminOnSQLite runs query on the SQLite database at path.
func adminOnSQLite(t *testing.T, path, query string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}
