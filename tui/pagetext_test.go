package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"klaxon/incidents"
)

func TestAlertTally(t *testing.T) {
	a := func(o incidents.Outcome) incidents.AlertOutcome { return incidents.AlertOutcome{Outcome: o} }
	got := alertTally([]incidents.AlertOutcome{a(incidents.ResolvedBy), a("odd"), a(incidents.Created), a(incidents.Created), a(incidents.Ignored), a("")})
	if want := "2 created, 1 resolved, 1 ignored, 1 odd, 1 none"; got != want {
		t.Fatalf("tally %q, want %q", got, want)
	}
}

func TestWrapSetupKeepsItPasteable(t *testing.T) {
	text := "# Or, where the token may stand in the URL: http://127.0.0.1:18765/AAAAAAAAAAAAAAAAAAAAAA/push-events\n" +
		"route:\n" +
		"        severity: '{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}error{{ end }}'\n" +
		strings.Repeat("x", 100)
	got := wrapSetup(text, 64)
	lines := strings.Split(got, "\n")
	for _, l := range lines {
		if ansi.StringWidth(l) > 64 {
			t.Fatalf("line %q is wider than 64", l)
		}
	}
	want := []string{
		"# Or, where the token may stand in the URL:",
		"#   http://127.0.0.1:18765/AAAAAAAAAAAAAAAAAAAAAA/push-events",
		"route:",
		"        severity: '{{ if .CommonLabels.severity }}{{",
		"            .CommonLabels.severity }}{{ else }}error{{ end }}'",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Fatalf("line %d is %q, want %q\n%s", i, lines[i], w, got)
		}
	}
	if rest := strings.ReplaceAll(strings.Join(lines[len(want):], ""), " ", ""); rest != strings.Repeat("x", 100) {
		t.Fatalf("a word longer than the line is cut, not lost:\n%s", got)
	}
}
