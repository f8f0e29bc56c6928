// Package receiver is klaxon's HTTP side: the Spike-compatible push-events
// endpoint (parsing each integration kind's payload into an incidents.Event),
// the request journal's capture of every request, and the /api/v1 routes.
package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"klaxon/incidents"
)

// refusal is a request klaxon will not take, with its status and a sentence a
// person can act on.
type refusal struct {
	status int
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

// payload is a decoded request body: the JSON, verbatim, of each top-level
// field some kind reads (payloadFields; a form keeps all its fields).
type payload struct {
	fields map[string]json.RawMessage
	others []string        // the names of the other fields (up to maxOtherNames)
	raw    json.RawMessage // the whole payload as JSON, to store
}

// decodePayload reads body as SPEC §2 says: JSON whatever the Content-Type,
// form fields for application/x-www-form-urlencoded unless the body starts
// with '{'. Only a JSON object is taken.
func decodePayload(contentType string, body []byte) (*payload, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, refuse(400, `the body is empty; send a JSON object such as {"title":"disk full on db-1","severity":"sev2"}`)
	}
	if isForm(contentType) && trimmed[0] != '{' {
		if trimmed[0] == '[' || !bytes.Contains(trimmed, []byte("=")) {
			return nil, refuse(400, "the body is labelled application/x-www-form-urlencoded but is neither a JSON object nor key=value form fields (it starts %q); send a JSON object such as {\"title\":\"disk full on db-1\"}", preview(trimmed))
		}
		return decodeForm(trimmed)
	}
	if d := jsonDepth(trimmed); d > MaxNesting {
		return nil, refuse(400, "the body nests arrays and objects too deeply (depth %d or more; klaxon takes at most %d, and an alert's details are for a summary)", d, MaxNesting)
	}
	return decodeJSON(body)
}

// preview is the start of a body for a message: at most 40 bytes, one line.
func preview(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return strings.ToValidUTF8(strings.ReplaceAll(string(b), "\n", " "), "?")
}

// MaxNesting is how deeply a body's arrays and objects may nest.
const MaxNesting = 64

// jsonDepth is how deeply body's arrays and objects nest, counted up to
// MaxNesting+1 (strings skipped); it does not check the JSON otherwise.
func jsonDepth(body []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > MaxNesting {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func isForm(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	return ct == "application/x-www-form-urlencoded"
}

func decodeForm(body []byte) (*payload, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, refuse(400, "the body is labelled application/x-www-form-urlencoded but cannot be read as form fields (%v); send JSON or fix the encoding", err)
	}
	fields := make(map[string]json.RawMessage, len(values))
	flat := make(map[string]string, len(values))
	for k, vs := range values {
		v := vs[len(vs)-1]
		flat[k] = v
		b, _ := json.Marshal(v)
		fields[k] = b
	}
	raw, _ := json.Marshal(flat)
	return &payload{fields: fields, raw: raw}, nil
}

// payloadFields are the top-level fields some kind reads; decodeJSON keeps
// only these, so that a body of 46,000 other keys costs no more memory than
// its bytes (it had taken ~10 MB per 495 KB body as a map).
var payloadFields = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`title body message description severity priority status check_id
		alerts commonLabels version groupKey receiver ruleId ruleName state panelId evalMatches tags
		event_action dedup_key payload links client client_url routing_key alias details entity source`) {
		payloadFields[f] = true
	}
}

// maxOtherNames bounds the unknown field names remembered for near-miss warnings.
const maxOtherNames = 256

// skipValue is a JSON value read and dropped.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// decodeJSON reads a JSON object's top-level fields. A valid object whose
// field names need no unescaping is walked in place (scanObject); anything
// else goes through encoding/json's tokens (decodeTokens), which also words
// every refusal. Both keep the same fields and names: the token decoder
// took 6% of klaxon's CPU under klaxon bench, the walk a fraction of it.
func decodeJSON(body []byte) (*payload, error) {
	if json.Valid(body) {
		if p, ok := scanObject(body); ok {
			return p, nil
		}
	}
	return decodeTokens(body)
}

