package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

type detailKind int

const (
	detailNone detailKind = iota
	detailIncident
	detailRequest
	detailSetup // an integration's setup block, from the integrations page
)

// detail is the component of the scrollable page about one incident, one
// request or one integration's setup. An incident's page is read again as
// the incident changes, and can be acted on.
type detail struct {
	c     *common
	kind  detailKind
	id    int64
	in    *incidents.Incident
	req   *incidents.Request
	integ *integration
	vp    viewport.Model
	width int

	gen     int
	loading bool
	dirty   bool
	err     error

	text    string // the page before wrapping
	wrapped int    // the width text was wrapped for
}

// showMsg asks for the page of an incident, a request or an integration's
// setup (a list's enter).
type showMsg struct {
	incident int64
	request  *incidents.Request
	setup    *integration
}

func newDetail(c *common) *detail { return &detail{c: c, vp: viewport.New(0, 0)} }

// Init implements tea.Model.
func (d *detail) Init() tea.Cmd { return nil }

// SetSize implements Component: the page's title and rule, then the text.
func (d *detail) SetSize(width, height int) {
	d.width = width
	d.vp.Width, d.vp.Height = max(1, width), max(1, height-2)
	if d.kind != detailNone && d.wrapped != d.vp.Width {
		d.rewrap(true)
	}
}

func (d *detail) ShortHelp() []key.Binding  { return d.help().ShortHelp() }
func (d *detail) FullHelp() [][]key.Binding { return d.help().FullHelp() }

func (d *detail) help() helpKeys {
	switch d.kind {
	case detailRequest:
		return d.c.keys.requestDetailHelp()
	case detailSetup:
		return d.c.keys.setupHelp()
	}
	return d.c.keys.incidentDetailHelp()
}

// shown reports whether a page is open.
func (d *detail) shown() bool { return d.kind != detailNone }

// showing is the incident whose page is open, 0 for none.
func (d *detail) showing() int64 {
	if d.kind == detailIncident {
		return d.id
	}
	return 0
}

// show opens a page.
func (d *detail) show(msg showMsg) tea.Cmd {
	d.close()
	switch {
	case msg.request != nil:
		d.kind, d.id, d.req = detailRequest, msg.request.ID, msg.request
		d.setContent(requestPage(d.c.styles, msg.request), false)
	case msg.setup != nil:
		d.kind, d.id, d.integ = detailSetup, msg.setup.ID, msg.setup
		d.setContent(setupPage(d.c.styles, *msg.setup), false)
	default:
		d.c.alarm.seen(msg.incident)
		d.kind, d.id, d.loading = detailIncident, msg.incident, true
		d.setContent("", false)
		return loadDetailCmd(d.c.src, d.gen, d.id)
	}
	return nil
}

// close closes the page; a read in flight is ignored.
func (d *detail) close() {
	d.kind, d.in, d.req, d.integ, d.err = detailNone, nil, nil, nil, nil
	d.gen++
	d.loading, d.dirty = false, false
}

// refresh reads the incident again, once more after a read in flight.
func (d *detail) refresh() tea.Cmd {
	if d.kind != detailIncident {
		return nil
	}
	if d.loading {
		d.dirty = true
		return nil
	}
	d.loading = true
	return loadDetailCmd(d.c.src, d.gen, d.id)
}

// Update implements tea.Model.
func (d *detail) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return d, d.key(msg)
	case detailMsg:
		return d, d.receive(msg)
	case changesMsg:
		if msg.resync || msg.incidents[d.showing()] {
			return d, d.refresh()
		}
	case actMsg:
		if d.in != nil && msg.applies(d.in.ID) {
			d.in = msg.apply(d.in, d.c.now())
			d.setContent(incidentPage(d.c.styles, d.in, d.c.now()), true)
		}
	case actedMsg:
		return d, d.refresh()
	case tickMsg:
		if in := d.in; d.kind == detailIncident && in != nil && (in.UnacknowledgesAt != nil || in.AutoResolvesAt != nil) {
			d.setContent(incidentPage(d.c.styles, in, d.c.now()), true) // move "in 4m" along
		}
	}
	return d, nil
}

