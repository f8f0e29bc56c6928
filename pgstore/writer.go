package pgstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"klaxon/incidents"
)

// Group commit, as storage's writer does it on SQLite: the writes that
// queue while a transaction commits go into the next one, which one commit
// answers.
//
// A round trip to the server costs more than anything a write does, so a
// batch makes few, whatever its size. Its jobs say beforehand which dedup
// keys they will read and how many rows they may add; the batch then, in
// one round trip, takes the keys' advisory locks (in one order, so that two
// nodes' batches over the same keys wait for each other instead of
// deadlocking), reads and locks their open incidents (FOR UPDATE: a repeat
// on another node waits, then reads what this one wrote, so counters stay
// exact) and draws the ids the new rows will have. The jobs then run in Go,
// queueing their writes, and one more round trip sends them all with the
// NOTIFY that tells other nodes. A job that must read what the batch wrote
// (the rare cases) has the queue sent first.
//
// Should a job fail before its writes were sent, they are dropped from the
// queue and the others go on. Should a statement fail, the transaction is
// rolled back and the batch runs again with each job in its own savepoint,
// so that the failing job undoes only its own work. A batch that lost a
// deadlock, or met a unique violation (another node opened an incident
// first: it has now, so the event folds into it), runs again.

type job struct {
	ctx   context.Context
	fn    func(w *wtx) error
	need  need
	done  chan error
	notes notes // what the job changed, for NOTIFY; set afresh on each run
}

// need is what a job will ask of its batch.
type need struct {
	locks    []int64   // advisory locks (the dedup keys')
	keys     []openKey // dedup keys whose open incident it reads
	triggers []openKey // of those, the ones it may open an incident for
	keyless  int       // incidents it opens without a key
	entries  int       // timeline entries it will likely record
	requests int       // journal entries it records
}

// openKey is an integration's dedup key.
type openKey struct {
	integ int64
	key   string
}

// openRow is an open incident as the batch has it, and what it keeps of
// its suppressed events. A job never changes one: it replaces it.
type openRow struct {
	in   incidents.Incident
	kept keptSuppressed
}

type undo struct {
	key  openKey
	prev *openRow
	had  bool
}

// wtx is a batch's transaction as its jobs see it.
type wtx struct {
	db    *DB
	tx    pgx.Tx
	ctx   context.Context // the batch's: never a caller's (see write)
	notes *notes          // the running job's

	queued pgx.Batch
	open   map[openKey]*openRow // the open incidents of keys the batch read (nil: none is open)
	undo   []undo               // the running job's changes to open

	// Ids drawn for the batch's new rows (see idPools).
	incidentIDs, requestIDs, timelineIDs []int64

	inJob    bool
	jobStart int  // where the running job's statements start in queued
	jobSent  bool // some of the running job's statements were sent
}

// queue adds a statement to what the batch will send.
func (w *wtx) queue(sql string, args ...any) { w.queued.Queue(sql, args...) }

// flush sends what is queued. An error leaves the transaction failed.
func (w *wtx) flush() error {
	if len(w.queued.QueuedQueries) == 0 {
		return nil
	}
	if w.inJob && len(w.queued.QueuedQueries) > w.jobStart {
		w.jobSent = true
	}
	b := w.queued
	w.queued, w.jobStart = pgx.Batch{}, 0
	return w.tx.SendBatch(w.ctx, &b).Close()
}

// exec runs a statement now (after what is queued) and says how many rows
// it changed.
func (w *wtx) exec(sql string, args ...any) (int64, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	if w.inJob {
		w.jobSent = true
	}
	tag, err := w.tx.Exec(w.ctx, sql, args...)
	return tag.RowsAffected(), err
}

// queryRow runs a query now, after what is queued.
func (w *wtx) queryRow(sql string, args ...any) pgx.Row {
	if err := w.flush(); err != nil {
		return errRow{err}
	}
	if w.inJob {
		w.jobSent = true
	}
	return w.tx.QueryRow(w.ctx, sql, args...)
}

// query runs a query now, after what is queued.
func (w *wtx) query(sql string, args ...any) (pgx.Rows, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	if w.inJob {
		w.jobSent = true
	}
	return w.tx.Query(w.ctx, sql, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// setOpen records what is open under k now, undoably.
func (w *wtx) setOpen(k openKey, row *openRow) {
	prev, had := w.open[k]
	w.undo = append(w.undo, undo{k, prev, had})
	w.open[k] = row
}

// forget drops what the batch knows of incident id (a person or a timer
// changed it): a job that needs it reads it again.
func (w *wtx) forget(id int64) {
	for k, row := range w.open {
		if row != nil && row.in.ID == id {
			w.undo = append(w.undo, undo{k, row, true})
			delete(w.open, k)
		}
	}
}

func (w *wtx) rollbackJob() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		if u.had {
			w.open[u.key] = u.prev
		} else {
			delete(w.open, u.key)
		}
	}
	w.undo = w.undo[:0]
}

