package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/termtext"
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
	out := []string{left + strings.Repeat(" ", max(1, h.width-ansi.StringWidth(left)-ansi.StringWidth(right))) + right}
	if c.opts.WebhookURL != "" {
		out = append(out, h.webhookLine())
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
		n++
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

// webhookLine is the header's line with the webhook URL, and the kind that
// reads it when there is room: "(alertmanager)", else "(am)", else none.
func (h *header) webhookLine() string {
	st := h.c.styles
	url := termtext.Line(h.c.opts.WebhookURL)
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
func tabs(st Styles, pages []page, keys []key.Binding, shown int) string {
	var b strings.Builder
	for i, p := range pages {
		if p.isHidden() && i != shown {
			continue
		}
		label := keys[i].Keys()[0] + " " + p.tab()
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
