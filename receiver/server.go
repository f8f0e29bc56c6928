package receiver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"klaxon/api"
	"klaxon/incidents"
)

// DefaultBodyLimit is the largest body taken (512 KiB, like PagerDuty).
const DefaultBodyLimit = 512 << 10

// Ingester is what the webhook routes need from the domain: find the
// integration a token names, store a request's events with its journal
// entry, journal a refusal, and say whether storage takes writes.
type Ingester interface {
	Now() time.Time
	IntegrationByToken(ctx context.Context, token string) (*incidents.Integration, error)
	AdoptToken(ctx context.Context, token string) (*incidents.Integration, error)
	IngestAll(ctx context.Context, integ *incidents.Integration, evs []incidents.Event, req *incidents.Request, answer incidents.Answer) ([]incidents.IngestResult, error)
	Journal(ctx context.Context, req *incidents.Request) error
	Health() incidents.Health
}

// Reader is what the API's reading routes need: lists, pages, counts and
// the change stream.
type Reader interface {
	ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error)
	Incident(ctx context.Context, id int64) (*incidents.Incident, error)
	Suppressed(ctx context.Context, limit int, cursor string) (incidents.Page[incidents.SuppressedEvent], error)
	Requests(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error)
	Request(ctx context.Context, id int64) (*incidents.Request, error)
	CountIncidents(ctx context.Context, f incidents.Filter) (int, error)
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
	TallyIncidents(ctx context.Context) (incidents.Tally, error)
	Subscribe() (<-chan incidents.Change, func())
}

// Actor is what the API's acting routes need: a person's actions on
// incidents.
type Actor interface {
	Act(ctx context.Context, id int64, a incidents.PersonAction) (*incidents.Incident, error)
}

// Integrations is what the API's integration routes need.
type Integrations interface {
	Integrations(ctx context.Context) ([]*incidents.Integration, error)
	IntegrationNamed(ctx context.Context, name string) (*incidents.Integration, error)
	CreateIntegration(ctx context.Context, name, service, escalation string, kind incidents.Kind) (*incidents.Integration, error)
	SetTimers(ctx context.Context, integration string, t incidents.Timers) error
	SetChaos(ctx context.Context, integration string, c incidents.Chaos) error
	// RemoveIntegration and RotateToken: see incidents.Service.
	RemoveIntegration(ctx context.Context, name string) (*incidents.Integration, error)
	RotateToken(ctx context.Context, name string, grace time.Duration) (*incidents.Integration, time.Time, error)
}

// Service is all of the above; *incidents.Service has it.
type Service interface {
	Ingester
	Reader
	Actor
	Integrations
}

// Options configure a Server.
type Options struct {
	// BaseURL is how senders reach this server, e.g. http://127.0.0.1:8765.
	BaseURL string
	// APIToken guards /api/v1. Required.
	APIToken string
	// BodyLimit is the largest body taken; DefaultBodyLimit when zero.
	BodyLimit int64
	// AcceptAnyToken makes an unknown token an integration named after it.
	AcceptAnyToken bool
	// Logger gets the server's own log lines; never a token.
	Logger *slog.Logger
	// RateLimit is the most events a second one integration may send (with a
	// burst of as many); beyond it klaxon answers 429. Zero: no limit.
	RateLimit float64
	// MaxInFlight bounds the push-events requests handled at once; beyond it
	// klaxon answers 503 at once. Default 1024.
	MaxInFlight int
	// BodyBudget bounds the bytes of webhook bodies being read and decoded
	// at once (each request counts its Content-Length, or BodyLimit when it
	// sends none); beyond it klaxon answers 503 with Retry-After, so memory
	// stays bounded whatever arrives. Default 64 MiB.
	BodyBudget int64
	// Observer hears of every push-events request once it is answered (metrics).
	Observer Observer
	// Metrics, when set, is served at /metrics without authentication.
	Metrics http.Handler
}

