package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// klaxon bench's bare durable receiver runs only on a directory it is given,
// never on klaxon's own data directory, and serves until it is stopped.
func TestBenchChildDurable(t *testing.T) {
	own := t.TempDir()
	t.Setenv("KLAXON_DATA_DIR", own)
	// Were it to serve, it would do so until the context ends.
	refuse, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	var refusal syncBuffer
	code := Run(refuse, []string{"bench", "child", "durable"}, Env{Stdout: &refusal, Stderr: &refusal})
	if code == 0 || !strings.Contains(refusal.String(), "needs --data-dir") {
		t.Fatalf("without --data-dir: %d %q", code, refusal.String())
	}
	if _, err := os.Stat(filepath.Join(own, "durable.db")); !os.IsNotExist(err) {
		t.Fatalf("it touched klaxon's own data directory: %v", err)
	}

	scratch := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"bench", "child", "durable", "--data-dir", scratch}, Env{Stdout: &out, Stderr: &errb})
	}()
	var url string
	for i := 0; i < 500 && url == ""; i++ {
		if u, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "url "); ok {
			url = u
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" {
		cancel()
		t.Fatalf("no url printed; stderr %q", errb.String())
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"title":"disk full"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 || resp.StatusCode != 200 {
		t.Fatalf("status %d, exit %d: %s", resp.StatusCode, code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(scratch, "durable.db")); err != nil {
		t.Fatal(err)
	}
}

// klaxon bench --database refuses what it cannot measure before it starts
// anything; the password of a refused URL is not printed.
func TestBenchDatabaseUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--database", "mysql://k:secret@db/x"}, "is not a postgres:// URL"},
		{[]string{"--database", "postgres://k@db/x", "--console"}, "--database is not for --console"},
		{[]string{"--database", "postgres://k@db/x", "--patterns", ""}, "--database needs a pattern"},
	} {
		code, out, errOut := run(t, append([]string{"bench"}, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "secret") {
			t.Errorf("bench %q: %d %q %q", c.args, code, out, errOut)
		}
	}
}
