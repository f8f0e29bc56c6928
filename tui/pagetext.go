package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/internal/termtext"
	"klaxon/senders"
)

// The pages' text: everything about an incident, a request, or the setup
// of an integration's sender. All of it that came from a webhook (or over
// the network) is made inert with termtext.

// maxPayloads is how many raw payloads an incident's page shows besides the
// first: an incident repeated 100,000 times shows its latest repeats.
const maxPayloads = 20

// wrapText wraps each line to width cells (width-aware; escape codes kept).
func wrapText(text string, width int) string {
	if width <= 0 {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Wrap(l, width, " ,")
		}
	}
	return strings.Join(lines, "\n")
}

// incidentPage writes everything about an incident. Webhook text is made
// inert with termtext. now places the timers ("in 4m").
func incidentPage(st Styles, in *incidents.Incident, now time.Time) string {
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(st.Label.Render(fmt.Sprintf("%-13s", label)))
		b.WriteString(value)
		b.WriteByte('\n')
	}
	sevStyle, sevLabel := st.Severity(in.Severity)
	statStyle, _ := st.Status(in.Status)
	if untitled(in.Title) {
		field("Title", st.Dim.Render(untitledLabel))
	} else {
		field("Title", termtext.Line(in.Title))
	}
	field("Status", statStyle.Render(string(in.Status)))
	field("Severity", sevStyle.Render(sevLabel))
	prio := "—"
	if in.Priority != incidents.NoPriority {
		prio = strings.ToUpper(string(in.Priority))
	}
	field("Priority", prio)
	field("Integration", termtext.Line(in.Integration))
	field("Service", termtext.Line(in.Service))
	if in.Key != "" {
		field("Key", termtext.Line(in.Key))
	} else {
		field("Key", st.Dim.Render("(none: never grouped)"))
	}
	field("Repeats", plural(int(in.Suppressed), "suppressed duplicate", "suppressed duplicates"))
	if in.Storming {
		field("Storm", st.StatusErr.Render(stormLabel)+" 20+ triggers a minute; every 10th repeat is listed")
	}
	field("First seen", clock(in.FirstSeen))
	field("Last seen", clock(in.LastSeen))
	acked, resolved := "—", "—"
	if in.AcknowledgedAt != nil {
		acked = clock(*in.AcknowledgedAt)
	}
	if in.ResolvedAt != nil {
		resolved = clock(*in.ResolvedAt) + " by " + string(in.ResolvedBy)
	}
	field("Acknowledged", acked)
	field("Resolved", resolved)
	// The integration's timers: when they will act on their own.
	if t := in.UnacknowledgesAt; t != nil {
		field("Ack expires", clock(*t)+"  "+until(now, *t)+st.Dim.Render(" (back to triggered)"))
	}
	if t := in.AutoResolvesAt; t != nil {
		field("Auto-resolve", clock(*t)+"  "+until(now, *t)+st.Dim.Render(" (unless it triggers again)"))
	}

	b.WriteString("\n" + st.Section.Render("Details") + "\n")
	if d := prettyValue(in.Details); d != "" {
		b.WriteString(indent(termtext.Block(d)))
	} else {
		b.WriteString(st.Dim.Render("  (none)") + "\n")
	}

	b.WriteString("\n" + st.Section.Render(fmt.Sprintf("Timeline (%s)", thousands(len(in.Timeline)))) + "\n")
	repeat := 0
	for _, e := range in.Timeline {
		what := strings.ReplaceAll(string(e.Kind), "_", " ")
		extra := ""
		switch e.Kind {
		case incidents.EntrySuppressed:
			repeat++
			extra = fmt.Sprintf("repeat %s", thousands(repeat))
		case incidents.EntrySeverityChanged, incidents.EntryPriorityChanged:
			extra = orNone(e.From) + " → " + orNone(e.To)
		}
		line := fmt.Sprintf("  %s  %-16s by %-8s %s", clock(e.At), what, e.By, extra)
		b.WriteString(strings.TrimRight(termtext.Line(line), " ") + "\n")
	}

	// The raw payloads: the one that opened the incident and the latest ones.
	var withEvent []int
	for i, e := range in.Timeline {
		if len(e.Event) > 0 {
			withEvent = append(withEvent, i)
		}
	}
	b.WriteString("\n" + st.Section.Render("Raw payloads") + "\n")
	if len(withEvent) == 0 {
		b.WriteString(st.Dim.Render("  (none stored)") + "\n")
	}
	shown := withEvent
	if len(withEvent) > maxPayloads+1 {
		shown = append([]int{withEvent[0]}, withEvent[len(withEvent)-maxPayloads:]...)
	}
	for n, i := range shown {
		if n == 1 && len(shown) < len(withEvent) {
			b.WriteString(st.Dim.Render(fmt.Sprintf("  … %s earlier payloads not shown", thousands(len(withEvent)-len(shown)))) + "\n")
		}
		e := in.Timeline[i]
		b.WriteString(st.Label.Render(fmt.Sprintf("  %s  %s", strings.ReplaceAll(string(e.Kind), "_", " "), clock(e.At))) + "\n")
		b.WriteString(indent(indent(termtext.Block(prettyValue(e.Event)))))
	}
	return strings.TrimRight(b.String(), "\n")
}

