package tui

import (
	"errors"
	"math"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
)

// Component is the contract every part of the screen keeps (after
// soft-serve's common.Component): a tea.Model that is told its size and
// says which keys it answers to, for the help line. The root model only
// sizes them, gives one the keys (the focused one) and routes messages;
// every change heard from the Source goes to each of them.
type Component interface {
	tea.Model
	help.KeyMap
	SetSize(width, height int)
}

// page is a component that fills the body as a tab: a list.
type page interface {
	Component
	Focus() tea.Cmd // it is shown: read what is stale
	Blur()
	tab() string      // its label on the tab: "Open 9"
	status() []string // the right side of the status line
	loadErr() error   // why its last read failed
	isHidden() bool   // a tab only while it is shown
}

// common is what the components share (after soft-serve's common.Common):
// the Source, the options, looks, keys and clock, and the few things that
// several parts of the screen read. Every copy of the root model shares it.
type common struct {
	src     Source
	opts    Options
	now     func() time.Time
	styles  Styles
	keys    KeyMap
	started time.Time // incidents first seen before this are not announced as new

	subscribed bool             // reads may start: no change after them is missed
	live       bool             // changes are being heard
	health     incidents.Health // whether klaxon is taking alerts (and the console hearing them)
	query      string           // the filter applied to the incident lists and the requests
	outcome    int              // the requests shown: outcomeAll, outcomeRefused, outcomeAccepted
	marks      map[int64]bool   // incidents marked for a bulk action
	status     status           // the status line's message
	focus      any              // the component that has the keys: a message belongs to it
	confirm    *actMsg          // a resolve waiting for y (resolved is final)
	tally      *tally           // the counts in the header and on the tabs
	alarm      *alarm           // new sev1s and re-alerts: the bell, notes, the ! marks

	told []tea.Msg // what components told the root to route in this Update
}

func newCommon(src Source, opts Options) *common {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	keys := DefaultKeyMap()
	keys.Replay.SetEnabled(opts.Replay != nil)
	c := &common{src: src, opts: opts, now: now, styles: NewStyles(opts.Renderer), keys: keys,
		started: now().Truncate(time.Millisecond), health: incidents.Health{OK: true}, marks: map[int64]bool{}}
	c.tally, c.alarm = &tally{c: c}, newAlarm(c)
	return c
}

// tell hands the root a message to route before this Update ends, for what
// one component asks of another: open a page, act, filter.
func (c *common) tell(msg tea.Msg) { c.told = append(c.told, msg) }

// status is the status line's message. It belongs to the view it came
// from (shown only there) and expires.
type status struct {
	text  string
	err   bool
	at    time.Time
	owner any // the component that had the keys (nil: every view)
}

// How long a message stays in the status line.
const (
	statusFor = 5 * time.Second
	errorFor  = 10 * time.Second
)

func (c *common) setStatus(s string) { c.status = status{text: s, at: c.now(), owner: c.focus} }
func (c *common) setError(s string) {
	c.status = status{text: s, err: true, at: c.now(), owner: c.focus}
}
func (c *common) clearStatus() { c.status = status{} }

// expired reports whether the message has been shown long enough.
func (st status) expired(now time.Time) bool {
	d := statusFor
	if st.err {
		d = errorFor
	}
	return st.text != "" && now.Sub(st.at) > d
}

// shownTo reports whether the message is for the component that has the keys.
func (st status) shownTo(on any) bool { return st.owner == nil || st.owner == on }

// disconnected is a Source that can be cut off from its klaxon (klaxon
// attach's remote.Client).
type disconnected interface {
	Base() string
	Disconnected() (retryAt time.Time, down bool)
}

// actionError explains why an action failed; an attached console whose
// klaxon is out of reach says so rather than "internal error".
func (c *common) actionError(err error) string {
	var e *incidents.Error
	if errors.As(err, &e) {
		return e.Message
	}
	if r, ok := c.src.(disconnected); ok {
		if at, down := r.Disconnected(); down {
			wait := max(1, int(math.Ceil(time.Until(at).Seconds()))) // the client's clock
			return "not connected to " + r.Base() + "; retrying in " + itoa(int64(wait)) + " s"
		}
	}
	return incidents.ErrorMessage(err)
}
