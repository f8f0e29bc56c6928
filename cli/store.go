package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"klaxon/incidents"
	"klaxon/metrics"
	"klaxon/pgstore"
	"klaxon/storage"
)

// appStore is what a running klaxon needs of its storage, on either
// backend: embedded SQLite in the data directory (the default), or a team's
// PostgreSQL shared by several klaxon nodes (--database).
type appStore interface {
	incidents.Store
	incidents.LifecycleStore
	metrics.Store
	Prune(ctx context.Context, r storage.Retention, now time.Time) (int64, int64, error)
	Warm(ctx context.Context) error
	OnCommit(f func(writes int))
	Close() error
}

var (
	_ appStore = (*storage.DB)(nil)
	_ appStore = (*pgstore.DB)(nil)
)

// isPostgres reports whether --database names a PostgreSQL server.
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// openPostgres opens a team's PostgreSQL. It never falls back to SQLite:
// a node that cannot reach the database says so and stops.
func openPostgres(ctx context.Context, c Config) (*pgstore.DB, error) {
	if !isPostgres(c.Database) {
		return nil, fmt.Errorf("--database %q is not a postgres:// URL (without --database, klaxon keeps SQLite in --data-dir)", redactURL(c.Database))
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := pgstore.Open(octx, c.Database, pgstore.Options{JournalLimit: c.JournalLimit, KeepSuppressed: c.KeepSuppressed})
	if err != nil {
		return nil, fmt.Errorf("the database %s cannot be used: %v (klaxon does not fall back to SQLite; check that PostgreSQL runs and the URL is right)", redactURL(c.Database), err)
	}
	return db, nil
}

// redactURL is a database URL without its password, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unreadable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
