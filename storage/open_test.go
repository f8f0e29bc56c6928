package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"klaxon/incidents"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory for the test:
// the one way to make a real full disk (ENOSPC) that SQLite meets when it
// opens a file. It needs root (or CAP_SYS_ADMIN); without it the test is
// skipped and says so.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("a full disk needs a small tmpfs, and mounting one needs root: run the test as root to cover it")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): run the test as root to cover a full disk", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the disk holding dir is full.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{0xAA}, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	return func() { os.Remove(path) }
}

// A restart on a full disk says the disk is full, not that the file is not a
// klaxon database; so do the commands that only read, and a first start,
// which leaves no empty klaxon.db behind. Once there is room, klaxon starts
// and every event is there.
func TestFullDiskAtOpen(t *testing.T) {
	mnt := mountTmpfs(t, 4<<20)
	dir := filepath.Join(mnt, "data")
	path := filepath.Join(dir, "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	integ := mustIntegration(t, db, "default")
	for i := range 3 {
		ingest(t, db, integ, incidents.Event{Title: fmt.Sprint("event ", i)})
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	free := fill(t, mnt)
	want := "the disk holding " + dir + " is full"
	for _, readFirst := range []bool{false, true} {
		_, err := Open(context.Background(), path, Options{ReadFirst: readFirst})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "not a klaxon database") {
			t.Fatalf("restart on a full disk (ReadFirst %v): %v; want %q", readFirst, err, want)
		}
	}
	fresh := filepath.Join(mnt, "fresh")
	os.Mkdir(fresh, 0o700)
	_, err = Open(context.Background(), filepath.Join(fresh, "klaxon.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), "the disk holding "+fresh+" is full") {
		t.Fatalf("first start on a full disk: %v", err)
	}
	if left, _ := os.ReadDir(fresh); len(left) > 0 {
		t.Fatalf("a failed first start left %v behind", left)
	}

	free()
	db, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("once there is room: %v", err)
	}
	defer db.Close()
	if n, err := db.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); err != nil || n != 3 {
		t.Fatalf("once there is room: %d incidents, %v; want 3", n, err)
	}
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// damage overwrites the middle half of the file's pages with junk.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pages := st.Size() / 4096
	if pages < 16 {
		t.Fatalf("%d pages: too few to damage the middle", pages)
	}
	junk := bytes.Repeat([]byte("junk"), 1024)
	for p := pages / 4; p < pages*3/4; p++ {
		if _, err := f.WriteAt(junk, p*4096); err != nil {
			t.Fatal(err)
		}
	}
}

