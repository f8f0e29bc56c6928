package receiver

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The in-place walk (scanObject) keeps what the token decoder keeps.
func TestScanObjectAgreesWithTokens(t *testing.T) {
	for _, body := range []string{
		`{}`, ` { } `, `{"title":"disk full"}`,
		"{\n\t\"title\" : \"a\" ,\r\n \"severity\":\"sev1\" }\n",
		`{"title":"x","body":{"a":[1,2,{"b":"}]\"{"}],"c":null},"message":"m","status":"resolve"}`,
		`{"title":"x","Title":"y","sevrity":"sev1","title":"z","n":1.5e3,"t":true,"f":false,"z":null}`,
		`{"title":"esc \" \\ \u00e9 \/","details":"q","body":"\"}"}`,
		`{"a":{},"b":[],"title":[],"body":{}}`,
		`{"a":1,"a":2,"body":-0.5,"priority":"p1"}`,
		"{\"title\":\"caf\xc3\xa9\",\"x\xffy\":1}",
		"{\"title\":\"bad \xff utf-8\"}",
		`{"ti\u0074le":"escaped name"}`,
		`[1,2]`, `"s"`, `null`, `{"a":1} {"b":2}`,
	} {
		want, werr := decodeTokens([]byte(body))
		got, gerr := decodeJSON([]byte(body))
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%q: error %v, want %v", body, gerr, werr)
			continue
		}
		if werr != nil {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

// nearMisses skips the distances for a known name; that is only the same
// answer while no known name is within two edits of another.
func TestKnownFieldsApart(t *testing.T) {
	for i, a := range webhookFields {
		for _, b := range webhookFields[i+1:] {
			if editDistance(a, b) <= 2 {
				t.Errorf("%q and %q are %d edits apart", a, b, editDistance(a, b))
			}
		}
	}
}

// What reading klaxon bench's body costs.
//
//	go test ./receiver -run XXX -bench ReadWebhook -benchmem
func BenchmarkReadWebhook(b *testing.B) {
	body := []byte(`{"title":"disk nearly full 1a2b3c-17-4242","severity":"sev2","priority":"p3","body":{"host":"db-17","mount":"/var/lib/postgresql","used_percent":97.5,"check":"disk"}}`)
	b.ReportAllocs()
	for b.Loop() {
		p, err := decodePayload("application/json", body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := webhookEvent(p); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanObject holds scanObject to decodeTokens' answer on any body.
func FuzzScanObject(f *testing.F) {
	f.Add(`{"title":"x","body":{"a":[1,"]"]},"sevrity":"sev1"}`)
	f.Add(`{"a":1,"a":2}`)
	f.Add(`{"t\"":"x", "title" : 1e5 , "status":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		want, werr := decodeTokens([]byte(body))
		got, gerr := decodeJSON([]byte(body))
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("%q: error %v, want %v", body, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	})
}

// text's shortcut for strings without escapes reads what json.Unmarshal reads.
func TestTextAgreesWithUnmarshal(t *testing.T) {
	for _, raw := range []string{`"disk full"`, `""`, `"caf` + "\xc3\xa9" + `"`, `"bad ` + "\xff" + `"`, `"a\"b"`, `"\u00e9\n"`, ` "x" `} {
		p := &payload{fields: map[string]json.RawMessage{"title": json.RawMessage(raw)}}
		got, _, err := p.text("title")
		var want string
		if uerr := json.Unmarshal([]byte(raw), &want); uerr != nil || err != nil || got != want {
			t.Errorf("%s: %q (%v), want %q (%v)", raw, got, err, want, uerr)
		}
	}
}
