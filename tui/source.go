// Package tui is klaxon's on-call console: a Bubble Tea program that lists
// incidents live as they arrive, lets a person acknowledge, resolve and
// re-rank them, and shows the request journal for people building an
// integration.
//
// Everything the console shows that came from a webhook goes through
// termtext first, so hostile text is drawn as inert symbols. All I/O runs
// in tea.Cmds; Update never blocks.
package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/lipgloss"

	"klaxon/incidents"
)

// Source is what the console needs. *incidents.Service satisfies it; the
// console does not know whether data comes from this process or over HTTP.
type Source interface {
	ListIncidents(ctx context.Context, f incidents.Filter) (incidents.Page[*incidents.Incident], error)
	CountIncidents(ctx context.Context, f incidents.Filter) (int, error)
	Incident(ctx context.Context, id int64) (*incidents.Incident, error)
	Suppressed(ctx context.Context, limit int, cursor string) (incidents.Page[incidents.SuppressedEvent], error)
	Requests(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error)
	Act(ctx context.Context, id int64, a incidents.PersonAction) (*incidents.Incident, error)
	Subscribe() (<-chan incidents.Change, func())
}

// JournalCounter is what a Source may also offer so the Suppressed and
// Requests tabs show exact counts. Without it those tabs count what is
// loaded and add a "+" when there is more.
type JournalCounter interface {
	CountSuppressed(ctx context.Context) (int, error)
	CountRequests(ctx context.Context) (int, error)
}

// IncidentTallier is what a Source may also offer so the header's open
// counts per severity cost a few index reads instead of one full count
// each; the console counts on every change, so this matters with 100,000
// incidents. Without it the console uses CountIncidents.
type IncidentTallier interface {
	TallyIncidents(ctx context.Context) (incidents.Tally, error)
}

// HealthReporter is what a Source may also offer so the console knows at
// once whether klaxon is taking alerts (*incidents.Service has it). Changes
// to it arrive as Change.Health; the console asks again at the start and
// after every resync, so a console that connects or reconnects to a klaxon
// whose disk is full says so from the first frame.
type HealthReporter interface {
	Health() incidents.Health
}

// healthFetcher is HealthReporter over a network (the remote client).
type healthFetcher interface {
	Health(ctx context.Context) (incidents.Health, error)
}

// IntegrationLister is what a Source may also offer so the console knows
// the integrations (*incidents.Service has it; the remote client offers
// ListIntegrations, the same over its API). The header then names the kind
// that reads its webhook URL and warns while an integration's chaos is on,
// and the integrations page (i) lists them with each one's setup block.
// The console reads them at the start, every few seconds, after a resync
// and when a journal entry names one it has not heard of. Without it the
// page says the integrations cannot be listed.
type IntegrationLister interface {
	Integrations(ctx context.Context) ([]*incidents.Integration, error)
}

// Options configure the console.
type Options struct {
	// WebhookURL is the default integration's webhook URL, shown in the
	// header (with its integration's kind, once the integrations are read),
	// in the empty state and in a ready curl line. Its address also makes
	// the URLs and setup blocks of the integrations page.
	WebhookURL string
	// Bell rings the terminal bell when a new sev1 incident arrives, and at
	// each re-alert (klaxon's --realert). Both are heard through Subscribe,
	// as changes of kind incidents.ChangeCreated and ChangeRealert; a
	// re-alert also marks the incident's row ! until it is seen.
	Bell bool
	// DesktopNotify sends each event that rings (a new sev1, a re-alert) as
	// a desktop notification too: OSC 9 (ESC ] 9 ; text BEL) in the frame,
	// which iTerm2, WezTerm, kitty, foot, Windows Terminal and ConEmu turn
	// into a system notification and other terminals ignore. It does not
	// need Bell.
	DesktopNotify bool
	// Replay sends a journaled request again, as its sender did, and returns
	// the answer, by convention "STATUS BODY" (e.g. `200 {"ok":true,…}`).
	// The R key calls it from the Requests view and a request's page and
	// shows the answer in the status line (an answer of 400 or more, or an
	// error, as an error); the new journal entry arrives like any other.
	// nil: no replay, and R is not offered.
	Replay func(ctx context.Context, requestID int64) (string, error)
	// Now is the clock (for tests); nil means time.Now.
	Now func() time.Time
	// Renderer draws the styles; nil means lipgloss.DefaultRenderer(). An SSH
	// session can bring its own.
	Renderer *lipgloss.Renderer
}

// queryTimeout bounds every call the console makes to its Source, so a
// stuck source shows an error instead of a console that never updates.
const queryTimeout = 30 * time.Second
