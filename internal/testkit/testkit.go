// Package testkit sets up what the packages' tests share: a real klaxon
// database in a temporary directory (or a fresh schema in a test
// PostgreSQL), the Service over it, and an integration. Never a mock:
// storage is the real thing.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
	"klaxon/pgstore"
	"klaxon/storage"
)

// Service opens a fresh database in t's temporary directory (closed when the
// test ends) and returns it, the Service over it, and an integration named
// integration of the webhook kind.
func Service(t testing.TB, integration string) (*storage.DB, *incidents.Service, *incidents.Integration) {
	t.Helper()
	db := SQLite.Open(t).(*storage.DB)
	svc := incidents.NewService(db, nil)
	integ, err := svc.CreateIntegration(context.Background(), integration, "", "", incidents.KindWebhook)
	if err != nil {
		t.Fatal(err)
	}
	return db, svc, integ
}

// Store is what a klaxon runs on, whichever the backend: *storage.DB or
// *pgstore.DB.
type Store interface {
	incidents.Store
	Close() error
}

// Backend is a kind of database a test runs on.
type Backend struct {
	Name string
	// Open makes an empty database for t and opens it with the backend's
	// default options; it is closed (and dropped) when t ends.
	Open func(t testing.TB) Store
}

var (
	// SQLite is the embedded database, a file in t's temporary directory.
	SQLite = Backend{Name: "sqlite", Open: func(t testing.TB) Store {
		t.Helper()
		db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}
	// Postgres is a fresh schema in KLAXON_TEST_DATABASE (see PostgresURL).
	Postgres = Backend{Name: "postgres", Open: func(t testing.TB) Store {
		t.Helper()
		db, err := pgstore.Open(context.Background(), PostgresURL(t), pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}
)

// Backends are both databases klaxon runs on, for tests that must hold on
// each.
func Backends() []Backend { return []Backend{SQLite, Postgres} }

// PostgresURL makes an empty schema in KLAXON_TEST_DATABASE for t (dropped
// when t ends) and returns the URL that uses it. scripts/postgres-dev starts
// such a database and prints the variable. Without it the test skips,
// except in CI (CI set), where it fails: CI runs the PostgreSQL tests for
// real.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("KLAXON_TEST_DATABASE")
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(`KLAXON_TEST_DATABASE is not set, and CI runs the PostgreSQL tests for real: start one with eval "$(scripts/postgres-dev start)"`)
		}
		t.Skip(`no PostgreSQL to test against: run eval "$(scripts/postgres-dev start)" first (scripts/postgres-dev stop afterwards)`)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("KLAXON_TEST_DATABASE is not a postgres:// URL")
	}
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
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", "klaxon-"+schema) // to find its connections
	u.RawQuery = q.Encode()
	return u.String()
}
