package incidents

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Store is what the Service needs from storage. Every write commits (and is
// fsync'd) before it returns.
type Store interface {
	// Ingest applies ev for integ inside one transaction (using Apply) and
	// records req in the journal in the same transaction.
	Ingest(ctx context.Context, integ *Integration, ev Event, req *Request) (IngestResult, error)
	// IngestAll applies evs in order for integ and journals req, all in one
	// transaction; answer (nil: SPEC §2's) makes the answer journaled and sent.
	IngestAll(ctx context.Context, integ *Integration, evs []Event, req *Request, answer Answer) ([]IngestResult, error)
	// Act applies a person's action to incident id (using ApplyAction).
	Act(ctx context.Context, id int64, a PersonAction, at time.Time) (*Incident, error)
	// Journal records a refused request.
	Journal(ctx context.Context, req *Request) error

	ListIncidents(ctx context.Context, f Filter) (Page[*Incident], error)
	CountIncidents(ctx context.Context, f Filter) (int, error)
	// TallyIncidents, CountSuppressed and CountRequests are the console's
	// counts; they must stay cheap with 100,000 incidents.
	TallyIncidents(ctx context.Context) (Tally, error)
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
	Incident(ctx context.Context, id int64) (*Incident, error)
	Suppressed(ctx context.Context, limit int, cursor string) (Page[SuppressedEvent], error)
	Requests(ctx context.Context, limit int, cursor string) (Page[*Request], error)

	Integrations(ctx context.Context) ([]*Integration, error)
	CreateIntegration(ctx context.Context, integ *Integration) error
	SetTimers(ctx context.Context, integration string, t Timers) error
	SetChaos(ctx context.Context, integration string, c Chaos) error
	// ApplyTimers carries out the timers due at now and returns what changed.
	ApplyTimers(ctx context.Context, now time.Time) ([]*Incident, error)
}

// Service applies the rules through a Store and publishes each committed
// change to the broker. It is what the receiver and the console talk to.
type Service struct {
	store  Store
	broker *Broker
	now    func() time.Time

	mu      sync.RWMutex
	byToken map[[32]byte]*Integration // keyed by sha256(token): no timing leak on lookup
	byName  map[string]*Integration
	gone    map[[32]byte]goneToken // tokens retired by a rotation or a removal, by sha256
	// reloadedAt is when a token missing from the cache last made the
	// Service read the integrations again (at most once a second): another
	// node of a team's klaxon may have made it.
	reloadedAt time.Time

	health healthState
}

// NewService returns a Service over store. now is the clock (time.Now when nil).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, broker: NewBroker(), now: now}
	s.health.started = s.Now()
	return s
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Subscribe hears every committed change.
func (s *Service) Subscribe() (<-chan Change, func()) { return s.broker.Subscribe() }

// Ingest applies one normalized event and journals its request.
func (s *Service) Ingest(ctx context.Context, integ *Integration, ev Event, req *Request) (IngestResult, error) {
	res, err := s.store.Ingest(ctx, integ, ev, req)
	s.noteWrite(err, true)
	if err != nil {
		return res, err
	}
	s.decorate(ctx, res.Incident)
	if res.Incident != nil {
		s.broker.Publish(Change{Incident: res.Incident, Outcome: res.Outcome})
	}
	s.broker.Publish(Change{Request: req})
	return res, nil
}

// IngestAll applies the events of one request (several alerts of one
// Alertmanager notification, say) in one transaction with one journal entry.
// answer makes the answer the sender gets (nil: SPEC §2's, for one event).
func (s *Service) IngestAll(ctx context.Context, integ *Integration, evs []Event, req *Request, answer Answer) ([]IngestResult, error) {
	results, err := s.store.IngestAll(ctx, integ, evs, req, answer)
	s.noteWrite(err, true)
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		s.decorate(ctx, res.Incident)
		if res.Incident != nil && res.Outcome != Ignored {
			s.broker.Publish(Change{Incident: res.Incident, Outcome: res.Outcome})
		}
	}
	s.broker.Publish(Change{Request: req})
	return results, nil
}

