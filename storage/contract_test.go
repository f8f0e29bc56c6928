package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"klaxon/internal/storetest"
	"klaxon/storage"
)

// TestContract runs the storage contract (internal/storetest), which
// pgstore runs on PostgreSQL too, on SQLite.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{Name: "sqlite", New: func(t testing.TB) storetest.Opener {
		path := filepath.Join(t.TempDir(), "klaxon.db")
		return func(t testing.TB, o storetest.Options) storetest.Store {
			t.Helper()
			db, err := storage.Open(context.Background(), path, storage.Options{JournalLimit: o.JournalLimit, KeepSuppressed: o.KeepSuppressed})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}})
}
