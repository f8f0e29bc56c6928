package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

// TestCommandDoesNotInheritTheAPIToken: the --on-trigger command gets the
// incident and klaxon's environment, but not KLAXON_API_TOKEN, which would
// let any paging script act on every incident through the API.
func TestCommandDoesNotInheritTheAPIToken(t *testing.T) {
	t.Setenv("KLAXON_API_TOKEN", "s3cret-api-token")
	t.Setenv("KLAXON_TEST_KEPT", "kept")
	_, svc, integ := testkit.Service(t, "default")
	envFile := filepath.Join(t.TempDir(), "env")
	n := New(svc, Options{Command: `env > "` + envFile + `.tmp" && mv "` + envFile + `.tmp" "` + envFile + `"`})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // subscribed
	if _, err := svc.Ingest(context.Background(), integ, incidents.Event{Key: "db down", Title: "db down", Action: incidents.Trigger},
		&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, err := os.Stat(envFile); return err == nil })
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	if strings.Contains(env, "s3cret-api-token") || strings.Contains(env, "KLAXON_API_TOKEN") {
		t.Fatalf("the command was given the API token:\n%s", env)
	}
	for _, want := range []string{"KLAXON_TEST_KEPT=kept", "KLAXON_TITLE=db down", "KLAXON_REASON=created", "PATH="} {
		if !strings.Contains(env, want) {
			t.Fatalf("the command's environment lacks %s:\n%s", want, env)
		}
	}
}
