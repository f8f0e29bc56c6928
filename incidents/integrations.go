package incidents

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
	"unicode"
)

// Removing an integration keeps its row, marked removed, so that its
// incidents keep showing its name; its token then answers 404 with a hint.
// Rotating gives an integration a new token; the old one answers 404 with a
// hint, or keeps working for a grace period. Adding an integration of a
// removed one's name brings that one back with a new token.

// RetiredToken is a token an integration no longer has, known by its hash.
type RetiredToken struct {
	SHA256      [32]byte
	Integration int64  // its integration's ID
	Reason      string // RetiredRotated or RetiredRemoved
	At          time.Time
	WorksUntil  time.Time // a rotated token is still taken until then (the grace period)
}

// Why a token was retired.
const (
	RetiredRotated = "rotated"
	RetiredRemoved = "removed"
)

// Lifecycle is what a store knows of removed integrations and retired tokens.
type Lifecycle struct {
	Removed map[int64]time.Time // integration ID → when it was removed
	Retired []RetiredToken
}

// LifecycleStore is what removing, rotating and bringing back integrations
// need from a Store (storage.DB has it).
type LifecycleStore interface {
	IntegrationLifecycle(ctx context.Context) (Lifecycle, error)
	// RemoveIntegration marks the integration in use called name removed at
	// at and retires its token (ENOTFOUND when there is none).
	RemoveIntegration(ctx context.Context, name string, at time.Time) error
	// RotateToken gives the integration in use called name the token
	// newToken; its old one is still taken until oldWorksUntil, and the
	// grace of any earlier token ends at at.
	RotateToken(ctx context.Context, name, newToken string, at, oldWorksUntil time.Time) error
	// ReviveIntegration brings back the removed integration named
	// integ.Name with integ's other fields and sets integ.ID (ENOTFOUND when
	// no removed integration has that name).
	ReviveIntegration(ctx context.Context, integ *Integration) error
}

// goneToken is what the service remembers of a retired token.
type goneToken struct {
	RetiredToken
	name    string // its integration's name
	removed bool   // its integration is removed
}

// ValidIntegrationName says why name cannot name a new integration, or nil:
// letters, digits, '-', '_', '.' and '/', starting with a letter or a digit,
// so that it can be typed on a command line and stands in a URL path as it
// is. (Integrations named otherwise before keep working.)
func ValidIntegrationName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "an integration needs a name")
	}
	if len(name) > 200 {
		return Errorf(EINVALID, "an integration name is at most 200 characters")
	}
	for i, r := range name {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r):
		case i > 0 && (r == '-' || r == '_' || r == '.' || r == '/'):
		case i == 0 && (r == '-' || r == '_' || r == '.' || r == '/'):
			return Errorf(EINVALID, "integration name %q must start with a letter or a digit", name)
		default:
			return Errorf(EINVALID, "integration name %q may hold only letters, digits, '-', '_', '.' and '/' (no spaces): %q is none of them; try %q", name, string(r), suggestName(name))
		}
	}
	return nil
}

// suggestName is name made valid: other characters become '-'.
func suggestName(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' && r != '/' {
			r = '-'
		}
		if r == '-' && (len(out) == 0 || out[len(out)-1] == '-') {
			continue
		}
		out = append(out, r)
	}
	for len(out) > 0 && !unicode.IsLetter(out[0]) && !unicode.IsDigit(out[0]) {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == '-' {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return "my-integration"
	}
	return string(out)
}

func (s *Service) lifecycleStore() (LifecycleStore, error) {
	ls, ok := s.store.(LifecycleStore)
	if !ok {
		return nil, Errorf(EINVALID, "this klaxon's storage cannot remove integrations or rotate their tokens")
	}
	return ls, nil
}

// RemoveIntegration removes the integration called name: it takes no more
// events (its token answers 404 saying it was removed) and is listed no
// more, while its incidents stay, showing its name. It returns the
// integration as it was.
func (s *Service) RemoveIntegration(ctx context.Context, name string) (*Integration, error) {
	ls, err := s.lifecycleStore()
	if err != nil {
		return nil, err
	}
	in, err := s.IntegrationNamed(ctx, name)
	if err != nil {
		return nil, err
	}
	if in == nil {
		return nil, Errorf(ENOTFOUND, "there is no integration named %q (klaxon integrations lists them)", name)
	}
	err = ls.RemoveIntegration(ctx, name, s.Now())
	s.noteWrite(err, false)
	if err != nil {
		return nil, err
	}
	return in, s.loadIntegrations(ctx)
}

// MaxGrace bounds how long a rotated-out token may keep working.
const MaxGrace = 30 * 24 * time.Hour

