package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"klaxon/incidents"
	"klaxon/senders"
)

// makeDataDir makes a klaxon data directory by starting and stopping one.
func makeDataDir(t *testing.T, addr, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	app, err := OpenApp(ctx, Config{Listen: addr, DataDir: dir}, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	app.Run(ctx)
	app.Close()
}

// callAPI calls a klaxon's API with the API token of its data directory.
func callAPI(t *testing.T, addr, dir, method, path, body string) (int, string) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// bothBackends runs fn against a running klaxon and against its data
// directory with none running.
func bothBackends(t *testing.T, fn func(t *testing.T, addr, dir string)) {
	t.Run("running", func(t *testing.T) {
		addr, dir := freeAddr(t), t.TempDir()
		startServe(t, addr, dir)
		fn(t, addr, dir)
	})
	t.Run("data directory", func(t *testing.T) {
		addr, dir := freeAddr(t), t.TempDir()
		makeDataDir(t, addr, dir)
		fn(t, addr, dir)
	})
}

func TestKindNamesAreTheKinds(t *testing.T) {
	var names []string
	for _, k := range incidents.Kinds {
		names = append(names, string(k))
		if kindAbout[k] == "" {
			t.Errorf("kind %s has no help", k)
		}
	}
	if got := strings.Join(names, "|"); got != kindNames {
		t.Fatalf("kindNames = %q, the kinds are %q", kindNames, got)
	}
	for _, args := range [][]string{{"integrations", "add", "--help"}, {"send", "--help"}} {
		_, _, help := run(t, args...)
		for _, k := range incidents.Kinds {
			if !regexp.MustCompile(`(?m)^\s+` + string(k) + `\s+\S`).MatchString(help) {
				t.Errorf("%v does not list kind %s: %s", args, k, help)
			}
		}
	}
	_, _, help := run(t, "integrations", "--help")
	if !strings.Contains(help, "usage: klaxon integrations [list] [--json] | add NAME") || !strings.Contains(help, "| show NAME | set NAME") {
		t.Fatalf("integrations --help: %s", help)
	}
}

// add and show print the setup block of the integration's sender, from a
// running klaxon and from the data directory alike.
func TestAddAndShowPrintTheSetupBlock(t *testing.T) {
	bothBackends(t, func(t *testing.T, addr, dir string) {
		common := []string{"--listen", addr, "--data-dir", dir}
		for _, k := range incidents.Kinds {
			name := "from-" + string(k)
			code, out, errOut := run(t, append([]string{"integrations", "add", name, "--kind", string(k)}, common...)...)
			if code != 0 {
				t.Fatalf("add --kind %s: %d %q", k, code, errOut)
			}
			url := urlRE.FindString(out)
			base, token, err := senders.ParseWebhookURL(url)
			if err != nil || base != "http://"+addr {
				t.Fatalf("add --kind %s printed no webhook URL of %s: %q", k, addr, out)
			}
			setup := senders.Setup(senders.Target{Base: base, Token: token, Kind: k, Name: name})
			want := "integration " + name + " (" + string(k) + "): " + url + "\n\n" + setup
			if out != want {
				t.Errorf("add --kind %s printed\n%s\nwant\n%s", k, out, want)
			}

			code, out, errOut = run(t, append([]string{"integrations", "show", name}, common...)...)
			if code != 0 || !strings.HasSuffix(out, "\n\n"+setup) {
				t.Fatalf("show %s: %d %q %q\nwant it to end with\n%s", name, code, out, errOut, setup)
			}
			for _, line := range []string{
				`integration\s+` + name, `kind\s+` + string(k), `service\s+` + name,
				`dedup key\s+` + regexp.QuoteMeta(k.KeyName()), `ack timeout\s+-`, `chaos\s+off`, `webhook URL\s+` + regexp.QuoteMeta(url),
			} {
				if !regexp.MustCompile(`(?m)^` + line + `$`).MatchString(out) {
					t.Errorf("show %s has no line %q:\n%s", name, line, out)
				}
			}
		}
		code, _, errOut := run(t, append([]string{"integrations", "show", "nope"}, common...)...)
		if code != 1 || !strings.Contains(errOut, `no integration named "nope"`) || !strings.Contains(errOut, "klaxon integrations") {
			t.Fatalf("show of an unknown name: %d %q", code, errOut)
		}
		if code, _, _ := run(t, append([]string{"integrations", "show"}, common...)...); code != 2 {
			t.Fatalf("show without NAME: %d", code)
		}
	})
}

// set --chaos round-trips through the API and the data directory, and a
// bad value says what is wrong with it.
func TestSetChaos(t *testing.T) {
	bothBackends(t, func(t *testing.T, addr, dir string) {
		common := []string{"--listen", addr, "--data-dir", dir}
		for _, tc := range []struct {
			chaos, said, stored, shown string
		}{
			{"status=503,share=0.3", "chaos 503 to 30% of requests", "status=503,share=0.3", "503 to 30% of requests"},
			{"delay=2s", "chaos delays 100% of requests, 2s late", "share=1,delay=2s", "delays 100% of requests, 2s late"},
			{"status=429,share=50%,delay=1s", "chaos 429 to 50% of requests, 1s late", "status=429,share=0.5,delay=1s", "429 to 50% of requests, 1s late"},
			{"off", "chaos off", "off", "off"},
		} {
			code, out, errOut := run(t, append([]string{"integrations", "set", "default", "--chaos", tc.chaos}, common...)...)
			if code != 0 || out != "integration default: "+tc.said+"\n" {
				t.Fatalf("set --chaos %s: %d %q %q", tc.chaos, code, out, errOut)
			}
			_, out, _ = run(t, append([]string{"integrations", "--json"}, common...)...)
			var list struct {
				Integrations []struct{ Name, Chaos string }
			}
			if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Integrations) != 1 || list.Integrations[0].Chaos != tc.stored {
				t.Fatalf("after --chaos %s, integrations --json: %v %s", tc.chaos, err, out)
			}
			_, out, _ = run(t, append([]string{"integrations", "show", "default"}, common...)...)
			if !regexp.MustCompile(`(?m)^chaos\s+` + regexp.QuoteMeta(tc.shown) + `$`).MatchString(out) {
				t.Fatalf("after --chaos %s, show: %s", tc.chaos, out)
			}
		}
		// Timers and chaos at once; the timers an unnamed flag keeps.
		code, out, _ := run(t, append([]string{"integrations", "set", "default", "--ack-timeout", "30m", "--chaos", "status=500"}, common...)...)
		if code != 0 || out != "integration default: ack timeout 30m0s, resolve after -\nintegration default: chaos 500 to 100% of requests\n" {
			t.Fatalf("set timers and chaos: %d %q", code, out)
		}
		_, out, _ = run(t, append([]string{"integrations", "set", "default", "--chaos", "off"}, common...)...)
		_, out, _ = run(t, append([]string{"integrations", "show", "default"}, common...)...)
		if !regexp.MustCompile(`(?m)^ack timeout\s+30m0s$`).MatchString(out) {
			t.Fatalf("--chaos alone changed the timers: %s", out)
		}
		for _, bad := range []struct{ chaos, problem string }{
			{"status=200", "give an HTTP error status from 400 to 599"},
			{"share=2,status=503", "above 0 and at most 1"},
			{"delay=forever", "give a duration such as 2s"},
			{"share=0.5", "sets neither a status nor a delay"},
			{"loud", `"loud" is not name=value`},
			{"volume=11", `"volume" is not one of status, share, delay`},
		} {
			code, _, errOut := run(t, append([]string{"integrations", "set", "default", "--chaos", bad.chaos}, common...)...)
			if code != 2 || !strings.Contains(errOut, bad.problem) {
				t.Errorf("set --chaos %s: %d %q, want it to say %q", bad.chaos, code, errOut, bad.problem)
			}
		}
		code, _, errOut := run(t, append([]string{"integrations", "set", "nope", "--chaos", "status=503"}, common...)...)
		if code != 1 || !strings.Contains(errOut, `no integration named "nope"`) {
			t.Fatalf("set --chaos of an unknown integration: %d %q", code, errOut)
		}
	})
}

