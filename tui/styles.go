package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"

	"klaxon/incidents"
)

// Styles are the console's looks, by meaning. Colours are chosen to read on
// dark and light backgrounds alike (so the terminal is never queried for its
// background), and every colour has a 16-colour fallback. Nothing depends on
// colour alone: severity, status, selection and marks all have a text form,
// so the console reads with NO_COLOR too.
type Styles struct {
	renderer *lipgloss.Renderer

	Brand     lipgloss.Style
	Header    lipgloss.Style
	URL       lipgloss.Style
	Dim       lipgloss.Style
	Bold      lipgloss.Style
	TabActive lipgloss.Style
	Tab       lipgloss.Style
	Columns   lipgloss.Style

	Sev1   lipgloss.Style
	Sev2   lipgloss.Style
	Sev3   lipgloss.Style
	SevNil lipgloss.Style

	Triggered lipgloss.Style
	Acked     lipgloss.Style
	Resolved  lipgloss.Style

	Row      lipgloss.Style
	RowAcked lipgloss.Style
	Selected lipgloss.Style
	Fresh    lipgloss.Style

	StatusOK  lipgloss.Style
	StatusErr lipgloss.Style
	Warning   lipgloss.Style // the line that says klaxon is not taking alerts
	Chaos     lipgloss.Style // the line that says an integration's chaos is on
	Code      lipgloss.Style

	Label   lipgloss.Style
	Section lipgloss.Style

	Help help.Styles
}

var (
	red    = lipgloss.CompleteColor{TrueColor: "#d70000", ANSI256: "160", ANSI: "1"}
	orange = lipgloss.CompleteColor{TrueColor: "#ffaf00", ANSI256: "214", ANSI: "3"}
	blue   = lipgloss.CompleteColor{TrueColor: "#0087d7", ANSI256: "32", ANSI: "4"}
	white  = lipgloss.CompleteColor{TrueColor: "#ffffff", ANSI256: "15", ANSI: "15"}
	black  = lipgloss.CompleteColor{TrueColor: "#000000", ANSI256: "16", ANSI: "0"}
	green  = lipgloss.CompleteColor{TrueColor: "#00875f", ANSI256: "29", ANSI: "2"}
	grey   = lipgloss.CompleteColor{TrueColor: "#8a8a8a", ANSI256: "245", ANSI: "8"}
)

// NewStyles builds the styles for r (lipgloss.DefaultRenderer() when nil).
func NewStyles(r *lipgloss.Renderer) Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	s := Styles{renderer: r}
	s.Brand = r.NewStyle().Bold(true).Foreground(white).Background(red).Padding(0, 1)
	s.Header = r.NewStyle().Bold(true)
	s.URL = r.NewStyle().Underline(true)
	s.Dim = r.NewStyle().Foreground(grey)
	s.Bold = r.NewStyle().Bold(true)
	s.TabActive = r.NewStyle().Bold(true).Reverse(true)
	s.Tab = r.NewStyle()
	s.Columns = r.NewStyle().Foreground(grey).Bold(true)

	s.Sev1 = r.NewStyle().Bold(true).Foreground(white).Background(red)
	s.Sev2 = r.NewStyle().Bold(true).Foreground(black).Background(orange)
	s.Sev3 = r.NewStyle().Foreground(white).Background(blue)
	s.SevNil = r.NewStyle().Foreground(grey)

	s.Triggered = r.NewStyle().Bold(true).Foreground(red)
	s.Acked = r.NewStyle().Foreground(grey)
	s.Resolved = r.NewStyle().Foreground(green)

	s.Row = r.NewStyle()
	s.RowAcked = r.NewStyle().Foreground(grey)
	s.Selected = r.NewStyle().Reverse(true)
	s.Fresh = r.NewStyle().Bold(true).Foreground(red)

	s.StatusOK = r.NewStyle().Foreground(green)
	s.StatusErr = r.NewStyle().Bold(true).Foreground(red)
	s.Warning = r.NewStyle().Bold(true).Foreground(white).Background(red)
	s.Chaos = r.NewStyle().Bold(true).Foreground(black).Background(orange)
	s.Code = r.NewStyle().Bold(true)

	s.Label = r.NewStyle().Foreground(grey)
	s.Section = r.NewStyle().Bold(true).Underline(true)

	key := r.NewStyle().Bold(true)
	desc := r.NewStyle().Foreground(grey)
	sep := r.NewStyle().Foreground(grey)
	s.Help = help.Styles{
		Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep,
	}
	return s
}

// Severity returns the badge style and text label of a severity. The label
// is always there, so severity reads without colour.
func (s Styles) Severity(v incidents.Severity) (lipgloss.Style, string) {
	switch v {
	case incidents.Sev1:
		return s.Sev1, "SEV1"
	case incidents.Sev2:
		return s.Sev2, "SEV2"
	case incidents.Sev3:
		return s.Sev3, "SEV3"
	}
	return s.SevNil, "----"
}

// Status returns the style and short label of a status: triggered shouts,
// acknowledged is quiet.
func (s Styles) Status(v incidents.Status) (lipgloss.Style, string) {
	switch v {
	case incidents.Triggered:
		return s.Triggered, "TRIG"
	case incidents.Acknowledged:
		return s.Acked, "ack"
	case incidents.Resolved:
		return s.Resolved, "res"
	}
	return s.Dim, string(v)
}

// severityCell is a severity as a row's cell: the badge and its label.
func (s *Styles) severityCell(v incidents.Severity) cell {
	_, label := s.Severity(v)
	switch v {
	case incidents.Sev1:
		return cell{text: label, style: &s.Sev1}
	case incidents.Sev2:
		return cell{text: label, style: &s.Sev2}
	case incidents.Sev3:
		return cell{text: label, style: &s.Sev3}
	}
	return cell{text: label, style: &s.SevNil}
}

// statusCell is a status as a row's cell.
func (s *Styles) statusCell(v incidents.Status) cell {
	_, label := s.Status(v)
	switch v {
	case incidents.Triggered:
		return cell{text: label, style: &s.Triggered}
	case incidents.Acknowledged:
		return cell{text: label, style: &s.Acked}
	case incidents.Resolved:
		return cell{text: label, style: &s.Resolved}
	}
	return cell{text: label, style: &s.Dim}
}
