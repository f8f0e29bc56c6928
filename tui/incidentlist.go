package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"klaxon/incidents"
	"klaxon/internal/termtext"
)

// incidentRows are the rows of the Open and Resolved lists: incidents, in
// SPEC §3's order, filtered by the filter line, marked for bulk actions.
type incidentRows struct {
	title  string // "Open"
	status string // the filter's status: "open" or "resolved"
	// missed: rows read that hold a new sev1 no change announced ring
	// (the Open list).
	missed bool
}

func newIncidentList(c *common, id listID, r incidentRows) *list[*incidents.Incident] {
	return newList[*incidents.Incident](c, id, r)
}

func (r incidentRows) name() string                      { return r.title }
func (r incidentRows) what() string                      { return "incidents" }
func (r incidentRows) idOf(in *incidents.Incident) int64 { return in.ID }
func (r incidentRows) help(k KeyMap) helpKeys            { return k.incidentListHelp() }

func (r incidentRows) read(c *common) fetcher[*incidents.Incident] {
	src, status, query := c.src, r.status, c.query
	return func(ctx context.Context, limit int, cursor string) (incidents.Page[*incidents.Incident], error) {
		return listMatching(ctx, src, query, status, limit, cursor)
	}
}

// repWidth is the REP column: ×9999⚡.
const repWidth = 7

func (r incidentRows) columns(_ *list[*incidents.Incident], rows []*incidents.Incident) []column {
	return []column{
		{title: "SEV", width: 4, keep: true},
		{title: "P", width: 2},
		{title: "#ID", width: idWidth(rows, r.idOf)},
		{title: "TITLE", width: 5, grow: 1},
		{title: "INTEGRATION", width: 10, need: 36, share: 3, max: 24},
		{title: "REP", width: repWidth, align: alignRight},
		{title: "STAT", width: 4},
		{title: "AGE", width: 4, align: alignRight},
	}
}

// idWidth is the width of an ID column for rows: "#" and the longest ID.
func idWidth[T any](rows []T, id func(T) int64) int {
	w := 3
	for _, r := range rows {
		w = max(w, len(itoa(id(r)))+1)
	}
	return w
}

// draw draws one incident. Selection, marks and the new-sev1 highlight each
// have a marker as well as a style, so they read without colour.
func (r incidentRows) draw(l *list[*incidents.Incident], in *incidents.Incident, _ table, now time.Time, cells []cell) (rune, []cell) {
	c := l.c
	st := &c.styles
	mark, fresh := ' ', c.alarm.fresh[in.ID]
	switch {
	case c.marks[in.ID]:
		mark = '●'
	case fresh:
		mark = '!'
	}
	prio := "  "
	if in.Priority != incidents.NoPriority {
		prio = strings.ToUpper(string(in.Priority))
	}
	row := &st.Row
	switch {
	case fresh:
		row = &st.Fresh
	case in.Status == incidents.Acknowledged:
		row = &st.RowAcked
	}
	title := cell{text: in.Title, style: row, raw: true}
	if untitled(in.Title) {
		title = cell{text: untitledLabel, style: &st.Dim}
	}
	integ := in.Integration
	if in.Service != "" && in.Service != in.Integration {
		integ += "/" + in.Service
	}
	return mark, append(cells,
		st.severityCell(in.Severity),
		cell{text: prio},
		cell{text: "#" + itoa(in.ID), style: &st.Dim},
		title,
		cell{text: integ, style: &st.Dim, raw: true},
		cell{text: repeatsCell(in), style: row},
		st.statusCell(in.Status),
		cell{text: age(now, in.LastSeen), style: &st.Dim},
	)
}

