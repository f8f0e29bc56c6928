package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"klaxon/incidents"
	"klaxon/senders"
)

// alertmanagerBinary finds Debian's prometheus-alertmanager (or an
// alertmanager on PATH). CI installs it (.ci/run): there a missing binary
// fails the test; elsewhere it is skipped with a word on how to get it.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("KLAXON_ALERTMANAGER"), "prometheus-alertmanager", "alertmanager"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Alertmanager is not installed; .ci/run installs Debian's prometheus-alertmanager")
	}
	t.Skip("Alertmanager is not installed: apt-get install prometheus-alertmanager (or set KLAXON_ALERTMANAGER)")
	return ""
}

// freePort is a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// klaxonAPI talks to a klaxon started by the test.
type klaxonAPI struct {
	t     *testing.T
	base  string
	token string
}

func (k klaxonAPI) do(method, path string, body any, out any) int {
	k.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, k.base+path, r)
	req.Header.Set("Authorization", "Bearer "+k.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			k.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (k klaxonAPI) integration(name string, kind incidents.Kind) string {
	var out struct{ Integration struct{ Token string } }
	if st := k.do("POST", "/api/v1/integrations", map[string]string{"name": name, "kind": string(kind)}, &out); st != 201 {
		k.t.Fatalf("create integration %s: %d", name, st)
	}
	return out.Integration.Token
}

func (k klaxonAPI) incidents(integration string) []*incidents.Incident {
	var out struct{ Incidents []*incidents.Incident }
	k.do("GET", "/api/v1/incidents?status=all&integration="+integration, nil, &out)
	return out.Incidents
}

// Alertmanager, the real program, pages klaxon through its webhook,
// pagerduty and opsgenie notifiers at once: three instances of one alert
// (critical, warning, info) open three incidents in each integration,
// titled and ranked; repeat notifications fold into them; one instance
// recovering resolves only its incident; recovery of the rest resolves them;
// and Alertmanager counts no failed notification.
func TestRealAlertmanagerPagesKlaxon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binaries")
	}
	amBin := alertmanagerBinary(t)
	bin := buildKlaxon(t)
	dataDir := t.TempDir()
	_, base := startServe(t, bin, dataDir)
	tok, err := os.ReadFile(filepath.Join(dataDir, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	k := klaxonAPI{t: t, base: base, token: strings.TrimSpace(string(tok))}
	kinds := map[string]incidents.Kind{"am": incidents.KindAlertmanager, "pd": incidents.KindPagerDuty, "og": incidents.KindOpsgenie}
	config := `global:
  resolve_timeout: 1m
route:
  receiver: klaxon-am
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 3s
  routes:
`
	var receivers strings.Builder
	var tokens []string
	for _, name := range []string{"am", "pd", "og"} {
		token := k.integration(name, kinds[name])
		tokens = append(tokens, token)
		block := senders.Setup(senders.Target{Base: base, Token: token, Kind: kinds[name], Name: name})
		route, recv := splitSetup(t, block)
		config += "    - continue: true\n" + indent(route, "      ")
		receivers.WriteString(indent(recv, "  "))
	}
	config += "receivers:\n" + receivers.String()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	amAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	am := exec.Command(amBin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=debug")
	logs, _ := am.StderrPipe()
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	var amLog bytes.Buffer
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			amLog.WriteString(sc.Text() + "\n")
		}
	}()
	stopAM := func() {
		am.Process.Kill()
		am.Wait()
		<-logDone
	}
	t.Cleanup(func() {
		if am.ProcessState == nil {
			stopAM()
		}
		if t.Failed() {
			t.Logf("alertmanager.yml:\n%s\nAlertmanager's log:\n%s", config, amLog.String())
		}
	})
	amURL := "http://" + amAddr
	waitFor(t, 20*time.Second, "Alertmanager to answer", func() bool {
		resp, err := http.Get(amURL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	severities := map[string]string{"web-1:9100": "critical", "web-2:9100": "warning", "web-3:9100": "info"}
	post := func(ended ...string) {
		t.Helper()
		var alerts []map[string]any
		for inst, sev := range severities {
			a := map[string]any{
				"labels":      map[string]string{"alertname": "HighLatency", "job": "api", "instance": inst, "severity": sev},
				"annotations": map[string]string{"summary": "p99 latency high on " + inst, "description": "p99 above 2s for 5m"},
				"startsAt":    time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
			}
			for _, e := range ended {
				if e == inst {
					a["endsAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
				}
			}
			alerts = append(alerts, a)
		}
		b, _ := json.Marshal(alerts)
		resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("Alertmanager took the alerts with %d", resp.StatusCode)
		}
	}
	wantSev := map[string]incidents.Severity{"critical": incidents.Sev1, "warning": incidents.Sev2, "info": incidents.Sev3}

	post()
	for name := range kinds {
		waitFor(t, 20*time.Second, name+": three incidents", func() bool { return len(k.incidents(name)) == 3 })
		for _, in := range k.incidents(name) {
			inst := strings.TrimPrefix(in.Title, "p99 latency high on ")
			if name == "pd" || name == "og" {
				// These dialects carry one summary per group: Alertmanager's.
				inst = instanceOf(t, in)
			}
			sev, ok := severities[inst]
			if !ok {
				t.Fatalf("%s: incident %q is not titled by its instance", name, in.Title)
			}
			if name != "og" && in.Severity != wantSev[sev] {
				t.Errorf("%s: %q has severity %q, want %q", name, in.Title, in.Severity, wantSev[sev])
			}
			if name == "og" && in.Priority != map[string]incidents.Priority{"critical": "p1", "warning": "p2", "info": "p3"}[sev] {
				t.Errorf("og: %q has priority %q", in.Title, in.Priority)
			}
			if in.Status != incidents.Triggered {
				t.Errorf("%s: %q is %s", name, in.Title, in.Status)
			}
		}
	}
	// Repeat notifications (repeat_interval 3s) fold into the same incidents.
	for name := range kinds {
		waitFor(t, 30*time.Second, name+": a repeat folded", func() bool {
			for _, in := range k.incidents(name) {
				if in.Suppressed > 0 {
					return true
				}
			}
			return false
		})
		if n := len(k.incidents(name)); n != 3 {
			t.Fatalf("%s: %d incidents after repeats, want still 3", name, n)
		}
	}
	// web-3 recovers: only its incident resolves.
	post("web-3:9100")
	for name := range kinds {
		waitFor(t, 20*time.Second, name+": web-3 resolved", func() bool {
			open, resolved := 0, 0
			for _, in := range k.incidents(name) {
				if in.Status == incidents.Resolved {
					resolved++
					if instanceOf(t, in) != "web-3:9100" {
						t.Fatalf("%s: %q resolved, but only web-3 recovered", name, in.Title)
					}
				} else {
					open++
				}
			}
			return open == 2 && resolved == 1
		})
	}
	// Everything recovers.
	post("web-1:9100", "web-2:9100", "web-3:9100")
	for name := range kinds {
		waitFor(t, 20*time.Second, name+": all resolved", func() bool {
			all := k.incidents(name)
			for _, in := range all {
				if in.Status != incidents.Resolved || in.ResolvedBy != incidents.ByWebhook {
					return false
				}
			}
			return len(all) == 3
		})
	}
	for name := range kinds {
		for _, in := range k.incidents(name) {
			t.Logf("%s: #%d %s %s/%s ×%d key %s %q", name, in.ID, in.Status, orNone(string(in.Severity)), orNone(string(in.Priority)), in.Suppressed, in.Key, in.Title)
		}
	}
	// Alertmanager failed no notification, and tried each integration.
	resp, err := http.Get(amURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, integration := range []string{"webhook", "pagerduty", "opsgenie"} {
		if v := metricValue(string(metrics), "alertmanager_notifications_failed_total", integration); v != 0 {
			t.Errorf("Alertmanager counts %v failed %s notifications", v, integration)
		}
		if v := metricValue(string(metrics), "alertmanager_notifications_total", integration); v < 3 {
			t.Errorf("Alertmanager sent only %v %s notifications", v, integration)
		}
	}
	// Alertmanager's log (at debug level) holds no integration's token: the
	// setup blocks keep tokens out of URLs.
	stopAM()
	for _, tok := range tokens {
		if strings.Contains(amLog.String(), tok) {
			t.Errorf("Alertmanager's log shows a token")
		}
	}
}

// instanceOf is the instance an incident is about, from its title or its
// stored raw event.
func instanceOf(t *testing.T, in *incidents.Incident) string {
	for inst := range map[string]bool{"web-1:9100": true, "web-2:9100": true, "web-3:9100": true} {
		if strings.Contains(in.Title, inst) || strings.Contains(string(in.Details), inst) {
			return inst
		}
	}
	return ""
}

// splitSetup takes the route and receiver entries out of a setup block.
func splitSetup(t *testing.T, block string) (route, receiver string) {
	t.Helper()
	var part string
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
		case line == "route:":
			part = "route"
		case line == "receivers:":
			part = "receivers"
		case part == "route":
			route += strings.TrimPrefix(line, "  ") + "\n"
		case part == "receivers":
			receiver += strings.TrimPrefix(line, "  ") + "\n"
		}
	}
	if route == "" || receiver == "" {
		t.Fatalf("the setup block has no route or receiver:\n%s", block)
	}
	return route, receiver
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// metricValue sums a counter's samples whose labels include integration.
func metricValue(text, name, integration string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, `integration="`+integration+`"`) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("waited %s for %s", d, what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