// idPools hold incident and journal ids drawn from the sequences and not
// used yet: what one batch leaves over serves the next, so that incident
// numbers stay dense. Timeline ids are drawn afresh by each batch once it
// holds its locks, so that an incident's suppressed events are numbered in
// the order they were recorded, whichever node recorded them.
type idPools struct {
	mu        sync.Mutex // between a DB's writers
	incidents []int64
	requests  []int64
}

// take takes up to n ids from pool.
func (p *idPools) take(pool *[]int64, n int) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n = min(n, len(*pool))
	ids := slices.Clone((*pool)[:n])
	*pool = (*pool)[n:]
	return ids
}

// give puts ids back into pool.
func (p *idPools) give(pool *[]int64, ids []int64) {
	if len(ids) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	*pool = append(*pool, ids...)
	slices.Sort(*pool)
}

const (
	incidentSeq = "incidents_id_seq"
	timelineSeq = "timeline_id_seq"
	requestSeq  = "requests_id_seq"
)

// nextID takes an id from ids, or draws one from seq.
func (w *wtx) nextID(ids *[]int64, seq string) (int64, error) {
	if len(*ids) > 0 {
		id := (*ids)[0]
		*ids = (*ids)[1:]
		return id, nil
	}
	var id int64
	err := w.tx.QueryRow(w.ctx, "SELECT nextval($1)", seq).Scan(&id) // needs nothing queued before it
	return id, err
}

// draw queues the drawing of n ids from seq into ids.
func (w *wtx) draw(ids *[]int64, seq string, n int) {
	if n <= 0 {
		return
	}
	w.queued.Queue("SELECT nextval($1) FROM generate_series(1, $2)", seq, n).Query(func(rows pgx.Rows) error {
		drawn, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		*ids = append(*ids, drawn...)
		slices.Sort(*ids)
		return err
	})
}

// write hands fn to a writer and waits until the transaction that ran it has
// committed (or failed). fn's error rolls back only fn's own work. fn may
// run more than once: it must set, not accumulate, what it hands back. Its
// statements run on the batch's context, never the caller's: an interrupted
// statement would abort the whole shared transaction. The caller's context
// only decides whether the job is started.
func (db *DB) write(ctx context.Context, n need, fn func(w *wtx) error) error {
	j := &job{ctx: ctx, fn: fn, need: n, done: make(chan error, 1)}
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

// errIsolate asks for a batch to run again with each job in a savepoint
// (an isolateError says why); errAgain for the whole batch to run again (a
// deadlock chose it, or another node opened an incident first).
var (
	errIsolate = errors.New("a job failed; run the batch again with savepoints")
	errAgain   = errors.New("the transaction lost a deadlock or a race; run the batch again")
)

type isolateError struct{ cause error }

func (e isolateError) Error() string        { return e.cause.Error() }
func (e isolateError) Unwrap() error        { return e.cause }
func (e isolateError) Is(target error) bool { return target == errIsolate }

// readCommitted is how every write transaction runs, whatever the
// database's default: each statement sees what committed before it began,
// so that a batch that waited for another node's lock reads what that node
// wrote.
var readCommitted = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}

// maxBatchRuns bounds how often a batch runs again after losing a race.
const maxBatchRuns = 6

// commitBatch runs batch in one transaction and answers each job once it has
// committed.
func (db *DB) commitBatch(batch []*job, results []error) {
	isolated := false
	var (
		err error
		top int64
	)
	for run := 0; ; run++ {
		top, err = db.runBatch(batch, results, isolated)
		switch {
		case errors.Is(err, errIsolate) && !isolated:
			isolated = true
			continue
		case errors.Is(err, errIsolate):
			// It failed with every job on its own: what failed is no job's.
			err = classify(errors.Unwrap(err))
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
	if top > 0 {
		db.pruneJournal(top) // once the batch is answered
	}
}

// again reports whether err means the batch should run again: it lost a
// deadlock or a serialization failure, or met a unique violation.
func again(err error) bool {
	c := pgCode(err)
	return c == codeDeadlockDetected || c == codeSerializationFailure || c == codeUniqueViolation
}

// failed turns a statement's failure into what the batch does about it.
func failed(err error) error {
	switch {
	case again(err):
		return errAgain
	case unavailable(err):
		return classify(err) // a full disk fails every job alike
	}
	return isolateError{err}
}

// runBatch runs batch in one transaction, isolated or not, and commits it.
// An error is the whole batch's; results has each job's own. top is the
// newest journal entry it committed.
func (db *DB) runBatch(batch []*job, results []error, isolated bool) (top int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), db.opts.WriteTimeout)
	defer cancel()
	tx, err := db.writer.BeginTx(ctx, readCommitted)
	if err != nil {
		return 0, classify(err)
	}
	defer tx.Rollback(context.Background()) // a no-op once committed
	w := &wtx{db: db, tx: tx, ctx: ctx, open: map[openKey]*openRow{}}
	defer func() { // what the batch did not use serves the next
		db.ids.give(&db.ids.incidents, w.incidentIDs)
		db.ids.give(&db.ids.requests, w.requestIDs)
	}()
	if err := w.prepare(batch, results); err != nil {
		return 0, failed(err)
	}
	alone := !isolated || len(batch) == 1
	for i, j := range batch {
		if results[i] != nil {
			continue
		}
		j.notes = notes{}
		w.notes, w.inJob, w.jobStart, w.jobSent, w.undo = &j.notes, true, len(w.queued.QueuedQueries), false, w.undo[:0]
		incidentIDs, requestIDs := w.incidentIDs, w.requestIDs
		if !alone {
			w.queue("SAVEPOINT job")
		}
		err := j.fn(w)
		if err == nil && !alone {
			w.queue("RELEASE SAVEPOINT job")
			err = w.flush()
		}
		w.inJob = false
		if err == nil {
			continue
		}
		j.notes = notes{}
		w.rollbackJob()
		w.incidentIDs, w.requestIDs = incidentIDs, requestIDs // its rows are not written: their ids serve again
		if !w.jobSent {
			// Nothing of it reached the server: drop its statements.
			w.queued.QueuedQueries = w.queued.QueuedQueries[:w.jobStart]
			results[i] = err
			continue
		}
		switch {
		case !alone:
			w.queued = pgx.Batch{}
			if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"); rerr != nil {
				return 0, classify(errors.Join(err, rerr))
			}
			if again(err) || unavailable(err) {
				return 0, failed(err)
			}
			results[i] = err
		case len(batch) == 1 && !again(err) && !unavailable(err):
			results[i] = err // the job's own error is its answer
			return 0, nil    // and nothing of it stays (the deferred rollback)
		default:
			return 0, failed(err)
		}
	}
	return db.commit(ctx, w, batch, results)
}

