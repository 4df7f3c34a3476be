package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
)

// dict is the large form of hashes, sets and sorted sets' member index: a
// hash table from byte strings to byte strings that holds no pointers but
// its record chunks', so a million fields cost the garbage collector a few
// hundred pointers to scan, not a million.
//
// Layout:
//   - data holds the records, each [uvarint klen][uvarint vlen][key][val],
//     in chunks on the Go heap (dictData). A record that is deleted, or
//     whose value changes length, leaves its bytes behind in its chunk.
//     Each chunk counts its live bytes and is let go of once empty, so a
//     dict that loses its oldest records first (ZPOPMIN, SPOP of a filled
//     set) frees whole chunks and copies nothing. Once the dead bytes in the
//     chunks held pass the live bytes (plus one chunk), an operation moves
//     the live records of a chunk under half live to the chunk being filled
//     and lets it go (compactChunk: one chunk's records, so no operation
//     copies the whole dict). Compacting every chunk under half
//     at once would move records that a pop is about to delete, again and
//     again. Chunks never move, so a
//     view into one stays valid while it is referenced; the validity the
//     API promises is shorter (see Key).
//   - recs maps a record id to its offset in data (dictFree for a free id).
//     Ids are stable for the life of a field (compaction moves bytes, not
//     ids), so an id is a SCAN cursor that returns a field present for the
//     whole scan exactly once. Free ids are reused.
//   - the index is the keyspace's (slotIndex, index.go): slots of tag (the
//     low 32 bits of the key's hash) and id+1, resized progressively, so
//     that no HSET or ZADD waits for a million-slot copy: each Find, Add
//     and Delete moves at most rehashSlotsPerOp slots.
//
// recs and the index slots (and a sorted set's skip list arrays) move into
// mappings of their own, in maps, once they pass collOffheapMinBytes
// (collmem.go); a dict that leaves the keyspace is released (release).
type dict struct {
	slotIndex // its maps holds every mapping of the collection
	recs      []uint64
	free      []uint32
	data      dictData
}

// dictData is the record chunks (chunkArena, chunks.go). A record's offset
// is its chunk's index << 32 | its position in the chunk.
type dictData struct {
	chunkArena
	sparse      []int // chunks that fell under half live (some since let go of or compacted)
	compactions int   // for tests
}

const (
	dictFree = math.MaxUint64
	// dictChunkBytes is the size of a full record chunk, grown to from
	// dictChunkMinBytes; a record past dictChunkRecordMax gets its own.
	dictChunkBytes     = 64 << 10
	dictChunkMinBytes  = 256
	dictChunkRecordMax = dictChunkBytes / 4
)

var dictChunkSizes = chunkSizes{min: dictChunkMinBytes, max: dictChunkBytes, big: dictChunkRecordMax}

func newDict(hint int) *dict {
	n := tableSlotsMin
	for n*tableGrowNum < hint*tableGrowDen {
		n *= 2
	}
	maps := newOffheapSet()
	d := &dict{slotIndex: slotIndex{maps: maps, coll: true}}
	d.cur = d.alloc(n)
	// The safety net for a dict dropped without release (collmem.go).
	offheapFreeOnCleanup(d, maps)
	return d
}

// alloc carves n bytes for a record and returns its offset and its bytes.
func (a *dictData) alloc(n int) (uint64, []byte) {
	c, pos, b, left := a.chunkArena.alloc(n, &dictChunkSizes)
	if left >= 0 {
		a.sparse = append(a.sparse, left)
	}
	return uint64(c)<<32 | uint64(pos), b
}

// drop accounts for the n-byte record at off leaving; a chunk it leaves
// under half live becomes a candidate for compaction.
func (a *dictData) drop(off uint64, n int) {
	if c := int(off >> 32); a.chunkArena.drop(c, n) {
		a.sparse = append(a.sparse, c)
	}
}

// overDead says the dead bytes in the chunks held pass the live bytes plus
// one chunk: compaction is due.
func (a *dictData) overDead() bool { return a.carved-a.liveBytes > a.liveBytes+dictChunkBytes }

// bytesAt is the chunk from the record at off to the chunk's end.
func (a *dictData) bytesAt(off uint64) []byte { return a.chunks[off>>32][uint32(off):] }

// record decodes the record at off.
func (d *dict) record(off uint64) (key, val []byte) {
	b := d.data.bytesAt(off)
	kl, n1 := binary.Uvarint(b)
	vl, n2 := binary.Uvarint(b[n1:])
	b = b[n1+n2:]
	return b[:kl:kl], b[kl : kl+vl : kl+vl]
}

