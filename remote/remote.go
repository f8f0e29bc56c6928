// Package remote is a klaxon seen over its HTTP API: the same reads, actions
// and live changes as *incidents.Service, so the console and the command line
// work the same against a klaxon in this process or one on an ops box.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"klaxon/api"
	"klaxon/incidents"
)

// Client talks to one klaxon's API.
type Client struct {
	base  string
	token string
	http  *http.Client
	// stream is the client for the event stream: no overall timeout.
	stream *http.Client
	// Backoff bounds the waits between reconnects of Subscribe.
	MinBackoff, MaxBackoff time.Duration
	// retryAt is when Subscribe next tries to reconnect (unix nanoseconds),
	// 0 while connected: the console says so when an action fails.
	retryAt atomic.Int64
}

// Disconnected reports whether the event stream is down and, if so, when
// the client tries to reconnect.
func (c *Client) Disconnected() (retryAt time.Time, down bool) {
	n := c.retryAt.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// New returns a client for the klaxon at base (http://host:port) with the API token.
func New(base, token string) *Client {
	return &Client{
		base: strings.TrimRight(base, "/"), token: token,
		http:       &http.Client{Timeout: 15 * time.Second},
		stream:     &http.Client{},
		MinBackoff: 250 * time.Millisecond, MaxBackoff: 10 * time.Second,
	}
}

// UseTLS has the client speak HTTPS with cfg (the roots it trusts).
func (c *Client) UseTLS(cfg *tls.Config) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	c.http.Transport, c.stream.Transport = t, t
}

// Base is the klaxon's address.
func (c *Client) Base() string { return c.base }

// ErrNotRunning says nothing answers at the address.
var ErrNotRunning = errors.New("no klaxon answers")

