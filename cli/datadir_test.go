package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"klaxon/incidents"
)

// openApp opens a klaxon on dir (not serving) until the test ends.
func openApp(t *testing.T, addr, dir string) *App {
	t.Helper()
	app, err := OpenApp(context.Background(), Config{Listen: addr, DataDir: dir}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// --data-dir never changes an existing directory's mode (it may be shared:
// /tmp is 1777); klaxon warns when others may read it, makes a missing one
// 0700, and keeps the database and its -wal and -shm 0600.
func TestDataDirKeepsItsMode(t *testing.T) {
	shared := t.TempDir()
	if err := os.Chmod(shared, os.ModePerm|os.ModeSticky); err != nil { // 1777, as /tmp
		t.Fatal(err)
	}
	app := openApp(t, freeAddr(t), shared)
	if _, err := app.Service.Ingest(context.Background(), app.Default, incidents.Event{Action: incidents.Trigger, Title: "x", Key: "x"},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(shared)
	if err != nil || st.Mode()&(os.ModePerm|os.ModeSticky) != os.ModePerm|os.ModeSticky {
		t.Fatalf("a shared directory (1777) became %v", st.Mode())
	}
	if !strings.Contains(app.Warning, "open to others (mode 1777)") {
		t.Fatalf("warning %q; want one saying the directory is open to others", app.Warning)
	}
	for _, name := range []string{"klaxon.db", "klaxon.db-wal", "klaxon.db-shm", "api-token", "lock"} {
		st, err := os.Stat(filepath.Join(shared, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", name, st.Mode().Perm())
		}
	}

	// A directory of klaxon's own says nothing.
	own := filepath.Join(t.TempDir(), "a", "klaxon")
	app = openApp(t, freeAddr(t), own)
	if st, err := os.Stat(own); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("a new data directory: %v %v, want 0700", st.Mode(), err)
	}
	if app.Warning != "" {
		t.Fatalf("warning %q for a directory of klaxon's own", app.Warning)
	}
}

// The commands that only read open the data directory without a lock, so
// they work beside a klaxon that listens elsewhere (and never keep one from
// starting); a command that writes still needs the lock.
func TestReadingCommandsTakeNoLock(t *testing.T) {
	dir := t.TempDir()
	app := openApp(t, freeAddr(t), dir)
	in, err := app.Service.Ingest(context.Background(), app.Default, incidents.Event{Action: incidents.Trigger, Title: "disk full", Key: "disk full"},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"})
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"--listen", freeAddr(t), "--data-dir", dir} // nothing answers there
	for _, args := range [][]string{
		{"incidents"},
		{"export"},
		{"export", "--format", "csv"},
		{"integrations"},
		{"integrations", "show", "default"},
	} {
		code, out, errOut := run(t, append(args, common...)...)
		if code != 0 || errOut != "" {
			t.Fatalf("%s beside a running klaxon: %d %q", strings.Join(args, " "), code, errOut)
		}
		if args[0] != "integrations" && !strings.Contains(out, "disk full") {
			t.Fatalf("%s: %q", strings.Join(args, " "), out)
		}
	}
	code, _, errOut := run(t, append([]string{"ack", strconv.FormatInt(in.Incident.ID, 10)}, common...)...)
	if code != 1 || !strings.Contains(errOut, "in use by another klaxon") {
		t.Fatalf("ack beside a running klaxon: %d %q; want it refused", code, errOut)
	}
	// Nor did the ack leave the lock taken: once the klaxon stops, it works.
	app.Close()
	if code, out, errOut := run(t, append([]string{"ack", strconv.FormatInt(in.Incident.ID, 10)}, common...)...); code != 0 {
		t.Fatalf("ack alone: %d %q %q", code, out, errOut)
	}
}

// With the lock file deleted, a second klaxon on the data directory is still
// refused: the database file's own lock holds.
func TestSecondKlaxonRefusedWithoutTheLockFile(t *testing.T) {
	dir := t.TempDir()
	openApp(t, freeAddr(t), dir)
	if err := os.Remove(filepath.Join(dir, "lock")); err != nil {
		t.Fatal(err)
	}
	_, err := OpenApp(context.Background(), Config{Listen: freeAddr(t), DataDir: dir}, &syncBuffer{})
	var inUse *DataDirInUseError
	if !errors.As(err, &inUse) || inUse.Dir != dir {
		t.Fatalf("a second klaxon without the lock file: %v; want DataDirInUseError", err)
	}
}

// export writes, chunk by chunk, exactly what writeIncidents writes of all
// the incidents at once, in each format.
func TestExportInChunksWritesOneDocument(t *testing.T) {
	dir := t.TempDir()
	app := openApp(t, freeAddr(t), dir)
	ctx := context.Background()
	n := exportChunk + 37
	evs := make([]incidents.Event, n)
	for i := range evs {
		evs[i] = incidents.Event{Action: incidents.Trigger, Key: fmt.Sprint("k", i), Title: fmt.Sprintf("disk %d \"full\"\n,=x", i),
			Details: []byte(fmt.Sprintf(`{"host":"db-%d","note":"a, b\nc"}`, i))}
	}
	if _, err := app.Service.IngestAll(ctx, app.Default, evs, &incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"}, nil); err != nil {
		t.Fatal(err)
	}
	b := serviceBackend{Service: app.Service, base: "http://127.0.0.1:1"}
	all, err := listAll(ctx, b, incidents.Filter{Status: "all"}, 0)
	if err != nil || len(all) != n {
		t.Fatalf("%d incidents, %v", len(all), err)
	}
	for i, in := range all {
		if all[i], err = b.Incident(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"json", "ndjson", "csv"} {
		var want, got bytes.Buffer
		if err := writeIncidents(&want, format, all); err != nil {
			t.Fatal(err)
		}
		if err := exportIncidents(ctx, b, incidents.Filter{Status: "all"}, time.Time{}, time.Now().Add(time.Hour), format, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s: export in chunks differs from the whole (%d bytes, want %d)", format, got.Len(), want.Len())
		}
		// And nothing at all is an empty document.
		want.Reset()
		got.Reset()
		writeIncidents(&want, format, nil)
		if err := exportIncidents(ctx, b, incidents.Filter{Status: "all"}, time.Time{}, time.Time{}.Add(time.Hour), format, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s, nothing: %q, want %q", format, got.String(), want.String())
		}
	}
}

// On a full disk (a 4 MB tmpfs; needs root) `klaxon serve` and `klaxon
// incidents` say the disk is full, not that klaxon.db is no klaxon database.
func TestFullDiskSaysSo(t *testing.T) {
	mnt := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("a full disk needs a small tmpfs, and mounting one needs root: run the test as root to cover it")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "data")
	func() {
		app := openApp(t, freeAddr(t), dir)
		defer app.Close()
		for i := range 3 {
			if _, err := app.Service.Ingest(context.Background(), app.Default, incidents.Event{Action: incidents.Trigger, Title: fmt.Sprint(i), Key: fmt.Sprint(i)},
				&incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"}); err != nil {
				t.Fatal(err)
			}
		}
	}()
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for chunk := bytes.Repeat([]byte{1}, 4096); ; {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	common := []string{"--listen", freeAddr(t), "--data-dir", dir}
	for _, args := range [][]string{{"serve"}, {"incidents"}, {"export"}} {
		code, _, errOut := run(t, append(args, common...)...)
		if code != 1 || !strings.Contains(errOut, "the disk holding "+dir+" is full") || strings.Contains(errOut, "not a klaxon database") {
			t.Fatalf("%s on a full disk: %d %q", args[0], code, errOut)
		}
	}
	os.Remove(filepath.Join(mnt, "filler"))
	code, out, errOut := run(t, append([]string{"incidents"}, common...)...)
	if code != 0 || strings.Count(out, "\n") != 4 {
		t.Fatalf("incidents once there is room: %d %q %q", code, out, errOut)
	}
}
