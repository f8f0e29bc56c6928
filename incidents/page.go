package incidents

import (
	"encoding/base64"
	"fmt"
)

// The API's paging rules, the same whichever store answers: a limit of 100
// by default and at most 1,000, and opaque cursors that name the last id
// a page showed.

// ClampLimit applies the API's rules: default 100, at most 1000.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// IDCursor is the cursor of the page after the row with id.
func IDCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("id:%d", id)))
}

// ReadIDCursor reads IDCursor's cursor; empty is before every id.
func ReadIDCursor(c string) (int64, error) {
	if c == "" {
		return 1<<63 - 1, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	var id int64
	if err == nil {
		_, err = fmt.Sscanf(string(b), "id:%d", &id)
	}
	if err != nil {
		return 0, Errorf(EINVALID, "the cursor %q cannot be read; pass the next_cursor of the previous page, or none", c)
	}
	return id, nil
}
