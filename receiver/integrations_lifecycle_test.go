package receiver

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"klaxon/internal/testkit"
)

// PATCH clears a severity or priority with "none", "" or null alike, and
// every action's answer says whether it changed the incident.
func TestPatchClearsAndSaysWhetherItChanged(t *testing.T) {
	onBoth(t, testPatchClearsAndSaysWhetherItChanged)
}

func testPatchClearsAndSaysWhetherItChanged(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	a := h.post(`{"title":"disk full","severity":"sev1","priority":"p2"}`)
	path := "/api/v1/incidents/" + itoa(a.Incident)
	for _, tc := range []struct {
		body         string
		status       int
		sev, prio    any
		changed      any
		errorMention string
	}{
		{`{"severity":"none"}`, 200, nil, "p2", true, ""},
		{`{"severity":null}`, 200, nil, "p2", false, ""},
		{`{"severity":"SEV2"}`, 200, "sev2", "p2", true, ""},
		{`{"severity":""}`, 200, nil, "p2", true, ""},
		{`{"priority":null,"severity":"sev3"}`, 200, "sev3", nil, true, ""},
		{`{"priority":"None"}`, 200, "sev3", nil, false, ""},
		{`{"severity":"bogus"}`, 400, nil, nil, nil, `"none", "" or null to clear it`},
		{`{"severity":3}`, 400, nil, nil, nil, "severity 3 is not one of"},
		{`{"priority":"p9"}`, 400, nil, nil, nil, `priority "p9" is not one of`},
		{`{}`, 400, nil, nil, nil, "name severity, priority or both"},
		{`[1]`, 400, nil, nil, nil, "a JSON object"},
	} {
		status, out := h.api("PATCH", path, tc.body)
		if status != tc.status {
			t.Fatalf("%s: %d %v", tc.body, status, out)
		}
		if status != 200 {
			if msg, _ := out["error"].(string); !strings.Contains(msg, tc.errorMention) {
				t.Errorf("%s: %q lacks %q", tc.body, msg, tc.errorMention)
			}
			continue
		}
		if out["severity"] != tc.sev || out["priority"] != tc.prio || out["changed"] != tc.changed {
			t.Errorf("%s: severity %v priority %v changed %v; want %v %v %v", tc.body, out["severity"], out["priority"], out["changed"], tc.sev, tc.prio, tc.changed)
		}
	}
	for _, step := range []struct {
		action  string
		status  int
		changed any
	}{{"acknowledge", 200, true}, {"acknowledge", 200, false}, {"unacknowledge", 200, true}, {"unacknowledge", 200, false}, {"resolve", 200, true}, {"resolve", 409, nil}} {
		status, out := h.api("POST", path+"/"+step.action, "")
		if status != step.status || out["changed"] != step.changed {
			t.Fatalf("%s: %d changed=%v (%v), want %d %v", step.action, status, out["changed"], out, step.status, step.changed)
		}
		if status == 200 && out["timeline"] == nil {
			t.Fatalf("%s: the answer lacks the timeline: %v", step.action, out)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// DELETE /api/v1/integrations/{name} removes one: its token answers 404
// saying so, its incidents keep its name. POST …/{name}/rotate gives it a
// new token, the old one working grace_seconds more.
func TestRemoveAndRotateRoutes(t *testing.T) { onBoth(t, testRemoveAndRotateRoutes) }

func testRemoveAndRotateRoutes(t *testing.T, backend testkit.Backend) {
	h := newHarness(t, backend, Options{})
	a := h.post(`{"title":"disk full"}`)
	status, out := h.api("DELETE", "/api/v1/integrations/default", "")
	if status != 200 || out["removed"] != "default" {
		t.Fatalf("DELETE: %d %v", status, out)
	}
	if got := h.post(`{"title":"again"}`); got.Status != 404 || !strings.Contains(got.Error, "this integration was removed") {
		t.Fatalf("the removed token: %d %q", got.Status, got.Error)
	}
	if status, out := h.api("DELETE", "/api/v1/integrations/default", ""); status != 404 || !strings.Contains(out["error"].(string), `no integration named "default"`) {
		t.Fatalf("DELETE twice: %d %v", status, out)
	}
	if status, out := h.api("PATCH", "/api/v1/integrations/default", `{"chaos":"off"}`); status != 404 {
		t.Fatalf("PATCH a removed integration: %d %v", status, out)
	}
	_, list := h.api("GET", "/api/v1/integrations", "")
	if all := list["integrations"].([]any); len(all) != 1 || all[0].(map[string]any)["name"] != "hc" {
		t.Fatalf("integrations after the removal: %v", list)
	}
	if in := h.incident(a.Incident); in.Integration != "default" {
		t.Fatalf("the incident lost its integration's name: %+v", in)
	}
	if req := h.lastRequest(); strings.Contains(req.Path, h.integ.Token) || req.Status != 404 {
		t.Fatalf("journaled: %+v", req)
	}

	// Rotation, with a grace period, of a name with a slash in it.
	status, out = h.api("POST", "/api/v1/integrations", `{"name":"alertmanager/prod"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, out)
	}
	oldURL := out["integration"].(map[string]any)["url"].(string)
	if status, out := h.api("POST", "/api/v1/integrations", `{"name":"has space"}`); status != 400 || !strings.Contains(out["error"].(string), "no spaces") {
		t.Fatalf("a name with a space: %d %v", status, out)
	}
	rotate := "/api/v1/integrations/" + url.PathEscape("alertmanager/prod") + "/rotate"
	if status, _ := h.api("POST", rotate, `{"grace_seconds":-1}`); status != 400 {
		t.Fatalf("a negative grace: %d", status)
	}
	status, out = h.api("POST", rotate, `{"grace_seconds":3600}`)
	if status != 200 || out["old_token_works_until"] == nil {
		t.Fatalf("rotate with grace: %d %v", status, out)
	}
	newURL := out["integration"].(map[string]any)["url"].(string)
	if newURL == oldURL {
		t.Fatal("the same URL after a rotation")
	}
	for _, u := range []string{oldURL, newURL} {
		if got := h.do("POST", u, "", `{"title":"t"}`); got.Status != 200 {
			t.Fatalf("%s during the grace: %d %q", u, got.Status, got.Error)
		}
	}
	status, out = h.api("POST", rotate, "")
	if status != 200 || out["old_token_works_until"] != nil {
		t.Fatalf("rotate without a body: %d %v", status, out)
	}
	for _, u := range []string{oldURL, newURL} {
		if got := h.do("POST", u, "", `{"title":"t"}`); got.Status != 404 || !strings.Contains(got.Error, "replaced") {
			t.Fatalf("%s after the rotation: %d %q", u, got.Status, got.Error)
		}
	}
	if got := h.do("POST", out["integration"].(map[string]any)["url"].(string), "", `{"title":"t"}`); got.Status != 200 {
		t.Fatalf("the new token: %d %q", got.Status, got.Error)
	}
	if status, _ := h.api("DELETE", "/api/v1/integrations/"+url.PathEscape("alertmanager/prod"), ""); status != 200 {
		t.Fatalf("DELETE a name with a slash: %d", status)
	}
}