// Observer hears how each push-events request ended.
type Observer interface {
	ObserveEvent(integration, outcome string, status int, took time.Duration)
}

// Server serves push-events and the API.
type Server struct {
	svc  Service
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger

	closing     chan struct{} // closed by CloseStreams
	closingOnce sync.Once

	limiter  *rateLimiter
	inFlight chan struct{}
	budget   *byteBudget
}

// New returns a Server over svc.
func New(svc Service, opts Options) *Server {
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	if opts.BodyBudget <= 0 {
		opts.BodyBudget = 64 << 20
	}
	s := &Server{svc: svc, opts: opts, mux: http.NewServeMux(), log: opts.Logger, closing: make(chan struct{}),
		limiter: newRateLimiter(opts.RateLimit, svc.Now), inFlight: make(chan struct{}, opts.MaxInFlight),
		budget: newByteBudget(opts.BodyBudget)}
	s.routes()
	return s
}

// ServeHTTP routes a request. Only /api/ and /healthz go through the mux:
// every other path is a webhook URL, right or wrong, and must be answered and
// journaled as one, never redirected (the mux would "clean" /../ with a 307
// that no sender follows and the journal never sees).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || p == "/healthz" || (p == "/metrics" && s.opts.Metrics != nil) {
		s.mux.ServeHTTP(w, r)
		return
	}
	select {
	case s.inFlight <- struct{}{}:
		defer func() { <-s.inFlight }()
		start := time.Now()
		req := s.handleWebhookPath(w, r)
		if s.opts.Observer != nil {
			s.opts.Observer.ObserveEvent(req.Integration, string(req.Outcome), req.Status, time.Since(start))
		}
	default:
		// Too much at once: refuse cheaply rather than queue without bound.
		w.Header().Set("Retry-After", "1")
		writeError(w, 503, "klaxon is taking too many requests at once; send again in a second")
		if s.opts.Observer != nil {
			s.opts.Observer.ObserveEvent("", string(incidents.OutcomeError), 503, 0)
		}
	}
}

// HTTPServer returns an http.Server for this handler with SPEC §2's limits:
// 10 s for headers, 30 s for the body, bounded writes and idle connections.
func (s *Server) HTTPServer(addr string, errorLog *slog.Logger) *http.Server {
	if errorLog == nil {
		errorLog = s.log
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // the event stream lifts it for itself
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(s.CloseStreams)
	return srv
}

// CloseStreams ends every open event stream, so a graceful shutdown need not
// wait for them.
func (s *Server) CloseStreams() { s.closingOnce.Do(func() { close(s.closing) }) }

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("/api/v1/", s.requireToken(s.apiRoutes()))
	if s.opts.Metrics != nil {
		s.mux.Handle("GET /metrics", s.opts.Metrics)
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, 404, "no such API route; the API lives under /api/v1/")
	})
}

// healthz says whether klaxon can store an event now: 200 {"ok":true}, or
// 503 with the reason (full disk, damaged database, a writer that does not
// answer) and Retry-After, for load balancers and service managers. No
// token: it tells nothing secret. /api/v1/health has the detail.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := s.svc.Health()
	if h.OK {
		writeJSON(w, 200, api.Healthz{OK: true})
		return
	}
	w.Header().Set("Retry-After", "5")
	writeJSON(w, 503, api.Healthz{Problem: h.Problem})
}

// requireToken answers 401 unless the request carries the API token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.opts.APIToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if s.opts.APIToken == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
			writeError(w, 401, "the API needs Authorization: Bearer <api token>; the token is KLAXON_API_TOKEN or the api-token file in the data directory")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleWebhookPath takes every webhook route (webhook.go says which),
