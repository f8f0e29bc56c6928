package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Pattern is what the load generator sends.
type Pattern string

const (
	// NewTitles gives every event a title never sent before: each one creates
	// an incident.
	NewTitles Pattern = "new"
	// RepeatTitles cycles through a fixed set of titles (Load.Titles): after
	// the first round every event is folded into an open incident.
	RepeatTitles Pattern = "repeat"
)

// Format is the dialect of the bodies a load sends.
type Format int

const (
	// KlaxonEvent is one event of klaxon's generic webhook per request.
	KlaxonEvent Format = iota
	// AlertmanagerAlerts is what Prometheus posts to Alertmanager's
	// POST /api/v2/alerts: a JSON array, here of one alert per request.
	AlertmanagerAlerts
)

// Load is one load-generator run against one URL.
type Load struct {
	URL         string        // http://127.0.0.1:PORT/path
	Pattern     Pattern       // what the bodies say
	Format      Format        // and in which dialect
	Titles      int           // distinct titles for RepeatTitles; default 1000
	Connections int           // keep-alive connections, each with one request in flight
	Warmup      time.Duration // sent but not counted
	Duration    time.Duration // counted; ignored when Requests is set
	Requests    int64         // stop after this many counted answers (0: by Duration)
	Nonce       string        // makes NewTitles titles unique across runs
	// Window, when set, is called as the counted window opens (end false)
	// and as it closes (end true), so that what the server used can be read
	// over the window alone. Drive returns only after both calls.
	Window func(end bool)
}

// Result is what a Load measured.
type Result struct {
	Requests int64         // answers counted in the window
	Errors   int64         // non-200 answers and broken connections in the window
	FirstErr string        // the first error seen, for the report
	Elapsed  time.Duration // the counted window
	P50, P99 time.Duration
	Max      time.Duration
	// Unsent is, for a paced load, how many events fell due in the window
	// but had not been sent by its end: the receiver (or the load
	// generator) fell that far behind. Their latency is not in P50 or P99.
	Unsent int64
}

// PerSecond is the throughput over the counted window.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Drive runs l: Connections workers, each a plain HTTP/1.1 keep-alive client
// on its own TCP connection sending one request at a time (no pipelining),
// like wrk. Latency is measured from writing a request to reading the whole
// answer. The client is deliberately thin (prebuilt request bytes, no
// net/http) so that it takes as little as possible of the CPU it shares
// with the server.
func Drive(ctx context.Context, l Load) (Result, error) {
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return Result{}, fmt.Errorf("bench: %q is not an http:// URL", l.URL)
	}
	if l.Connections <= 0 {
		l.Connections = 64
	}
	if l.Titles <= 0 {
		l.Titles = 1000
	}
	head := requestHead(u)

	var (
		counted, errs atomic.Int64
		firstErr      sync.Once
		firstErrText  string
		wg            sync.WaitGroup
		lat           = make([][]uint32, l.Connections) // microseconds, per worker
	)
	start := time.Now()
	measureFrom := start.Add(l.Warmup)
	measureTo := measureFrom.Add(l.Duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if l.Requests == 0 {
		ctx, cancel = context.WithDeadline(ctx, measureTo)
		defer cancel()
	}
	fail := func(err error) {
		firstErr.Do(func() { firstErrText = err.Error() })
	}
	windowDone := watchWindow(ctx, measureFrom, l.Window)
	for w := 0; w < l.Connections; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &client{addr: u.Host}
			defer c.close()
			var (
				req  []byte
				body []byte
				seq  int
			)
			for ctx.Err() == nil {
				body = l.body(body[:0], w, seq)
				seq++
				req = append(append(append(append(req[:0], head...), strconv.Itoa(len(body))...), "\r\n\r\n"...), body...)
				t0 := time.Now()
				status, err := c.roundTrip(ctx, req)
				t1 := time.Now()
				inWindow := t0.After(measureFrom) && (l.Requests > 0 || t1.Before(measureTo))
				if err == nil && status != 200 {
					err = fmt.Errorf("answered %d", status)
				}
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					if inWindow {
						errs.Add(1)
						fail(err)
					}
					c.close()
					continue
				}
				if !inWindow {
					continue
				}
				if n := counted.Add(1); l.Requests > 0 && n >= l.Requests {
					cancel()
					if n > l.Requests {
						continue // another worker's answer made the count
					}
				}
				lat[w] = append(lat[w], uint32(min(t1.Sub(t0).Microseconds(), 1<<32-1)))
			}
		}(w)
	}
	wg.Wait()
	cancel()
	<-windowDone
	end := time.Now()
	if l.Requests == 0 && end.After(measureTo) {
		end = measureTo
	}
	r := summarize(lat, errs.Load(), firstErrText, end.Sub(measureFrom))
	if r.Requests == 0 && r.Errors == 0 {
		return r, errors.New("bench: no request was answered")
	}
	return r, nil
}