// do sends a request and decodes a 2xx answer into out. Refusals come back as
// *incidents.Error with the server's sentence and a code from the status.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isRefused(err) {
			return fmt.Errorf("%w at %s", ErrNotRunning, c.base)
		}
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return incidents.Errorf(incidents.EUNAVAILABLE, "klaxon at %s serves a certificate this machine does not trust: pass that certificate with --tls-cert FILE (KLAXON_TLS_CERT)", c.base)
		}
		return incidents.Errorf(incidents.EUNAVAILABLE, "klaxon at %s did not answer: %v", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return incidents.Errorf(incidents.EUNAVAILABLE, "reading klaxon's answer: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		return refusal(c.base, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

func refusal(base string, status int, body []byte) error {
	var e api.Error
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	code := incidents.EINTERNAL
	switch status {
	case 400, 422:
		code = incidents.EINVALID
		if strings.Contains(e.Error, "HTTP request to an HTTPS server") || strings.HasPrefix(e.Error, "this klaxon speaks HTTPS") {
			e.Error = fmt.Sprintf("the klaxon at %s serves HTTPS: pass the certificate it serves with --tls-cert FILE (KLAXON_TLS_CERT), and this command speaks HTTPS to it", base)
		}
	case 401, 403:
		code = incidents.EINVALID
		e.Error = fmt.Sprintf("the klaxon at %s refused the API token (%d): set KLAXON_API_TOKEN to its token, or pass the --data-dir it uses", base, status)
	case 404:
		code = incidents.ENOTFOUND
	case 409:
		code = incidents.ECONFLICT
	case 429, 502, 503, 504:
		code = incidents.EUNAVAILABLE
	}
	return incidents.Errorf(code, "%s", e.Error)
}

// filterQuery writes a filter as the API's query parameters.
func filterQuery(f incidents.Filter) url.Values {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Severity != nil {
		v := string(*f.Severity)
		if v == "" {
			v = "none"
		}
		q.Set("severity", v)
	}
	if f.Priority != nil {
		v := string(*f.Priority)
		if v == "" {
			v = "none"
		}
		q.Set("priority", v)
	}
	if f.Integration != "" {
		q.Set("integration", f.Integration)
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	return q
}

// ListIncidents returns one page of incidents.
func (c *Client) ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error) {
	var out api.IncidentPage
	err := c.do(ctx, "GET", "/api/v1/incidents?"+filterQuery(f).Encode(), nil, &out)
	return out.Page(), err
}

func (c *Client) counts(ctx context.Context, f incidents.Filter) (api.Counts, error) {
	f.Limit, f.Cursor = 0, ""
	var out api.Counts
	err := c.do(ctx, "GET", "/api/v1/counts?"+filterQuery(f).Encode(), nil, &out)
	return out, err
}

// CountIncidents counts what f selects.
func (c *Client) CountIncidents(ctx context.Context, f incidents.Filter) (int, error) {
	n, err := c.counts(ctx, f)
	return n.Incidents, err
}

// CountSuppressed counts stored suppressed events.
func (c *Client) CountSuppressed(ctx context.Context) (int, error) {
	n, err := c.counts(ctx, incidents.Filter{})
	return n.Suppressed, err
}

// CountRequests counts the request journal.
func (c *Client) CountRequests(ctx context.Context) (int, error) {
	n, err := c.counts(ctx, incidents.Filter{})
	return n.Requests, err
}

// TallyIncidents counts open incidents by severity, and resolved ones, in
// one call (the console's header).
func (c *Client) TallyIncidents(ctx context.Context) (incidents.Tally, error) {
	var out api.Tally
	if err := c.do(ctx, "GET", "/api/v1/tally", nil, &out); err != nil {
		return incidents.Tally{}, err
	}
	return out.Incidents(), nil
}

// Incident returns one incident with its timeline.
func (c *Client) Incident(ctx context.Context, id int64) (*incidents.Incident, error) {
	var in incidents.Incident
	if err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), nil, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// Suppressed lists folded duplicates, newest first.
func (c *Client) Suppressed(ctx context.Context, limit int, cursor string) (incidents.Page[incidents.SuppressedEvent], error) {
	var out api.SuppressedPage
	err := c.do(ctx, "GET", "/api/v1/suppressed?"+pageQuery(limit, cursor), nil, &out)
	return out.Page(), err
}

// Requests lists the journal, newest first.
func (c *Client) Requests(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error) {
	var out api.RequestPage
	err := c.do(ctx, "GET", "/api/v1/requests?"+pageQuery(limit, cursor), nil, &out)
	return out.Page(), err
}

// Request returns one journal entry.
func (c *Client) Request(ctx context.Context, id int64) (*incidents.Request, error) {
	var r incidents.Request
	if err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/requests/%d", id), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func pageQuery(limit int, cursor string) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q.Encode()
}

// Act applies a person's action through the API (recorded as by: api).
func (c *Client) Act(ctx context.Context, id int64, a incidents.PersonAction) (*incidents.Incident, error) {
	out, err := c.act(ctx, id, a)
	return out.Incident, err
}

// act applies a person's action and answers what the API does: the
// incident after it, and whether it changed anything.
func (c *Client) act(ctx context.Context, id int64, a incidents.PersonAction) (api.ActionAnswer, error) {
	var (
		out    api.ActionAnswer
		err    error
		prefix = fmt.Sprintf("/api/v1/incidents/%d", id)
	)
	switch a.Kind {
	case incidents.EntryAcknowledged:
		err = c.do(ctx, "POST", prefix+"/acknowledge", nil, &out)
	case incidents.EntryUnacknowledged:
		err = c.do(ctx, "POST", prefix+"/unacknowledge", nil, &out)
	case incidents.EntryResolved:
		err = c.do(ctx, "POST", prefix+"/resolve", nil, &out)
	case incidents.EntrySeverityChanged:
		err = c.do(ctx, "PATCH", prefix, api.PatchSeverity(a.Severity), &out)
	case incidents.EntryPriorityChanged:
		err = c.do(ctx, "PATCH", prefix, api.PatchPriority(a.Priority), &out)
	default:
		return api.ActionAnswer{}, incidents.Errorf(incidents.EINVALID, "unknown action %q", a.Kind)
	}
	if err != nil {
		return api.ActionAnswer{}, err
	}
	return out, nil
}

// Integration is an integration as the API shows it: with its webhook URL,
// the payload field its incidents are keyed by, and the configuration block
// for its sender.
type Integration = api.Integration

// SetTimers changes an integration's acknowledge timeout and resolve timer.
func (c *Client) SetTimers(ctx context.Context, name string, t incidents.Timers) error {
	body := api.IntegrationPatch{Timers: api.TimersOf(t)}
	return c.do(ctx, "PATCH", "/api/v1/integrations/"+url.PathEscape(name), body, nil)
}

// SetChaos changes an integration's chaos setting (the zero Chaos turns it off).
func (c *Client) SetChaos(ctx context.Context, name string, ch incidents.Chaos) error {
	setting := ch.String()
	body := api.IntegrationPatch{Chaos: &setting}
	return c.do(ctx, "PATCH", "/api/v1/integrations/"+url.PathEscape(name), body, nil)
}

// Integrations lists every integration with its URL.
func (c *Client) Integrations(ctx context.Context) ([]Integration, error) {
	var out api.IntegrationList
	err := c.do(ctx, "GET", "/api/v1/integrations", nil, &out)
	return out.Integrations, err
}

// CreateIntegration makes an integration and returns it with its URL.
func (c *Client) CreateIntegration(ctx context.Context, name, service, escalation string, kind incidents.Kind) (*Integration, error) {
	var out api.IntegrationAnswer
	body := api.NewIntegration{Name: name, Service: service, Escalation: escalation, Kind: kind}
	if err := c.do(ctx, "POST", "/api/v1/integrations", body, &out); err != nil {
		return nil, err
	}
	return &out.Integration, nil
}

// RemoveIntegration removes an integration: its incidents stay under its
// name, and its token answers 404 saying it was removed.
func (c *Client) RemoveIntegration(ctx context.Context, name string) error {
	var out api.Removed
	return c.do(ctx, "DELETE", "/api/v1/integrations/"+url.PathEscape(name), nil, &out)
}

// RotateIntegration gives an integration a new token; the old one keeps
// working for grace (at most incidents.MaxGrace). until is when it stops:
// the zero time when it is refused at once.
func (c *Client) RotateIntegration(ctx context.Context, name string, grace time.Duration) (in *Integration, until time.Time, err error) {
	var out api.Rotated
	body := api.Rotate{GraceSeconds: int64(grace / time.Second)}
	if err := c.do(ctx, "POST", "/api/v1/integrations/"+url.PathEscape(name)+"/rotate", body, &out); err != nil {
		return nil, time.Time{}, err
	}
	if until, err = out.Until(); err != nil {
		return nil, time.Time{}, incidents.Errorf(incidents.EINTERNAL, "klaxon at %s answered an old_token_works_until that is not a time: %v", c.base, err)
	}
	return &out.Integration, until, nil
}

// Health is the remote storage's health.
func (c *Client) Health(ctx context.Context) (incidents.Health, error) {
	var h incidents.Health
	err := c.do(ctx, "GET", "/api/v1/health", nil, &h)
	return h, err
}

// Subscribe follows the klaxon's event stream until the returned function is
// called. It reconnects by itself with backoff. While disconnected it sends a
// Health change saying so (never showing stale data as live); after each
// reconnect it sends a Resync so the reader reloads what it missed.
func (c *Client) Subscribe() (<-chan incidents.Change, func()) {
	ch := make(chan incidents.Change, incidents.SubscriberBuffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		c.follow(ctx, ch)
	}()
	return ch, func() {
		cancel()
		<-done
	}
}

func (c *Client) follow(ctx context.Context, ch chan incidents.Change) {
	send := func(ch chan incidents.Change, x incidents.Change) {
		select {
		case ch <- x:
		default: // the reader is behind: it will get a resync
			for len(ch) > 0 {
				select {
				case <-ch:
				default:
				}
			}
			select {
			case ch <- incidents.Change{Resync: true}:
			default:
			}
		}
	}
	backoff := c.MinBackoff
	for ctx.Err() == nil {
		err := c.streamOnce(ctx, func(x incidents.Change) { send(ch, x) }, func() {
			backoff = c.MinBackoff
			c.retryAt.Store(0)
			// (Re)connected: say so, and have the reader reload what it missed.
			send(ch, incidents.Change{Health: &incidents.Health{OK: true, Since: time.Now().UTC()}})
			send(ch, incidents.Change{Resync: true})
		})
		if ctx.Err() != nil {
			return
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is said already
		}
		c.retryAt.Store(time.Now().Add(backoff).UnixNano())
		problem := fmt.Sprintf("disconnected from %s, retrying in %s; what is shown may be stale (%v)", c.base, backoff.Round(time.Millisecond), err)
		send(ch, incidents.Change{Health: &incidents.Health{OK: false, Problem: problem, Since: time.Now().UTC()}})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, c.MaxBackoff)
	}
}

// streamOnce reads the event stream until it breaks. connected is called
// once the server has answered 200.
func (c *Client) streamOnce(ctx context.Context, deliver func(incidents.Change), connected func()) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/stream?all=1", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return refusal(c.base, resp.StatusCode, b)
	}
	connected()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			event = ""
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			if x, ok := decodeEvent(event, data); ok {
				deliver(x)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("the stream ended")
}

func decodeEvent(event string, data []byte) (incidents.Change, bool) {
	switch event {
	case api.EventRequest:
		var r incidents.Request
		if json.Unmarshal(data, &r) != nil {
			return incidents.Change{}, false
		}
		return incidents.Change{Request: &r}, true
	case api.EventHealth:
		var h incidents.Health
		if json.Unmarshal(data, &h) != nil {
			return incidents.Change{}, false
		}
		return incidents.Change{Health: &h}, true
	}
	// An incident's line is its JSON with "change" added: what happened to
	// it (a klaxon before that sends none, and its changes have no Kind).
	var line api.StreamLine
	if json.Unmarshal(data, &line) != nil {
		return incidents.Change{}, false
	}
	if line.Resync {
		return incidents.Change{Resync: true}, true
	}
	if line.Incident == nil || line.Incident.ID == 0 {
		return incidents.Change{}, false
	}
	return incidents.Change{Incident: line.Incident, Kind: line.Change}, true
}
