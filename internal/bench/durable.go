package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // the same SQLite as the receiver's
)

// The second yardstick: a bare durable receiver. It decodes the JSON as the
// no-op handler does, then stores the event as one row, with the group
// commit and the synchronous=FULL of klaxon's writer, and answers only once
// the row's commit has returned. Nothing else: no incident, no timeline, no
// request journal, no index. It tells what this disk and SQLite allow any
// receiver that keeps its promise "a 200 means the event is on disk", so
// that the ratio to the no-op handler can be read against it.

// durableMaxBatch bounds a commit, as the receiver's MaxBatch does.
const durableMaxBatch = 256

type durableJob struct {
	body []byte
	done chan error
}

// Durable is the bare durable receiver.
type Durable struct {
	db      *sql.DB
	insert  *sql.Stmt
	jobs    chan durableJob
	stopped chan struct{}
}

// OpenDurable opens (creating) durable.db in dir and starts its writer.
func OpenDurable(dir string) (*Durable, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "durable.db")+
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("create the bare durable receiver's table: %w", err)
	}
	insert, err := db.Prepare(`INSERT INTO events (body) VALUES (?)`)
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &Durable{db: db, insert: insert, jobs: make(chan durableJob, 4096), stopped: make(chan struct{})}
	go d.writeLoop()
	return d, nil
}

// writeLoop commits what is queued, up to durableMaxBatch events at a time,
// and answers each event after its commit.
func (d *Durable) writeLoop() {
	runtime.LockOSThread() // as the receiver's writer does
	defer close(d.stopped)
	batch := make([]durableJob, 0, durableMaxBatch)
	for first := range d.jobs {
		batch = append(batch[:0], first)
	queued:
		for len(batch) < durableMaxBatch {
			select {
			case j, ok := <-d.jobs:
				if !ok {
					break queued
				}
				batch = append(batch, j)
			default:
				break queued
			}
		}
		err := d.commit(batch)
		for _, j := range batch {
			j.done <- err
		}
	}
}

func (d *Durable) commit(batch []durableJob) error {
	tx, err := d.db.Begin()
	if err != nil {
		return err
	}
	st := tx.Stmt(d.insert)
	for _, j := range batch {
		if _, err := st.Exec(j.body); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Close stops the writer once what is queued is committed, and closes the
// database. No request may be in flight.
func (d *Durable) Close() error {
	close(d.jobs)
	<-d.stopped
	d.insert.Close()
	return d.db.Close()
}

// Handler decodes the event as NoopHandler does and answers 200 once it is
// committed, 503 when it could not be.
func (d *Durable) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := decodeEvent(w, r)
		if !ok {
			return
		}
		done := make(chan error, 1)
		d.jobs <- durableJob{body: body, done: done}
		if err := <-done; err != nil {
			w.WriteHeader(503)
			fmt.Fprintf(w, "{\"ok\":false,\"error\":%q}\n", err.Error())
			return
		}
		w.Write(acceptedAnswer)
	})
}

// ServeDurable listens on 127.0.0.1:0, prints "url <URL>" to out and serves
// the bare durable receiver on a database in dir until ctx is done.
func ServeDurable(ctx context.Context, dir string, out io.Writer) error {
	d, err := OpenDurable(dir)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return err
	}
	srv := newServer(d.Handler())
	fmt.Fprintf(out, "url http://%s/durable/push-events\n", l.Addr())
	if err := serveUntil(ctx, func() error { return srv.Serve(l) }, srv.Shutdown); err != nil {
		return err // handlers may still be waiting on the writer: leave it to the exit
	}
	return d.Close()
}
