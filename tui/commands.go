package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

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

// loadWindowCmd reads part of a list for view v.
func loadWindowCmd[T any](v viewID, gen int, fetch fetcher[T], idOf func(T) int64, req loadReq) tea.Cmd {
	return func() tea.Msg {
		timeout := queryTimeout
		if req.kind == loadEnd {
			timeout *= 4 // walks the whole list
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		pages, err := fetchWindow(ctx, fetch, idOf, req)
		return windowMsg[T]{view: v, gen: gen, req: req, pages: pages, err: err, took: time.Since(start)}
	}
}

// counts are the numbers in the header and on the tabs.
type counts struct {
	sev      [4]int // open incidents by severity: sev1, sev2, sev3, none
	open     int    // open incidents the filter selects
	resolved int    // resolved incidents the filter selects
	suppressed,
	requests int
	suppressedMore, // the count is a lower bound
	requestsMore bool
}

type countsMsg struct {
	gen  int
	c    counts
	err  error
	took time.Duration // how long counting took
}

// countsDueMsg ends the pause after a count (see refreshPause).
type countsDueMsg struct{ gen int }

// refreshPause is how long the console waits, after a read that took took
// and during which changes came, before it reads again for them. A storm of
// webhooks changes the lists and the counts without pause, and reading again
// at once had the console take a CPU that the receiver in the same process
// needed: counting open incidents reads every entry of an index range (50 ms
// for 300,000 here), and each read is drawn. klaxon bench --console measured
// the receiver at 4,500 events/s beside the console against 14,000 without
// one. Under a storm reads now take at most a tenth of the console's time,
// and the screen follows at most ten times a second and at least once a
// second. A change that comes alone is read at once, as before.
func refreshPause(took time.Duration) time.Duration {
	return min(max(9*took, 100*time.Millisecond), time.Second)
}

// countCmd counts everything the header and tabs show.
func countCmd(src Source, gen int, query string) tea.Cmd {
	return func() tea.Msg {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		var (
			c    counts
			errs []error
		)
		count := func(f incidents.Filter) int {
			n, err := src.CountIncidents(ctx, f)
			errs = append(errs, err)
			return n
		}
		tallied := false
		if t, ok := src.(IncidentTallier); ok {
			if tally, err := t.TallyIncidents(ctx); err == nil {
				for i, sev := range severityCycle {
					c.sev[i] = tally.Open[sev]
				}
				c.open, c.resolved, tallied = tally.OpenTotal(), tally.Resolved, true
			}
		}
		if !tallied {
			for i, sev := range severityCycle {
				c.sev[i] = count(incidents.Filter{Status: "open", Severity: &sev})
			}
			c.open = c.sev[0] + c.sev[1] + c.sev[2] + c.sev[3]
			c.resolved = count(incidents.Filter{Status: string(incidents.Resolved)})
		}
		if query != "" {
			// The tabs count what the filter selects; the header stays whole.
			c.open = count(incidents.Filter{Status: "open", Query: query})
			c.resolved = count(incidents.Filter{Status: string(incidents.Resolved), Query: query})
		}
		exact := false
		if jc, ok := src.(JournalCounter); ok {
			ns, err1 := jc.CountSuppressed(ctx)
			nr, err2 := jc.CountRequests(ctx)
			if err1 == nil && err2 == nil {
				c.suppressed, c.requests, exact = ns, nr, true
			}
		}
		if !exact {
			// Without a counter, count one page and say when there is more.
			sp, err := src.Suppressed(ctx, chunkSize, "")
			errs = append(errs, err)
			c.suppressed, c.suppressedMore = len(sp.Items), sp.NextCursor != ""
			rp, err := src.Requests(ctx, chunkSize, "")
			errs = append(errs, err)
			c.requests, c.requestsMore = len(rp.Items), rp.NextCursor != ""
		}
		return countsMsg{gen: gen, c: c, err: errors.Join(errs...), took: time.Since(start)}
	}
}

// detailMsg carries an incident with its timeline.
type detailMsg struct {
	gen int
	in  *incidents.Incident
	err error
}

func loadDetailCmd(src Source, gen int, id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		in, err := src.Incident(ctx, id)
		return detailMsg{gen: gen, in: in, err: err}
	}
}

// actedMsg says how a person's action went, on one incident or on several.
type actedMsg struct {
	verb string
	ids  []int64
	done []*incidents.Incident
	errs []error
}

// actCmd applies a to each incident in ids, one after another.
func actCmd(src Source, verb string, ids []int64, a incidents.PersonAction) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		msg := actedMsg{verb: verb, ids: ids}
		for _, id := range ids {
			in, err := src.Act(ctx, id, a)
			if err != nil {
				msg.errs = append(msg.errs, err)
				continue
			}
			msg.done = append(msg.done, in)
		}
		return msg
	}
}

// replayedMsg says how a replay went.
type replayedMsg struct {
	id     int64
	answer string
	err    error
}

func replayCmd(replay func(context.Context, int64) (string, error), id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		answer, err := replay(ctx, id)
		return replayedMsg{id: id, answer: answer, err: err}
	}
}

// tickMsg moves the ages on screen along.
type tickMsg struct{}

func tickCmd() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// bellDoneMsg ends the frame that carries the bell.
type bellDoneMsg struct{ n int }

// filterTypedMsg applies what was typed in the filter once typing pauses.
type filterTypedMsg struct{ seq int }

const filterPause = 120 * time.Millisecond
