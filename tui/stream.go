package tui

import (
	"context"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// The one road: everything the console hears of the world (incidents
// created, folded, acted on, re-alerted; journal entries; storage's health;
// a resync) comes as incidents.Change on one subscription. A command waits
// on it, gathers what follows into one changesMsg, and is re-armed; the
// root hands that message to every component.

// subscription is the console's line to the Source's changes. Every copy of
// the Model shares it, and Run ends it once the program is over, whatever
// state the program ended in.
type subscription struct {
	mu     sync.Mutex
	ch     <-chan incidents.Change
	cancel func()
	closed bool
}

func newSubscription() *subscription { return &subscription{} }

// open subscribes, unless the subscription was closed first.
func (s *subscription) open(src Source) bool {
	ch, cancel := src.Subscribe()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		return false
	}
	s.ch, s.cancel = ch, cancel
	return true
}

// ended reports whether the console ended the subscription itself.
func (s *subscription) ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close ends the subscription; it may be called any number of times.
func (s *subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
}

// subscribedMsg says the subscription is open.
type subscribedMsg struct{}

// subscribeCmd subscribes to changes. The first loads start once it is
// done, so no change between a load and the subscription is missed.
func subscribeCmd(src Source, sub *subscription) tea.Cmd {
	return func() tea.Msg {
		if !sub.open(src) {
			return nil
		}
		return subscribedMsg{}
	}
}

// maxDrain bounds how many queued changes go into one message, so a flood
// that never stops still lets the screen redraw.
const maxDrain = 8192

// maxAnnounced bounds the new and re-alerted incidents one message carries
// to be announced: past a few, a burst is summed up anyway (maxNotes).
const maxAnnounced = 1000

// changesMsg is every change that was queued when the console looked: a
// burst of 10,000 webhooks costs a few of these, not 10,000 redraws.
type changesMsg struct {
	n         int                   // changes in this message
	incidents map[int64]bool        // incidents that changed
	created   []*incidents.Incident // incidents that webhooks created (incidents.ChangeCreated)
	realerts  []*incidents.Incident // incidents that alerted again (incidents.ChangeRealert)
	requests  int                   // new request journal entries
	// integrations are the integrations the new journal entries name.
	integrations map[string]bool
	resync       bool              // the subscriber fell behind: reload everything
	closed       bool              // the Source ended the subscription
	health       *incidents.Health // the latest health heard in this message, if any
}

// gather is how long the listener keeps taking changes after the first
// one before it hands them over: a storm's changes arrive in bursts (one per
// group commit), and one message per burst instead of one per change keeps
// a storm to a few dozen redraws a second. It is well inside the 100 ms in
// which a change must be on screen.
const gather = 20 * time.Millisecond

// waitForChangesCmd waits for the next change, then takes everything that
// arrives within gather (and everything queued) into one message. It is
// re-armed after each message.
func waitForChangesCmd(sub *subscription) tea.Cmd {
	return func() tea.Msg {
		c, ok := <-sub.ch
		msg := changesMsg{incidents: map[int64]bool{}}
		if !ok {
			msg.closed = true
			return msg
		}
		add := func(c incidents.Change) {
			msg.n++
			if c.Resync {
				msg.resync = true
			}
			if c.Request != nil {
				msg.requests++
				if name := c.Request.Integration; name != "" && !msg.integrations[name] && len(msg.integrations) < 100 {
					if msg.integrations == nil {
						msg.integrations = map[string]bool{}
					}
					msg.integrations[name] = true
				}
			}
			if c.Health != nil {
				h := *c.Health
				msg.health = &h
			}
			in := c.Incident
			switch {
			case in == nil:
			case c.Kind == incidents.ChangeRealert:
				// Nothing in it changed: ring, read nothing again.
				if len(msg.realerts) < maxAnnounced {
					msg.realerts = append(msg.realerts, in)
				}
			default:
				if c.Kind == incidents.ChangeCreated && len(msg.created) < maxAnnounced {
					msg.created = append(msg.created, in)
				}
				msg.incidents[in.ID] = true
			}
		}
		add(c)
		timer := time.NewTimer(gather)
		defer timer.Stop()
		for msg.n < maxDrain {
			select {
			case c, ok := <-sub.ch:
				if !ok {
					msg.closed = true
					return msg
				}
				add(c)
			case <-timer.C:
				// Take what is queued, without waiting any longer.
				for msg.n < maxDrain {
					select {
					case c, ok := <-sub.ch:
						if !ok {
							msg.closed = true
							return msg
						}
						add(c)
					default:
						return msg
					}
				}
				return msg
			}
		}
		return msg
	}
}

// healthMsg carries health as the Source reports it when asked. gen says
// which health change it answers: a later change wins over it.
type healthMsg struct {
	gen int
	h   incidents.Health
}

// loadHealthCmd asks the Source for its health, if it can say (nil when it
// cannot). A Source that cannot answer now (a klaxon out of reach) keeps
// what the console last heard.
func loadHealthCmd(src Source, gen int) tea.Cmd {
	switch src.(type) {
	case HealthReporter, healthFetcher:
	default:
		return nil
	}
	return func() tea.Msg {
		switch s := src.(type) {
		case HealthReporter:
			return healthMsg{gen: gen, h: s.Health()}
		case healthFetcher:
			ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
			defer cancel()
			h, err := s.Health(ctx)
			if err != nil {
				return nil
			}
			return healthMsg{gen: gen, h: h}
		}
		return nil
	}
}

// setHealth records klaxon's health and reports whether it just came back.
func (c *common) setHealth(h incidents.Health) (recovered bool) {
	was := c.health
	if !was.OK && !h.OK && !was.Since.IsZero() && (h.Since.IsZero() || was.Since.Before(h.Since)) {
		// Still in trouble (a reconnect failed again, say): it began then.
		h.Since = was.Since
	}
	c.health = h
	return !was.OK && h.OK
}