// Journal records a refused request.
func (s *Service) Journal(ctx context.Context, req *Request) error {
	err := s.store.Journal(ctx, req)
	s.noteWrite(err, false)
	if err != nil {
		return err
	}
	s.broker.Publish(Change{Request: req})
	return nil
}

// Act applies a person's action and publishes the result.
func (s *Service) Act(ctx context.Context, id int64, a PersonAction) (*Incident, error) {
	in, err := s.store.Act(ctx, id, a, s.Now())
	s.noteWrite(err, true)
	if err != nil {
		return nil, err
	}
	s.decorate(ctx, in)
	s.broker.Publish(Change{Incident: in, Kind: ActionKind(a.Kind)})
	return in, nil
}

// Acknowledge, Unacknowledge and Resolve are the common actions by name.
func (s *Service) Acknowledge(ctx context.Context, id int64, by Actor) (*Incident, error) {
	return s.Act(ctx, id, PersonAction{Kind: EntryAcknowledged, By: by})
}

func (s *Service) Unacknowledge(ctx context.Context, id int64, by Actor) (*Incident, error) {
	return s.Act(ctx, id, PersonAction{Kind: EntryUnacknowledged, By: by})
}

func (s *Service) Resolve(ctx context.Context, id int64, by Actor) (*Incident, error) {
	return s.Act(ctx, id, PersonAction{Kind: EntryResolved, By: by})
}

// SetSeverity and SetPriority change an incident's severity or priority.
func (s *Service) SetSeverity(ctx context.Context, id int64, sev Severity, by Actor) (*Incident, error) {
	return s.Act(ctx, id, PersonAction{Kind: EntrySeverityChanged, By: by, Severity: sev})
}

func (s *Service) SetPriority(ctx context.Context, id int64, p Priority, by Actor) (*Incident, error) {
	return s.Act(ctx, id, PersonAction{Kind: EntryPriorityChanged, By: by, Priority: p})
}

// ListIncidents returns one page of incidents in SPEC §3 order.
func (s *Service) ListIncidents(ctx context.Context, f Filter) (Page[*Incident], error) {
	page, err := s.store.ListIncidents(ctx, f)
	for _, in := range page.Items {
		s.decorate(ctx, in)
	}
	return page, err
}

// CountIncidents counts the incidents that f selects (Limit and Cursor ignored).
func (s *Service) CountIncidents(ctx context.Context, f Filter) (int, error) {
	return s.store.CountIncidents(ctx, f)
}

// Incident returns one incident with its timeline.
func (s *Service) Incident(ctx context.Context, id int64) (*Incident, error) {
	in, err := s.store.Incident(ctx, id)
	s.decorate(ctx, in)
	return in, err
}

// Suppressed lists folded duplicate events, newest first.
func (s *Service) Suppressed(ctx context.Context, limit int, cursor string) (Page[SuppressedEvent], error) {
	return s.store.Suppressed(ctx, limit, cursor)
}

// Requests lists the request journal, newest first.
func (s *Service) Requests(ctx context.Context, limit int, cursor string) (Page[*Request], error) {
	return s.store.Requests(ctx, limit, cursor)
}

// Integrations lists every integration in use (not the removed ones).
func (s *Service) Integrations(ctx context.Context) ([]*Integration, error) {
	return s.integrationsInUse(ctx)
}

// CreateIntegration creates an integration with a fresh random token. Its
// name is letters, digits, '-', '_', '.' and '/' (ValidIntegrationName). The
// name of a removed integration brings that one back, with the new token and
// settings, its old incidents under it again.
func (s *Service) CreateIntegration(ctx context.Context, name, service, escalation string, kind Kind) (*Integration, error) {
	name = strings.TrimSpace(name)
	if err := ValidIntegrationName(name); err != nil {
		return nil, err
	}
	k, err := ParseKind(string(kind))
	if err != nil {
		return nil, err
	}
	if service == "" {
		service = name
	}
	integ := &Integration{Name: name, Service: service, Escalation: escalation, Kind: k, Token: NewToken(), CreatedAt: s.Now()}
	revived, err := s.revive(ctx, integ)
	if err != nil {
		return nil, err
	}
	if revived {
		return integ, s.loadIntegrations(ctx)
	}
	if err := s.store.CreateIntegration(ctx, integ); err != nil {
		return nil, err
	}
	s.remember(integ)
	return integ, nil
}

