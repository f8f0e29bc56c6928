package incidents

import (
	"encoding/base64"
	"testing"
)

func TestTokensAreRandom128BitURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := NewToken()
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) < 16 {
			t.Fatalf("token %q: %d bytes, %v; want 128 URL-safe bits", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}