// withIncidents makes a closed database of n incidents.
func withIncidents(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	integ := mustIntegration(t, db, "default")
	err = db.write(context.Background(), func(tx *sql.Tx) error {
		for i := range n {
			if _, err := db.ingestOne(tx, integ, incidents.Event{Action: incidents.Trigger, Title: fmt.Sprint("incident ", i), Key: fmt.Sprint("incident ", i),
				Details: []byte(fmt.Sprintf(`{"host":"db-%d","pad":"%s"}`, i, strings.Repeat("x", 200)))}, clock); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A database damaged in its middle is refused at start, with a message that
// names the file and says how to recover it; klaxon writes nothing to it.
func TestRefusesADamagedDatabase(t *testing.T) {
	path := withIncidents(t, 2000)
	damage(t, path)
	before := fileSum(t, path)
	_, err := Open(context.Background(), path, Options{})
	if err == nil {
		t.Fatal("a damaged database was opened")
	}
	for _, want := range []string{path + " is damaged", ".recover", "restore a backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("refusal %q does not say %q", err, want)
		}
	}
	if fileSum(t, path) != before {
		t.Fatal("klaxon wrote to the damaged file")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// Damage found while klaxon runs (SQLITE_CORRUPT from a write) turns the
// health bad with a problem that says the database is damaged, and every
// write after it is refused the same way (503), even one that would not
// touch the damaged pages.
func TestDamageWhileRunningTurnsHealthBad(t *testing.T) {
	path := withIncidents(t, 2000)
	damage(t, path)
	// Past its budget the check at start gives up and klaxon starts: here
	// as if the damage came after the start.
	defer func(b time.Duration) { quickCheckBudget = b }(quickCheckBudget)
	quickCheckBudget = time.Nanosecond
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("open with the check cut short: %v", err)
	}
	defer db.Close()
	if _, complete := db.QuickCheck(); complete {
		t.Fatal("the check ran to its end in a nanosecond")
	}
	svc := incidents.NewService(db, nil)
	integs, err := svc.Integrations(context.Background())
	if err != nil || len(integs) != 1 {
		t.Fatalf("integrations: %v %v", integs, err)
	}
	_, err = svc.Ingest(context.Background(), integs[0], incidents.Event{Action: incidents.Trigger, Title: "incident 7", Key: "incident 7"},
		&incidents.Request{At: clock, Method: "POST", Path: "/x/push-events"})
	if incidents.ErrorCode(err) != incidents.EUNAVAILABLE || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a write on damaged pages: %v; want EUNAVAILABLE saying the database is damaged", err)
	}
	h := svc.Health()
	if h.OK || !strings.Contains(h.Problem, "damaged") {
		t.Fatalf("health %+v; want bad, saying the database is damaged", h)
	}
	_, err = svc.CreateIntegration(context.Background(), "another", "svc", "", incidents.KindWebhook)
	if incidents.ErrorCode(err) != incidents.EUNAVAILABLE || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a later write: %v; want it refused as damaged", err)
	}
	if h := svc.Health(); h.OK {
		t.Fatal("health turned good on a damaged database")
	}
}

// At most one open incident per (integration, key), whatever the writer's
// memory of open keys says: the schema refuses a second one inserted
// through another connection, and the writer, meeting an open incident it
// did not know, folds the event into it instead of failing.
func TestSchemaRefusesASecondOpenIncidentPerKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	integ := mustIntegration(t, db, "default")
	first := ingest(t, db, integ, incidents.Event{Title: "dup"})

	side, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close()
	insert := `INSERT INTO incidents (integration_id, dedup_key, title, status, suppressed, first_seen, last_seen)
		VALUES (?, ?, ?, 'triggered', 0, 0, 0)`
	if _, err := side.Exec(insert, integ.ID, "dup", "dup"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("a second open incident for one key, through another connection: %v; want a UNIQUE refusal", err)
	}
	// Resolved incidents do not count, nor do other keys.
	if _, err := side.Exec(`UPDATE incidents SET status = 'resolved' WHERE id = ?`, first.Incident.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := side.Exec(insert, integ.ID, "dup", "dup"); err != nil {
		t.Fatalf("an open incident beside a resolved one: %v", err)
	}
	var sideID int64
	side.QueryRow(`SELECT id FROM incidents WHERE dedup_key = 'dup' AND status <> 'resolved'`).Scan(&sideID)
	// The writer still remembers #first as the open one; the database says
	// #sideID. The event folds into #sideID.
	res := ingest(t, db, integ, incidents.Event{Title: "dup"})
	if res.Outcome != incidents.Folded || res.Incident.ID != sideID {
		t.Fatalf("an event for a key opened behind the writer's back: %s #%d; want folded into #%d", res.Outcome, res.Incident.ID, sideID)
	}
	var open int
	side.QueryRow(`SELECT count(*) FROM incidents WHERE dedup_key = 'dup' AND status <> 'resolved'`).Scan(&open)
	if open != 1 {
		t.Fatalf("%d open incidents for one key", open)
	}
}

// The writer locks the database file itself: a second writer of the same
// file is refused even when no data directory lock is taken (the lock file
// was deleted), while a reader (ReadFirst) shares the file with it and
// takes the lock only at its first write.
func TestOneWriterPerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "klaxon.db")
	first, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	integ := mustIntegration(t, first, "default")
	ingest(t, first, integ, incidents.Event{Title: "one"})

	_, err = Open(context.Background(), path, Options{})
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Path != path {
		t.Fatalf("a second writer: %v; want InUseError", err)
	}
	// And the file is untouched by the refusal.
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}

	reader, err := Open(context.Background(), path, Options{ReadFirst: true})
	if err != nil {
		t.Fatalf("a reader beside the writer: %v", err)
	}
	defer reader.Close()
	if n, err := reader.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); err != nil || n != 1 {
		t.Fatalf("the reader counts %d, %v", n, err)
	}
	// The writer goes on writing while the reader reads, and the reader
	// sees it.
	ingest(t, first, integ, incidents.Event{Title: "two"})
	if n, _ := reader.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); n != 2 {
		t.Fatalf("the reader counts %d after the writer's second event, want 2", n)
	}
	// A write through the reader needs the lock.
	if _, err := reader.Act(context.Background(), 1, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock); !errors.As(err, &inUse) {
		t.Fatalf("a write through the reader while the writer runs: %v; want InUseError", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// The reader still reads after its write failed, and once the writer
	// is gone its writes take the lock and go through.
	if n, err := reader.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); err != nil || n != 2 {
		t.Fatalf("the reader counts %d, %v", n, err)
	}
	if in, err := reader.Act(context.Background(), 1, incidents.PersonAction{Kind: incidents.EntryAcknowledged, By: incidents.ByConsole}, clock); err != nil || in.Status != incidents.Acknowledged {
		t.Fatalf("a write through the reader alone: %+v, %v", in, err)
	}
	if _, err := Open(context.Background(), path, Options{}); !errors.As(err, &inUse) {
		t.Fatalf("a writer beside the reader that now writes: %v; want InUseError", err)
	}
}

