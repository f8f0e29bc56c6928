package incidents

import "time"

// PersonAction is something a person does to an incident.
type PersonAction struct {
	Kind     EntryKind // EntryAcknowledged, EntryUnacknowledged, EntryResolved, EntrySeverityChanged, EntryPriorityChanged
	By       Actor
	Severity Severity // for EntrySeverityChanged
	Priority Priority // for EntryPriorityChanged
}

// ApplyAction carries out a person's action on in at time now, changing in
// and returning the timeline entries to record. Nothing happens (and no entry
// is written) when the incident is already as asked. A resolved incident
// refuses every action with ECONFLICT.
func ApplyAction(in *Incident, a PersonAction, now time.Time) ([]TimelineEntry, error) {
	if in.Status == Resolved {
		return nil, Errorf(ECONFLICT, "incident #%d is resolved; a resolved incident cannot change (a new trigger opens a new incident)", in.ID)
	}
	entry := TimelineEntry{At: now, Kind: a.Kind, By: a.By}
	switch a.Kind {
	case EntryAcknowledged:
		if in.Status == Acknowledged {
			return nil, nil
		}
		in.Status, in.AcknowledgedAt = Acknowledged, &now
	case EntryUnacknowledged:
		if in.Status == Triggered {
			return nil, nil
		}
		in.Status, in.AcknowledgedAt = Triggered, nil
	case EntryResolved:
		in.Status, in.ResolvedAt, in.ResolvedBy = Resolved, &now, a.By
	case EntrySeverityChanged:
		if in.Severity == a.Severity {
			return nil, nil
		}
		entry.From, entry.To = string(in.Severity), string(a.Severity)
		in.Severity = a.Severity
	case EntryPriorityChanged:
		if in.Priority == a.Priority {
			return nil, nil
		}
		entry.From, entry.To = string(in.Priority), string(a.Priority)
		in.Priority = a.Priority
	default:
		return nil, Errorf(EINVALID, "unknown action %q", a.Kind)
	}
	return []TimelineEntry{entry}, nil
}
