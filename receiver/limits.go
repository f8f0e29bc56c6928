package receiver

import (
	"math"
	"net"
	"sync"
	"time"
)

// rateLimiter is a token bucket per integration: rate events a second, with a
// burst of one second's worth. Off (nil) unless configured.
type rateLimiter struct {
	rate float64
	now  func() time.Time

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perSecond float64, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{rate: perSecond, now: now, buckets: map[int64]*bucket{}}
}

// allow takes one token for integration id, or says how long until one is there.
func (l *rateLimiter) allow(id int64) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil {
		b = &bucket{tokens: l.rate, last: now}
		l.buckets[id] = b
	}
	b.tokens = math.Min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// limitListener accepts at most n connections at once; more wait in the
// kernel's backlog instead of costing memory here.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

// LimitListener bounds the connections a listener has open at once.
func LimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// byteBudget bounds the bytes of bodies in flight.
type byteBudget struct {
	mu    sync.Mutex
	left  int64
	limit int64
}

func newByteBudget(limit int64) *byteBudget { return &byteBudget{left: limit, limit: limit} }

// take reserves n bytes, or reports false when they are not there. A body
// larger than the whole budget is still taken when nothing else is in flight.
func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left && b.left < b.limit {
		return false
	}
	b.left -= n
	return true
}

func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
}

// free is how many bytes are not taken now.
func (b *byteBudget) free() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.left
}