// A reader in the middle of reading does not keep a writer from starting or
// from writing.
func TestReaderDoesNotHoldOffTheWriter(t *testing.T) {
	path := withIncidents(t, 3000)
	reader, err := Open(context.Background(), path, Options{ReadFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	rows, err := reader.reader.Query(`SELECT id FROM incidents`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rows.Next() // a read transaction is open, as while `klaxon export` streams

	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("a writer while a reader reads: %v", err)
	}
	defer db.Close()
	integ, err := db.Integrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := db.Ingest(ctx, integ[0], incidents.Event{Action: incidents.Trigger, Title: "while reading", Key: "while reading"},
		&incidents.Request{At: clock, Method: "POST", Path: "/x/push-events"}); err != nil {
		t.Fatalf("a write while a reader reads: %v", err)
	}
	n := 1
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 3000 {
		t.Fatalf("the reader read %d rows, %v; want the 3000 of its snapshot", n, err)
	}
}

// A read-only open changes nothing: not the file, not its mode, and a
// schema it cannot read it leaves to a writer.
func TestReadFirstNeedsAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "klaxon.db")
	if _, err := Open(context.Background(), path, Options{ReadFirst: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFirst on no file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("ReadFirst made a file")
	}
}

// The database file and its -wal and -shm are the user's alone (0600), also
// when an older klaxon left them 0644.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "klaxon.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %s is %v, want 0600", when, filepath.Base(p), st.Mode().Perm())
			}
		}
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, db, mustIntegration(t, db, "default"), incidents.Event{Title: "x"})
	check("new database")
	db.Close()
	os.Chmod(path, 0o644)
	db, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	integ, _ := db.Integrations(context.Background())
	ingest(t, db, integ[0], incidents.Event{Title: "y"})
	check("a database an older klaxon made 0644")
}

