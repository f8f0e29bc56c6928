package receiver

import (
	"net/http"
	"strings"
	"testing"

	"klaxon/internal/testkit"
)

// What a person building an integration tripped on: bodies labelled as
// forms that are not forms, a resolve that found nothing, a misspelt field,
// a compressed body. Each is answered with a sentence that says what
// happened.
func TestExplainWhatDidNothing(t *testing.T) { onBoth(t, testExplainWhatDidNothing) }

func testExplainWhatDidNothing(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	form := "application/x-www-form-urlencoded" // what curl -d labels a body
	for _, c := range []struct {
		name, ct, body string
		status         int
		has            string
	}{
		{"a JSON array labelled as a form", form, `[{"title":"x"}]`, 400, "neither a JSON object nor key=value"},
		{"plain words labelled as a form", form, `hello world`, 400, `starts \"hello world\"`},
		{"real form fields", form, `title=from+a+form&severity=sev2`, 200, ""},
		{"JSON labelled as a form", form, `{"title":"json in a form"}`, 200, ""},
		{"a resolve with nothing open", "", `{"title":"st","status":"resolve"}`, 200, `no open incident titled \"st\" in this integration`},
		{"a misspelt field", "", `{"title":"typo","sevrity":"sev1"}`, 200, `unknown field \"sevrity\" — did you mean \"severity\"?`},
		{"a field in the wrong case", "", `{"Title":"x","title":"case"}`, 200, `did you mean \"title\"`},
		{"an unrelated extra field", "", `{"title":"extra","team":"sre"}`, 200, ""},
	} {
		a := h.do("POST", h.url(h.integ), c.ct, c.body)
		if a.Status != c.status || !strings.Contains(a.Raw, c.has) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, a.Status, a.Raw, c.status, c.has)
		}
		if c.has == "" && len(a.Warnings) > 0 {
			t.Errorf("%s: warnings %v", c.name, a.Warnings)
		}
		if j := h.lastRequest(); c.status == 200 && c.has != "" && !strings.Contains(strings.Join(j.Warnings, " "), strings.ReplaceAll(c.has, `\"`, `"`)) {
			t.Errorf("%s: the journal's warnings %v do not say it", c.name, j.Warnings)
		}
	}

	req, _ := http.NewRequest("POST", h.url(h.integ), strings.NewReader("\x1f\x8b\x08\x00junk"))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("gzip body: %d", resp.StatusCode)
	}
	if j := h.lastRequest(); j.Status != 415 || !strings.Contains(j.Error, "send the body uncompressed") {
		t.Fatalf("journal: %d %q", j.Status, j.Error)
	}
}
