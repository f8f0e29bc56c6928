package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// What only one node of those sharing a database should do at a time (run
// the notifier's --on-trigger command and re-alerts, say, so that a page
// goes out once, not once per node) runs under Lead.

// leadEvery is how often a node that does not lead tries to, and how often
// the leader checks that it still holds the lead.
var leadEvery = 2 * time.Second

// Lead runs fn while this node leads for role: one node at a time among
// those sharing the database, held by a session advisory lock on a
// connection of Lead's own. fn's context ends when the lead is lost (that
// connection dropped; the server then lets another node lead) or ctx ends;
// a node that lost the lead tries again. Lead returns ctx's error when ctx
// ends, or nil when fn returns while it still leads.
//
// A node cut off from the database notices within leadEvery plus a few
// seconds; until then it may still be running fn while another node
// already leads.
func (db *DB) Lead(ctx context.Context, role string, fn func(ctx context.Context)) error {
	lock := db.lockID("lead", role)
	for {
		if done, err := db.leadOnce(ctx, lock, fn); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leadEvery):
		}
	}
}

// leadOnce tries to take the lead once; while it holds it, it runs fn. done
// is true when fn returned on its own.
func (db *DB) leadOnce(ctx context.Context, lock int64, fn func(ctx context.Context)) (done bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, db.cfg.ConnConfig.Copy())
	cancel()
	if err != nil {
		return false, ctx.Err()
	}
	defer conn.Close(context.Background()) // and with it the lock, should it be held
	var mine bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lock).Scan(&mine); err != nil || !mine {
		return false, ctx.Err()
	}
	lctx, lost := context.WithCancel(ctx)
	defer lost()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		fn(lctx)
	}()
	tick := time.NewTicker(leadEvery)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return lctx.Err() == nil, nil
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				lost()
				<-finished
				return false, ctx.Err()
			}
		}
	}
}
