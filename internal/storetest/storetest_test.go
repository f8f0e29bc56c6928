package storetest

import "testing"

// Each case has a name of its own, so that `go test -run` picks it alone.
func TestCaseNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range append(append([]Case{}, Cases...), SharedCases...) {
		if c.Name == "" || c.Test == nil || seen[c.Name] {
			t.Fatalf("case %q: empty, without a test, or named twice", c.Name)
		}
		seen[c.Name] = true
	}
}
