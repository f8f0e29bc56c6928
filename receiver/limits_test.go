package receiver

import (
	"testing"
	"time"
)

// The rate limit: a burst of one second's worth (at least one event), then
// one event every 1/rate; a refused event says how long until the next
// one is taken, and takes nothing itself. Each integration has its own.
func TestRateLimiterAllow(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	take := func(l *rateLimiter, id int64, wantOK bool, wantWait time.Duration) {
		t.Helper()
		ok, wait := l.allow(id)
		if ok != wantOK || wait != wantWait {
			t.Fatalf("integration %d at %s: allow %v, wait %s; want %v, %s", id, now.Format("15:04:05.000"), ok, wait, wantOK, wantWait)
		}
	}

	l := newRateLimiter(2, clock)
	take(l, 1, true, 0)
	take(l, 1, true, 0)
	take(l, 1, false, 500*time.Millisecond)
	take(l, 1, false, 500*time.Millisecond) // refusals take no token
	take(l, 2, true, 0)                     // another integration, another bucket
	now = now.Add(200 * time.Millisecond)
	take(l, 1, false, 300*time.Millisecond)
	now = now.Add(300 * time.Millisecond)
	take(l, 1, true, 0)
	take(l, 1, false, 500*time.Millisecond)
	now = now.Add(time.Hour) // the burst is one second's worth, however long the quiet
	take(l, 1, true, 0)
	take(l, 1, true, 0)
	take(l, 1, false, 500*time.Millisecond)

	slow := newRateLimiter(0.5, clock) // under one a second: still one event at once
	take(slow, 1, true, 0)
	take(slow, 1, false, 2*time.Second)

	var off *rateLimiter = newRateLimiter(0, clock)
	if off != nil {
		t.Fatal("a rate of 0 should turn the limit off")
	}
	take(off, 1, true, 0)
}
