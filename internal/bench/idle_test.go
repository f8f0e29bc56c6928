package bench

import (
	"context"
	"testing"
	"time"
)

// Waiting for an idle machine gives up at its limit, and at once when the
// context ends.
func TestWaitIdleGivesUp(t *testing.T) {
	start := time.Now()
	waited, _ := waitIdle(context.Background(), time.Second)
	if took := time.Since(start); took > 3*time.Second || waited > took {
		t.Fatalf("waited %v (said %v) for a limit of 1s", took, waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if waited, ok := waitIdle(ctx, time.Hour); ok || waited > time.Second {
		t.Fatalf("a cancelled wait: %v %v", waited, ok)
	}
}
