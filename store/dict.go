package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// dict is the large form of hashes, sets and sorted sets' member index: a
// hash table from byte strings to byte strings that holds no pointers, so a
// million fields cost the garbage collector three allocations to scan, not
// a million.
//
// Layout:
//   - data is an append-only arena of records, each [uvarint klen][uvarint
//     vlen][key][val]. A record that is deleted, or whose value changes
//     length, leaves its bytes behind as waste; once waste passes half of
//     data the live records are copied into a fresh arena (compact).
//   - recs maps a record id to its offset in data (dictFree for a free id).
//     Ids are stable for the life of a field (compaction moves bytes, not
//     ids), so an id is a SCAN cursor that returns a field present for the
//     whole scan exactly once. Free ids are reused.
//   - the index is the keyspace's (slotIndex, index.go) on the Go heap: slots
//     of tag (the low 32 bits of the key's hash) and id+1, resized
//     progressively, so that no HSET or ZADD waits for a million-slot copy:
//     each Find, Add and Delete moves at most rehashSlotsPerOp slots.
//
// The arena and recs still grow by append (a memmove at each doubling, far
// cheaper than re-inserting every slot) and compact in one pass.
type dict struct {
	slotIndex
	recs  []uint64
	free  []uint32
	data  []byte
	waste int
}

const (
	dictFree = math.MaxUint64
	// dictCompactMin: below this much waste compaction is not worth a copy.
	dictCompactMin = 4096
)

func newDict(hint int) *dict {
	n := tableSlotsMin
	for n*tableGrowNum < hint*tableGrowDen {
		n *= 2
	}
	return &dict{slotIndex: slotIndex{cur: make([]slot, n)}}
}

// record decodes the record at off.
func (d *dict) record(off uint64) (key, val []byte) {
	b := d.data[off:]
	kl, n1 := binary.Uvarint(b)
	vl, n2 := binary.Uvarint(b[n1:])
	b = b[n1+n2:]
	return b[:kl:kl], b[kl : kl+vl : kl+vl]
}

func (d *dict) recordLen(off uint64) int {
	b := d.data[off:]
	kl, n1 := binary.Uvarint(b)
	vl, n2 := binary.Uvarint(b[n1:])
	return n1 + n2 + int(kl) + int(vl)
}

// Key and Val return views valid until the next change to d.
func (d *dict) Key(id uint32) []byte { k, _ := d.record(d.recs[id]); return k }
func (d *dict) Val(id uint32) []byte { _, v := d.record(d.recs[id]); return v }

// Find returns the id of key.
func (d *dict) Find(key []byte) (uint32, bool) {
	d.step()
	tag := uint32(tableHash(key))
	if id, ok := d.lookup(d.cur, tag, key); ok || d.old == nil {
		return id, ok
	}
	return d.lookup(d.old, tag, key)
}