// PATCH /api/v1/integrations/{name} takes chaos, and refuses a bad one
// with ParseChaos's message, changing nothing.
func TestPatchIntegrationChaos(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	status, out := callAPI(t, addr, dir, "PATCH", "/api/v1/integrations/default", `{"chaos":"status=503,share=0.3"}`)
	var got struct {
		Integration struct {
			Chaos, Setup, URL, Token string
			DedupKeyName             string `json:"dedup_key"`
		}
	}
	if status != 200 || json.Unmarshal([]byte(out), &got) != nil || got.Integration.Chaos != "status=503,share=0.3" {
		t.Fatalf("PATCH chaos: %d %s", status, out)
	}
	in := got.Integration
	if in.DedupKeyName != "title" || in.Setup != senders.Setup(senders.Target{Base: "http://" + addr, Token: in.Token, Kind: incidents.KindWebhook, Name: "default"}) {
		t.Fatalf("integration JSON: %s", out)
	}
	status, out = callAPI(t, addr, dir, "PATCH", "/api/v1/integrations/default", `{"chaos":"status=200","ack_timeout_seconds":60}`)
	if status != 400 || !strings.Contains(out, "give an HTTP error status from 400 to 599") {
		t.Fatalf("PATCH a bad chaos: %d %s", status, out)
	}
	status, out = callAPI(t, addr, dir, "GET", "/api/v1/integrations", "")
	if status != 200 || !strings.Contains(out, `"chaos":"status=503,share=0.3"`) || !strings.Contains(out, `"ack_timeout_seconds":0`) {
		t.Fatalf("a refused PATCH changed something: %s", out)
	}
	status, out = callAPI(t, addr, dir, "PATCH", "/api/v1/integrations/default", `{"chaos":"off"}`)
	if status != 200 || !strings.Contains(out, `"chaos":"off"`) {
		t.Fatalf("PATCH chaos off: %d %s", status, out)
	}
	if status, out = callAPI(t, addr, dir, "PATCH", "/api/v1/integrations/nope", `{"chaos":"off"}`); status != 404 {
		t.Fatalf("PATCH an unknown integration: %d %s", status, out)
	}
}

