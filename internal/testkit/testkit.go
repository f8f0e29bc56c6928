// Package testkit sets up what the packages' tests share: a real klaxon
// database in a temporary directory, the Service over it, and an integration.
// Never a mock: storage is the real thing.
package testkit

import (
	"context"
	"path/filepath"
	"testing"

	"klaxon/incidents"
	"klaxon/storage"
)

// Service opens a fresh database in t's temporary directory (closed when the
// test ends) and returns it, the Service over it, and an integration named
// integration of the webhook kind.
func Service(t testing.TB, integration string) (*storage.DB, *incidents.Service, *incidents.Integration) {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := incidents.NewService(db, nil)
	integ, err := svc.CreateIntegration(context.Background(), integration, "", "", incidents.KindWebhook)
	if err != nil {
		t.Fatal(err)
	}
	return db, svc, integ
}
