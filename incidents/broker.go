package incidents

import "sync"

// Change is what subscribers hear after a commit: a changed incident, a new
// request journal entry, or Resync when the subscriber fell behind and must
// reload from storage.
type Change struct {
	Incident *Incident `json:"incident,omitempty"`
	// Outcome is what a webhook event did to Incident (created, suppressed,
	// resolved); empty for a person's or a timer's action.
	Outcome Outcome  `json:"outcome,omitempty"`
	Request *Request `json:"request,omitempty"`
	Health  *Health  `json:"health,omitempty"` // storage started or stopped taking writes
	Resync  bool     `json:"resync,omitempty"`
}

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
