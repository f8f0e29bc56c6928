package pgstore

import (
	"testing"

	"klaxon/internal/storetest"
)

func backend() storetest.Backend {
	return storetest.Backend{Name: "postgres", New: func(t testing.TB) storetest.Opener {
		url := freshSchema(t)
		return func(t testing.TB, o storetest.Options) storetest.Store {
			t.Helper()
			return openTest(t, url, Options{JournalLimit: o.JournalLimit, KeepSuppressed: o.KeepSuppressed})
		}
	}}
}

// TestContract runs the storage contract (internal/storetest), which
// storage runs on SQLite too, on PostgreSQL.
func TestContract(t *testing.T) {
	testDatabase(t)
	storetest.Run(t, backend())
}

// TestContractAcrossNodes runs what must hold with several klaxon nodes on
// one database.
func TestContractAcrossNodes(t *testing.T) {
	testDatabase(t)
	storetest.RunShared(t, backend())
}
