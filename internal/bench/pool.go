package bench

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
)

// connPool sends a paced load's events over loopback: each event goes out
// on an idle keep-alive connection, or on a new one when none is idle, as
// many senders posting at once would. Under a steady rate it holds about
// rate × latency connections; a stall opens more (up to the workers).
type connPool struct {
	addr string
	head string // the request up to the Content-Length value

	mu   sync.Mutex
	idle []*client
	all  []*client // every connection opened, to close them at the end
}

// newConnPool makes a pool for posting JSON to rawURL (http:// only).
func newConnPool(rawURL string) (*connPool, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench: %q is not an http:// URL", rawURL)
	}
	return &connPool{addr: u.Host, head: requestHead(u)}, nil
}

// requestHead is a POST of JSON to u, up to the Content-Length value.
func requestHead(u *url.URL) string {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return "POST " + path + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: klaxon-bench\r\nContent-Type: application/json\r\nContent-Length: "
}

// send is a Paced.Send. ctx must be the same for every call of one load:
// connections are bound to the context they were dialled with.
func (p *connPool) send(ctx context.Context, body []byte) (int, error) {
	p.mu.Lock()
	var c *client
	if n := len(p.idle); n > 0 {
		c, p.idle = p.idle[n-1], p.idle[:n-1]
	} else {
		c = &client{addr: p.addr}
		p.all = append(p.all, c)
	}
	p.mu.Unlock()
	req := make([]byte, 0, len(p.head)+8+len(body))
	req = append(append(append(append(req, p.head...), strconv.Itoa(len(body))...), "\r\n\r\n"...), body...)
	status, err := c.roundTrip(ctx, req)
	if err != nil {
		c.close() // dialled again when next taken
	}
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	return status, err
}

// opened is how many connections the pool opened.
func (p *connPool) opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all)
}

// close closes every connection; no send may be in flight.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		c.close()
	}
	p.idle, p.all = nil, nil
}
