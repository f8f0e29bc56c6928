package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/storage"
)

// Two `klaxon serve` on one data directory, the second started after the
// lock file was deleted: the second is refused, naming the first's pid (the
// database file's own lock holds), so one title never opens two incidents.
func TestSecondServeRefusedWithoutTheLockFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	first, _ := startServe(t, bin, dataDir)
	if err := os.Remove(filepath.Join(dataDir, "lock")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir).CombinedOutput()
	if err == nil {
		t.Fatalf("a second klaxon serve on the data directory started: %s", out)
	}
	want := fmt.Sprintf("is in use by another klaxon (pid %d)", first.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second serve said %q; want %q", out, want)
	}
}

// `klaxon export` reading the data directory (no klaxon answers at its
// --listen) holds no lock: while it is in the middle of its work (reading
// 10,000 incidents, or waiting on a full pipe for its reader), `klaxon
// serve` starts on the same directory and takes events; the export then
// finishes with the incidents it was reading. (It used to hold the data
// directory's lock while it read: 15.8 s for 100,000 incidents.)
func TestServeStartsWhileExportStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	const n = 10000
	func() {
		db, err := storage.Open(context.Background(), filepath.Join(dataDir, "klaxon.db"), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc := incidents.NewService(db, nil)
		integ, err := svc.CreateIntegration(context.Background(), "default", "default", "", incidents.KindWebhook)
		if err != nil {
			t.Fatal(err)
		}
		evs := make([]incidents.Event, n)
		for i := range evs {
			evs[i] = incidents.Event{Action: incidents.Trigger, Key: strconv.Itoa(i), Title: fmt.Sprint("disk ", i),
				Details: json.RawMessage(`"` + strings.Repeat("x", 100) + `"`)}
		}
		if _, err := svc.IngestAll(context.Background(), integ, evs, &incidents.Request{At: time.Now(), Method: "POST", Path: "/t/push-events"}, nil); err != nil {
			t.Fatal(err)
		}
	}()

	export := exec.Command(bin, "export", "--listen", "127.0.0.1:1", "--data-dir", dataDir)
	stdout, err := export.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	export.Stderr = os.Stderr
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { export.Process.Kill(); export.Wait() })
	time.Sleep(300 * time.Millisecond) // it reads, fills the pipe, and waits for its reader

	_, base := startServe(t, bin, dataDir, "--accept-any-token")
	resp, err := http.Post(base+"/while-exporting/push-events", "application/json", strings.NewReader(`{"title":"during export"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("an event while export streams: %d", resp.StatusCode)
	}

	out, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.Wait(); err != nil {
		t.Fatalf("export: %v", err)
	}
	var doc struct{ Incidents []incidents.Incident }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("export is not one JSON document: %v", err)
	}
	if len(doc.Incidents) < n {
		t.Fatalf("export wrote %d incidents, want at least %d", len(doc.Incidents), n)
	}
}