// Under steady writes from 16 writers the WAL stays within walSizeLimit
// (and one commit): the writer restarts it once it holds walRestartPages,
// instead of letting it grow to walSafetyPages (32 MiB; 31.9 MiB measured
// before) and stay that size. The writers write 100 MiB, several times that.
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MiB")
	}
	path := filepath.Join(t.TempDir(), "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	integ := mustIntegration(t, db, "default")
	stop := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var most int64
		for {
			select {
			case <-stop:
				peak <- most
				return
			case <-time.After(time.Millisecond):
			}
			if st, err := os.Stat(path + "-wal"); err == nil {
				most = max(most, st.Size())
			}
		}
	}()
	pad := strings.Repeat("p", 3000)
	errs := make(chan error, 16)
	for w := range 16 {
		go func() {
			var err error
			for i := 0; i < 1000 && err == nil; i++ {
				title := fmt.Sprintf("w%d-%d", w, i)
				_, err = db.Ingest(context.Background(), integ, incidents.Event{Action: incidents.Trigger, Title: title, Key: title,
					Details: []byte(`"` + pad + `"`)}, &incidents.Request{At: clock, Method: "POST", Path: "/x/push-events", Body: pad})
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	most := <-peak
	st, _ := os.Stat(path)
	t.Logf("database %.1f MiB, WAL peak %.1f MiB, %d restarts", float64(st.Size())/(1<<20), float64(most)/(1<<20), db.walRestarts.Load())
	if limit := int64(walSizeLimit + 4<<20); most > limit {
		t.Fatalf("the WAL reached %d bytes; want at most %d", most, limit)
	}
}

// A klaxon database recovered with sqlite3's .dump (which drops the
// application_id; see damagedFile) is still klaxon's: it opens, and is
// marked again. Another program's database still is not.
func TestAcceptsAKlaxonDatabaseRecoveredByDump(t *testing.T) {
	path := withIncidents(t, 3)
	side, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := side.Exec("PRAGMA application_id = 0"); err != nil {
		t.Fatal(err)
	}
	side.Close()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("a klaxon database without its application_id: %v", err)
	}
	defer db.Close()
	var id int64
	if err := db.reader.QueryRow("PRAGMA application_id").Scan(&id); err != nil || id != applicationID {
		t.Fatalf("application_id %x, %v; want it marked again", id, err)
	}
	if n, err := db.CountIncidents(context.Background(), incidents.Filter{Status: "all"}); err != nil || n != 3 {
		t.Fatalf("%d incidents, %v", n, err)
	}
}

// A reader that stays in the WAL (a long read transaction) keeps it from
// restarting; the writer then tries again only now and then, so its writes
// are not held up, and the WAL is restarted once the reader leaves.
func TestWALRestartDoesNotWaitOnAStayingReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "klaxon.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	integ := mustIntegration(t, db, "default")
	ingest(t, db, integ, incidents.Event{Title: "first"})
	rows, err := db.reader.Query(`SELECT id FROM incidents`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next() // a read transaction stays open in the WAL
	pad := strings.Repeat("p", 3000)
	write := func(n int) (slowest time.Duration) {
		for i := range n {
			began := time.Now()
			title := fmt.Sprint("w", i, "-", began.UnixNano())
			if _, err := db.Ingest(context.Background(), integ, incidents.Event{Action: incidents.Trigger, Title: title, Key: title, Details: []byte(`"` + pad + `"`)},
				&incidents.Request{At: clock, Method: "POST", Path: "/x/push-events", Body: pad}); err != nil {
				t.Fatal(err)
			}
			slowest = max(slowest, time.Since(began))
		}
		return slowest
	}
	restarts := db.walRestarts.Load()
	if slowest := write(1000); slowest > time.Second {
		t.Fatalf("a write took %v while a reader stayed in the WAL", slowest)
	}
	if db.walRestarts.Load() != restarts {
		t.Fatal("the WAL restarted under a reader's feet")
	}
	rows.Close()
	time.Sleep(walRestartPause)
	write(10)
	if db.walRestarts.Load() == restarts {
		t.Fatal("the WAL did not restart once the reader left")
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() > walSizeLimit {
		t.Fatalf("the WAL is %d bytes after its restart (%v), want at most %d", st.Size(), err, walSizeLimit)
	}
}