// scanObject walks body, valid JSON, as decodeTokens would: the fields some
// kind reads, verbatim, and the other names. It reports false when body is
// not an object or a name holds an escape or a byte past ASCII (which
// decodeTokens unescapes, or makes valid UTF-8).
func scanObject(body []byte) (*payload, bool) {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return nil, false
	}
	p := &payload{fields: map[string]json.RawMessage{}}
	i = skipSpace(body, i+1)
	for i < len(body) && body[i] == '"' {
		end := i + 1
		for body[end] != '"' {
			if c := body[end]; c == '\\' || c >= utf8.RuneSelf {
				return nil, false
			}
			end++
		}
		key := body[i+1 : end]
		i = skipSpace(body, end+1) + 1 // past the colon
		i = skipSpace(body, i)
		start := i
		i = skipJSONValue(body, i)
		if payloadFields[string(key)] {
			p.fields[string(key)] = json.RawMessage(body[start:i])
		} else if len(p.others) < maxOtherNames {
			p.others = append(p.others, string(key))
		}
		i = skipSpace(body, i)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	raw := json.RawMessage(bytes.TrimSpace(body))
	if !utf8.Valid(raw) {
		raw = json.RawMessage(strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	p.raw = raw
	return p, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSONValue is where the value starting at b[i] ends; b is valid JSON.
func skipJSONValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object: a scalar ended before it
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// decodeTokens is decodeJSON through encoding/json's tokens.
func decodeTokens(body []byte) (*payload, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxRefusal(body, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if tok == nil {
			return nil, refuse(400, "the body is JSON null; send a JSON object such as {\"title\":\"…\"}")
		}
		return nil, refuse(400, "the body is JSON %s, not an object; send a JSON object such as {\"title\":\"…\"}", jsonKind(tok))
	}
	p := &payload{fields: map[string]json.RawMessage{}}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, syntaxRefusal(body, err)
		}
		key, _ := kt.(string)
		if payloadFields[key] {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, syntaxRefusal(body, err)
			}
			p.fields[key] = raw
			continue
		}
		var skip skipValue
		if err := dec.Decode(&skip); err != nil {
			return nil, syntaxRefusal(body, err)
		}
		if len(p.others) < maxOtherNames {
			p.others = append(p.others, key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntaxRefusal(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := position(body, off)
		return nil, refuse(400, "the body has more after its JSON object, at line %d, column %d; send exactly one JSON object", line, col)
	}
	raw := json.RawMessage(bytes.TrimSpace(body))
	if !utf8.Valid(raw) {
		raw = json.RawMessage(strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	p.raw = raw
	return p, nil
}

// syntaxRefusal says what is wrong with body, reading it again as one value
// so that the position is the one a JSON parser reports (Token's offsets
// differ by a byte).
func syntaxRefusal(body []byte, err error) error {
	if again := json.NewDecoder(bytes.NewReader(body)).Decode(new(skipValue)); again != nil {
		err = again
	}
	return jsonRefusal(body, err)
}

// jsonKind names a JSON token's kind for a message.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "value"
}

// jsonRefusal says what is wrong with a JSON body and where.
func jsonRefusal(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(body, syn.Offset)
		hint := ""
		if at := int(syn.Offset) - 1; at >= 0 && at < len(body) && body[at] == '/' {
			hint = " (JSON has no comments; remove the // or /* */ part)"
		}
		return refuse(400, "the body is not valid JSON: %s at line %d, column %d%s", syn.Error(), line, col, hint)
	case errors.As(err, &typ):
		return refuse(400, "the body is JSON %s, not an object; send a JSON object such as {\"title\":\"…\"}", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(body, int64(len(body)))
		return refuse(400, "the body is not valid JSON: it ends too soon, at line %d, column %d (is it cut short?)", line, col)
	}
	return refuse(400, "the body is not valid JSON: %v", err)
}

// position turns a byte offset into a 1-based line and column.
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	if off < 1 {
		off = 1
	}
	before := body[:off-1]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n') - 1
	return line, col
}

// text reads a field as text: a string as itself, a number or boolean as its
// JSON text; null or absent is "". Objects and arrays are an error.
func (p *payload) text(name string) (string, bool, error) {
	raw, ok := p.fields[name]
	if !ok {
		return "", false, nil
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false, nil
	case raw[0] == '"':
		if in := raw[1 : len(raw)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			return string(in), true, nil // no escapes: the text is the bytes between the quotes
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, err
		}
		return s, true, nil
	case raw[0] == '{' || raw[0] == '[':
		return "", true, fmt.Errorf("%q is a JSON %s; it must be a string", name, map[byte]string{'{': "object", '[': "array"}[raw[0]])
	}
	return string(raw), true, nil // number, true, false
}

// details is body, else message, else description, verbatim; nil when none.
func (p *payload) details(names ...string) json.RawMessage {
	for _, n := range names {
		if raw, ok := p.fields[n]; ok && string(bytes.TrimSpace(raw)) != "null" {
			return raw
		}
	}
	return nil
}

// severity and priority read optional fields; a bad value is a warning.
func (p *payload) severity(ev *incidents.Event) {
	s, present, err := p.text("severity")
	if !present {
		return
	}
	if err == nil {
		ev.Severity, err = incidents.ParseSeverity(s)
	}
	if err != nil {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("severity ignored: %v; the incident has no severity from this event", err))
	}
}

func (p *payload) priority(ev *incidents.Event) {
	s, present, err := p.text("priority")
	if !present {
		return
	}
	if err == nil {
		ev.Priority, err = incidents.ParsePriority(s)
	}
	if err != nil {
		ev.Warnings = append(ev.Warnings, fmt.Sprintf("priority ignored: %v; the incident has no priority from this event", err))
	}
}

// cleanTitle trims a title and makes NUL visible (SQLite text and terminals
// both misread it).
func cleanTitle(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\x00", "\u2400")
}

// parseEvent turns a body into an event for an integration of kind k.
func parseEvent(k incidents.Kind, contentType string, body []byte) (incidents.Event, error) {
	p, err := decodePayload(contentType, body)
	if err != nil {
		return incidents.Event{}, err
	}
	if k == incidents.KindHealthchecks {
		return healthchecksEvent(p)
	}
	return webhookEvent(p)
}

// webhookEvent reads Spike's generic webhook (SPEC §2).
func webhookEvent(p *payload) (incidents.Event, error) {
	ev := incidents.Event{Action: incidents.Trigger, Raw: p.raw}
	title, _, err := p.text("title")
	if err != nil {
		return ev, refuse(400, "the title is not usable: %v (an object or array cannot be a title)", err)
	}
	ev.Title = cleanTitle(title)
	ev.Key = ev.Title
	ev.Details = p.details("body", "message", "description")
	if ev.Title == "" {
		if w := otherDialect(p); w != "" {
			ev.Warnings = append(ev.Warnings, w)
		}
	}
	ev.Warnings = append(ev.Warnings, p.nearMisses(webhookFields)...)
	p.severity(&ev)
	p.priority(&ev)
	if status, _, _ := p.text("status"); isResolve(status, "resolve", "resolved") {
		ev.Action = incidents.Resolve
		if ev.Key == "" {
			return ev, refuse(422, `a resolve needs the title of the incident to resolve: send {"title":"<the title it was triggered with>","status":"resolve"}`)
		}
	}
	return ev, nil
}

// healthchecksEvent reads what healthchecks.io sends to Spike (SPEC §1).
func healthchecksEvent(p *payload) (incidents.Event, error) {
	ev := incidents.Event{Action: incidents.Trigger, Raw: p.raw}
	title, _, err := p.text("title")
	if err != nil {
		return ev, refuse(400, "the title is not usable: %v", err)
	}
	checkID, _, err := p.text("check_id")
	if err != nil {
		return ev, refuse(400, "the check_id is not usable: %v", err)
	}
	ev.Title = cleanTitle(title)
	ev.Key = strings.TrimSpace(checkID)
	if ev.Key == "" {
		ev.Key = ev.Title
	}
	ev.Details = p.details("message", "body")
	p.severity(&ev)
	p.priority(&ev)
	if status, _, _ := p.text("status"); isResolve(status, "up", "resolve") {
		ev.Action = incidents.Resolve
		if ev.Key == "" {
			return ev, refuse(422, "an \"up\" needs a check_id (or a title) to know which check recovered")
		}
	}
	return ev, nil
}

// otherDialect says which kind an untitled body looks like it was meant
// for, so that a person who pointed a sender at a webhook integration finds
// out why every incident is untitled and never resolves.
func otherDialect(p *payload) string {
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := p.fields[n]; !ok {
				return false
			}
		}
		return true
	}
	kind := ""
	switch {
	case has("alerts", "version") && (has("groupKey") || has("receiver")):
		kind = "alertmanager (or grafana)"
	case has("ruleId") || has("ruleName", "state"):
		kind = "grafana"
	case has("event_action"):
		kind = "pagerduty"
	case has("check_id"):
		kind = "healthchecks"
	default:
		return ""
	}
	return "this body has no title; it looks like a " + kind + " payload: make an integration of that kind (klaxon integrations add NAME --kind " + strings.Fields(kind)[0] + ") and point the sender at it"
}

