package pgstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A journal written before migration 0003 (bodies as text only) reads back
// as it was after it, and so does a row a node not yet upgraded writes
// after it (the column is added, nothing is rewritten).
func TestExactBodiesMigrationKeepsEarlierRows(t *testing.T) {
	url := freshSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	files, err := migrationList()
	if err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO requests (at, remote, method, path, headers, body, status, outcome, response)
		VALUES ($1, '10.0.0.1:1', 'POST', '/x', '{}', $2, 400, 'error', '{}')`
	for _, f := range files {
		if f.version >= 3 {
			break
		}
		if _, err := conn.Exec(ctx, f.body); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL);
		INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0), (2, '0002_integration_lifecycle.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	at := clock.UnixMilli()
	if _, err := conn.Exec(ctx, insert, at, `{"title":"before"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, insert, at, "caf\uFFFD"); err != nil { // as klaxon stored a Latin-1 body then
		t.Fatal(err)
	}

	db := openTest(t, url, Options{})
	if v, err := db.Migrations(ctx); err != nil || len(v) != len(files) {
		t.Fatalf("migrations %v (%v)", v, err)
	}
	if _, err := conn.Exec(ctx, insert, at, `{"title":"an old node, after"}`); err != nil {
		t.Fatalf("a node from before the migration journals: %v", err)
	}
	page, err := db.Requests(ctx, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, r := range page.Items {
		bodies = append(bodies, r.Body)
		if !r.At.Equal(clock) {
			t.Errorf("request %d at %v", r.ID, r.At.Format(time.RFC3339))
		}
	}
	want := []string{`{"title":"an old node, after"}`, "caf\uFFFD", `{"title":"before"}`}
	if !slices.Equal(bodies, want) {
		t.Fatalf("bodies %q, want %q", bodies, want)
	}
}
