package storage

import (
	"database/sql"
	"hash/maphash"
)

// openKeys is the writer's index of open incidents by integration and dedup
// key: which incident a repeat folds into, or that there is none.
//
// It replaces an index in the database. Dedup keys arrive in no order, so each
// new incident wrote a leaf page of that index somewhere in the middle: under
// load, most pages a commit wrote to the WAL were that index's (43 of 75 for a
// batch of 64 new incidents). Only the single writer creates incidents, so it
// can keep the index itself. It holds a hash of each key, not the key (8
// bytes, not the key's length, per open incident), and every hit is checked
// against the incident's row, so a collision or an entry left behind can
// never fold an event into the wrong incident. A miss is authoritative: every
// incident that opens with a key is added here by the writer that creates it.
//
// Changes are applied at once and logged; a transaction or savepoint that
// rolls back undoes its part of the log (undo), and a commit forgets it.
type openKeys struct {
	seed  maphash.Seed
	ids   map[uint64]int64   // hash → an open incident with that hash
	extra map[uint64][]int64 // further open incidents whose keys share a hash
	log   []keyChange
}

type keyChange struct {
	hash  uint64
	id    int64
	added bool
}

func newOpenKeys() *openKeys {
	return &openKeys{seed: maphash.MakeSeed(), ids: map[uint64]int64{}, extra: map[uint64][]int64{}}
}

func (k *openKeys) hash(integration, key string) uint64 {
	var h maphash.Hash
	h.SetSeed(k.seed)
	h.WriteString(integration)
	h.WriteByte(0)
	h.WriteString(key)
	return h.Sum64()
}

// load fills the index from the open incidents in the database.
func (k *openKeys) load(q interface {
	Query(string, ...any) (*sql.Rows, error)
}) error {
	rows, err := q.Query(`SELECT i.id, g.name, i.dedup_key FROM incidents i JOIN integrations g ON g.id = i.integration_id
		WHERE i.is_open = 1 AND i.dedup_key IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        int64
			name, key string
		)
		if err := rows.Scan(&id, &name, &key); err != nil {
			return err
		}
		k.set(k.hash(name, key), id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	k.log = k.log[:0]
	return nil
}

// candidates are the open incidents whose key may be key: check each.
func (k *openKeys) candidates(h uint64) (int64, []int64) {
	return k.ids[h], k.extra[h]
}

// add records that incident id opened with hash h.
func (k *openKeys) add(h uint64, id int64) {
	k.set(h, id)
	k.log = append(k.log, keyChange{hash: h, id: id, added: true})
}

// remove records that incident id (hash h) is no longer open.
func (k *openKeys) remove(h uint64, id int64) {
	if k.unset(h, id) {
		k.log = append(k.log, keyChange{hash: h, id: id})
	}
}

func (k *openKeys) set(h uint64, id int64) {
	if cur, ok := k.ids[h]; ok && cur != id {
		k.extra[h] = append(k.extra[h], id)
		return
	}
	k.ids[h] = id
}

func (k *openKeys) unset(h uint64, id int64) bool {
	more := k.extra[h]
	if cur, ok := k.ids[h]; ok && cur == id {
		if len(more) == 0 {
			delete(k.ids, h)
		} else {
			k.ids[h] = more[0]
			k.setExtra(h, more[1:])
		}
		return true
	}
	for i, other := range more {
		if other == id {
			k.setExtra(h, append(more[:i:i], more[i+1:]...))
			return true
		}
	}
	return false
}

func (k *openKeys) setExtra(h uint64, more []int64) {
	if len(more) == 0 {
		delete(k.extra, h)
		return
	}
	k.extra[h] = more
}

// mark is where the log stands, for undo.
func (k *openKeys) mark() int { return len(k.log) }

// undo reverses the changes logged since mark m.
func (k *openKeys) undo(m int) {
	for i := len(k.log) - 1; i >= m; i-- {
		c := k.log[i]
		if c.added {
			k.unset(c.hash, c.id)
		} else {
			k.set(c.hash, c.id)
		}
	}
	k.log = k.log[:m]
}

// commit forgets the log: its changes are in the database now.
func (k *openKeys) commit() { k.log = k.log[:0] }