// recordLen is the whole record's length, its trailing id included.
func (d *dict) recordLen(off uint64) int {
	b := d.data.bytesAt(off)
	kl, n1 := binary.Uvarint(b)
	vl, n2 := binary.Uvarint(b[n1:])
	return n1 + n2 + int(kl) + int(vl) + dictRecordIDBytes
}

// dictRecordIDBytes: a record ends with its id (little-endian), so that
// compactChunk tells a live record (recs[id] names it) from a dead one
// without a lookup by key.
const dictRecordIDBytes = 4

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

func (d *dict) appendRecord(id uint32, key, val []byte) uint64 {
	n := uvarintLen(uint64(len(key))) + uvarintLen(uint64(len(val))) + len(key) + len(val) + dictRecordIDBytes
	off, b := d.data.alloc(n)
	b = binary.AppendUvarint(b[:0], uint64(len(key)))
	b = binary.AppendUvarint(b, uint64(len(val)))
	b = append(b, key...)
	b = append(b, val...)
	_ = binary.LittleEndian.AppendUint32(b, id)
	return off
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

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
	id, ok := d.popFree()
	if !ok {
		id = uint32(len(d.recs))
		d.recs = append(collGrow(d.maps, d.recs, 1), dictFree)
	}
	d.recs[id] = d.appendRecord(id, key, val)
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
	// key is a view into data, where appendRecord writes too: chunks do not
	// move, but the copy keeps that from mattering here.
	var tmp [64]byte
	key := append(tmp[:0], k...)
	d.recs[id] = d.appendRecord(id, key, val)
	d.dropRecord(off)
}

// Delete removes id.
func (d *dict) Delete(id uint32) {
	d.step()
	off := d.recs[id]
	k, _ := d.record(off)
	if !d.remove(uint32(tableHash(k)), id+1) {
		panic("BUG: store: live dict record missing from the index")
	}
	d.recs[id] = dictFree
	if int(id) == len(d.recs)-1 {
		d.recs = d.recs[:id]
		// Free ids at the tail stay on the free stack; Add skips them.
	} else {
		d.free = append(d.free, id)
	}
	if d.Len() == 0 {
		// Start again small. Only the dict's own mappings are freed: a
		// sorted set's skip list shares maps and is still in use.
		collFree(d.maps, d.recs)
		d.slotIndex.free(d.cur)
		d.slotIndex.free(d.old)
		maps := d.maps
		*d = dict{slotIndex: d.slotIndex}
		d.slotIndex.init(maps, true)
		return
	}
	d.maybeShrink()
	d.dropRecord(off)
}

// DeleteKey removes key and reports whether it was there.
func (d *dict) DeleteKey(key []byte) bool {
	id, ok := d.Find(key)
	if ok {
		d.Delete(id)
	}
	return ok
}

// dropRecord accounts for the record at off, which no id names any more,
// and compacts chunks under half live while the dead bytes are due (see
// dict): usually none, at most a few per operation.
func (d *dict) dropRecord(off uint64) {
	a := &d.data
	a.drop(off, d.recordLen(off))
	for a.overDead() && len(a.sparse) > 0 {
		c := a.sparse[len(a.sparse)-1]
		a.sparse = a.sparse[:len(a.sparse)-1]
		if a.chunks[c] != nil && c != a.fill-1 && a.live[c]*2 < len(a.chunks[c]) {
			d.compactChunk(c)
		}
	}
}

// compactChunk moves chunk c's live records to the chunk being filled and
// lets go of c. A record is live when the id it ends with still names it.
func (d *dict) compactChunk(c int) {
	b := d.data.chunks[c]
	for pos := 0; pos < len(b); {
		off := uint64(c)<<32 | uint64(pos)
		n := d.recordLen(off)
		if id := binary.LittleEndian.Uint32(b[pos+n-dictRecordIDBytes:]); int(id) < len(d.recs) && d.recs[id] == off {
			noff, nb := d.data.alloc(n)
			copy(nb, b[pos:pos+n])
			d.recs[id] = noff
			d.data.live[c] -= n
			d.data.liveBytes -= n // counted again by alloc
		}
		pos += n
	}
	if d.data.live[c] != 0 {
		panic("BUG: store: dict chunk live bytes miscounted")
	}
	d.data.letGo(c)
	d.data.compactions++
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
	return d.slotIndex.memoryBytes() + collBytes(d.maps, d.recs) + cap(d.free)*4 + d.data.capBytes
}

// release frees every mapping in maps, the skip list's of a sorted set
// included (collmem.go).
func (d *dict) release() {
	d.maps.freeAll()
	// Anything that still used d would now find nil arrays and panic,
	// rather than read memory that is gone.
	*d = dict{}
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
