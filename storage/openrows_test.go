package storage

import (
	"testing"

	"klaxon/incidents"
)

// Undoing a transaction restores the copies as they were before it, also
// when the copy filled up and started over meanwhile.
func TestOpenRowsUndoAcrossAReset(t *testing.T) {
	r := newOpenRows()
	in := &incidents.Incident{ID: 1, Key: "k", Status: incidents.Triggered, Suppressed: 5}
	r.put(7, in, keptSuppressed{rows: 5})
	r.commit()

	m := r.mark()
	in.Suppressed = 6
	r.put(7, in, keptSuppressed{rows: 6})
	for id := int64(2); id <= maxOpenRows+1; id++ { // fills it: it starts over
		r.put(7, &incidents.Incident{ID: id, Key: "k", Status: incidents.Triggered}, keptSuppressed{})
	}
	if _, _, ok := r.get(1, 7, "k"); ok {
		t.Fatal("incident 1 is still held after the copy started over")
	}
	r.undo(m)
	got, kept, ok := r.get(1, 7, "k")
	if !ok || got.Suppressed != 5 || kept.rows != 5 || len(r.rows) != 1 {
		t.Fatalf("after undo: %+v %+v %v (%d held), want incident 1 as committed, alone", got, kept, ok, len(r.rows))
	}
	if _, _, ok := r.get(1, 8, "k"); ok {
		t.Fatal("a copy answered for another integration")
	}
	if _, _, ok := r.get(1, 7, "other"); ok {
		t.Fatal("a copy answered for another key")
	}
}
