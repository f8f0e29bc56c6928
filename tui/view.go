package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/termtext"
)

// The screen, top to bottom: header (brand, open counts, webhook URL), tabs,
// the view (column titles and rows, or a detail page), status line, help.

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// layout sizes what depends on the terminal's size.
func (m *Model) layout() {
	m.help.Width = m.width
	m.input.Width = max(10, m.width-40)
	body := m.bodyHeight()
	m.detail.vp.Width = max(1, m.width)
	m.detail.vp.Height = max(1, body-2)
	if m.detail.kind != detailNone && m.detail.width != m.detail.vp.Width {
		m.detail.rewrap(true)
	}
	h := m.listHeight()
	for v := viewOpen; v < viewCount; v++ {
		m.list(v).scroll(h)
	}
}

func (m *Model) headerHeight() int {
	h := 1
	if m.opts.WebhookURL != "" {
		h++
	}
	if !m.health.OK {
		h++ // the warning line
	}
	if m.anyChaos() {
		h++ // the chaos line
	}
	return h
}

func (m *Model) helpHeight() int {
	if !m.help.ShowAll {
		return 1
	}
	return lipgloss.Height(m.help.View(m.helpKeys()))
}

// bodyHeight is what is left for the view between the tabs and the status line.
func (m *Model) bodyHeight() int {
	return max(2, m.height-m.headerHeight()-1-1-m.helpHeight())
}

// listHeight is how many rows of a list are on screen.
func (m *Model) listHeight() int { return max(1, m.bodyHeight()-1) }

func (m *Model) helpKeys() helpKeys {
	switch {
	case m.filtering:
		return m.keys.filterHelp()
	case m.detail.kind == detailIncident:
		return m.keys.incidentDetailHelp()
	case m.detail.kind == detailRequest:
		return m.keys.requestDetailHelp()
	case m.detail.kind == detailSetup:
		return m.keys.setupHelp()
	case m.integs.open:
		return m.keys.integrationsHelp()
	case m.view == viewRequests:
		return m.keys.requestsHelp()
	case m.view == viewSuppressed:
		return m.keys.journalHelp()
	}
	return m.keys.incidentListHelp()
}

// View draws the screen: exactly height lines, none wider than width.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.headerView()...)
	lines = append(lines, m.tabsView())
	body := m.bodyHeight()
	var bodyLines []string
	switch {
	case m.detail.kind != detailNone:
		bodyLines = m.detailView(body)
	case m.integs.open:
		bodyLines = m.integrationsView(body)
	default:
		bodyLines = m.listView(body)
	}
	for len(bodyLines) < body {
		bodyLines = append(bodyLines, "")
	}
	lines = append(lines, bodyLines[:body]...)
	lines = append(lines, m.statusView())
	lines = append(lines, strings.Split(m.help.View(m.helpKeys()), "\n")...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "")
		}
	}
	out := strings.Join(lines, "\n")
	if m.bell {
		out += "\a" // one frame carries the bell; the renderer writes it once
	}
	for _, n := range m.notes {
		out += "\x1b]9;" + n + "\a" // OSC 9: a desktop notification, the same way
	}
	return out
}

func (m *Model) headerView() []string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.Brand.Render("KLAXON"))
	b.WriteString("  ")
	if m.countsLoaded {
		b.WriteString(st.Dim.Render("open "))
		for i, sev := range severityCycle {
			style, label := st.Severity(sev)
			if sev == incidents.NoSeverity {
				style, label = st.Dim, "none"
			}
			b.WriteString(style.Render(label))
			b.WriteString(" " + thousands(m.counts.sev[i]) + "  ")
		}
	} else {
		b.WriteString(st.Dim.Render("counting…  "))
	}
	left := b.String()
	var right string
	switch {
	case !m.live:
		right = st.Dim.Render("○ not live")
	case !m.health.OK:
		// Never look live while alerts are not getting through.
		right = st.StatusErr.Render(notReceiving)
	default:
		right = st.StatusOK.Render("● live")
	}
	line := left + strings.Repeat(" ", max(1, m.width-ansi.StringWidth(left)-ansi.StringWidth(right))) + right
	out := []string{line}
	if m.opts.WebhookURL != "" {
		out = append(out, m.webhookLine())
	}
	if !m.health.OK {
		out = append(out, m.healthWarning())
	}
	if chaos := m.chaosWarning(); chaos != "" {
		out = append(out, chaos)
	}
	return out
}

const notReceiving = "⚠ NOT RECEIVING"

