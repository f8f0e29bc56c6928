package storage

import (
	"slices"
	"testing"
)

// Keys whose hashes collide each keep their incident, through removal and undo.
func TestOpenKeysCollisions(t *testing.T) {
	k := newOpenKeys()
	ids := func() []int64 {
		first, more := k.candidates(7)
		if first == 0 {
			return nil
		}
		return append([]int64{first}, more...)
	}
	k.add(7, 1)
	k.add(7, 2)
	k.add(7, 3)
	k.commit()
	if got := ids(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("candidates %v, want [1 2 3]", got)
	}
	m := k.mark()
	k.remove(7, 1)
	k.remove(7, 3)
	k.remove(7, 9) // not there: nothing to undo
	if got := ids(); !slices.Equal(got, []int64{2}) {
		t.Fatalf("after removals: %v, want [2]", got)
	}
	k.add(7, 4)
	k.undo(m)
	got := ids()
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("after undo: %v, want 1, 2 and 3", got)
	}
	k.remove(7, 1)
	k.remove(7, 2)
	k.remove(7, 3)
	if got := ids(); got != nil || len(k.ids) != 0 || len(k.extra) != 0 {
		t.Fatalf("all removed, yet %v (%d, %d entries)", got, len(k.ids), len(k.extra))
	}
	// Ids past 32 bits are held too.
	k.add(9, 1<<33)
	if first, more := k.candidates(9); first != 1<<33 || len(more) != 0 {
		t.Fatalf("a 33-bit id: %d %v", first, more)
	}
	k.remove(9, 1<<33)
	if first, _ := k.candidates(9); first != 0 {
		t.Fatalf("a removed 33-bit id is still a candidate: %d", first)
	}
}

func TestOpenKeysKeepIntegrationAndKeyApart(t *testing.T) {
	k := newOpenKeys()
	if k.hash("grafana", "disk full") == k.hash("grafanadisk", " full") {
		t.Fatal("the integration and the key run into each other")
	}
}