// IntegrationByToken finds the integration a token belongs to (nil when none).
// The lookup is by the token's hash, so its timing says nothing of the token.
// A token that a rotation or a removal retired is ENOTFOUND saying so, or,
// during a rotation's grace period, still its integration's.
func (s *Service) IntegrationByToken(ctx context.Context, token string) (*Integration, error) {
	h := sha256.Sum256([]byte(token))
	s.mu.RLock()
	loaded := s.byToken != nil
	integ := s.byToken[h]
	gone, retired := s.gone[h]
	s.mu.RUnlock()
	if !loaded {
		if err := s.loadIntegrations(ctx); err != nil {
			return nil, err
		}
		s.mu.RLock()
		integ = s.byToken[h]
		gone, retired = s.gone[h]
		s.mu.RUnlock()
	}
	if integ == nil && !retired && loaded && s.mayReload() {
		// Unknown here: another klaxon on the same database may have made
		// it a moment ago. Look again before a 404.
		if err := s.loadIntegrations(ctx); err != nil {
			return nil, err
		}
		s.mu.RLock()
		integ = s.byToken[h]
		gone, retired = s.gone[h]
		s.mu.RUnlock()
	}
	if integ == nil && retired {
		return s.retiredTokenAnswer(gone)
	}
	return integ, nil
}

// mayReload reports whether an unknown token may make the Service read the
// integrations again now: at most once a second, so a flood of unknown
// tokens costs one read a second.
func (s *Service) mayReload() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.reloadedAt) < time.Second {
		return false
	}
	s.reloadedAt = now
	return true
}

// PublishRemote publishes a change another klaxon node committed to the
// shared database (a team's PostgreSQL), so that this node's consoles,
// attached consoles and event streams show it too. integrationsChanged (or
// a resync) makes it read the integrations again.
func (s *Service) PublishRemote(ctx context.Context, c Change, integrationsChanged bool) {
	if integrationsChanged || c.Resync {
		_ = s.loadIntegrations(ctx)
	}
	if c.Incident == nil && c.Request == nil && !c.Resync {
		return
	}
	s.decorate(ctx, c.Incident)
	s.broker.Publish(c)
}

// IntegrationNamed finds an integration in use by name (nil when none).
func (s *Service) IntegrationNamed(ctx context.Context, name string) (*Integration, error) {
	all, err := s.integrationsInUse(ctx)
	if err != nil {
		return nil, err
	}
	for _, in := range all {
		if in.Name == name {
			return in, nil
		}
	}
	return nil, nil
}

func (s *Service) loadIntegrations(ctx context.Context) error {
	all, err := s.store.Integrations(ctx)
	if err != nil {
		return err
	}
	lc, err := s.lifecycle(ctx)
	if err != nil {
		return err
	}
	m := make(map[[32]byte]*Integration, len(all))
	byName := make(map[string]*Integration, len(all))
	for _, in := range all {
		// A removed integration's incidents keep their timers (byName);
		// its token is taken no more (byToken).
		if _, removed := lc.Removed[in.ID]; !removed {
			m[sha256.Sum256([]byte(in.Token))] = in
		}
		byName[in.Name] = in
	}
	gone := goneTokens(all, lc)
	s.mu.Lock()
	s.byToken, s.byName, s.gone = m, byName, gone
	s.mu.Unlock()
	return nil
}

func (s *Service) remember(integ *Integration) {
	s.mu.Lock()
	if s.byToken != nil {
		s.byToken[sha256.Sum256([]byte(integ.Token))] = integ
		s.byName[integ.Name] = integ
	}
	s.mu.Unlock()
}

// NewToken returns 128 random bits, URL-safe.
func NewToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// MaxAdopted bounds the integrations --accept-any-token makes: anyone who
// can reach the port could otherwise make one per request.
const MaxAdopted = 100

