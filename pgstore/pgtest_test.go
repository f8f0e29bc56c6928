package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testDatabase is the PostgreSQL the tests use: KLAXON_TEST_DATABASE, which
// scripts/postgres-dev starts and prints. Its user must be able to create
// schemas. Without it the tests skip, except in CI (CI set), where they fail:
// CI runs them for real.
func testDatabase(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KLAXON_TEST_DATABASE")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KLAXON_TEST_DATABASE is not set, and CI runs the PostgreSQL tests for real: start one with eval \"$(scripts/postgres-dev start)\"")
		}
		t.Skip("no PostgreSQL to test against: run eval \"$(scripts/postgres-dev start)\" first (scripts/postgres-dev stop afterwards)")
	}
	return u
}

// freshSchema makes an empty schema in the test database for t (dropped
// when t ends) and returns the URL that uses it: tests run side by side in
// one database, each in its own schema.
func freshSchema(t testing.TB) string {
	t.Helper()
	admin := testDatabase(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to KLAXON_TEST_DATABASE: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, admin, schema)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("application_name", "klaxon-"+schema) // to find its connections
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema + " application_name=klaxon-" + schema
}

// openTest opens a DB on url, closed when t ends.
func openTest(t testing.TB, url string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// adminExec runs sql on the test database (not in a test's schema).
func adminExec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}