// and refuses every other path with a hint, journaling each request either way.
func (s *Server) handleWebhookPath(w http.ResponseWriter, r *http.Request) *incidents.Request {
	ctx := r.Context()
	req := &incidents.Request{
		At:      s.svc.Now(),
		Remote:  r.RemoteAddr,
		Method:  r.Method,
		Headers: redactHeaders(r.Header),
	}
	rt := routeOf(r)
	shape := rt.refusalShape()
	want := s.opts.BodyLimit
	if r.ContentLength >= 0 && r.ContentLength < want {
		want = r.ContentLength
	}
	// A body is held several times over while it is read, decoded and
	// stored (the body, its decoded fields, the journal's and the
	// timeline's copies): the budget counts that, not the wire bytes.
	want *= bodyCopies
	if !s.budget.take(want) {
		// Read the body to its end without keeping it (no memory), so the
		// sender hears the 503 instead of a reset connection.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, s.opts.BodyLimit+1))
		req.Path = rt.journalPath(nil, r.URL.RawQuery)
		w.Header().Set("Retry-After", "1")
		s.answerRefusal(w, req, r, 503, incidents.OutcomeError, "klaxon is reading too many large bodies at once; send again in a second (nothing was stored)", shape)
		return req
	}
	defer s.budget.give(want)
	body, truncated, readErr := readBody(w, r, s.opts.BodyLimit)
	if rt.dialect == incidents.KindPagerDuty && rt.token == "" && !truncated {
		rt.token = routingKey(body)
	}
	var integ *incidents.Integration
	if rt.token != "" {
		var err error
		integ, err = s.svc.IntegrationByToken(ctx, rt.token)
		if err != nil {
			s.finish(w, req, r, s.storageRefusal(err), shape)
			return req
		}
		if integ == nil && s.opts.AcceptAnyToken && rt.inPath && rt.known && plausibleToken(rt.token) {
			if integ, err = s.svc.AdoptToken(ctx, rt.token); err != nil {
				s.finish(w, req, r, s.storageRefusal(err), shape)
				return req
			}
		}
		// The token never reaches the journal or a timeline, wherever the
		// sender put it (PagerDuty's routing_key is in the body; a Referer
		// or a proxy's X-Original-URI may repeat the webhook URL).
		body = redactToken(body, rt.token)
		if integ != nil {
			redactTokenInHeaders(req.Headers, rt.token)
		}
	}
	req.Path = rt.journalPath(integ, string(redactToken([]byte(r.URL.RawQuery), rt.token)))
	if integ != nil {
		req.Integration = integ.Name
	}
	req.Body, req.Truncated = string(body), truncated
	if integ == nil && len(req.Body) > unknownBodyKept {
		// Anyone can post to an unknown token: the journal keeps enough to
		// see what was sent, not enough to fill the disk.
		req.Body, req.Truncated = strings.ToValidUTF8(req.Body[:unknownBodyKept], ""), true
	}

	switch {
	case !rt.known:
		hint := "a webhook URL looks like " + s.opts.BaseURL + "/<token>/push-events"
		if rt.token != "" && rt.rest == "" {
			hint = "this URL lacks /push-events at its end; " + hint
		}
		s.finish(w, req, r, refuse(404, "%s (klaxon integrations lists them)", hint), shape)
	case integ == nil && rt.token == "":
		s.finish(w, req, r, refuse(401, "%s", rt.missingToken()), shape)
	case integ == nil:
		s.finish(w, req, r, refuse(404, "no integration has this token; copy the webhook URL again from `klaxon integrations` or the console header"), shape)
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST")
		s.finish(w, req, r, refuse(405, "%s is not accepted here; send the event with POST", r.Method), shape)
	case truncated:
		s.finish(w, req, r, refuse(413, "the body is over %d bytes; send less (details are for a summary, not a log file)", s.opts.BodyLimit), shape)
	case readErr != nil:
		s.finish(w, req, r, refuse(400, "the body could not be read: %v", readErr), shape)
	case encoded(r.Header.Get("Content-Encoding")):
		s.finish(w, req, r, refuse(415, "Content-Encoding %s is not supported; send the body uncompressed (plain JSON)", r.Header.Get("Content-Encoding")), shape)
	default:
		req.Kind = rt.dialect
		if req.Kind == "" {
			req.Kind = integ.Kind
		}
		if s.chaos(ctx, w, req, r, integ, shape) {
			return req
		}
		if ok, wait := s.limiter.allow(integ.ID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			s.finish(w, req, r, refuse(429, "integration %q is over its rate limit of %g events a second; send again in %s", integ.Name, s.opts.RateLimit, wait.Round(time.Millisecond)), shape)
			return req
		}
		kind := req.Kind
		var mismatch []string
		if rt.dialect != "" && integ.Kind != rt.dialect {
			mismatch = append(mismatch, fmt.Sprintf("integration %q is of kind %s; this route speaks %s, so its dedup key is the %s", integ.Name, integ.Kind, rt.dialect, rt.dialect.KeyName()))
		}
		evs, warns, answer, err := rt.read(kind, r.Header.Get("Content-Type"), body, req.At, mismatch)
		if err != nil {
			s.finish(w, req, r, err, shape)
			return req
		}
		req.Warnings = warns
		if _, err = s.svc.IngestAll(ctx, integ, evs, req, answer); err != nil {
			s.finish(w, req, r, s.storageRefusal(err), shape)
			return req
		}
		writeRaw(w, req.Status, req.Response)
	}
	return req
}

