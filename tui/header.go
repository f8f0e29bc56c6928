package tui

import (
	"net/url"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/internal/termtext"
)

// header is the component at the top of the screen: the brand, the open
// incidents by severity and whether the console is live; the webhook URL
// and the kind that reads it; and, while they hold, a line that says
// alerts are not getting through and one that says an integration's chaos
// is on.
type header struct {
	c      *common
	integs *list[integration] // the integrations, for the kind and the chaos
	width  int
}

func newHeader(c *common, integs *list[integration]) *header {
	return &header{c: c, integs: integs, width: 80}
}

func (h *header) Init() tea.Cmd                       { return nil }
func (h *header) Update(tea.Msg) (tea.Model, tea.Cmd) { return h, nil }
func (h *header) SetSize(width, _ int)                { h.width = width }
func (h *header) ShortHelp() []key.Binding            { return nil }
func (h *header) FullHelp() [][]key.Binding           { return nil }
func (h *header) View() string                        { return strings.Join(h.lines(), "\n") }
func (h *header) integrations() []integration         { return h.integs.win.items }

func (h *header) lines() []string {
	c, st := h.c, h.c.styles
	var b strings.Builder
	b.WriteString(st.Brand.Render("KLAXON"))
	if at := h.attachedTo(); at != "" {
		b.WriteString(st.Dim.Render(" @") + st.URL.Render(at)) // klaxon attach: not this process's klaxon
	}
	b.WriteString("  ")
	if t := c.tally; t.loaded {
		b.WriteString(st.Dim.Render("open "))
		for i, sev := range severityCycle {
			style, label := st.Severity(sev)
			if sev == incidents.NoSeverity {
				style, label = st.Dim, "none"
			}
			b.WriteString(style.Render(label))
			b.WriteString(" " + thousands(t.counts.sev[i]) + "  ")
		}
	} else {
		b.WriteString(st.Dim.Render("counting…  "))
	}
	left := b.String()
	var right string
	switch {
	case !c.live:
		right = st.Dim.Render("○ not live")
	case !c.health.OK:
		// Never look live while alerts are not getting through.
		right = st.StatusErr.Render(notReceiving)
	default:
		right = st.StatusOK.Render("● live")
	}
	// The indicator stays at every width: the counts give way to it.
	if room := h.width - ansi.StringWidth(right) - 1; ansi.StringWidth(left) > room {
		left = ansi.Truncate(strings.TrimRight(left, " "), max(0, room), "")
	}
	out := []string{left + strings.Repeat(" ", max(1, h.width-ansi.StringWidth(left)-ansi.StringWidth(right))) + right}
	if c.opts.WebhookURL != "" {
		out = append(out, h.webhookLines()...)
	}
	if !c.health.OK {
		out = append(out, h.healthWarning())
	}
	if chaos := h.chaosWarning(); chaos != "" {
		out = append(out, chaos)
	}
	return out
}

const notReceiving = "⚠ NOT RECEIVING"

// height is the header's lines, without drawing them.
func (h *header) height() int {
	n := 1
	if h.c.opts.WebhookURL != "" {
		n += len(h.webhookLines())
	}
	if !h.c.health.OK {
		n++
	}
	if len(h.chaosOn()) > 0 {
		n++
	}
	return n
}

// healthWarning is the full-width line that says why alerts are not getting
// through, for as long as they are not. It starts with ⚠ so it reads
// without colour too.
func (h *header) healthWarning() string {
	health := h.c.health
	problem := health.Problem
	if strings.TrimSpace(problem) == "" {
		problem = "klaxon is not taking alerts"
	}
	tail := ""
	if !health.Since.IsZero() {
		if a := age(h.c.now(), health.Since); a != "now" {
			tail = " (for " + a + ")"
		}
	}
	room := max(1, h.width-2-ansi.StringWidth(tail))
	return h.c.styles.Warning.Render(fit("⚠ "+oneLine(problem, room)+tail, h.width))
}

// webhookKind is the kind of the integration whose URL the header shows,
// once the integrations are known ("" until then, or when none has it).
func (h *header) webhookKind() incidents.Kind {
	url := h.c.opts.WebhookURL
	for _, it := range h.integrations() {
		if url != "" && it.URL == url {
			return it.Kind
		}
	}
	return ""
}

// attachedTo is the host:port of the klaxon an attached console shows
// ("" for this process's own).
func (h *header) attachedTo() string {
	r, ok := h.c.src.(interface{ Base() string })
	if !ok {
		return ""
	}
	base := r.Base()
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		base = u.Host
	}
	return termtext.Line(base)
}