func (d *detail) receive(msg detailMsg) tea.Cmd {
	if msg.gen != d.gen || d.kind != detailIncident {
		return nil
	}
	d.loading = false
	d.err = msg.err
	if msg.err == nil {
		first := d.in == nil
		d.in = msg.in
		d.setContent(incidentPage(d.c.styles, msg.in, d.c.now()), !first)
	}
	if d.dirty {
		d.dirty = false
		return d.refresh()
	}
	return nil
}

func (d *detail) key(msg tea.KeyMsg) tea.Cmd {
	k, vp := d.c.keys, &d.vp
	switch {
	case key.Matches(msg, k.Back):
		d.close()
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.Home):
		vp.GotoTop()
	case key.Matches(msg, k.End):
		vp.GotoBottom()
	case key.Matches(msg, k.Replay) && d.kind == detailRequest:
		d.c.tell(replayMsg{id: d.id})
	case d.kind == detailIncident:
		if a, ok := actionFor(k, msg, []int64{d.id}, d.in); ok {
			a.fromPage = true
			a.seen(d.in)
			d.c.tell(a)
		}
	}
	return nil
}

// setContent wraps the page's text for the viewport's width.
func (d *detail) setContent(text string, keepOffset bool) {
	d.text = text
	d.rewrap(keepOffset)
}

func (d *detail) rewrap(keepOffset bool) {
	off := d.vp.YOffset
	d.wrapped = d.vp.Width
	if d.kind == detailSetup {
		d.vp.SetContent(wrapSetup(d.text, d.vp.Width)) // it must still paste
	} else {
		d.vp.SetContent(wrapText(d.text, d.vp.Width))
	}
	if keepOffset {
		d.vp.SetYOffset(off)
	} else {
		d.vp.GotoTop()
	}
}

// View draws the page's title, a rule and the text on screen.
func (d *detail) View() string {
	st := d.c.styles
	out := []string{d.title(), st.Dim.Render(strings.Repeat("─", max(1, d.width)))}
	switch {
	case d.kind == detailIncident && d.in == nil && d.err != nil:
		out = append(out, "  "+st.StatusErr.Render(oneLine(incidents.ErrorMessage(d.err), d.width-2)))
	case d.kind == detailIncident && d.in == nil:
		out = append(out, st.Dim.Render("  Loading…"))
	default:
		out = append(out, d.vp.View())
	}
	return strings.Join(out, "\n")
}

// title is the page's first line.
func (d *detail) title() string {
	st, w := d.c.styles, d.width
	switch {
	case d.kind == detailRequest && d.req != nil:
		r := d.req
		return fmt.Sprintf("request %d: %s %s → %d %s", r.ID, oneLine(r.Method, 8), oneLine(r.Path, 60), r.Status, oneLine(string(r.Outcome), 12))
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
		tail := "  seen " + age(d.c.now(), in.LastSeen) + " ago"
		if a := age(d.c.now(), in.LastSeen); a == "now" {
			tail = "  seen just now"
		}
		room := max(5, w-ansi.StringWidth(lead)-ansi.StringWidth(tail))
		name := st.Bold.Render(oneLine(in.Title, room))
		if untitled(in.Title) {
			name = st.Dim.Render(untitledLabel)
		}
		return lead + name + st.Dim.Render(tail)
	case d.kind == detailSetup && d.integ != nil:
		// "am (alertmanager, dedup key fingerprint): paste this into its
		// sender", shortened from the end to fit.
		it := d.integ
		name := oneLine(it.Name, max(5, w/2))
		kind := oneLine(string(it.Kind), 20)
		tails := []string{" (" + kind + ")"}
		if kn := keyName(it.Kind); kn != "" {
			tails = append([]string{" (" + kind + ", dedup key " + kn + "): paste this into its sender", " (" + kind + ", dedup key " + kn + ")"}, tails...)
		}
		tail := tails[len(tails)-1]
		for _, t := range tails {
			if ansi.StringWidth(name)+ansi.StringWidth(t) <= w {
				tail = t
				break
			}
		}
		return st.Bold.Render(name) + st.Dim.Render(tail)
	}
	return fmt.Sprintf("#%d", d.id)
}

// status is the right side of the status line: how far the page is read.
func (d *detail) status() []string {
	if d.vp.TotalLineCount() > d.vp.Height {
		return []string{fmt.Sprintf("%3.0f%%", d.vp.ScrollPercent()*100)}
	}
	return nil
}

// loadErr is why the page could not be read, if it could not.
func (d *detail) loadErr() error { return d.err }
