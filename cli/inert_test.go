package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"klaxon/incidents"
)

// hostile is a title a webhook may send: a clipboard write (OSC 52), a
// hyperlink (OSC 8), colour, a C1 CSI, a bidi override and a zero-width space.
const hostile = "pay \x1b]52;c;cm0gLXJmIC8=\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x1b[31mred\x1b[0m \u009b2J \u202eabc \u200bx\u2066y\u2069\ufeff"

// live are byte sequences a terminal acts on, or that hide or reorder what
// it shows; none may reach the output raw.
var live = []string{"\x1b", "\x07", "\xc2\x9b", "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff"}

func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range live {
		if strings.Contains(out, s) {
			t.Errorf("%s printed %q raw:\n%q", what, s, out)
		}
	}
}

// TestOutputsAreInert: every format of klaxon incidents and klaxon export
// shows webhook text without a byte a terminal would act on; JSON still
// decodes to the very text the webhook sent.
func TestOutputsAreInert(t *testing.T) {
	addr, dir := freeAddr(t), t.TempDir()
	startServe(t, addr, dir)
	common := []string{"--listen", addr, "--data-dir", dir}
	_, list, _ := run(t, append([]string{"integrations"}, common...)...)
	url := urlRE.FindString(list)
	body, _ := json.Marshal(map[string]string{"note": hostile})
	if code, out, errOut := run(t, "send", url, "--title", hostile, "--severity", "sev1", "--body", string(body)); code != 0 {
		t.Fatalf("send: %d %q %q", code, out, errOut)
	}
	// Two titles that look the same but for a zero-width space.
	run(t, "send", url, "--title", "db down")
	run(t, "send", url, "--title", "db\u200b down")

	for _, args := range [][]string{
		{"incidents", "--json"}, {"incidents", "--format", "ndjson"}, {"export"}, {"export", "--format", "ndjson"},
	} {
		code, out, _ := run(t, append(args, common...)...)
		if code != 0 {
			t.Fatalf("%v: %d", args, code)
		}
		assertInert(t, strings.Join(args, " "), out)
		var titles []string
		if strings.Contains(strings.Join(args, " "), "ndjson") {
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var in incidents.Incident
				if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
					t.Fatalf("%v: %v in %q", args, err, sc.Text())
				}
				titles = append(titles, in.Title)
			}
		} else {
			var doc struct{ Incidents []incidents.Incident }
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v: %v in %q", args, err, out)
			}
			for _, in := range doc.Incidents {
				titles = append(titles, in.Title)
				var d struct{ Note string }
				if in.Title == hostile && (json.Unmarshal(in.Details, &d) != nil || d.Note != hostile) {
					t.Errorf("%v: the details do not decode to what was sent: %s", args, in.Details)
				}
			}
		}
		if !contains(titles, hostile) || !contains(titles, "db\u200b down") || !contains(titles, "db down") {
			t.Errorf("%v: the titles do not decode to what was sent: %q", args, titles)
		}
	}

	for _, args := range [][]string{{"incidents", "--format", "csv"}, {"export", "--format", "csv"}} {
		code, out, _ := run(t, append(args, common...)...)
		if code != 0 {
			t.Fatalf("%v: %d", args, code)
		}
		assertInert(t, strings.Join(args, " "), out)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var shown []string
		for _, r := range rows[1:] {
			shown = append(shown, r[3])
		}
		if !contains(shown, "db⟨U+200B⟩ down") || !contains(shown, "db down") {
			t.Errorf("%v: the zero-width space is not shown: %q", args, shown)
		}
		if !strings.Contains(out, "pay ␛]52;c;") || !strings.Contains(out, "⟨U+202E⟩abc") || !strings.Contains(out, "⟨U+009B⟩2J") {
			t.Errorf("%v: the escapes are not shown as symbols: %q", args, out)
		}
	}

	code, out, _ := run(t, append([]string{"incidents"}, common...)...)
	if code != 0 {
		t.Fatalf("incidents: %d", code)
	}
	assertInert(t, "incidents", out)
	if !strings.Contains(out, "db⟨U+200B⟩ down") || !strings.Contains(out, "␛[31mred") {
		t.Errorf("the table does not mark what it shows: %q", out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