// watchWindow calls window(false) at from and window(true) once ctx is done
// (the window's end, or the count reached), then closes the channel it
// returns. Should ctx end before from, window is called for both at once.
func watchWindow(ctx context.Context, from time.Time, window func(end bool)) <-chan struct{} {
	done := make(chan struct{})
	if window == nil {
		close(done)
		return done
	}
	t := time.NewTimer(time.Until(from))
	go func() {
		defer close(done)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		window(false)
		<-ctx.Done()
		window(true)
	}()
	return done
}

// summarize makes a Result of the latencies each worker counted (in
// microseconds), the errors and the counted window.
func summarize(lat [][]uint32, errs int64, firstErr string, elapsed time.Duration) Result {
	var all []uint32
	for _, ws := range lat {
		all = append(all, ws...)
	}
	slices.Sort(all)
	r := Result{Requests: int64(len(all)), Errors: errs, FirstErr: firstErr, Elapsed: elapsed}
	if len(all) > 0 {
		at := func(q float64) time.Duration {
			return time.Duration(all[min(len(all)-1, int(q*float64(len(all))))]) * time.Microsecond
		}
		r.P50, r.P99, r.Max = at(0.50), at(0.99), time.Duration(all[len(all)-1])*time.Microsecond
	}
	return r
}

// body writes the body of worker w's seq-th request.
func (l Load) body(b []byte, w, seq int) []byte {
	if l.Format == AlertmanagerAlerts {
		return l.alertmanagerBody(b, w, seq)
	}
	b = append(b, `{"title":"`...)
	switch l.Pattern {
	case RepeatTitles:
		b = append(b, "disk nearly full on db-"...)
		b = strconv.AppendInt(b, int64(l.titleIndex(w, seq)), 10)
	default:
		b = append(b, "disk nearly full "...)
		b = append(b, l.Nonce...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(w), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(seq), 10)
	}
	b = append(b, `","severity":"sev2","priority":"p3","body":{"host":"db-`...)
	b = strconv.AppendInt(b, int64(w), 10)
	b = append(b, `","mount":"/var/lib/postgresql","used_percent":97.5,"check":"disk"}}`...)
	return b
}

// titleIndex is which of the Titles the seq-th request of worker w names.
func (l Load) titleIndex(w, seq int) int { return (seq*l.Connections + w) % l.Titles }

// alertmanagerBody writes what Prometheus would post to Alertmanager for the
// same event: one alert, its alertname one of Titles names; in the
// NewTitles pattern an instance label makes each label set (Alertmanager's
// identity of an alert) new, while repeats send the same label sets again.
// startsAt is now, as a firing rule's alert is first sent.
func (l Load) alertmanagerBody(b []byte, w, seq int) []byte {
	b = append(b, `[{"labels":{"alertname":"DiskNearlyFull`...)
	b = strconv.AppendInt(b, int64(l.titleIndex(w, seq)), 10)
	b = append(b, `","severity":"warning","mount":"/var/lib/postgresql"`...)
	if l.Pattern != RepeatTitles {
		b = append(b, `,"instance":"`...)
		b = append(b, l.Nonce...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(w), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(seq), 10)
		b = append(b, '"')
	}
	b = append(b, `},"annotations":{"summary":"disk nearly full on db-`...)
	b = strconv.AppendInt(b, int64(w), 10)
	b = append(b, `","used_percent":"97.5"},"startsAt":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `"}]`...)
	return b
}

// client is one keep-alive HTTP/1.1 connection.
type client struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// roundTrip sends req (a whole HTTP/1.1 request) and reads the answer,
// returning its status. It dials when the connection is gone.
func (c *client) roundTrip(ctx context.Context, req []byte) (int, error) {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.br.Reset(conn)
		}
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
		_ = stop // the connection is closed on the way out anyway
	}
	if _, err := c.conn.Write(req); err != nil {
		return 0, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("not an HTTP answer: %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("not an HTTP status line: %q", line)
	}
	length, closing := -1, false
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, errors.New("chunked answers are not expected from a push-events URL")
		}
	}
	switch {
	case length < 0 && closing: // the body runs to the end of the connection
		_, err := io.Copy(io.Discard, c.br)
		c.close()
		return status, err
	case length < 0:
		return 0, errors.New("an answer without Content-Length")
	}
	if _, err := c.br.Discard(length); err != nil {
		return 0, err
	}
	if closing {
		c.close()
	}
	if c.br.Buffered() > 0 {
		return 0, io.ErrUnexpectedEOF // more than one answer to one request
	}
	return status, nil
}