// healthWarning is the full-width line that says why alerts are not getting
// through, for as long as they are not. It starts with ⚠ so it reads
// without colour too.
func (m *Model) healthWarning() string {
	problem := m.health.Problem
	if strings.TrimSpace(problem) == "" {
		problem = "klaxon is not taking alerts"
	}
	tail := ""
	if !m.health.Since.IsZero() {
		if a := age(m.now(), m.health.Since); a != "now" {
			tail = " (for " + a + ")"
		}
	}
	room := max(1, m.width-2-ansi.StringWidth(tail))
	text := "⚠ " + oneLine(problem, room) + tail
	return m.styles.Warning.Render(fit(text, m.width))
}

func (m *Model) tabsView() string {
	st := m.styles
	var b strings.Builder
	for v := viewOpen; v < viewCount; v++ {
		label := fmt.Sprintf("%d %s %s", v+1, viewNames[v], m.countText(v))
		if v == m.view && !m.integs.open {
			b.WriteString(st.TabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(st.Tab.Render(" " + label + " "))
		}
		b.WriteString(" ")
	}
	if m.integs.open {
		// The page is a tab while it is open.
		n := "…"
		if m.integs.loaded {
			n = thousands(len(m.integs.list))
		}
		b.WriteString(st.TabActive.Render("[i Integrations " + n + "]"))
	}
	return b.String()
}

// countText is a tab's count: "…" before the first count, "200+" when only
// a lower bound is known.
func (m *Model) countText(v viewID) string {
	if !m.countsLoaded {
		return "…"
	}
	c := m.counts
	switch v {
	case viewOpen, viewResolved:
		n := c.open
		if v == viewResolved {
			n = c.resolved
		}
		if n < 0 {
			return "…"
		}
		return thousands(n)
	case viewSuppressed:
		if c.suppressedMore {
			return thousands(c.suppressed) + "+"
		}
		return thousands(c.suppressed)
	}
	if c.requestsMore {
		return thousands(c.requests) + "+"
	}
	return thousands(c.requests)
}

func (m *Model) listView(height int) []string {
	switch m.view {
	case viewSuppressed:
		return m.suppressedView(height)
	case viewRequests:
		return m.requestsView(height)
	}
	return m.incidentsView(m.incidentList(m.view), height)
}

// ---- incident lists ----

// incidentColumns are the widths of an incident row's flexible columns.
type incidentColumns struct{ id, title, integ int }

// Fixed columns: marker 2, severity 4, priority 2, repeats 7 (×9999⚡),
// status 4, age 4 and the spaces between.
const (
	repWidth      = 7
	incidentFixed = 2 + 4 + 1 + 2 + 1 + 1 + 1 + repWidth + 1 + 4 + 1 + 4
)

func incidentLayout(width, idWidth int) incidentColumns {
	c := incidentColumns{id: idWidth}
	flex := width - incidentFixed - idWidth
	if flex >= 36 {
		c.integ = min(24, max(10, flex/3))
		flex -= c.integ + 1
	}
	c.title = max(5, flex)
	return c
}

func idWidth[T any](rows []T, id func(T) int64) int {
	w := 3
	for _, r := range rows {
		w = max(w, len(itoa(id(r)))+1)
	}
	return w
}

func (m *Model) incidentsView(w *window[*incidents.Incident], height int) []string {
	st := m.styles
	rows, first := w.visible(height - 1)
	if len(rows) == 0 {
		return m.incidentsEmpty(w)
	}
	w.see()
	cols := incidentLayout(m.width, idWidth(rows, func(in *incidents.Incident) int64 { return in.ID }))
	header := "  " + fit("SEV", 4) + " " + fit("P", 2) + " " + fit("#ID", cols.id) + " " + fit("TITLE", cols.title)
	if cols.integ > 0 {
		header += " " + fit("INTEGRATION", cols.integ)
	}
	header += " " + fitRight("REP", repWidth) + " " + fit("STAT", 4) + " " + fitRight("AGE", 4)
	out := make([]string, 0, height)
	out = append(out, st.Columns.Render(header))
	now := m.now()
	for i, in := range rows {
		out = append(out, m.incidentRow(in, first+i == w.sel, cols, now))
	}
	return out
}

// incidentRow draws one incident. Selection, marks and the new-sev1
// highlight each have a marker character as well as a style, so they read
// without colour.
func (m *Model) incidentRow(in *incidents.Incident, selected bool, cols incidentColumns, now time.Time) string {
	st := m.styles
	marker := []rune("  ")
	if selected {
		marker[0] = '▶'
	}
	fresh := m.fresh[in.ID]
	switch {
	case m.marks[in.ID]:
		marker[1] = '●'
	case fresh:
		marker[1] = '!'
	}
	sevStyle, sevLabel := st.Severity(in.Severity)
	statStyle, statLabel := st.Status(in.Status)
	prio := "  "
	if in.Priority != incidents.NoPriority {
		prio = strings.ToUpper(string(in.Priority))
	}
	id := fit("#"+itoa(in.ID), cols.id)
	title := fit(oneLine(in.Title, cols.title), cols.title)
	noTitle := untitled(in.Title)
	if noTitle {
		title = fit(untitledLabel, cols.title)
	}
	integ := ""
	if cols.integ > 0 {
		name := in.Integration
		if in.Service != "" && in.Service != in.Integration {
			name += "/" + in.Service
		}
		integ = fit(oneLine(name, cols.integ), cols.integ) + " "
	}
	rep := fitRight(repeatsCell(in), repWidth)
	stat := fit(statLabel, 4)
	ago := fitRight(age(now, in.LastSeen), 4)

	if selected {
		rest := " " + prio + " " + id + " " + title + " " + integ + rep + " " + stat + " " + ago
		return string(marker) + sevStyle.Render(sevLabel) + st.Selected.Render(rest)
	}
	rowStyle := st.Row
	switch {
	case fresh:
		rowStyle = st.Fresh
	case in.Status == incidents.Acknowledged:
		rowStyle = st.RowAcked
	}
	titleStyle := rowStyle
	if noTitle {
		titleStyle = st.Dim
	}
	var b strings.Builder
	b.WriteString(string(marker))
	b.WriteString(sevStyle.Render(sevLabel))
	b.WriteString(" " + prio + " ")
	b.WriteString(st.Dim.Render(id))
	b.WriteString(" ")
	b.WriteString(titleStyle.Render(title))
	b.WriteString(" ")
	if integ != "" {
		b.WriteString(st.Dim.Render(integ))
	}
	b.WriteString(rowStyle.Render(rep))
	b.WriteString(" ")
	b.WriteString(statStyle.Render(stat))
	b.WriteString(" ")
	b.WriteString(st.Dim.Render(ago))
	return b.String()
}

// incidentsEmpty is what an incident view shows without rows.
func (m *Model) incidentsEmpty(w *window[*incidents.Incident]) []string {
	st := m.styles
	switch {
	case w.err != nil && !w.loaded:
		return []string{"", "  " + st.StatusErr.Render("Cannot read incidents: "+oneLine(incidents.ErrorMessage(w.err), m.width-26))}
	case !w.loaded:
		return []string{"", st.Dim.Render("  Loading…")}
	case m.query != "":
		return []string{"", fmt.Sprintf("  No %s incidents match %q.", strings.ToLower(viewNames[m.view]), oneLine(m.query, 40)),
			st.Dim.Render("  esc clears the filter.")}
	case m.view == viewResolved:
		return []string{"", "  Nothing resolved yet."}
	}
	out := []string{"", "  " + st.StatusOK.Render("✓") + " No open incidents. All quiet.", ""}
	if m.opts.WebhookURL == "" {
		return out
	}
	url := termtext.Line(m.opts.WebhookURL)
	return append(out,
		"  Alerts arrive at this integration's webhook URL:",
		"    "+st.URL.Render(url),
		"",
		"  Page yourself to see one arrive:",
		"    "+st.Code.Render(`curl -d '{"title":"test page","severity":"sev2"}' \`),
		"      "+st.Code.Render(url),
	)
}

// ---- suppressed events ----

func (m *Model) suppressedView(height int) []string {
	st := m.styles
	w := &m.suppressed
	rows, first := w.visible(height - 1)
	w.see()
	if len(rows) == 0 {
		switch {
		case w.err != nil && !w.loaded:
			return []string{"", "  " + st.StatusErr.Render("Cannot read suppressed events: "+oneLine(incidents.ErrorMessage(w.err), m.width-34))}
		case !w.loaded:
			return []string{"", st.Dim.Render("  Loading…")}
		}
		return []string{"", "  No suppressed events.",
			st.Dim.Render("  A repeat of an open incident's title is folded into it and listed here.")}
	}
	idw := idWidth(rows, func(e incidents.SuppressedEvent) int64 { return e.Incident })
	// marker 2, age 4, incident, title, repeats 7, status 4.
	title := max(5, m.width-2-4-1-idw-1-1-7-1-4)
	header := "  " + fitRight("AGE", 4) + " " + fit("INC", idw) + " " + fit("TITLE", title) + " " + fitRight("REPEATS", 7) + " " + fit("STAT", 4)
	out := []string{st.Columns.Render(header)}
	now := m.now()
	for i, e := range rows {
		statStyle, statLabel := st.Status(e.Status)
		cells := fitRight(age(now, e.At), 4) + " " + fit("#"+itoa(e.Incident), idw) + " " +
			fit(oneLine(e.Title, title), title) + " " + fitRight(repeats(e.Repeats), 7) + " "
		if first+i == w.sel {
			out = append(out, "▶ "+st.Selected.Render(cells+fit(statLabel, 4)))
		} else {
			out = append(out, "  "+cells+statStyle.Render(fit(statLabel, 4)))
		}
	}
	return out
}

// ---- request journal ----

func (m *Model) requestsView(height int) []string {
	st := m.styles
	w := &m.requests
	rows, first := w.visible(height - 1)
	w.see()
	if len(rows) == 0 {
		switch {
		case w.err != nil && !w.loaded:
			return []string{"", "  " + st.StatusErr.Render("Cannot read the request journal: "+oneLine(incidents.ErrorMessage(w.err), m.width-36))}
		case !w.loaded:
			return []string{"", st.Dim.Render("  Loading…")}
		}
		out := []string{"", "  No requests yet.", "  Every request to a webhook URL, accepted or refused, is listed here."}
		if m.opts.WebhookURL != "" {
			out = append(out, "", "  Try one:",
				"    "+st.Code.Render(`curl -d '{"title":"test page","severity":"sev2"}' \`),
				"      "+st.Code.Render(termtext.Line(m.opts.WebhookURL)))
		}
		if listsIntegrations(m.src) {
			out = append(out, "", "  "+st.Code.Render("i")+" lists the integrations, with what to paste into each sender.")
		}
		return out
	}
	// marker 2, age 4, method 6, kind 4 (its full name from 120 columns),
	// path, status 3, outcome 10, reason.
	kindW := 4
	if m.width >= 120 {
		kindW = 12
	}
	flex := max(10, m.width-2-4-1-6-1-kindW-1-1-3-1-10-1)
	path := max(5, flex*2/5)
	reason := max(5, flex-path)
	header := "  " + fitRight("AGE", 4) + " " + fit("METHOD", 6) + " " + fit("KIND", kindW) + " " + fit("PATH", path) + " " + fit("ANS", 3) + " " +
		fit("OUTCOME", 10) + " " + fit("REASON", reason)
	out := []string{st.Columns.Render(header)}
	now := m.now()
	for i, r := range rows {
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
		code := fit(strconv.Itoa(r.Status), 3)
		lead := fitRight(age(now, r.At), 4) + " " + fit(oneLine(r.Method, 6), 6) + " " + fit(kindLabel(r.Kind, kindW), kindW) + " " +
			fit(oneLine(r.Path, path), path) + " "
		tail := " " + fit(oneLine(string(r.Outcome), 10), 10) + " " + fit(oneLine(why, reason), reason)
		if first+i == w.sel {
			out = append(out, "▶ "+st.Selected.Render(lead+code+tail))
			continue
		}
		codeStyle := st.StatusOK
		if r.Status >= 400 {
			codeStyle = st.StatusErr
		}
		out = append(out, "  "+lead+codeStyle.Render(code)+tail)
	}
	return out
}

// ---- detail ----

func (m *Model) detailView(height int) []string {
	st := m.styles
	d := &m.detail
	var title string
	switch {
	case d.kind == detailRequest && d.req != nil:
		r := d.req
		title = fmt.Sprintf("%s %s → %d %s", oneLine(r.Method, 8), oneLine(r.Path, 60), r.Status, oneLine(string(r.Outcome), 12))
	case d.in != nil:
		in := d.in
		sevStyle, sevLabel := st.Severity(in.Severity)
		statStyle, statLabel := st.Status(in.Status)
		prio := ""
		if in.Priority != incidents.NoPriority {
			prio = strings.ToUpper(string(in.Priority)) + " "
		}
		lead := "#" + itoa(in.ID) + " " + sevStyle.Render(sevLabel) + " " + prio + statStyle.Render(statLabel) + " "
		if in.Storming {
			lead += st.StatusErr.Render(stormLabel) + " "
		}
		tail := "  seen " + age(m.now(), in.LastSeen) + " ago"
		room := max(5, m.width-ansi.StringWidth(lead)-ansi.StringWidth(tail))
		name := st.Bold.Render(oneLine(in.Title, room))
		if untitled(in.Title) {
			name = st.Dim.Render(untitledLabel)
		}
		title = lead + name + st.Dim.Render(tail)
	case d.kind == detailSetup && d.integ != nil:
		// "am (alertmanager, dedup key fingerprint): paste this into its
		// sender", shortened from the end to fit.
		it := d.integ
		name := oneLine(it.Name, max(5, m.width/2))
		kind := oneLine(string(it.Kind), 20)
		tails := []string{" (" + kind + ")"}
		if kn := keyName(it.Kind); kn != "" {
			tails = append([]string{" (" + kind + ", dedup key " + kn + "): paste this into its sender", " (" + kind + ", dedup key " + kn + ")"}, tails...)
		}
		tail := tails[len(tails)-1]
		for _, t := range tails {
			if ansi.StringWidth(name)+ansi.StringWidth(t) <= m.width {
				tail = t
				break
			}
		}
		title = st.Bold.Render(name) + st.Dim.Render(tail)
	default:
		title = fmt.Sprintf("#%d", d.id)
	}
	out := []string{title, st.Dim.Render(strings.Repeat("─", max(1, m.width)))}
	switch {
	case d.kind == detailIncident && d.in == nil && d.err != nil:
		return append(out, "  "+st.StatusErr.Render(oneLine(incidents.ErrorMessage(d.err), m.width-2)))
	case d.kind == detailIncident && d.in == nil:
		return append(out, st.Dim.Render("  Loading…"))
	}
	return append(out, strings.Split(d.vp.View(), "\n")...)
}

// ---- status line ----

// slowLoad is how long a load runs before the status line says so; a
// local database answers well before, and a flickering word helps nobody.
const slowLoad = 500 * time.Millisecond

func (m *Model) statusView() string {
	st := m.styles
	var right []string
	if m.query != "" && !m.filtering {
		right = append(right, "filter: "+oneLine(m.query, 20))
	}
	if n := len(m.marks); n > 0 {
		right = append(right, thousands(n)+" marked")
	}
	switch {
	case m.detail.kind == detailNone && m.integs.open:
		if s := &m.integs; len(s.list) > 0 {
			right = append(right, thousands(s.sel+1)+"/"+thousands(len(s.list)))
		}
	case m.detail.kind == detailNone:
		w := m.list(m.view)
		if st := w.state(); st.loading && m.now().Sub(st.since) >= slowLoad {
			right = append(right, "loading…")
		}
		if w.Len() > 0 {
			total := m.totalFor(m.view)
			pos := w.positionIn(total)
			total = max(total, pos+1)
			right = append(right, thousands(pos+1)+"/"+thousands(total))
		}
	case m.detail.vp.TotalLineCount() > m.detail.vp.Height:
		right = append(right, fmt.Sprintf("%3.0f%%", m.detail.vp.ScrollPercent()*100))
	}
	r := st.Dim.Render(strings.Join(right, "  "))
	// The message gets what the right side leaves (a replay's answer is long).
	room := max(5, m.width-max(12, ansi.StringWidth(r))-2)
	var left string
	switch {
	case m.filtering:
		left = m.input.View()
	case m.status != "" && m.statusErr:
		left = st.StatusErr.Render("✗ " + oneLine(m.status, room-2))
	case m.status != "":
		left = st.StatusOK.Render(oneLine(m.status, room))
	case m.loadErr() != nil:
		left = st.StatusErr.Render("✗ " + oneLine("cannot read: "+incidents.ErrorMessage(m.loadErr()), room-2))
	}
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(r)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + r
}

// loadErr is why the last read for what is on screen failed, if it did.
func (m *Model) loadErr() error {
	if m.detail.kind != detailNone {
		return m.detail.err
	}
	if m.integs.open {
		return m.integs.err
	}
	if err := m.list(m.view).state().err; err != nil {
		return err
	}
	return m.countsErr
}

// totalFor is the number of rows view v has, as far as it is known.
func (m *Model) totalFor(v viewID) int {
	c := m.counts
	switch v {
	case viewOpen:
		return c.open
	case viewResolved:
		return c.resolved
	case viewSuppressed:
		return c.suppressed
	}
	return c.requests
}
