package receiver

import (
	"io"
	"math"
	"net"
	"strconv"
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

// PlainHTTPOnTLS wraps the listener of an HTTPS server so that a client
// speaking plain HTTP to it gets a JSON answer that says what to do, not
// Go's "Client sent an HTTP request to an HTTPS server" text. httpsURL is
// the server's base URL. The first byte a connection sends decides: a TLS
// handshake starts with 0x16.
func PlainHTTPOnTLS(l net.Listener, httpsURL string) net.Listener {
	return &plainOnTLS{Listener: l, answer: plainHTTPAnswer(httpsURL)}
}

type plainOnTLS struct {
	net.Listener
	answer []byte
}

func (l *plainOnTLS) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &firstByteConn{Conn: c, answer: l.answer}, nil
}

// firstByteConn looks at the first byte read from it.
type firstByteConn struct {
	net.Conn
	answer  []byte
	checked bool
}

func (c *firstByteConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.checked && n > 0 {
		c.checked = true
		if p[0] != 0x16 {
			c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Conn.Write(c.answer)
			c.Conn.Close()
			return 0, io.EOF
		}
	}
	return n, err
}

func plainHTTPAnswer(httpsURL string) []byte {
	body, _ := marshal(errorAnswer{Error: "this klaxon speaks HTTPS: send to " + httpsURL + " (with curl, --cacert for its certificate; klaxon's own commands take --tls-cert)"})
	body = append(body, '\n')
	return []byte("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
}