// lookup probes slots from the key's home to the first empty slot, stepping
// over tombstones (old table only).
func (d *dict) lookup(slots []slot, tag uint32, key []byte) (uint32, bool) {
	mask := uint32(len(slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := slots[i]
		if s.ref == slotEmpty {
			return 0, false
		}
		if s.tag == tag && s.ref != slotTomb {
			id := s.ref - 1
			if k, _ := d.record(d.recs[id]); bytes.Equal(k, key) {
				return id, true
			}
		}
	}
}

func (d *dict) appendRecord(key, val []byte) uint64 {
	off := uint64(len(d.data))
	d.data = binary.AppendUvarint(d.data, uint64(len(key)))
	d.data = binary.AppendUvarint(d.data, uint64(len(val)))
	d.data = append(d.data, key...)
	d.data = append(d.data, val...)
	return off
}

// Set stores val under key and reports whether key is new. key and val may
// not alias d's memory.
func (d *dict) Set(key, val []byte) (uint32, bool) {
	if id, ok := d.Find(key); ok {
		d.SetVal(id, val)
		return id, false
	}
	return d.Add(key, val), true
}

// Add inserts a key that is not present (the caller checked with Find).
func (d *dict) Add(key, val []byte) uint32 {
	d.step()
	var id uint32
	off := d.appendRecord(key, val)
	if fid, ok := d.popFree(); ok {
		id = fid
		d.recs[id] = off
	} else {
		id = uint32(len(d.recs))
		d.recs = append(d.recs, off)
	}
	d.insert(uint32(tableHash(key)), id+1)
	return id
}

// SetVal replaces the value of id; a value of the same length is rewritten
// in place. val may not alias d's memory.
func (d *dict) SetVal(id uint32, val []byte) {
	off := d.recs[id]
	k, v := d.record(off)
	if len(v) == len(val) {
		copy(v, val)
		return
	}
	d.waste += d.recordLen(off)
	// key is a view into data, which appendRecord may move: copy it first
	// when it is long; short keys go through a stack buffer.
	var tmp [64]byte
	key := append(tmp[:0], k...)
	d.recs[id] = d.appendRecord(key, val)
	d.maybeCompact()
}

// Delete removes id.
func (d *dict) Delete(id uint32) {
	d.step()
	off := d.recs[id]
	k, _ := d.record(off)
	if !d.remove(uint32(tableHash(k)), id+1) {
		panic("BUG: store: live dict record missing from the index")
	}
	d.waste += d.recordLen(off)
	d.recs[id] = dictFree
	if int(id) == len(d.recs)-1 {
		d.recs = d.recs[:id]
		// Free ids at the tail stay on the free stack; Add skips them.
	} else {
		d.free = append(d.free, id)
	}
	if d.Len() == 0 {
		*d = dict{slotIndex: d.slotIndex}
		d.slotIndex.init(nil)
		return
	}
	d.maybeShrink()
	d.maybeCompact()
}

// DeleteKey removes key and reports whether it was there.
func (d *dict) DeleteKey(key []byte) bool {
	id, ok := d.Find(key)
	if ok {
		d.Delete(id)
	}
	return ok
}

func (d *dict) maybeCompact() {
	if d.waste < dictCompactMin || d.waste*2 < len(d.data) {
		return
	}
	data := make([]byte, 0, len(d.data)-d.waste+len(d.data)/8)
	for id, off := range d.recs {
		if off == dictFree {
			continue
		}
		n := d.recordLen(off)
		d.recs[id] = uint64(len(data))
		data = append(data, d.data[off:off+uint64(n)]...)
	}
	d.data, d.waste = data, 0
}

// popFree pops a reusable id. Ids freed and then trimmed off the tail of
// recs are stale; they are dropped here, lazily.
func (d *dict) popFree() (uint32, bool) {
	for n := len(d.free); n > 0; n = len(d.free) {
		id := d.free[n-1]
		d.free = d.free[:n-1]
		if int(id) < len(d.recs) && d.recs[id] == dictFree {
			return id, true
		}
	}
	return 0, false
}

// IDs is the id space: live ids are those below it with Live(id).
func (d *dict) IDs() int            { return len(d.recs) }
func (d *dict) Live(id uint32) bool { return int(id) < len(d.recs) && d.recs[id] != dictFree }

// dictRandomDraws: Random draws this many ids uniformly before it walks.
const dictRandomDraws = 16

// Random returns a live id; d must not be empty. It draws ids uniformly
// (a hit is a uniform choice); when the id space is too sparse for that it
// walks from a random id to the next live one, which is bounded and biased
// toward ids after long free runs, as Redis's dictGetRandomKey is toward
// long chains.
func (d *dict) Random(rnd *rand.Rand) uint32 {
	for range dictRandomDraws {
		id := uint32(rnd.IntN(len(d.recs)))
		if d.recs[id] != dictFree {
			return id
		}
	}
	id := rnd.IntN(len(d.recs))
	for d.recs[id] == dictFree {
		id = (id + 1) % len(d.recs)
	}
	return uint32(id)
}

// MemoryBytes approximates what d holds.
func (d *dict) MemoryBytes() int {
	return d.slotIndex.memoryBytes() + cap(d.recs)*8 + cap(d.free)*4 + cap(d.data)
}

// removeMembers removes members from the collection held by entry id of t
// (HDEL, SREM, ZREM), deleting the key as soon as the collection is empty,
// as Redis does, and returns how many members were removed.
func removeMembers(t *Table, id uint32, members [][]byte, remove func([]byte) bool, length func() int) int {
	n := 0
	for _, m := range members {
		if remove(m) {
			n++
			if length() == 0 {
				t.Remove(id)
				break
			}
		}
	}
	return n
}