// webhookLines are the header's lines with the webhook URL, and the kind
// that reads it when there is room: "(alertmanager)", else "(am)", else
// none. A URL wider than the screen is wrapped, never cut: a person copies
// it whole.
func (h *header) webhookLines() []string {
	st := h.c.styles
	url := termtext.Line(h.c.opts.WebhookURL)
	if 8+ansi.StringWidth(url) > h.width {
		parts := wrapURL(url, h.width)
		if len(parts) > maxURLLines {
			// Too narrow to wrap it: cut, and say so with the ellipsis.
			parts = []string{ansi.Truncate(url, h.width, ellipsis)}
		}
		var out []string
		for _, part := range parts {
			out = append(out, st.URL.Render(part))
		}
		return out
	}
	return []string{h.webhookLine(url)}
}

// maxURLLines is the most lines the webhook URL wraps to.
const maxURLLines = 3

// wrapURL breaks url into pieces of at most width cells.
func wrapURL(url string, width int) []string {
	width = max(1, width)
	var out []string
	for ansi.StringWidth(url) > width {
		part := ansi.Truncate(url, width, "")
		if part == "" {
			break
		}
		out = append(out, part)
		url = url[len(part):]
	}
	return append(out, url)
}

func (h *header) webhookLine(url string) string {
	st := h.c.styles
	line := st.Dim.Render("webhook ") + st.URL.Render(url)
	k := h.webhookKind()
	if k == "" {
		return line
	}
	room := h.width - 8 - ansi.StringWidth(url)
	for _, name := range []string{oneLine(string(k), 40), kindLabel(k, 4)} {
		if tail := " (" + name + ")"; ansi.StringWidth(tail) <= room {
			return line + st.Dim.Render(tail)
		}
	}
	return line
}

// chaosOn are the integrations whose chaos is on.
func (h *header) chaosOn() []integration {
	var on []integration
	for _, it := range h.integrations() {
		if it.Chaos.On() {
			on = append(on, it)
		}
	}
	return on
}

// chaosWarning is the header's line while an integration answers some of
// its requests with errors on purpose: "⚡ chaos: am 503 to 30% of
// requests". Narrower, the names are cut, then only they are listed, then
// the line only says "⚡ chaos". It starts with ⚡ so it reads without colour.
func (h *header) chaosWarning() string {
	on := h.chaosOn()
	if len(on) == 0 {
		return ""
	}
	full := func(nameWidth int) string {
		parts := make([]string, len(on))
		for i, it := range on {
			parts[i] = oneLine(it.Name, nameWidth) + " " + oneLine(it.Chaos.Describe(), 60)
		}
		return "⚡ chaos: " + strings.Join(parts, "; ")
	}
	names := func(nameWidth int) string {
		parts := make([]string, len(on))
		for i, it := range on {
			parts[i] = oneLine(it.Name, nameWidth)
		}
		return "⚡ chaos on " + strings.Join(parts, ", ")
	}
	text := "⚡ chaos"
	for _, c := range []string{full(40), full(12), names(12), names(6)} {
		if ansi.StringWidth(c) <= h.width {
			text = c
			break
		}
	}
	return h.c.styles.Chaos.Render(fit(text, h.width))
}

// tabs is the line of tabs: each page's key, name and count, the one shown
// in brackets. A hidden page is a tab only while it is shown.
// Narrower than the tabs, the others shrink to their keys, then go: the one
// shown stays.
func tabs(st Styles, pages []page, keys []key.Binding, shown, width int) string {
	line := ""
	for _, short := range []int{0, 1, 2} {
		line = tabLine(st, pages, keys, shown, short)
		if ansi.StringWidth(line) <= width {
			break
		}
	}
	return line
}

// tabLine draws the tabs: short 1 shows the others by key only, 2 not at all.
func tabLine(st Styles, pages []page, keys []key.Binding, shown, short int) string {
	var b strings.Builder
	for i, p := range pages {
		if p.isHidden() && i != shown || short == 2 && i != shown {
			continue
		}
		label := keys[i].Keys()[0] + " " + p.tab()
		if short == 1 && i != shown {
			label = keys[i].Keys()[0]
		}
		if i == shown {
			b.WriteString(st.TabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(st.Tab.Render(" " + label + " "))
		}
		if !p.isHidden() {
			b.WriteString(" ")
		}
	}
	return b.String()
}