// RotateToken gives the integration called name a new random token. The old
// one keeps working for grace (0: it answers 404 at once, with a hint); a
// rotation ends the grace of any token rotated out before. It returns the
// integration with its new token and when the old one stops working.
func (s *Service) RotateToken(ctx context.Context, name string, grace time.Duration) (*Integration, time.Time, error) {
	if grace < 0 || grace > MaxGrace {
		return nil, time.Time{}, Errorf(EINVALID, "a grace period is between 0 and %s", MaxGrace)
	}
	ls, err := s.lifecycleStore()
	if err != nil {
		return nil, time.Time{}, err
	}
	in, err := s.IntegrationNamed(ctx, name)
	if err != nil {
		return nil, time.Time{}, err
	}
	if in == nil {
		return nil, time.Time{}, Errorf(ENOTFOUND, "there is no integration named %q (klaxon integrations lists them)", name)
	}
	now := s.Now()
	token := NewToken()
	err = ls.RotateToken(ctx, name, token, now, now.Add(grace))
	s.noteWrite(err, false)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := s.loadIntegrations(ctx); err != nil {
		return nil, time.Time{}, err
	}
	rotated := *in
	rotated.Token = token
	return &rotated, now.Add(grace), nil
}

// retiredTokenAnswer is what a request with a retired token gets: the
// integration, during a rotation's grace; else ENOTFOUND saying what became
// of the token.
func (s *Service) retiredTokenAnswer(g goneToken) (*Integration, error) {
	now := s.Now()
	s.mu.RLock()
	live := s.byName[g.name]
	s.mu.RUnlock()
	if g.removed {
		return nil, Errorf(ENOTFOUND, "this integration was removed (%q, on %s); its incidents are kept, but it takes no events: send to another integration's webhook URL (klaxon integrations lists them)", g.name, g.At.Format(time.DateOnly))
	}
	if live != nil && live.ID == g.Integration && now.Before(g.WorksUntil) {
		return live, nil
	}
	return nil, Errorf(ENOTFOUND, "this token was replaced by a new one on %s (integration %q was given a new token, or removed and added again); copy its webhook URL again from `klaxon integrations show %s`", g.At.Format(time.DateOnly), g.name, g.name)
}

// lifecycle reads removed integrations and retired tokens (none when the
// store does not keep them).
func (s *Service) lifecycle(ctx context.Context) (Lifecycle, error) {
	ls, ok := s.store.(LifecycleStore)
	if !ok {
		return Lifecycle{}, nil
	}
	return ls.IntegrationLifecycle(ctx)
}

// goneTokens indexes the retired tokens by hash, with their integrations' names.
func goneTokens(all []*Integration, lc Lifecycle) map[[32]byte]goneToken {
	names := make(map[int64]string, len(all))
	for _, in := range all {
		names[in.ID] = in.Name
	}
	gone := make(map[[32]byte]goneToken, len(lc.Retired))
	for _, rt := range lc.Retired {
		_, removed := lc.Removed[rt.Integration]
		gone[rt.SHA256] = goneToken{RetiredToken: rt, name: names[rt.Integration], removed: removed}
	}
	for _, in := range all {
		if at, removed := lc.Removed[in.ID]; removed {
			h := sha256.Sum256([]byte(in.Token))
			if _, known := gone[h]; !known {
				gone[h] = goneToken{RetiredToken: RetiredToken{SHA256: h, Integration: in.ID, Reason: RetiredRemoved, At: at, WorksUntil: at}, name: in.Name, removed: true}
			}
		}
	}
	return gone
}

// inUse is all without the removed integrations.
func inUse(all []*Integration, lc Lifecycle) []*Integration {
	if len(lc.Removed) == 0 {
		return all
	}
	out := make([]*Integration, 0, len(all))
	for _, in := range all {
		if _, removed := lc.Removed[in.ID]; !removed {
			out = append(out, in)
		}
	}
	return out
}

// integrationsInUse lists the integrations that are not removed.
func (s *Service) integrationsInUse(ctx context.Context) ([]*Integration, error) {
	all, err := s.store.Integrations(ctx)
	if err != nil {
		return nil, err
	}
	lc, err := s.lifecycle(ctx)
	if err != nil {
		return nil, err
	}
	return inUse(all, lc), nil
}

// revive brings back the removed integration named integ.Name, when there is
// one, as integ: it reports whether it did.
func (s *Service) revive(ctx context.Context, integ *Integration) (bool, error) {
	ls, ok := s.store.(LifecycleStore)
	if !ok {
		return false, nil
	}
	lc, err := ls.IntegrationLifecycle(ctx)
	if err != nil || len(lc.Removed) == 0 {
		return false, err
	}
	all, err := s.store.Integrations(ctx)
	if err != nil {
		return false, err
	}
	for _, in := range all {
		if _, removed := lc.Removed[in.ID]; removed && in.Name == integ.Name {
			if err := ls.ReviveIntegration(ctx, integ); err != nil {
				return false, fmt.Errorf("bring back integration %q: %w", integ.Name, err)
			}
			return true, nil
		}
	}
	return false, nil
}