// listIncidents is what incidents --json says of one integration's incidents.
func listIncidents(t *testing.T, common []string, integration string) []incidents.Incident {
	t.Helper()
	code, out, errOut := run(t, append([]string{"incidents", "--json", "--status", "all", "--integration", integration}, common...)...)
	var list struct{ Incidents []incidents.Incident }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("incidents: %d %q %q", code, out, errOut)
	}
	return list.Incidents
}

// send --kind sends each sender's real payload: it opens an incident, a
// repeat folds into it, --ack acknowledges (where the sender can) and
// --resolve resolves it.
func TestSendAsEachSender(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	for _, k := range []incidents.Kind{incidents.KindAlertmanager, incidents.KindGrafana, incidents.KindPagerDuty, incidents.KindOpsgenie, incidents.KindHealthchecks} {
		t.Run(string(k), func(t *testing.T) {
			name := "via-" + string(k)
			_, out, _ := run(t, append([]string{"integrations", "add", name, "--kind", string(k)}, common...)...)
			url := urlRE.FindString(out)
			send := func(extra ...string) (int, string, string) {
				return run(t, append([]string{"send", "--kind", string(k), url, "--title", "disk full on db-1", "--severity", "sev1", "--body", "97% used"}, extra...)...)
			}
			state := func() incidents.Incident {
				t.Helper()
				list := listIncidents(t, common, name)
				if len(list) != 1 {
					t.Fatalf("%d incidents, want 1: %+v", len(list), list)
				}
				return list[0]
			}
			if code, out, errOut := send(); code != 0 || !strings.HasPrefix(out, "20") {
				t.Fatalf("send: %d %q %q", code, out, errOut)
			}
			in := state()
			wantSev := incidents.Sev1
			if k == incidents.KindHealthchecks {
				wantSev = incidents.NoSeverity // healthchecks.io sends none
			}
			if in.Status != incidents.Triggered || in.Severity != wantSev || in.Suppressed != 0 || !strings.Contains(in.Title, "disk full on db-1") {
				t.Fatalf("after the first send: %+v", in)
			}
			if code, out, _ := send(); code != 0 {
				t.Fatalf("repeat: %d %q", code, out)
			}
			if in = state(); in.Suppressed != 1 || in.Status != incidents.Triggered {
				t.Fatalf("after a repeat: %+v, want it folded", in)
			}
			code, out, errOut := send("--ack")
			if k == incidents.KindPagerDuty || k == incidents.KindOpsgenie {
				if code != 0 {
					t.Fatalf("send --ack: %d %q %q", code, out, errOut)
				}
				if in = state(); in.Status != incidents.Acknowledged {
					t.Fatalf("after --ack: %+v", in)
				}
			} else if code != 1 || !strings.Contains(errOut, "cannot acknowledge") {
				t.Fatalf("send --ack as %s: %d %q %q, want it refused before sending", k, code, out, errOut)
			}
			if code, out, errOut := send("--resolve"); code != 0 {
				t.Fatalf("send --resolve: %d %q %q", code, out, errOut)
			}
			if in = state(); in.Status != incidents.Resolved {
				t.Fatalf("after --resolve: %+v", in)
			}
		})
	}
}