// chaos carries out the integration's chaos setting (incidents.Chaos): for
// its share of requests it waits, and answers its status without storing
// the event. It reports whether it answered.
func (s *Server) chaos(ctx context.Context, w http.ResponseWriter, req *incidents.Request, r *http.Request, integ *incidents.Integration, shape refusalShape) bool {
	c := integ.Chaos
	if !c.On() || rand.Float64() >= c.Share {
		return false
	}
	if c.Delay > 0 {
		t := time.NewTimer(c.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if c.Status == 0 {
		return false
	}
	if c.Status == 429 || c.Status == 503 {
		w.Header().Set("Retry-After", "1")
	}
	msg := fmt.Sprintf("chaos: integration %q answers %s, without storing them (klaxon integrations set %q --chaos off)", integ.Name, c.Describe(), integ.Name)
	s.answerRefusal(w, req, r, c.Status, incidents.Chaosed, msg, shape)
	return true
}

// finish answers a refusal and journals it.
func (s *Server) finish(w http.ResponseWriter, req *incidents.Request, r *http.Request, err error, shape refusalShape) {
	var ref *refusal
	if !errors.As(err, &ref) {
		ref = refuse(500, "%s", err.Error())
	}
	if ref.status == 503 {
		w.Header().Set("Retry-After", "5")
	}
	s.answerRefusal(w, req, r, ref.status, incidents.OutcomeError, ref.msg, shape)
}

// answerRefusal journals a request that stored no event, then answers it.
func (s *Server) answerRefusal(w http.ResponseWriter, req *incidents.Request, r *http.Request, status int, outcome incidents.Outcome, msg string, shape refusalShape) {
	if req.Path == "" {
		req.Path = journalPath(nil, "", r.URL.RawQuery)
	}
	if shape == nil {
		shape = klaxonRefusal
	}
	answer := shape(status, msg)
	req.Status, req.Outcome, req.Error, req.Response = status, outcome, msg, answer
	// Journal before answering, so what was refused is visible by the time the
	// sender hears of it. A journal that cannot be written is logged instead.
	if jerr := s.svc.Journal(context.WithoutCancel(r.Context()), req); jerr != nil {
		s.log.Error("journal a refused request", "status", status, "path", req.Path, "error", jerr)
	}
	writeRaw(w, status, answer)
}

// refusalShape writes a refusal's body in a sender's dialect.
type refusalShape func(status int, msg string) []byte

// klaxonRefusal is SPEC §2's {"ok":false,"error":"…"}.
func klaxonRefusal(_ int, msg string) []byte {
	b, _ := marshal(api.Error{Error: msg})
	return b
}

// encoded reports a Content-Encoding other than none.
func encoded(ce string) bool {
	ce = strings.ToLower(strings.TrimSpace(ce))
	return ce != "" && ce != "identity"
}

// bodyCopies is how many times over a request's body is held in memory
// at its peak, measured with TestLargeBodiesBoundedMemory.
const bodyCopies = 4

// unknownBodyKept is how much of a body sent to no known integration the
// journal keeps.
const unknownBodyKept = 4 << 10

// storageRefusal maps a domain error onto an HTTP refusal, in one place.
func (s *Server) storageRefusal(err error) *refusal {
	status := statusFor(err)
	switch {
	case errors.Is(err, context.Canceled):
		s.log.Info("a sender hung up before its request was stored; it took nothing", "error", err)
	case status >= 500:
		s.log.Error("storage", "error", err)
	}
	if status == 503 {
		return refuse(503, "%s", incidents.ErrorMessage(err))
	}
	if status == 500 {
		return refuse(500, "klaxon could not store the event (%s); it took nothing, send again", incidents.ErrorMessage(err))
	}
	return refuse(status, "%s", incidents.ErrorMessage(err))
}

// statusFor is the one place domain error codes become HTTP statuses.
func statusFor(err error) int {
	switch incidents.ErrorCode(err) {
	case incidents.EINVALID:
		return 400
	case incidents.ENOTFOUND:
		return 404
	case incidents.ECONFLICT:
		return 409
	case incidents.EUNAVAILABLE:
		return 503
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 503
	}
	return 500
}

// plausibleToken is what --accept-any-token will adopt: URL-safe and short.
func plausibleToken(t string) bool {
	if len(t) < 1 || len(t) > 128 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') || t == "." || t == ".." {
			return false
		}
	}
	return true
}

