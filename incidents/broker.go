package incidents

import (
	"context"
	"sync"
	"time"
)

// Change is what subscribers hear after a commit: a changed incident and
// what happened to it, a new request journal entry, or Resync when the
// subscriber fell behind and must reload from storage. It is the one road by
// which consoles, event streams and the notifier hear of the world.
type Change struct {
	Incident *Incident `json:"incident,omitempty"`
	// Kind says what happened to Incident: what a webhook event did to it,
	// a person's or a timer's action, or a re-alert. Publish fills it from
	// Outcome when only that is set.
	Kind ChangeKind `json:"change,omitempty"`
	// Outcome is what a webhook event did to Incident (created, suppressed,
	// resolved); empty for a person's or a timer's action.
	Outcome Outcome  `json:"outcome,omitempty"`
	Request *Request `json:"request,omitempty"`
	Health  *Health  `json:"health,omitempty"` // storage started or stopped taking writes
	Resync  bool     `json:"resync,omitempty"`
}

// ChangeKind names what happened to an incident. The names are those of the
// webhook outcomes and the timeline's entries, so a change reads the same
// in an event stream, a timeline and a journal entry.
type ChangeKind string

// What can happen to an incident.
const (
	ChangeCreated        ChangeKind = "created"          // a webhook event opened it
	ChangeSuppressed     ChangeKind = "suppressed"       // a repeat was folded into it
	ChangeAcknowledged   ChangeKind = "acknowledged"     // by a person or a sender
	ChangeUnacknowledged ChangeKind = "unacknowledged"   // by a person, or its acknowledge timeout
	ChangeResolved       ChangeKind = "resolved"         // by a person, a sender or its resolve timer
	ChangeSeverity       ChangeKind = "severity_changed" // by a person
	ChangePriority       ChangeKind = "priority_changed" // by a person
	// ChangeRealert: still triggered and unacknowledged after its
	// severity's re-alert interval (klaxon --realert); nothing in it
	// changed, and every console rings for it again.
	ChangeRealert ChangeKind = "realert"
)

// outcomeKinds are the changes webhook outcomes make.
var outcomeKinds = map[Outcome]ChangeKind{
	Created: ChangeCreated, Folded: ChangeSuppressed, ResolvedBy: ChangeResolved, AckedBy: ChangeAcknowledged,
}

// ActionKind is the change a person's action of kind k makes.
func ActionKind(k EntryKind) ChangeKind { return ChangeKind(k) }

// TimerKind is the change a timer made to in: its resolve timer resolved it,
// or its acknowledge timeout put it back to triggered.
func TimerKind(in *Incident) ChangeKind {
	if in.Status == Resolved {
		return ChangeResolved
	}
	return ChangeUnacknowledged
}

// Realerted publishes a re-alert of in (the notifier's) as a change, so
// every console in this process, every event stream and every console
// attached to one rings for it as for any change. A store that other
// klaxon nodes share (RealertAnnouncer) tells them too, so that their
// consoles ring as well.
func (s *Service) Realerted(in *Incident) {
	s.broker.Publish(Change{Incident: in, Kind: ChangeRealert})
	if a, ok := s.store.(RealertAnnouncer); ok {
		ctx, cancel := context.WithTimeout(context.Background(), announceTimeout)
		defer cancel()
		_ = a.AnnounceRealert(ctx, in.ID) // lost: the other nodes ring at the next re-alert
	}
}

// RealertAnnouncer is a store several klaxon nodes share: a re-alert
// commits nothing, so the node that re-alerts (one at a time) announces it
// through the store, and the others publish it as a ChangeRealert of the
// incident as it is then (PublishRemote).
type RealertAnnouncer interface {
	AnnounceRealert(ctx context.Context, id int64) error
}

// announceTimeout bounds the telling of one re-alert to the other nodes.
const announceTimeout = 2 * time.Second

// SubscriberBuffer is how many changes a subscriber may have queued before it
// is sent a resync instead.
const SubscriberBuffer = 1024

// Broker fans changes out to subscribers. Publish never blocks: a subscriber
// whose buffer is full has its queue replaced by one resync.
type Broker struct {
	mu   sync.Mutex
	subs map[chan Change]struct{}
}

// NewBroker returns a broker with no subscribers.
func NewBroker() *Broker { return &Broker{subs: map[chan Change]struct{}{}} }

// Subscribe returns a channel of changes and a function that ends the
// subscription (and closes the channel).
func (b *Broker) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, SubscriberBuffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			close(ch)
			b.mu.Unlock()
		})
	}
}

// Publish sends c to every subscriber without blocking.
func (b *Broker) Publish(c Change) {
	if c.Kind == "" && c.Incident != nil {
		c.Kind = outcomeKinds[c.Outcome]
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- c:
			continue
		default:
		}
		// Full: what is queued is stale anyway. Empty it and leave one resync.
	drain:
		for {
			select {
			case <-ch:
			default:
				break drain
			}
		}
		select {
		case ch <- Change{Resync: true}:
		default:
		}
	}
}
