package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// alert is what the load posts to Alertmanager, as its API reads it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
}

// What the load posts to Alertmanager is Prometheus's shape: a JSON array of
// one alert, its alertname one of Titles names, starting now; every label
// set new in the new pattern, the same Titles label sets over and over in
// the repeat pattern.
func TestAlertmanagerBodies(t *testing.T) {
	for _, p := range []Pattern{NewTitles, RepeatTitles} {
		l := Load{Pattern: p, Format: AlertmanagerAlerts, Titles: 7, Connections: 4, Nonce: "n"}
		names, sets := map[string]bool{}, map[string]bool{}
		const requests = 100
		for seq := range requests / 4 {
			for w := range 4 {
				var alerts []alert
				body := l.body(nil, w, seq)
				if err := json.Unmarshal(body, &alerts); err != nil || len(alerts) != 1 {
					t.Fatalf("%s: %s: %v", p, body, err)
				}
				a := alerts[0]
				if a.Labels["alertname"] == "" || a.Annotations["summary"] == "" || time.Since(a.StartsAt) > time.Minute {
					t.Fatalf("%s: %s", p, body)
				}
				names[a.Labels["alertname"]] = true
				set, _ := json.Marshal(a.Labels) // sorted keys
				sets[string(set)] = true
			}
		}
		if len(names) != 7 {
			t.Errorf("%s: %d alertnames, want 7", p, len(names))
		}
		if want := map[Pattern]int{NewTitles: requests, RepeatTitles: 7}[p]; len(sets) != want {
			t.Errorf("%s: %d label sets, want %d", p, len(sets), want)
		}
	}
}

// fakeAlertmanager writes an executable script called name into dir that
// says it is Alertmanager 9.9.9.
func fakeAlertmanager(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	script := "#!/bin/sh\necho 'alertmanager, version 9.9.9 (branch: x, revision: y)'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindAlertmanager(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if _, err := FindAlertmanager(""); err == nil || !strings.Contains(err.Error(), "--alertmanager PATH") {
		t.Fatalf("nothing on PATH: %v", err)
	}
	upstream := fakeAlertmanager(t, dir, "alertmanager")
	if got, err := FindAlertmanager(""); err != nil || got != upstream {
		t.Fatalf("upstream's name: %q %v", got, err)
	}
	debian := fakeAlertmanager(t, dir, "prometheus-alertmanager")
	if got, err := FindAlertmanager(""); err != nil || got != debian {
		t.Fatalf("Debian's name first: %q %v", got, err)
	}
	other := fakeAlertmanager(t, t.TempDir(), "am")
	if got, err := FindAlertmanager(other); err != nil || got != other {
		t.Fatalf("--alertmanager: %q %v", got, err)
	}
	if _, err := FindAlertmanager(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("--alertmanager naming nothing")
	}
	if v := AlertmanagerVersion(debian); v != "9.9.9" {
		t.Fatalf("version %q", v)
	}
}

// The real Alertmanager takes both patterns from the closed load and the
// paced one without an error, and holds the alerts they make: every one in
// the new pattern, Titles of them in the repeat pattern. Skipped where
// Alertmanager is not installed.
func TestPeerAlertmanagerTakesTheLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Alertmanager")
	}
	exe, err := FindAlertmanager(os.Getenv("KLAXON_ALERTMANAGER"))
	if err != nil {
		t.Skip(err)
	}
	for _, p := range []Pattern{NewTitles, RepeatTitles} {
		srv, err := startAlertmanager(exe, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var windows []bool
		res, err := Drive(context.Background(), Load{URL: srv.URL, Pattern: p, Format: AlertmanagerAlerts, Titles: 10,
			Connections: 4, Requests: 200, Nonce: "c", Window: func(end bool) { windows = append(windows, end) }})
		if err != nil || res.Errors != 0 || res.Requests != 200 {
			t.Fatalf("%s: %+v %v", p, res, err)
		}
		if len(windows) != 2 || windows[0] || !windows[1] {
			t.Fatalf("the window was told %v", windows)
		}
		pool, err := newConnPool(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res, err = DrivePaced(context.Background(), Paced{Pattern: p, Format: AlertmanagerAlerts, Titles: 10, Workers: 20,
			Rate: 500, Duration: 200 * time.Millisecond, Nonce: "p", Send: pool.send})
		pool.close()
		if err != nil || res.Errors != 0 || res.Requests < 50 {
			t.Fatalf("%s, paced: %+v %v", p, res, err)
		}
		resp, err := http.Get(srv.URL) // GET /api/v2/alerts lists them
		if err != nil {
			t.Fatal(err)
		}
		var held []alert
		err = json.NewDecoder(resp.Body).Decode(&held)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[Pattern]int{NewTitles: 200 + int(res.Requests), RepeatTitles: 10}[p]; len(held) < want || (p == RepeatTitles && len(held) != want) {
			t.Errorf("%s: Alertmanager holds %d alerts, want %d", p, len(held), want)
		}
		if u := srv.usage(); u.CPU <= 0 || u.PeakRSS <= 0 {
			t.Errorf("/proc says nothing of Alertmanager: %+v", u)
		}
		if err := srv.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}
