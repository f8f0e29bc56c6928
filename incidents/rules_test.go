package incidents

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func TestApply(t *testing.T) {
	integ := &Integration{ID: 1, Name: "default", Service: "web"}
	open := func(status Status, sev Severity, prio Priority) *Incident {
		return &Incident{ID: 7, Key: "k", Title: "k", Status: status, Severity: sev, Priority: prio, FirstSeen: t0, LastSeen: t0, Suppressed: 2}
	}
	now := t0.Add(time.Minute)
	tests := []struct {
		name     string
		ev       Event
		open     *Incident
		outcome  Outcome
		status   Status
		sev      Severity
		prio     Priority
		suppress int64
		entries  []EntryKind
	}{
		{"create", Event{Key: "k", Title: "k", Action: Trigger, Severity: Sev2}, nil, Created, Triggered, Sev2, "", 0, []EntryKind{EntryTriggered}},
		{"suppress", Event{Key: "k", Title: "k", Action: Trigger}, open(Triggered, Sev2, "p3"), Folded, Triggered, Sev2, "p3", 3, []EntryKind{EntrySuppressed}},
		{"suppress moves severity and priority", Event{Key: "k", Action: Trigger, Severity: Sev1, Priority: "p1"}, open(Triggered, Sev2, "p3"), Folded, Triggered, Sev1, "p1", 3,
			[]EntryKind{EntrySuppressed, EntrySeverityChanged, EntryPriorityChanged}},
		{"same severity is no change", Event{Key: "k", Action: Trigger, Severity: Sev2}, open(Triggered, Sev2, ""), Folded, Triggered, Sev2, "", 3, []EntryKind{EntrySuppressed}},
		{"acknowledged still suppresses", Event{Key: "k", Action: Trigger}, open(Acknowledged, "", ""), Folded, Acknowledged, "", "", 3, []EntryKind{EntrySuppressed}},
		{"resolve", Event{Key: "k", Action: Resolve}, open(Acknowledged, Sev3, ""), ResolvedBy, Resolved, Sev3, "", 2, []EntryKind{EntryResolved}},
		{"ignored resolve", Event{Key: "k", Action: Resolve}, nil, Ignored, "", "", "", 0, nil},
		{"untitled is always new", Event{Key: "", Action: Trigger}, nil, Created, Triggered, "", "", 0, []EntryKind{EntryTriggered}},
		{"untitled never suppressed even with an open one passed", Event{Key: "", Action: Trigger}, open(Triggered, "", ""), Created, Triggered, "", "", 0, []EntryKind{EntryTriggered}},
		{"untitled resolve is ignored", Event{Key: "", Action: Resolve}, open(Triggered, "", ""), Ignored, "", "", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before Incident
			if tt.open != nil {
				before = *tt.open
			}
			outcome, in, entries := Apply(tt.ev, tt.open, integ, now)
			if outcome != tt.outcome {
				t.Fatalf("outcome = %s, want %s", outcome, tt.outcome)
			}
			if tt.open != nil && (tt.open.Suppressed != before.Suppressed || tt.open.Status != before.Status) {
				t.Fatal("Apply changed the incident it was given")
			}
			if outcome == Ignored {
				if in != nil || entries != nil {
					t.Fatalf("ignored returned %v %v", in, entries)
				}
				return
			}
			if in.Status != tt.status || in.Severity != tt.sev || in.Priority != tt.prio || in.Suppressed != tt.suppress {
				t.Fatalf("incident: status %s sev %q prio %q suppressed %d", in.Status, in.Severity, in.Priority, in.Suppressed)
			}
			if len(entries) != len(tt.entries) {
				t.Fatalf("entries = %v, want %v", entries, tt.entries)
			}
			for i, e := range entries {
				if e.Kind != tt.entries[i] || e.By != ByWebhook || !e.At.Equal(now) {
					t.Fatalf("entry %d = %+v, want %s", i, e, tt.entries[i])
				}
			}
			switch outcome {
			case Folded:
				if !in.LastSeen.Equal(now) || in.Title != "k" {
					t.Fatal("suppressed: last_seen must move and the title stay")
				}
			case ResolvedBy:
				if in.ResolvedBy != ByWebhook || in.ResolvedAt == nil || !in.LastSeen.Equal(t0) {
					t.Fatal("resolved: by webhook, at now, last_seen unmoved")
				}
			case Created:
				if in.Integration != "default" || in.Service != "web" {
					t.Fatal("created: integration and service")
				}
			}
		})
	}
}

func TestApplyAction(t *testing.T) {
	tests := []struct {
		name    string
		status  Status
		action  PersonAction
		want    Status
		entries int
		code    string
	}{
		{"acknowledge", Triggered, PersonAction{Kind: EntryAcknowledged, By: ByConsole}, Acknowledged, 1, ""},
		{"acknowledge twice is a no-op", Acknowledged, PersonAction{Kind: EntryAcknowledged, By: ByConsole}, Acknowledged, 0, ""},
		{"unacknowledge", Acknowledged, PersonAction{Kind: EntryUnacknowledged, By: ByAPI}, Triggered, 1, ""},
		{"unacknowledge triggered is a no-op", Triggered, PersonAction{Kind: EntryUnacknowledged, By: ByAPI}, Triggered, 0, ""},
		{"resolve", Triggered, PersonAction{Kind: EntryResolved, By: ByConsole}, Resolved, 1, ""},
		{"severity", Triggered, PersonAction{Kind: EntrySeverityChanged, By: ByConsole, Severity: Sev1}, Triggered, 1, ""},
		{"resolved never reopens", Resolved, PersonAction{Kind: EntryUnacknowledged, By: ByAPI}, Resolved, 0, ECONFLICT},
		{"resolved takes no severity", Resolved, PersonAction{Kind: EntrySeverityChanged, By: ByAPI, Severity: Sev1}, Resolved, 0, ECONFLICT},
		{"unknown action", Triggered, PersonAction{Kind: "explode"}, Triggered, 0, EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Incident{ID: 3, Status: tt.status, Severity: Sev3}
			entries, err := ApplyAction(in, tt.action, t0)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if in.Status != tt.want || len(entries) != tt.entries {
				t.Fatalf("status %s with %d entries, want %s with %d", in.Status, len(entries), tt.want, tt.entries)
			}
			if tt.action.Kind == EntryResolved && (in.ResolvedBy != tt.action.By || in.ResolvedAt == nil) {
				t.Fatal("resolve must record who and when")
			}
			if tt.action.Kind == EntrySeverityChanged && tt.code == "" && (entries[0].From != "sev3" || entries[0].To != "sev1") {
				t.Fatalf("severity entry: %+v", entries[0])
			}
		})
	}
}

func TestParseSeverityAndPriority(t *testing.T) {
	for in, want := range map[string]Severity{"sev1": Sev1, "SEV2": Sev2, " Sev3 ": Sev3, "": NoSeverity} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"sev4", "critical", "1"} {
		if _, err := ParseSeverity(bad); err == nil {
			t.Errorf("ParseSeverity(%q) accepted", bad)
		}
	}
	for in, want := range map[string]Priority{"p1": "p1", "P5": "p5", "": NoPriority} {
		if got, err := ParsePriority(in); err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParsePriority("p6"); err == nil {
		t.Error("p6 accepted")
	}
	if Sev1.Rank() >= Sev3.Rank() || Sev3.Rank() >= NoSeverity.Rank() || Priority("p5").Rank() >= NoPriority.Rank() {
		t.Error("ranks out of order")
	}
}
