package tui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
	"klaxon/internal/termtext"
)

// suppressedRows are the rows of the Suppressed list: each repeat folded
// into an open incident, newest first.
type suppressedRows struct {
	noHooks[incidents.SuppressedEvent]
}

func (suppressedRows) name() string                           { return "Suppressed" }
func (suppressedRows) what() string                           { return "suppressed events" }
func (suppressedRows) idOf(e incidents.SuppressedEvent) int64 { return e.ID }
func (suppressedRows) help(k KeyMap) helpKeys                 { return k.journalHelp() }

func (suppressedRows) read(c *common) fetcher[incidents.SuppressedEvent] { return c.src.Suppressed }

func (suppressedRows) columns(_ *list[incidents.SuppressedEvent], rows []incidents.SuppressedEvent) []column {
	return []column{
		{title: "AGE", width: 4, align: alignRight},
		{title: "INC", width: idWidth(rows, func(e incidents.SuppressedEvent) int64 { return e.Incident })},
		{title: "TITLE", width: 5, grow: 1},
		{title: "REPEATS", width: 7, align: alignRight},
		{title: "STAT", width: 4},
	}
}

func (suppressedRows) draw(l *list[incidents.SuppressedEvent], e incidents.SuppressedEvent, _ table, now time.Time, cells []cell) (rune, []cell) {
	return ' ', append(cells,
		cell{text: age(now, e.At)},
		cell{text: "#" + itoa(e.Incident)},
		cell{text: e.Title, raw: true},
		cell{text: repeats(e.Repeats)},
		l.c.styles.statusCell(e.Status),
	)
}

func (suppressedRows) empty(l *list[incidents.SuppressedEvent]) []string {
	if out, ok := l.emptyState(); ok {
		return out
	}
	return []string{"", "  No suppressed events.",
		l.c.styles.Dim.Render("  A repeat of an open incident's title is folded into it and listed here.")}
}

func (suppressedRows) total(l *list[incidents.SuppressedEvent]) (int, bool, bool) {
	t := l.c.tally
	return t.counts.suppressed, t.loaded, t.counts.suppressedMore
}

func (suppressedRows) concerns(_ *list[incidents.SuppressedEvent], msg changesMsg) bool {
	return len(msg.incidents) > 0 || msg.resync
}

// key opens and acts on the incident the event under the cursor was
// folded into.
func (suppressedRows) key(l *list[incidents.SuppressedEvent], msg tea.KeyMsg) (tea.Cmd, bool) {
	e, ok := l.win.aimed()
	if key.Matches(msg, l.c.keys.Detail) {
		if ok {
			l.c.tell(showMsg{incident: e.Incident})
		}
		return nil, true
	}
	var ids []int64
	if ok {
		ids = []int64{e.Incident}
	}
	a, isAction := actionFor(l.c.keys, msg, ids, nil)
	if isAction && ok {
		l.c.tell(a)
	}
	return nil, isAction
}

// requestRows are the rows of the Requests list: the request journal,
// every request to a webhook URL, accepted or refused, newest first.
type requestRows struct{ noHooks[*incidents.Request] }

func (requestRows) name() string                    { return "Requests" }
func (requestRows) what() string                    { return "the request journal" }
func (requestRows) idOf(r *incidents.Request) int64 { return r.ID }
func (requestRows) help(k KeyMap) helpKeys          { return k.requestsHelp() }

// read reads the journal; with a filter (the filter line's words, and o's
// refused-only or accepted-only) it is applied here, over the pages read:
// the API has no filter for the journal. A read goes on through at most
// requestScan pages until one row matches, so a rare match still shows.
func (requestRows) read(c *common) fetcher[*incidents.Request] {
	src, words, outcome := c.src, strings.Fields(strings.ToLower(c.query)), c.outcome
	if len(words) == 0 && outcome == outcomeAll {
		return src.Requests
	}
	return func(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Request], error) {
		var out incidents.Page[*incidents.Request]
		for range requestScan {
			page, err := src.Requests(ctx, limit, cursor)
			if err != nil {
				return out, err
			}
			for _, r := range page.Items {
				if requestMatches(r, words, outcome) {
					out.Items = append(out.Items, r)
				}
			}
			out.NextCursor = page.NextCursor
			if len(out.Items) > 0 || page.NextCursor == "" || page.NextCursor == cursor {
				break
			}
			cursor = page.NextCursor
		}
		return out, nil
	}
}

// requestScan is how many pages one filtered read of the journal goes through.
const requestScan = 25

// Which requests the Requests list shows (o cycles them).
const (
	outcomeAll = iota
	outcomeRefused
	outcomeAccepted
)

var outcomeNames = []string{"all requests", "refused only", "accepted only"}

