package pgstore

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// PostgreSQL's text refuses the NUL character and invalid UTF-8, both of
// which a webhook can carry (a form field, a JSON "\u0000" once decoded, a
// raw body). SQLite stores them; here they become U+FFFD, the replacement
// character, so that such a request is stored rather than refused. A
// journaled body is the exception: it is kept exactly besides, in bytea
// (requests.body_bytes), so that a replay sends what arrived.

// cleanText is s as PostgreSQL's text can hold it.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanJSON is a raw JSON value as text can hold it (JSON has no raw NUL:
// only its strings may carry invalid UTF-8).
func cleanJSON(b json.RawMessage) json.RawMessage {
	if b == nil || (utf8.Valid(b) && !strings.Contains(string(b), "\x00")) {
		return b
	}
	return json.RawMessage(cleanText(string(b)))
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullJSON(b json.RawMessage) *string {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	s := string(b)
	return &s
}
