package main

import (
	"os/exec"
	"strings"
	"testing"
)

// klaxon bench runs end to end with the real binary: the receiver and the
// no-op handler as child processes, both patterns, and a report. It asserts
// nothing about speed (that is what the command is for), only that every
// measurement happened and was answered without errors.
func TestBenchCommandRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary under load")
	}
	bin := buildKlaxon(t)
	out, err := exec.Command(bin, "bench", "--connections", "4", "--duration", "500ms", "--warmup", "100ms",
		"--dir", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("klaxon bench: %v\n%s", err, out)
	}
	report := string(out)
	for _, want := range []string{"no-op", "new titles", "repeating titles", "of the no-op handler"} {
		if !strings.Contains(report, want) {
			t.Fatalf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "errors, the first") {
		t.Fatalf("a measurement had errors:\n%s", report)
	}
}
