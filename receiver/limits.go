package receiver

import (
	"io"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter limits each integration to rate events a second, with a burst
// of one second's worth (at least one event): a rate.Limiter per
// integration, made on its first event. Off (nil) unless configured.
type rateLimiter struct {
	rate  float64
	burst int
	now   func() time.Time

	mu       sync.Mutex
	limiters map[int64]*rate.Limiter // one per integration: there are few
}

func newRateLimiter(perSecond float64, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		rate: perSecond, burst: max(1, int(math.Ceil(perSecond))), now: now,
		limiters: map[int64]*rate.Limiter{},
	}
}

// allow takes one event's token for integration id, or says how long until
// one is there (for Retry-After) and takes none.
func (l *rateLimiter) allow(id int64) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	lim := l.limiters[id]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(l.rate), l.burst)
		l.limiters[id] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait == 0 {
		return true, 0
	}
	r.CancelAt(now) // a refused event takes no token
	return false, wait
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
