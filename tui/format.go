package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
	"klaxon/internal/termtext"
)

const ellipsis = "…"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// oneLine makes untrusted text safe for one cell of width columns: control
// characters and escape sequences become visible symbols, and text that does
// not fit ends in an ellipsis. Huge input is cut before it is cleaned, so a
// 500 KB title costs no more than a short one.
func oneLine(s string, width int) string {
	if width <= 0 {
		return ""
	}
	limit := width*4 + 16
	clipped := len(s) > limit
	if clipped {
		s = s[:limit]
	}
	s = termtext.Line(s)
	if ansi.StringWidth(s) > width {
		return ansi.Truncate(s, width, ellipsis)
	}
	if clipped {
		return ansi.Truncate(s, width-1, "") + ellipsis
	}
	return s
}

// untitledLabel stands for an empty title, so a row never shows a blank
// where a title should be.
const untitledLabel = "(untitled)"

// untitled reports whether a title is empty (white space only counts as
// none, as it does for the receiver).
func untitled(title string) bool { return strings.TrimSpace(title) == "" }

// noteTitleRunes bounds the title in a desktop notification.
const noteTitleRunes = 100

// notification is the text of a desktop notification about in, e.g.
// "klaxon: SEV1 #12 checkout is down". The title is made inert and cut, so
// the text carries no control byte that could end the OSC 9 around it
// early or do anything else to the terminal.
func notification(in *incidents.Incident, realert bool) string {
	var b strings.Builder
	b.WriteString("klaxon: ")
	if realert {
		b.WriteString("still triggered: ")
	}
	if in.Severity != incidents.NoSeverity {
		b.WriteString(strings.ToUpper(string(in.Severity)) + " ")
	}
	b.WriteString("#" + itoa(in.ID) + " ")
	if untitled(in.Title) {
		b.WriteString(untitledLabel)
		return b.String()
	}
	title := in.Title
	if len(title) > noteTitleRunes*4 {
		title = title[:noteTitleRunes*4] // termtext mends a rune cut in half
	}
	r := []rune(termtext.Line(title))
	if len(r) > noteTitleRunes {
		r = append(r[:noteTitleRunes-1], '…')
	}
	b.WriteString(string(r))
	return b.String()
}

// errorText is what an error says to a person: a domain error's sentence,
// else the error's own text (untrusted: it goes through oneLine).
func errorText(err error) string {
	var e *incidents.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// answerStatus reads the HTTP status that begins a replay's answer
// ("404 {…}"), or 0.
func answerStatus(answer string) int {
	code, _, _ := strings.Cut(answer, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return 0
	}
	return n
}

// fit truncates trusted text to width columns (with an ellipsis) and pads it
// with spaces to exactly width columns. Width counts terminal cells, so CJK
// and emoji keep columns aligned.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, ellipsis)
		w = ansi.StringWidth(s)
	}
	return s + strings.Repeat(" ", width-w)
}

// fitRight is fit, aligned right.
func fitRight(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		return ansi.Truncate(s, width, ellipsis)
	}
	return strings.Repeat(" ", width-w) + s
}

// age says how long ago t was, in at most four cells: 9s, 12m, 5h, 3d, 12w.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d < 14*24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d < 1000*7*24*time.Hour:
		return strconv.Itoa(int(d/(7*24*time.Hour))) + "w"
	}
	return "old"
}

// repeats writes a suppressed count as ×N, compact past 9,999.
func repeats(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 10_000:
		return "×" + strconv.FormatInt(n, 10)
	case n < 1_000_000:
		return "×" + strconv.FormatInt(n/1000, 10) + "k"
	}
	return "×" + strconv.FormatInt(n/1_000_000, 10) + "M"
}

// stormMark follows the repeat count of an incident whose key is storming
// (triggering 20+ times a minute): a symbol, so it reads without colour.
const (
	stormMark  = "⚡"
	stormLabel = "⚡STORM"
)

// repeatsCell is the REP column: ×N, and ⚡ while the incident storms.
func repeatsCell(in *incidents.Incident) string {
	if in.Storming {
		return repeats(in.Suppressed) + stormMark
	}
	return repeats(in.Suppressed)
}

// until says when t comes, from now, rounded to the nearest unit: "in 4m"
// (for 4m40s), or "due now" once it is due (a timer that has not acted yet).
func until(now, t time.Time) string {
	d := t.Sub(now)
	n, unit := 0, ""
	switch {
	case d < time.Second:
		return "due now"
	case d < time.Minute:
		n, unit = int(d/time.Second), "s"
	case d < time.Hour-30*time.Second:
		n, unit = int(d.Round(time.Minute)/time.Minute), "m"
	case d < 48*time.Hour-30*time.Minute:
		n, unit = int(d.Round(time.Hour)/time.Hour), "h"
	default:
		n, unit = int(d.Round(24*time.Hour)/(24*time.Hour)), "d"
	}
	return "in " + strconv.Itoa(n) + unit
}

// thousands writes n with thousands separators: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// clock writes a time for the detail view: UTC, to the millisecond.
func clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

// maxBlock bounds how much of one payload the detail view shows.
const maxBlock = 64 << 10

// prettyValue renders a stored JSON value for reading: objects and arrays
// indented, a string as its text (indented too when the text is itself
// JSON), anything that is not JSON as it is. The result is untrusted text;
// pass it through termtext.Block.
func prettyValue(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if len(raw) > maxBlock {
		// Too big to indent whole: show its beginning as it is.
		return string(raw[:maxBlock]) + "\n… (" + thousands(len(raw)) + " bytes, cut)"
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				if p := indentJSON([]byte(t)); p != "" {
					return p
				}
			}
			return s
		}
	}
	if p := indentJSON(raw); p != "" {
		return p
	}
	return string(raw)
}

func indentJSON(raw []byte) string {
	if !json.Valid(raw) {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return ""
	}
	return b.String()
}

// plural writes "1 incident", "2 incidents".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%s %s", thousands(n), many)
}

// tallyOrder is the order alertTally counts outcomes in, as incidents.Tallied does.
var tallyOrder = []incidents.Outcome{incidents.Created, incidents.Folded, incidents.ResolvedBy, incidents.AckedBy, incidents.Ignored}

// alertTally says in words what a request's alerts did: "2 created, 1
// resolved" (outcomes klaxon does not name come last, as they came). The
// outcomes may come over the network: the result is untrusted text.
func alertTally(alerts []incidents.AlertOutcome) string {
	n := map[incidents.Outcome]int{}
	var others []incidents.Outcome
	for _, a := range alerts {
		if n[a.Outcome] == 0 && !slices.Contains(tallyOrder, a.Outcome) {
			others = append(others, a.Outcome)
		}
		n[a.Outcome]++
	}
	var parts []string
	for _, o := range append(slices.Clone(tallyOrder), others...) {
		if n[o] > 0 {
			parts = append(parts, thousands(n[o])+" "+orNone(string(o)))
		}
	}
	return strings.Join(parts, ", ")
}
