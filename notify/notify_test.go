package notify

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/internal/testkit"
)

func TestCommandOnTriggerAndRealert(t *testing.T) {
	dir := t.TempDir()
	_, svc, integ := testkit.Service(t, "default")
	ingest := func(title string, sev incidents.Severity) *incidents.Incident {
		res, err := svc.Ingest(context.Background(), integ, incidents.Event{Key: title, Title: title, Severity: sev, Action: incidents.Trigger},
			&incidents.Request{At: time.Now(), Method: "POST", Path: "/default/push-events"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Incident
	}

	out := filepath.Join(dir, "alerts")
	os.Mkdir(out, 0o700)
	var (
		mu     sync.Mutex
		now    = time.Now()
		alerts []string
	)
	n := New(svc, Options{
		// Each run writes its stdin to a file named after the reason and incident.
		Command: `cat > "` + out + `/$KLAXON_REASON-$KLAXON_INCIDENT.json"`,
		Realert: map[incidents.Severity]time.Duration{incidents.Sev1: 5 * time.Minute},
		Alert: func(in *incidents.Incident, reason string) {
			mu.Lock()
			alerts = append(alerts, reason+":"+in.Title)
			mu.Unlock()
		},
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx, time.Hour); close(done) }()
	time.Sleep(50 * time.Millisecond) // subscribed

	page := ingest("db down", incidents.Sev1)
	ingest("db down", incidents.Sev1) // a repeat does not alert again
	calm := ingest("cron late", incidents.Sev3)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) >= 2 })
	n.mu.Lock()
	tracked := len(n.lastAlert)
	n.mu.Unlock()
	if tracked != 0 {
		t.Fatalf("tracking %d incidents before any re-alert, want none (a first re-alert counts from first_seen)", tracked)
	}

	// Five minutes on: only the sev1 re-alerts; after an ack nothing does.
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	n.Realert(context.Background())
	svc.Acknowledge(context.Background(), page.ID, incidents.ByConsole)
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	n.Realert(context.Background())
	cancel()
	<-done

	mu.Lock()
	got := strings.Join(alerts, ",")
	mu.Unlock()
	if got != "created:db down,created:cron late,realert:db down" {
		t.Fatalf("alerts = %s", got)
	}
	var in incidents.Incident
	b, err := os.ReadFile(filepath.Join(out, "created-1.json"))
	if err != nil || json.Unmarshal(b, &in) != nil || in.Title != "db down" || in.Severity != incidents.Sev1 {
		t.Fatalf("command's stdin: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "realert-1.json")); err != nil {
		t.Fatal("no re-alert run")
	}
	if _, err := os.Stat(filepath.Join(out, "created-"+itoa(calm.ID)+".json")); err != nil {
		t.Fatal("no run for the sev3")
	}
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("timed out")
}

// A re-alert is published as a change, so that every console hears it the
// way it hears everything else.
func TestRealertIsPublishedAsAChange(t *testing.T) {
	_, svc, integ := testkit.Service(t, "default")
	now := time.Now()
	res, err := svc.Ingest(context.Background(), integ, incidents.Event{Key: "db down", Title: "db down", Severity: incidents.Sev1, Action: incidents.Trigger},
		&incidents.Request{At: now, Method: "POST", Path: "/default/push-events"})
	if err != nil {
		t.Fatal(err)
	}
	changes, cancel := svc.Subscribe()
	defer cancel()
	n := New(svc, Options{
		Realert: map[incidents.Severity]time.Duration{incidents.Sev1: 5 * time.Minute},
		Now:     func() time.Time { return now.Add(6 * time.Minute) },
	})
	n.Realert(context.Background())
	select {
	case c := <-changes:
		if c.Kind != incidents.ChangeRealert || c.Incident == nil || c.Incident.ID != res.Incident.ID {
			t.Fatalf("change %+v, want a re-alert of #%d", c, res.Incident.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the re-alert was not published")
	}
}
