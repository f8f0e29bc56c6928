package incidents

import (
	"testing"
	"time"
)

// A fresh Service is healthy since it started, not since year 1.
func TestHealthSinceStart(t *testing.T) {
	at := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	s := NewService(nil, func() time.Time { return at })
	if h := s.Health(); !h.OK || !h.Since.Equal(at) {
		t.Fatalf("health %+v, want ok since %v", h, at)
	}
}