// webhookFields are the fields SPEC §2 gives a meaning.
var webhookFields = []string{"title", "body", "message", "description", "severity", "priority", "status"}

// nearMisses warns of fields one or two letters away from a known one
// ("sevrity"): they are kept in the raw event, but mean nothing.
func (p *payload) nearMisses(known []string) []string {
	var out []string
	names := p.others
	for name := range p.fields {
		names = append(names[:len(names):len(names)], name)
	}
	for _, name := range names {
		if slices.Contains(known, name) {
			continue // no two known names are within two edits of each other (TestKnownFieldsApart)
		}
		lower := strings.ToLower(name)
		for _, k := range known {
			if lower == k {
				if name != k {
					out = append(out, fmt.Sprintf("unknown field %q — did you mean %q? field names are lower case", name, k))
				}
				break
			}
			if len(name) >= 4 && editDistance(lower, k) <= 2 {
				out = append(out, fmt.Sprintf("unknown field %q — did you mean %q?", name, k))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	var rows [2][24]int // field names are short: no allocation for them
	prev, cur := rows[0][:], rows[1][:]
	if len(b)+1 > len(prev) {
		prev, cur = make([]int, len(b)+1), make([]int, len(b)+1)
	}
	prev, cur = prev[:len(b)+1], cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isResolve(status string, words ...string) bool {
	s := strings.ToLower(strings.TrimSpace(status))
	for _, w := range words {
		if s == w {
			return true
		}
	}
	return false
}
