package incidents

import (
	"sync"
	"time"
)

// Health says whether storage is taking writes. When it is not (disk full,
// read-only database), every sender is answered 503 and the console shows
// Problem instead of looking as if all were quiet.
type Health struct {
	OK      bool      `json:"ok"`
	Problem string    `json:"problem,omitempty"`
	Since   time.Time `json:"since"`
}

type healthState struct {
	mu      sync.Mutex
	h       Health
	started time.Time // when the Service was made: healthy since then until a write says otherwise
}

// Health is storage's health as the last write found it. Since is when it
// last changed: the Service's start while nothing has failed.
func (s *Service) Health() Health {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.h.Since.IsZero() {
		return Health{OK: true, Since: s.health.started}
	}
	return s.health.h
}

// noteWrite records how a write went and tells subscribers when health
// flips. proves says whether a success shows storage takes events again: a
// small journal entry can fit on a disk too full for an event, so only
// events and actions count as recovery.
func (s *Service) noteWrite(err error, proves bool) {
	unavailable := ErrorCode(err) == EUNAVAILABLE
	if err != nil && !unavailable {
		return // the request's own fault, not storage's
	}
	if err == nil && !proves {
		return
	}
	s.health.mu.Lock()
	was := s.health.h
	if was.Since.IsZero() {
		was.OK = true
	}
	now := Health{OK: !unavailable}
	if unavailable {
		now.Problem = ErrorMessage(err)
	}
	changed := was.OK != now.OK || was.Problem != now.Problem
	if changed {
		now.Since = s.Now()
		s.health.h = now
	}
	s.health.mu.Unlock()
	if changed {
		h := now
		s.broker.Publish(Change{Health: &h})
	}
}