// prepare takes the batch's locks, reads its keys' open incidents and draws
// the ids it will need: one round trip, and one more when it opens
// incidents that the ids left over from earlier batches do not cover.
func (w *wtx) prepare(batch []*job, results []error) error {
	var (
		locks          []int64
		keys, triggers []openKey
		integs         []int64
		names          []string
		seen, trig     = map[openKey]bool{}, map[openKey]bool{}
		lockSet        = map[int64]bool{}
		keyless        int
		entries        int
		requests       int
	)
	for i, j := range batch {
		if results[i] = j.ctx.Err(); results[i] != nil {
			continue
		}
		for _, l := range j.need.locks {
			if !lockSet[l] {
				lockSet[l] = true
				locks = append(locks, l)
			}
		}
		for _, k := range j.need.keys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				integs, names = append(integs, k.integ), append(names, k.key)
			}
		}
		for _, k := range j.need.triggers {
			if !trig[k] {
				trig[k] = true
				triggers = append(triggers, k)
			}
		}
		keyless += j.need.keyless
		entries += j.need.entries
		requests += j.need.requests
	}
	if len(locks) > 0 && !w.db.noLocks {
		slices.Sort(locks)
		w.queue("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", locks)
	}
	if len(keys) > 0 {
		for _, k := range keys {
			w.open[k] = nil // none open, unless the query finds one
		}
		w.queued.Queue(prefetchSQL, integs, names).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k openKey
				row, err := scanOpenRow(rows, &k.integ, &k.key)
				if err != nil {
					return err
				}
				w.open[k] = row
			}
			return rows.Err()
		})
	}
	if entries > 0 {
		entries += 2 // to spare: a repeat that changes the severity records two entries
	}
	w.timelineIDs = w.timelineIDs[:0]
	w.draw(&w.timelineIDs, timelineSeq, entries)
	w.requestIDs = w.db.ids.take(&w.db.ids.requests, requests)
	w.draw(&w.requestIDs, requestSeq, requests-len(w.requestIDs))
	if err := w.flush(); err != nil {
		return err
	}
	creates := keyless
	for _, k := range triggers {
		if w.open[k] == nil {
			creates++
		}
	}
	w.incidentIDs = w.db.ids.take(&w.db.ids.incidents, creates)
	w.draw(&w.incidentIDs, incidentSeq, creates-len(w.incidentIDs))
	return w.flush()
}

// commit tells other nodes what the batch changed (NOTIFY is delivered with
// the commit, and only if it commits) and commits.
func (db *DB) commit(ctx context.Context, w *wtx, batch []*job, results []error) (int64, error) {
	var all notes
	for i, j := range batch {
		if results[i] == nil {
			all.add(j.notes)
		}
	}
	if payloads := all.payloads(db.node); len(payloads) > 0 {
		w.queue("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", db.channel, payloads)
	}
	if err := w.flush(); err != nil {
		return 0, failed(err)
	}
	if err := w.tx.Commit(ctx); err != nil {
		if again(err) {
			return 0, errAgain
		}
		return 0, classify(err)
	}
	db.commits.Add(1)
	if f := db.onCommit.Load(); f != nil {
		(*f)(len(batch))
	}
	return all.journalTop(), nil
}
