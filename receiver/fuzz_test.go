package receiver

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"klaxon/incidents"
	"klaxon/storage"
)

// fuzzSeeds are real senders' bodies and known trouble.
var fuzzSeeds = []struct{ ctype, body string }{
	{"application/json", `{"title":"CPU high","body":{"host":"db-1"},"severity":"sev1","priority":"p2"}`},
	{"application/json", `{"title":"CPU high","status":"resolve"}`},
	{"", `{"title": "backup", "severity":"sev1"}`},
	{"application/json", `{"version":"1.0","title":"t","message":"m","attachments":[],"type":"info"}`},
	{"application/json", "{\"title\":\"x\",\n\"status\":\"fail\" // comment\n}"},
	{"application/x-www-form-urlencoded", `title=a&severity=SEV2&status=resolve`},
	{"application/x-www-form-urlencoded", ` {"heartbeat":{"status":0},"msg":"down"}`},
	{"text/plain", `{"title":"\u0000\u001b[31m","title":"dup key"}`},
	{"application/json", `{"check_id":"abc","title":"Foo is DOWN","status":"down"}`},
	{"application/json", `{"check_id":"abc","status":"up"}`},
	{"application/json", "{\"title\":\"\xff\xfe\"}"},
	{"application/json", strings.Repeat("[", 200)},
	{"application/json", `{"title":1e999}`},
	{"", ""},
}

// fuzzPush posts body to an integration of kind k and checks SPEC §2's
// promise: no panic, and a 200 only with the event stored and journaled.
// On SQLite only: fuzzing is about the parsing, and runs many thousand
// requests a second; the tests run hostile bodies (NULs, bad UTF-8, depth)
// through both backends.
func fuzzPush(f *testing.F, kind incidents.Kind) {
	for _, s := range fuzzSeeds {
		f.Add(s.ctype, []byte(s.body))
	}
	db, err := storage.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), storage.Options{JournalLimit: 100})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	svc := incidents.NewService(db, nil)
	integ, err := svc.CreateIntegration(context.Background(), "fuzz", "", "", kind)
	if err != nil {
		f.Fatal(err)
	}
	srv := New(svc, Options{APIToken: "t", BodyLimit: 64 << 10})
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		req := httptest.NewRequest("POST", "/"+integ.Token+"/push-events", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var a struct {
			OK       bool   `json:"ok"`
			Action   string `json:"action"`
			Incident int64  `json:"incident"`
			Error    string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
		j, err := svc.Requests(context.Background(), 1, "")
		if err != nil || len(j.Items) == 0 || j.Items[0].Status != rec.Code {
			t.Fatalf("request not journaled with status %d: %v", rec.Code, err)
		}
		if rec.Code != 200 {
			if a.OK || a.Error == "" {
				t.Fatalf("refusal %d without an error: %s", rec.Code, rec.Body)
			}
			return
		}
		if !a.OK || a.Action == "" {
			t.Fatalf("200 without ok/action: %s", rec.Body)
		}
		if a.Action == "ignored" {
			return
		}
		in, err := svc.Incident(context.Background(), a.Incident)
		if err != nil || len(in.Timeline) == 0 {
			t.Fatalf("200 for incident #%d, but it is not stored: %v", a.Incident, err)
		}
	})
}

func FuzzPushEvents(f *testing.F)   { fuzzPush(f, incidents.KindWebhook) }
func FuzzHealthchecks(f *testing.F) { fuzzPush(f, incidents.KindHealthchecks) }

// FuzzFormDecoder checks the form reader alone: never a panic, and every
// field it reads comes back as a JSON string.
func FuzzFormDecoder(f *testing.F) {
	f.Add([]byte("title=a&severity=sev1"))
	f.Add([]byte("a=%zz"))
	f.Add([]byte("title=%E2%9C%93&title=second"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeForm(body)
		if err != nil {
			return
		}
		for k, v := range p.fields {
			var s string
			if json.Unmarshal(v, &s) != nil {
				t.Fatalf("field %q is not a JSON string: %s", k, v)
			}
		}
		if !json.Valid(p.raw) {
			t.Fatalf("raw is not JSON: %s", p.raw)
		}
	})
}