// requestMatches reports whether r has every word (in its method, path,
// answer, outcome, reason, integration or body) and the outcome asked for.
func requestMatches(r *incidents.Request, words []string, outcome int) bool {
	refused := r.Status >= 400
	if outcome == outcomeRefused && !refused || outcome == outcomeAccepted && refused {
		return false
	}
	hay := strings.ToLower(strings.Join(append([]string{r.Method, r.Path, strconv.Itoa(r.Status), string(r.Outcome),
		r.Error, r.Integration, string(r.Kind), r.Body}, r.Warnings...), "\n"))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// filtered reports whether the list shows only some requests.
func (requestRows) filtered(c *common) bool { return c.query != "" || c.outcome != outcomeAll }

// update reads the list again for a new filter.
func (requestRows) update(l *list[*incidents.Request], msg tea.Msg) tea.Cmd {
	if _, ok := msg.(queryMsg); ok {
		if l.shown {
			return l.restart()
		}
		l.win.reset()
		l.win.stale = true
	}
	return nil
}

func (r requestRows) columns(_ *list[*incidents.Request], rows []*incidents.Request) []column {
	return []column{
		{title: "AGE", width: 4, align: alignRight},
		{title: "ID", width: max(2, idWidth(rows, r.idOf)-1), align: alignRight}, // what klaxon replay asks for
		{title: "METHOD", width: 6},
		{title: "KIND", width: 4, wideFrom: 120, wide: 12}, // its full name from 120 columns
		{title: "PATH", width: 5, grow: 2},
		{title: "ANS", width: 3},
		{title: "OUTCOME", width: 10},
		{title: "REASON", width: 5, grow: 3},
	}
}

func (requestRows) draw(l *list[*incidents.Request], r *incidents.Request, t table, now time.Time, cells []cell) (rune, []cell) {
	st := &l.c.styles
	why := r.Error
	if why == "" && len(r.Alerts) > 1 {
		// A request of several alerts: what they did, in a few words.
		why = alertTally(r.Alerts)
		if len(r.Warnings) > 0 {
			why += "; " + plural(len(r.Warnings), "warning", "warnings")
		}
	}
	if why == "" && len(r.Warnings) > 0 {
		why = strings.Join(r.Warnings, "; ")
	}
	if why == "" && r.Incident != 0 {
		why = "incident #" + itoa(r.Incident)
	}
	code := &st.StatusOK
	if r.Status >= 400 {
		code = &st.StatusErr
	}
	return ' ', append(cells,
		cell{text: age(now, r.At)},
		cell{text: itoa(r.ID), style: &st.Dim},
		cell{text: r.Method, raw: true},
		cell{text: kindLabel(r.Kind, t.width("KIND"))},
		cell{text: r.Path, raw: true},
		cell{text: strconv.Itoa(r.Status), style: code},
		cell{text: string(r.Outcome), raw: true},
		cell{text: why, raw: true},
	)
}

func (requestRows) empty(l *list[*incidents.Request]) []string {
	if out, ok := l.emptyState(); ok {
		return out
	}
	c := l.c
	st := c.styles
	out := []string{"", "  No requests yet.", "  Every request to a webhook URL, accepted or refused, is listed here."}
	if c.opts.WebhookURL != "" {
		out = append(out, "", "  Try one:",
			"    "+st.Code.Render(`curl -d '{"title":"test page","severity":"sev2"}' \`),
			"      "+st.Code.Render(termtext.Line(c.opts.WebhookURL)))
	}
	if listsIntegrations(c.src) {
		out = append(out, "", "  "+st.Code.Render("i")+" lists the integrations, with what to paste into each sender.")
	}
	return out
}

func (r requestRows) total(l *list[*incidents.Request]) (int, bool, bool) {
	if r.filtered(l.c) && l.shown {
		// Shown: the matches read (the journal has no count of them).
		return l.win.Len(), true, l.win.more()
	}
	t := l.c.tally
	return t.counts.requests, t.loaded, t.counts.requestsMore
}

func (requestRows) concerns(_ *list[*incidents.Request], msg changesMsg) bool {
	return msg.requests > 0 || msg.resync
}

// key opens and replays the request under the cursor; requests are not
// acted on.
func (requestRows) key(l *list[*incidents.Request], msg tea.KeyMsg) (tea.Cmd, bool) {
	k := l.c.keys
	switch {
	case key.Matches(msg, k.Detail):
		if r, ok := l.win.aimed(); ok {
			l.c.tell(showMsg{request: r})
		}
	case key.Matches(msg, k.Replay):
		if r, ok := l.win.aimed(); ok {
			l.c.tell(replayMsg{id: r.ID})
		}
	case key.Matches(msg, k.Filter):
		l.c.tell(filterMsg{})
	case key.Matches(msg, k.Outcome):
		l.c.outcome = (l.c.outcome + 1) % len(outcomeNames)
		l.c.setStatus("requests: " + outcomeNames[l.c.outcome])
		l.c.tell(queryMsg{q: l.c.query, outcome: true})
	case isAction(k, msg):
		l.c.setStatus("requests cannot be acted on; switch to Open (1)")
	default:
		return nil, false
	}
	return nil, true
}
