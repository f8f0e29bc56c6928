package cli

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"klaxon/incidents"
)

func TestFormatsExportAndReplay(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	_, list, _ := run(t, append([]string{"integrations"}, common...)...)
	url := urlRE.FindString(list)
	run(t, "send", url, "--title", "api down", "--severity", "sev1", "--body", "=HYPERLINK(\"x\")")
	run(t, "send", url, "--title", "api down")
	run(t, "send", url, "--title", "cron late", "--priority", "p4")
	run(t, "send", url, "--title", "gone")
	run(t, "send", url, "--title", "gone", "--resolve")

	code, out, _ := run(t, append([]string{"incidents", "--format", "ndjson", "--severity", "sev1"}, common...)...)
	var in incidents.Incident
	if code != 0 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &in) != nil || in.Title != "api down" {
		t.Fatalf("ndjson: %d %q", code, out)
	}
	code, out, _ = run(t, append([]string{"incidents", "--format", "csv", "--status", "all"}, common...)...)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 4 || rows[0][0] != "id" {
		t.Fatalf("csv: %d %v %q", code, err, out)
	}
	for _, r := range rows {
		if strings.HasPrefix(r[13], "=") {
			t.Fatalf("csv cell starts a formula: %q", r[13])
		}
	}
	if code, _, errOut := run(t, append([]string{"incidents", "--format", "xml"}, common...)...); code != 2 || !strings.Contains(errOut, "xml") {
		t.Fatalf("bad format: %d %q", code, errOut)
	}

	// export: every status, each with its timeline.
	code, out, _ = run(t, append([]string{"export", "--since", "1h"}, common...)...)
	var exp struct{ Incidents []incidents.Incident }
	if code != 0 || json.Unmarshal([]byte(out), &exp) != nil || len(exp.Incidents) != 3 {
		t.Fatalf("export: %d %q", code, out)
	}
	kinds := map[string]int{}
	for _, x := range exp.Incidents {
		for _, e := range x.Timeline {
			kinds[string(e.Kind)]++
		}
	}
	if kinds["triggered"] != 3 || kinds["suppressed"] != 1 || kinds["resolved"] != 1 {
		t.Fatalf("export timelines: %v", kinds)
	}
	code, out, _ = run(t, append([]string{"export", "--until", "2000-01-01T00:00:00Z", "--format", "ndjson"}, common...)...)
	if code != 0 || out != "" {
		t.Fatalf("export of an empty range: %d %q", code, out)
	}
	code, out, _ = run(t, append([]string{"export", "--format", "csv"}, common...)...)
	if rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll(); code != 0 || len(rows) != 1+5 || rows[0][14] != "entry_at" {
		t.Fatalf("export csv: %d %q", code, out)
	}

	// replay the first request (the sev1 trigger): it folds into the open incident.
	code, out, errOut := run(t, append([]string{"replay", "1"}, common...)...)
	if code != 0 || !strings.Contains(out, `"action":"suppressed"`) {
		t.Fatalf("replay: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"incidents", "--q", "api down", "--format", "json"}, common...)...)
	var after struct{ Incidents []incidents.Incident }
	json.Unmarshal([]byte(out), &after)
	if len(after.Incidents) != 1 || after.Incidents[0].Suppressed != 2 {
		t.Fatalf("after replay: %q", out)
	}
	if code, _, errOut := run(t, append([]string{"replay", "999"}, common...)...); code != 1 || !strings.Contains(errOut, "no request 999") {
		t.Fatalf("replay unknown: %d %q", code, errOut)
	}
	// A request to an unknown token needs --to.
	sendRaw(t.Context(), http.DefaultClient, "POST", strings.Replace(url, "/push-events", "zz/push-events", 1), "", `{"title":"lost"}`)
	code, _, errOut = run(t, append([]string{"replay", "7"}, common...)...)
	if code != 1 || !strings.Contains(errOut, "--to") {
		t.Fatalf("replay of an unknown token: %d %q", code, errOut)
	}
	code, out, _ = run(t, append([]string{"replay", "7", "--to", url}, common...)...)
	if code != 0 || !strings.Contains(out, `"created"`) {
		t.Fatalf("replay --to: %d %q", code, out)
	}
}

func TestIntegrationTimersFromTheCommandLine(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	code, out, errOut := run(t, append([]string{"integrations", "add", "timed", "--ack-timeout", "30m"}, common...)...)
	if code != 0 {
		t.Fatalf("add: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"integrations", "set", "timed", "--resolve-after", "4h"}, common...)...)
	if code != 0 || !strings.Contains(out, "ack timeout 30m0s, resolve after 4h0m0s") {
		t.Fatalf("set: %d %q", code, out)
	}
	_, out, _ = run(t, append([]string{"integrations"}, common...)...)
	if !strings.Contains(out, "30m0s") || !strings.Contains(out, "4h0m0s") {
		t.Fatalf("list: %q", out)
	}
	if code, _, errOut := run(t, append([]string{"integrations", "set", "nope", "--ack-timeout", "1m"}, common...)...); code != 1 || !strings.Contains(errOut, "no integration named") {
		t.Fatalf("set unknown: %d %q", code, errOut)
	}
	if code, _, _ := run(t, append([]string{"integrations", "set", "timed"}, common...)...); code != 2 {
		t.Fatalf("set without a timer: %d", code)
	}
}
