package pgstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

// Group commit, as storage's writer does it on SQLite: the writes that
// queue while a transaction commits go into the next one, which one commit
// answers. Jobs run one after another without savepoints (free); should one
// fail, the transaction is rolled back and the batch runs again with each job
// in its own savepoint, so that the failing job undoes only its own work.
//
// Across nodes, batches are transactions like any other: a repeat locks its
// open incident (FOR UPDATE), and the dedup keys a batch will touch are
// locked first, in one order (advisory transaction locks), so that two
// nodes' batches over the same keys wait for each other instead of
// deadlocking. What still conflicts (a unique violation when another node
// opened the incident first, a deadlock through person actions) runs again.

type job struct {
	ctx   context.Context
	fn    func(w *wtx) error
	locks []int64 // advisory locks to hold before any job of the batch runs
	done  chan error
	notes notes // what the job changed, for NOTIFY; set afresh on each run
}

// wtx is a job's view of the batch's transaction.
type wtx struct {
	tx    pgx.Tx
	ctx   context.Context // the batch's: never the caller's (see write)
	notes *notes
}

func (w *wtx) exec(sql string, args ...any) (int64, error) {
	tag, err := w.tx.Exec(w.ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (w *wtx) queryRow(sql string, args ...any) pgx.Row { return w.tx.QueryRow(w.ctx, sql, args...) }

// write hands fn to a writer and waits until the transaction that ran it has
// committed (or failed). fn's error rolls back only fn's own work. fn may
// run more than once: it must set, not accumulate, what it hands back. Its
// statements run on the batch's context, never the caller's: an interrupted
// statement would abort the whole shared transaction. The caller's context
// only decides whether the job is started.
func (db *DB) write(ctx context.Context, locks []int64, fn func(w *wtx) error) error {
	j := &job{ctx: ctx, fn: fn, locks: locks, done: make(chan error, 1)}
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return incidents.Errorf(incidents.EUNAVAILABLE, "klaxon is shutting down and took nothing; send again in a moment")
	}
	select {
	case db.jobs <- j:
		db.closeMu.RUnlock()
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	return <-j.done
}

func (db *DB) writeLoop() {
	defer db.stopped.Done()
	batch := make([]*job, 0, db.opts.MaxBatch)
	results := make([]error, db.opts.MaxBatch)
	for first := range db.jobs {
		batch = append(batch[:0], first)
	collect:
		for len(batch) < db.opts.MaxBatch {
			select {
			case j, ok := <-db.jobs:
				if !ok {
					break collect
				}
				batch = append(batch, j)
			default:
				break collect
			}
		}
		db.commitBatch(batch, results[:len(batch)])
	}
}

// errIsolate asks for a batch to run again with each job in a savepoint;
// errAgain for the whole batch to run again (a deadlock chose it).
var (
	errIsolate = errors.New("a job failed; run the batch again with savepoints")
	errAgain   = errors.New("the transaction lost a deadlock or a race; run the batch again")
)

// maxBatchRuns bounds how often a batch runs again after losing a deadlock
// to another node; maxJobRuns how often one job runs again after a unique
// violation (another node opened the incident it was about to open).
const (
	maxBatchRuns = 6
	maxJobRuns   = 4
)

// commitBatch runs batch in one transaction and answers each job once it has
// committed.
func (db *DB) commitBatch(batch []*job, results []error) {
	isolated := false
	var err error
	for run := 0; ; run++ {
		err = db.runBatch(batch, results, isolated)
		switch {
		case errors.Is(err, errIsolate):
			isolated = true
			continue
		case errors.Is(err, errAgain) && run < maxBatchRuns:
			db.reruns.Add(1)
			isolated = isolated || len(batch) > 1
			time.Sleep(time.Duration(1+rand.IntN(5*(run+1))) * time.Millisecond)
			continue
		case errors.Is(err, errAgain):
			err = incidents.Errorf(incidents.EUNAVAILABLE, "the database kept choosing this write to break a deadlock with other klaxons; klaxon took nothing, send again")
		}
		break
	}
	for i, j := range batch {
		if err != nil {
			j.done <- err
		} else {
			j.done <- results[i]
		}
	}
}

// again reports whether err means the transaction should run again: it
// lost a deadlock, or a serialization failure.
func again(err error) bool {
	c := pgCode(err)
	return c == codeDeadlockDetected || c == codeSerializationFailure
}

// runBatch runs batch in one transaction, isolated or not, and commits it.
// An error is the whole batch's; results has each job's own.
func (db *DB) runBatch(batch []*job, results []error, isolated bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), db.opts.WriteTimeout)
	defer cancel()
	tx, err := db.writer.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(context.Background()) // a no-op once committed
	w := &wtx{tx: tx, ctx: ctx}

	// The batch's advisory locks, in one order: see the comment at the top.
	var locks []int64
	for i, j := range batch {
		if results[i] = j.ctx.Err(); results[i] == nil {
			locks = append(locks, j.locks...)
		}
	}
	if len(locks) > 0 && !db.noLocks {
		slices.Sort(locks)
		locks = slices.Compact(locks)
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", locks); err != nil {
			if again(err) {
				return errAgain
			}
			return classify(err)
		}
	}

	for i, j := range batch {
		if results[i] != nil {
			continue
		}
		j.notes = notes{}
		w.notes = &j.notes
		if !isolated || len(batch) == 1 {
			err := j.fn(w)
			if err == nil {
				continue
			}
			j.notes = notes{}
			switch {
			case again(err) || pgCode(err) == codeUniqueViolation:
				return errAgain
			case unavailable(err):
				return classify(err) // a full disk fails every job alike
			case len(batch) == 1:
				results[i] = err // the job's own error is its answer
				return nil       // and nothing of it stays (the deferred rollback)
			}
			return errIsolate
		}
		for run := 1; ; run++ {
			if _, err := tx.Exec(ctx, "SAVEPOINT job"); err != nil {
				return classify(err)
			}
			err := j.fn(w)
			if err == nil {
				if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT job"); err != nil {
					return classify(err)
				}
				break
			}
			j.notes = notes{}
			if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT job"); rerr != nil {
				return classify(errors.Join(err, rerr))
			}
			if _, rerr := tx.Exec(ctx, "RELEASE SAVEPOINT job"); rerr != nil {
				return classify(rerr)
			}
			switch {
			case again(err):
				return errAgain
			case unavailable(err):
				return classify(err)
			case pgCode(err) == codeUniqueViolation && run < maxJobRuns:
				db.retries.Add(1)
				continue // another node opened it first: now the job folds
			}
			results[i] = err
			break
		}
	}
	return db.commit(ctx, tx, batch, results)
}

// commit tells other nodes what the batch changed (NOTIFY is delivered with
// the commit, and only if it commits) and commits.
func (db *DB) commit(ctx context.Context, tx pgx.Tx, batch []*job, results []error) error {
	var all notes
	for i, j := range batch {
		if results[i] == nil {
			all.add(j.notes)
		}
	}
	if payloads := all.payloads(db.node); len(payloads) > 0 {
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", db.channel, payloads); err != nil {
			if again(err) {
				return errAgain
			}
			return classify(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		if again(err) {
			return errAgain
		}
		return classify(err)
	}
	db.commits.Add(1)
	if f := db.onCommit.Load(); f != nil {
		(*f)(len(batch))
	}
	if top := all.journalTop(); top > 0 {
		db.pruneJournal(top)
	}
	return nil
}