func TestSendUsage(t *testing.T) {
	url := "http://127.0.0.1:1/tok/push-events"
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"send", "--kind", "nagios", url}, 2, `kind "nagios" is not one of`},
		{[]string{"send", "--kind", "pagerduty", url, "--resolve", "--ack"}, 2, "do not go together"},
		{[]string{"send", url, "--ack"}, 2, "--ack needs --kind pagerduty or opsgenie"},
		{[]string{"send", "--kind", "alertmanager", url, "--priority", "p1"}, 2, "--priority is for --kind webhook"},
		{[]string{"send", "--kind", "alertmanager", url, "--severity", "sev9"}, 2, `severity "sev9"`},
		{[]string{"send", "--kind", "alertmanager", "http://127.0.0.1:1/v2/enqueue"}, 1, "not a webhook URL"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, code, errOut, tc.code, tc.says)
		}
	}
}

// With chaos on, a sender's request is answered with the chaos status,
// nothing is stored, and the journal shows it as chaos.
func TestSendMeetsChaos(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	_, out, _ := run(t, append([]string{"integrations", "add", "flaky", "--kind", "alertmanager"}, common...)...)
	url := urlRE.FindString(out)
	if code, out, errOut := run(t, append([]string{"integrations", "set", "flaky", "--chaos", "status=503,share=1"}, common...)...); code != 0 {
		t.Fatalf("set --chaos: %d %q %q", code, out, errOut)
	}
	code, out, errOut := run(t, "send", "--kind", "alertmanager", url, "--title", "chaos monkey")
	if code != 1 || !strings.HasPrefix(out, "503 ") || !strings.Contains(out, "chaos") || !strings.Contains(errOut, "refused with 503") {
		t.Fatalf("send under chaos: %d %q %q", code, out, errOut)
	}
	if list := listIncidents(t, common, "flaky"); len(list) != 0 {
		t.Fatalf("chaos stored %+v", list)
	}
	status, body := callAPI(t, addr, dir, "GET", "/api/v1/requests?limit=1", "")
	var journal struct{ Requests []incidents.Request }
	if status != 200 || json.Unmarshal([]byte(body), &journal) != nil || len(journal.Requests) != 1 {
		t.Fatalf("journal: %d %s", status, body)
	}
	if r := journal.Requests[0]; r.Outcome != incidents.Chaosed || r.Status != 503 || r.Integration != "flaky" || r.Path != "/push-events" || !strings.Contains(r.Body, "chaos monkey") {
		t.Fatalf("journaled as %+v", r)
	}
	run(t, append([]string{"integrations", "set", "flaky", "--chaos", "off"}, common...)...)
	if code, out, _ := run(t, "send", "--kind", "alertmanager", url, "--title", "chaos monkey"); code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("send with chaos off: %d %q", code, out)
	}
}