func (r incidentRows) empty(l *list[*incidents.Incident]) []string {
	if out, ok := l.emptyState(); ok {
		return out
	}
	c := l.c
	st := c.styles
	switch {
	case c.query != "":
		return []string{"", fmt.Sprintf("  No %s incidents match %q.", strings.ToLower(r.title), oneLine(c.query, 40)),
			st.Dim.Render("  esc clears the filter.")}
	case r.status != "open":
		return []string{"", "  Nothing resolved yet."}
	}
	out := []string{"", "  " + st.StatusOK.Render("✓") + " No open incidents. All quiet.", ""}
	if c.opts.WebhookURL == "" {
		return out
	}
	url := termtext.Line(c.opts.WebhookURL)
	out = append(out, "  Alerts arrive at this integration's webhook URL:")
	for _, part := range wrapURL(url, l.width-4) { // whole, never cut
		out = append(out, "    "+st.URL.Render(part))
	}
	out = append(out, "", "  Page yourself to see one arrive:",
		"    "+st.Code.Render(`curl -d '{"title":"test page","severity":"sev2"}' \`))
	for _, part := range wrapURL(url, l.width-6) {
		out = append(out, "      "+st.Code.Render(part))
	}
	return out
}

func (r incidentRows) total(l *list[*incidents.Incident]) (int, bool, bool) {
	t := l.c.tally
	if r.status == "open" {
		return t.counts.open, t.loaded, false
	}
	return t.counts.resolved, t.loaded, false
}

func (r incidentRows) concerns(_ *list[*incidents.Incident], msg changesMsg) bool {
	return len(msg.incidents) > 0 || msg.resync
}

// key opens, marks, filters and acts; a key pressed with a new sev1 under
// the cursor sees it.
func (r incidentRows) key(l *list[*incidents.Incident], msg tea.KeyMsg) (tea.Cmd, bool) {
	c, k := l.c, l.c.keys
	var cmd tea.Cmd
	switch {
	case key.Matches(msg, k.Detail):
		if in, ok := l.win.aimed(); ok {
			c.tell(showMsg{incident: in.ID})
		}
	case key.Matches(msg, k.Filter):
		c.tell(filterMsg{})
	case key.Matches(msg, k.Mark):
		// The row under the cursor as the person saw it; then on from there.
		if i := l.win.aimedIndex(); i >= 0 {
			id := l.win.items[i].ID
			if c.marks[id] {
				delete(c.marks, id)
			} else {
				c.marks[id] = true
			}
			l.win.choose(i+1, l.rowsHeight())
			cmd = l.next()
		}
	default:
		ids, ref := r.targets(l)
		if a, ok := actionFor(k, msg, ids, ref); ok {
			for _, in := range l.win.items {
				if a.applies(in.ID) {
					a.seen(in)
				}
			}
			if len(ids) > 0 {
				c.tell(a)
			}
		} else {
			cmd = l.move(msg)
		}
	}
	if id := l.aimedID(); id != 0 {
		c.alarm.seen(id)
	}
	return cmd, true
}

// targets are the incidents an action applies to: the marked ones, else the
// one under the cursor. ref is the one whose severity or priority the next
// is counted from: the one under the cursor when marked, else the first
// marked row.
func (r incidentRows) targets(l *list[*incidents.Incident]) (ids []int64, ref *incidents.Incident) {
	marks := l.c.marks
	sel, hasSel := l.win.aimed()
	if len(marks) == 0 {
		if hasSel {
			return []int64{sel.ID}, sel
		}
		return nil, nil
	}
	for id := range marks {
		ids = append(ids, id)
	}
	sortIDs(ids)
	if hasSel && marks[sel.ID] {
		return ids, sel
	}
	for _, in := range l.win.items {
		if marks[in.ID] {
			return ids, in
		}
	}
	return ids, nil
}

func (r incidentRows) update(l *list[*incidents.Incident], msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case actMsg:
		// Shown at once, by the domain's rules; the read that follows the
		// action replaces these copies with what was stored.
		for i, in := range l.win.items {
			if msg.applies(in.ID) {
				l.win.items[i] = msg.apply(in, l.c.now())
			}
		}
	case queryMsg:
		if l.shown {
			return l.restart()
		}
		l.win.reset()
		l.win.stale = true
	}
	return nil
}

func (r incidentRows) loaded(l *list[*incidents.Incident], pages []chunk[*incidents.Incident]) tea.Cmd {
	if r.missed {
		return l.c.alarm.missed(pages)
	}
	return nil
}