// AdoptedName is the name an adopted token's integration gets: never the
// token itself (names are shown on /metrics and in logs), but the same for
// the same token.
func AdoptedName(token string) string {
	h := sha256.Sum256([]byte(token))
	return "adopted-" + hex.EncodeToString(h[:4])
}

// AdoptToken makes an integration for an unknown token (for
// --accept-any-token while developing an integration), named by
// AdoptedName. It returns the existing integration when the token is known,
// and refuses past MaxAdopted adopted integrations.
func (s *Service) AdoptToken(ctx context.Context, token string) (*Integration, error) {
	if integ, err := s.IntegrationByToken(ctx, token); err != nil || integ != nil {
		return integ, err
	}
	all, err := s.integrationsInUse(ctx)
	if err != nil {
		return nil, err
	}
	adopted := 0
	for _, in := range all {
		if strings.HasPrefix(in.Name, "adopted-") {
			adopted++
		}
	}
	if adopted >= MaxAdopted {
		return nil, Errorf(ENOTFOUND, "no integration has this token, and --accept-any-token has adopted %d already (its limit); create one with klaxon integrations add", adopted)
	}
	name := AdoptedName(token)
	integ := &Integration{Name: name, Service: name, Kind: KindWebhook, Token: token, CreatedAt: s.Now()}
	if err := s.store.CreateIntegration(ctx, integ); err != nil {
		// Another request may have adopted it first.
		if err2 := s.loadIntegrations(ctx); err2 == nil {
			if again, _ := s.IntegrationByToken(ctx, token); again != nil {
				return again, nil
			}
		}
		return nil, err
	}
	s.remember(integ)
	return integ, nil
}

// decorate fills in the times at which in's integration's timers will act.
func (s *Service) decorate(ctx context.Context, in *Incident) {
	if in == nil {
		return
	}
	in.Storming = in.Storm.StormingAt(s.Now())
	s.mu.RLock()
	loaded := s.byName != nil
	integ := s.byName[in.Integration]
	s.mu.RUnlock()
	if !loaded {
		if s.loadIntegrations(ctx) != nil {
			return
		}
		s.mu.RLock()
		integ = s.byName[in.Integration]
		s.mu.RUnlock()
	}
	if integ != nil {
		Timers{AckTimeout: integ.AckTimeout, ResolveAfter: integ.ResolveAfter}.ApplyTimers(in)
	}
}

// SetTimers changes an integration's acknowledge timeout and resolve timer.
func (s *Service) SetTimers(ctx context.Context, integration string, t Timers) error {
	if t.AckTimeout < 0 || t.ResolveAfter < 0 {
		return Errorf(EINVALID, "timers cannot be negative (0 turns one off)")
	}
	if err := s.store.SetTimers(ctx, integration, t); err != nil {
		return err
	}
	return s.loadIntegrations(ctx)
}

// SetChaos changes an integration's chaos setting.
func (s *Service) SetChaos(ctx context.Context, integration string, c Chaos) error {
	if err := s.store.SetChaos(ctx, integration, c); err != nil {
		return err
	}
	return s.loadIntegrations(ctx)
}

// RunTimers carries out the timers due now and publishes what they changed.
func (s *Service) RunTimers(ctx context.Context) (int, error) {
	if !s.anyTimers(ctx) {
		return 0, nil // nothing to look for: do not touch storage at all
	}
	changed, err := s.store.ApplyTimers(ctx, s.Now())
	s.noteWrite(err, len(changed) > 0)
	for _, in := range changed {
		s.decorate(ctx, in)
		s.broker.Publish(Change{Incident: in, Kind: TimerKind(in)})
	}
	return len(changed), err
}

// anyTimers reports whether some integration has a timer.
func (s *Service) anyTimers(ctx context.Context) bool {
	s.mu.RLock()
	loaded := s.byName != nil
	s.mu.RUnlock()
	if !loaded && s.loadIntegrations(ctx) != nil {
		return true // cannot tell: look
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, in := range s.byName {
		if in.AckTimeout > 0 || in.ResolveAfter > 0 {
			return true
		}
	}
	return false
}
