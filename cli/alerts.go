package cli

import (
	"sync"

	"klaxon/incidents"
	"klaxon/tui"
)

// alertHub hands each alert to every console open in this process (the
// local one and each SSH session), each on its own channel, never blocking
// the notifier: a console that is behind misses a ring, not an incident.
type alertHub struct {
	mu   sync.Mutex
	subs map[chan tui.Alert]struct{}
}

func newAlertHub() *alertHub { return &alertHub{subs: map[chan tui.Alert]struct{}{}} }

// Subscribe returns a channel of alerts and a function that ends it.
func (h *alertHub) Subscribe() (<-chan tui.Alert, func()) {
	ch := make(chan tui.Alert, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Publish is the notifier's Alert callback.
func (h *alertHub) Publish(in *incidents.Incident, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- tui.Alert{Incident: in, Reason: reason}:
		default:
		}
	}
}
