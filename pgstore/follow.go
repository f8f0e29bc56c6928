package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

// Remote is a change that another klaxon node committed (or a re-alert it
// announced, see AnnounceRealert), as this node reads it back: what its
// Service should publish to its own broker, so that every console and
// stream sees every node's changes.
type Remote struct {
	// Change is an incident as it is now (without its timeline) with what
	// happened to it on the other node (Kind) and what its webhook event
	// did (Outcome; empty for a person's or a timer's action), or a new
	// journal entry (Request), or Resync: notifications may have been
	// missed, reload everything.
	incidents.Change
	// Integrations: an integration was created or changed (timers, chaos)
	// on another node; reload them. Change is empty then.
	Integrations bool
}

// Follow listens for the changes other nodes commit and hands each to fn,
// in the order they committed, until ctx ends; it returns ctx's error. It
// keeps a connection of its own. When that connection drops it connects
// again (within a second, as long as the database answers), and then hands
// fn a Resync, since what was committed meanwhile was not heard; it does so
// on its first connection too, which tells the caller that it listens. The
// node's own changes are left out: its Service publishes them already.
//
// fn runs on Follow's goroutine; a slow fn delays what follows, never the
// writers.
func (db *DB) Follow(ctx context.Context, fn func(Remote)) error {
	hand := fn
	fn = func(r Remote) {
		hand(r)
		db.heard.Add(1)
	}
	backoff := 50 * time.Millisecond
	for {
		err := db.listen(ctx, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = err // the connection dropped or could not be made: try again
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
		if err == nil {
			backoff = 50 * time.Millisecond
		}
	}
}

// Changes is Follow as a channel, closed when ctx ends. When the reader
// falls behind by buffer changes, what is queued is dropped for one Resync.
func (db *DB) Changes(ctx context.Context, buffer int) <-chan Remote {
	if buffer < 1 {
		buffer = incidents.SubscriberBuffer
	}
	ch := make(chan Remote, buffer)
	go func() {
		defer close(ch)
		_ = db.Follow(ctx, func(r Remote) {
			select {
			case ch <- r:
				return
			default:
			}
		drain:
			for {
				select {
				case <-ch:
				default:
					break drain
				}
			}
			select {
			case ch <- Remote{Change: incidents.Change{Resync: true}}:
			default:
			}
		})
	}()
	return ch
}

// listenIdle is how long Follow waits for a notification before it checks
// that its connection still answers.
var listenIdle = 5 * time.Second

// listen runs one connection's worth of Follow. It returns nil when it ran
// for a while before the connection dropped.
func (db *DB) listen(ctx context.Context, fn func(Remote)) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, db.cfg.ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return err
	}
	db.followMu.Lock()
	db.followConn = conn
	db.followMu.Unlock()
	defer func() {
		db.followMu.Lock()
		db.followConn = nil
		db.followMu.Unlock()
	}()
	fn(Remote{Change: incidents.Change{Resync: true}})
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if conn.PgConn().IsClosed() || !(errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) {
				return nil // dropped
			}
			// Quiet for a while: make sure the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
			continue
		}
		var p payload
		if json.Unmarshal([]byte(n.Payload), &p) != nil || p.Node == db.node {
			continue
		}
		db.deliver(ctx, p, fn)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// deliver reads back what one notification names and hands it to fn.
func (db *DB) deliver(ctx context.Context, p payload, fn func(Remote)) {
	if p.Integrations {
		fn(Remote{Integrations: true})
	}
	if len(p.Incidents) > 0 {
		byID, err := db.incidentsByID(ctx, p.Incidents)
		if err != nil {
			fn(Remote{Change: incidents.Change{Resync: true}}) // could not read them: reload instead
			return
		}
		for i, id := range p.Incidents {
			in := byID[id]
			if in == nil {
				continue // pruned meanwhile
			}
			c := *in // each change its own copy
			ch := incidents.Change{Incident: &c}
			if i < len(p.Outcomes) {
				ch.Outcome = p.Outcomes[i]
			}
			if i < len(p.Kinds) {
				ch.Kind = p.Kinds[i]
			}
			if ch.Kind == incidents.ChangeRealert && c.Status != incidents.Triggered {
				continue // acknowledged or resolved since: nothing rings for it
			}
			fn(Remote{Change: ch})
		}
	}
	if len(p.Requests) > 0 {
		reqs, err := db.requestsByID(ctx, p.Requests)
		if err != nil {
			fn(Remote{Change: incidents.Change{Resync: true}})
			return
		}
		for _, req := range reqs {
			fn(Remote{Change: incidents.Change{Request: req}})
		}
	}
}

// followBackend is the backend pid of Follow's connection (0 while it has
// none), for tests that cut it.
func (db *DB) followBackend() uint32 {
	db.followMu.Lock()
	defer db.followMu.Unlock()
	if db.followConn == nil {
		return 0
	}
	return db.followConn.PgConn().PID()
}
