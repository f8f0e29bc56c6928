package storage

import (
	"database/sql"
	"hash/maphash"
	"math"
)

// openKeys is the writer's index of open incidents by integration and dedup
// key: which incident a repeat folds into, or that there is none.
//
// It replaces an index in the database. Dedup keys arrive in no order, so each
// new incident wrote a leaf page of that index somewhere in the middle: under
// load, most pages a commit wrote to the WAL were that index's (43 of 75 for a
// batch of 64 new incidents). Only the single writer creates incidents, so it
// can keep the index itself. It holds a 32-bit hash of each key and the
// incident's id (8 bytes, not the key's length, per open incident: 18 MiB
// for a million), and every hit is checked against the incident, so a
// collision or an entry left behind can never fold an event into the wrong
// incident. A miss is authoritative: every incident that opens with a key is
// added here by the writer that creates it.
//
// Changes are applied at once and logged; a transaction or savepoint that
// rolls back undoes its part of the log (undo), and a commit forgets it.
type openKeys struct {
	loaded bool // load has read the database
	seed   maphash.Seed
	ids    map[keyHash]uint32  // hash → an open incident with that hash
	extra  map[keyHash][]int64 // further open incidents whose keys share a hash (or whose ids pass 32 bits)
	log    []keyChange
}

// keyHash is a hash of an integration's name and a dedup key.
type keyHash uint32

type keyChange struct {
	hash  keyHash
	id    int64
	added bool
}

func newOpenKeys() *openKeys {
	return &openKeys{seed: maphash.MakeSeed(), ids: map[keyHash]uint32{}, extra: map[keyHash][]int64{}}
}

func (k *openKeys) hash(integration, key string) keyHash {
	var h maphash.Hash
	h.SetSeed(k.seed)
	h.WriteString(integration)
	h.WriteByte(0)
	h.WriteString(key)
	return keyHash(h.Sum64() >> 32)
}

// load fills the index from the open incidents in the database.
func (k *openKeys) load(db *sql.DB) error {
	names := map[int64]string{}
	rows, err := db.Query(`SELECT id, name FROM integrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return err
		}
		names[id] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = db.Query(`SELECT id, integration_id, dedup_key FROM incidents WHERE is_open = 1 AND dedup_key IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, integration int64
			key             sql.RawBytes
		)
		if err := rows.Scan(&id, &integration, &key); err != nil {
			return err
		}
		k.set(k.hash(names[integration], string(key)), id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	k.log = k.log[:0]
	k.loaded = true
	return nil
}

// candidates are the open incidents whose key may be the one hashed to h
// (first is 0 when there are none): check each.
func (k *openKeys) candidates(h keyHash) (first int64, more []int64) {
	more = k.extra[h]
	if id, ok := k.ids[h]; ok {
		return int64(id), more
	}
	if len(more) > 0 {
		return more[0], more[1:]
	}
	return 0, nil
}

// add records that incident id opened with hash h.
func (k *openKeys) add(h keyHash, id int64) {
	k.set(h, id)
	k.log = append(k.log, keyChange{hash: h, id: id, added: true})
}

// remove records that incident id (hash h) is no longer open.
func (k *openKeys) remove(h keyHash, id int64) {
	if k.unset(h, id) {
		k.log = append(k.log, keyChange{hash: h, id: id})
	}
}

func (k *openKeys) set(h keyHash, id int64) {
	if cur, ok := k.ids[h]; (ok && int64(cur) != id) || id <= 0 || id > math.MaxUint32 {
		k.extra[h] = append(k.extra[h], id)
		return
	}
	k.ids[h] = uint32(id)
}

func (k *openKeys) unset(h keyHash, id int64) bool {
	more := k.extra[h]
	if cur, ok := k.ids[h]; ok && int64(cur) == id {
		delete(k.ids, h)
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

func (k *openKeys) setExtra(h keyHash, more []int64) {
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