// journalPath is the path as the journal shows it: the integration's name in
// place of its token (<unknown> when none), secrets in the query redacted.
func journalPath(integ *incidents.Integration, rest, rawQuery string) string {
	name := "<unknown>"
	if integ != nil {
		name = integ.Name
	}
	p := "/" + name
	if rest != "" {
		segs := strings.Split(rest, "/")
		for i, seg := range segs {
			if len(seg) >= 16 { // could be a token in the wrong place
				segs[i] = "<redacted>"
			}
		}
		p += "/" + strings.Join(segs, "/")
	}
	if rawQuery != "" {
		p += "?" + redactQuery(rawQuery)
	}
	if len(p) > 2048 {
		p = p[:2048] + "…"
	}
	return p
}

// readBody reads up to limit bytes; truncated reports a longer body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true, nil
	}
	return body, false, err
}

// secretWords mark a header or query parameter whose value is redacted.
var secretWords = []string{"auth", "cookie", "token", "secret", "password", "passwd", "key", "signature", "session", "credential"}

func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func redactHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if looksSecret(k) {
			out[k] = []string{"[redacted]"}
			continue
		}
		out[k] = vs
	}
	return out
}

// redactTokenInHeaders replaces token in every header value.
func redactTokenInHeaders(h map[string][]string, token string) {
	if len(token) < 8 {
		return
	}
	for k, vs := range h {
		for i, v := range vs {
			if strings.Contains(v, token) {
				out := append([]string(nil), vs...)
				out[i] = strings.ReplaceAll(v, token, "[redacted]")
				h[k], vs = out, out
			}
		}
	}
}

func redactQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[unreadable query redacted]"
	}
	for k := range q {
		if looksSecret(k) {
			q[k] = []string{"redacted"}
		}
	}
	return q.Encode()
}

// errorAnswer is api.Error by the name limits.go still uses.
type errorAnswer = api.Error

// marshal writes JSON without HTML escaping: answers are read by people.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"ok":false,"error":"klaxon could not write its answer"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Error: msg})
}