// requestPage writes everything about one request of the journal.
func requestPage(st Styles, r *incidents.Request) string {
	var b strings.Builder
	field := func(label, value string) {
		b.WriteString(st.Label.Render(fmt.Sprintf("%-13s", label)))
		b.WriteString(value)
		b.WriteByte('\n')
	}
	field("Request", termtext.Line(r.Method+" "+r.Path))
	field("Answer", fmt.Sprintf("%d %s", r.Status, termtext.Line(string(r.Outcome))))
	field("At", clock(r.At))
	field("Remote", termtext.Line(r.Remote))
	if r.Integration != "" {
		field("Integration", termtext.Line(r.Integration))
	}
	if r.Kind != "" {
		kind := termtext.Line(string(r.Kind))
		if kn := keyName(r.Kind); kn != "" {
			kind += st.Dim.Render("  (dedup key: " + kn + ")")
		}
		field("Kind", kind)
	}
	if r.Error != "" {
		field("Error", st.StatusErr.Render(termtext.Line(r.Error)))
	}
	for _, w := range r.Warnings {
		field("Warning", termtext.Line(w))
	}
	if r.Incident != 0 && len(r.Alerts) <= 1 {
		field("Incident", fmt.Sprintf("#%d", r.Incident))
	}
	if len(r.Alerts) > 0 {
		writeAlerts(&b, st, r.Alerts)
	}

	b.WriteString("\n" + st.Section.Render("Headers") + "\n")
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 0 {
		b.WriteString(st.Dim.Render("  (none)") + "\n")
	}
	for _, k := range names {
		for _, v := range r.Headers[k] {
			b.WriteString("  " + termtext.Line(k+": "+v) + "\n")
		}
	}

	title := "Body"
	if r.Truncated {
		title += " (cut at the size limit)"
	}
	b.WriteString("\n" + st.Section.Render(title) + "\n")
	if strings.TrimSpace(r.Body) == "" {
		b.WriteString(st.Dim.Render("  (empty)") + "\n")
	} else {
		body := r.Body
		if p := indentJSON([]byte(strings.TrimSpace(body))); p != "" && len(body) <= maxBlock {
			body = p
		} else if len(body) > maxBlock {
			body = body[:maxBlock] + "\n… (" + thousands(len(r.Body)) + " bytes, cut)"
		}
		b.WriteString(indent(termtext.Block(body)))
	}

	b.WriteString("\n" + st.Section.Render("Response") + "\n")
	if p := prettyValue(r.Response); p != "" {
		b.WriteString(indent(termtext.Block(p)))
	} else {
		b.WriteString(st.Dim.Render("  (none)") + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// maxAlerts is how many of a request's alerts its page lists: an
// Alertmanager group can carry thousands.
const maxAlerts = 500

// maxAlertText bounds an alert's title or key on the page before it is
// made inert, so a huge one costs what a short one does.
const maxAlertText = 2000

// writeAlerts lists what each alert of a request did: asked → outcome, its
// incident and title, then its dedup key and warnings. All of it came
// from the sender (or over the network), so all of it is made inert.
func writeAlerts(b *strings.Builder, st Styles, alerts []incidents.AlertOutcome) {
	b.WriteString("\n" + st.Section.Render("Alerts ("+thousands(len(alerts))+")"))
	if len(alerts) > 1 {
		b.WriteString("  " + st.Dim.Render(oneLine(alertTally(alerts), 200)))
	}
	b.WriteString("\n")
	shown := alerts[:min(len(alerts), maxAlerts)]
	verdictW, incW := 0, 0
	for _, a := range shown {
		verdictW = max(verdictW, ansi.StringWidth(alertVerdict(a)))
		if a.Incident != 0 {
			incW = max(incW, len(itoa(a.Incident))+1)
		}
	}
	for _, a := range shown {
		line := "  " + fit(alertVerdict(a), verdictW)
		if incW > 0 {
			inc := ""
			if a.Incident != 0 {
				inc = "#" + itoa(a.Incident)
			}
			line += " " + fit(inc, incW)
		}
		if untitled(a.Title) {
			line += " " + st.Dim.Render(untitledLabel)
		} else {
			line += " " + termtext.Line(clip(a.Title, maxAlertText))
		}
		b.WriteString(line + "\n")
		key := st.Dim.Render("(none: never grouped)")
		if a.Key != "" {
			key = termtext.Line(clip(a.Key, maxAlertText))
		}
		b.WriteString("      " + st.Label.Render("key ") + key + "\n")
		for _, w := range a.Warnings {
			b.WriteString("      " + st.Label.Render("warning ") + termtext.Line(clip(w, maxAlertText)) + "\n")
		}
	}
	if n := len(alerts) - len(shown); n > 0 {
		b.WriteString(st.Dim.Render("  … "+plural(n, "more alert", "more alerts")+" not shown") + "\n")
	}
}

// alertVerdict is "trigger → created": what an alert asked and what it did.
func alertVerdict(a incidents.AlertOutcome) string {
	asked := oneLine(string(a.Asked), 20)
	if asked == "" {
		asked = "?"
	}
	return asked + " → " + oneLine(string(a.Outcome), 20)
}

// clip cuts s to at most n bytes (termtext mends a rune cut in half).
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// indent puts two spaces before each line and ends the text with a newline.
func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}

// setupPage is the block to paste into the sender of it (senders.Setup),
// made inert: a name or token adopted from a request path is untrusted.
func setupPage(st Styles, it integration) string {
	base, token, err := senders.ParseWebhookURL(it.URL)
	if it.URL == "" || err != nil {
		return st.Dim.Render("This console does not know klaxon's address, so it cannot write the setup.\n`klaxon integrations` prints each integration's URL.")
	}
	if it.Token != "" {
		token = it.Token
	}
	block := senders.Setup(senders.Target{Base: base, Token: token, Kind: it.Kind, Name: it.Name})
	return strings.TrimRight(termtext.Block(block), "\n")
}

// wrapSetup wraps a setup block for width cells so that it still pastes:
// a cut comment goes on as a comment, and a cut YAML line goes on indented
// deeper (a quoted value folds back into one line).
func wrapSetup(text string, width int) string {
	if width <= 0 {
		return text
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " "))]
		cont := lead + "    "
		if strings.HasPrefix(strings.TrimLeft(l, " "), "#") {
			cont = lead + "#   "
		}
		if ansi.StringWidth(cont) > width/2 {
			cont = ""
		}
		out = append(out, hangWrap(l, width, cont)...)
	}
	return strings.Join(out, "\n")
}

// hangWrap cuts l into lines of at most width cells at spaces (anywhere
// when a word is too long), each line after the first starting with cont.
func hangWrap(l string, width int, cont string) []string {
	var out []string
	for ansi.StringWidth(l) > width {
		head := ansi.Truncate(l, width, "")
		cut := strings.LastIndexByte(head, ' ')
		if cut <= len(cont) || strings.TrimSpace(head[:cut]) == "" {
			cut = len(head) // no space to cut at: cut the word
		}
		if cut == 0 {
			break
		}
		out = append(out, strings.TrimRight(l[:cut], " "))
		l = cont + strings.TrimLeft(l[cut:], " ")
	}
	return append(out, l)
}
