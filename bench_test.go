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
	for _, want := range []string{"no-op", "bare durable", "new titles", "repeating titles", "of no-op", "of bare durable", "the bar of issue #4"} {
		if !strings.Contains(report, want) {
			t.Fatalf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "errors, the first") {
		t.Fatalf("a measurement had errors:\n%s", report)
	}
}

// klaxon bench --console times key presses while the receiver in the same
// process takes load: over loopback connections, or paced straight into its
// handler with --rate.
func TestBenchConsoleRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary under load")
	}
	bin := buildKlaxon(t)
	for load, args := range map[string][]string{
		"4 connections of new":                                {"--connections", "4"},
		"2000 events/s of repeat into the receiver's handler": {"--rate", "2000", "--patterns", "repeat"},
	} {
		args = append([]string{"bench", "--console", "--duration", "600ms", "--warmup", "100ms", "--dir", t.TempDir()}, args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("klaxon %v: %v\n%s", args, err, out)
		}
		report := string(out)
		if !strings.Contains(report, "--console: "+load) || !strings.Contains(report, "taken, 0 errors") || !strings.Contains(report, "console: ") {
			t.Fatalf("klaxon %v:\n%s", args, report)
		}
		if strings.Contains(report, "console: 0 keys") {
			t.Fatalf("no key was timed:\n%s", report)
		}
	}
	out, err := exec.Command(bin, "bench", "--rate", "-1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--rate is a number of events a second") {
		t.Fatalf("--rate -1: %v\n%s", err, out)
	}
}

// klaxon bench --rate paces the load against the servers as child processes
// too, and --peer alertmanager measures Alertmanager beside klaxon (where it
// is installed).
func TestBenchRateAndPeerRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary under load")
	}
	bin := buildKlaxon(t)
	args := []string{"bench", "--rate", "300", "--duration", "500ms", "--warmup", "100ms", "--durable=false", "--dir", t.TempDir()}
	wants := []string{"300 events/s paced", "new titles", "repeating titles", "fell due"}
	if _, err := exec.LookPath("prometheus-alertmanager"); err == nil {
		args = append(args, "--peer", "alertmanager")
		wants = append(wants, "AM new alerts", "AM repeating", "klaxon against Alertmanager")
	} else {
		t.Log("Alertmanager is not installed: --peer is not run")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("klaxon %v: %v\n%s", args, err, out)
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "errors, the first") {
		t.Fatalf("a measurement had errors:\n%s", out)
	}
}
