package store

// slotIndex is the index of the keyspace Table and of the large collections'
// dict: an open-addressed table of slots with linear probing and a
// power-of-two size, resized progressively. Its owner keeps the records the
// slots point to and does its own lookups (comparing keys is the owner's
// business); slotIndex owns the slot arrays, their counts and the resizing.
// The Table's slot arrays are off-heap (maps); a dict's are on the Go heap
// while small and in maps past collOffheapMinBytes (coll, collmem.go).
//
// Progressive resizing. The index grows x2 when the keys exceed 3/4 of the
// slots and shrinks x4 when they fall below 1/16 (never below
// tableSlotsMin). Resizing a table of millions of slots at once would stall
// every client for milliseconds, so a resize only allocates the new table
// ("cur") and keeps the previous one ("old"); the keys move over a few at a
// time:
//
//   - Every Find, Add and Remove first migrates the slots of old under a
//     cursor, at most rehashSlotsPerOp of them, and the event loop calls
//     RehashStep once per turn for more (the keyspace's tables; a
//     collection's dict moves only when it is used, as Redis's dicts of
//     hashes and sets do). As Redis's dict.c bounds a step to N*10 empty
//     buckets so that a sparse table cannot make one step unbounded, the
//     bound here is on slots visited, live or empty, so a step costs the
//     same whatever the load.
//   - Add inserts only into cur; lookups check cur, then old. A key is in
//     exactly one of them at any moment, so a lookup sees it exactly once.
//   - In cur, Remove uses backward-shift deletion: the following slots of the
//     probe run move back, so cur never holds tombstones and its probe runs
//     stay as short as the load allows.
//   - In old, Remove and migration write a tombstone instead: old is never
//     inserted into, so a tombstone can only lengthen nothing, and it keeps
//     the probe chains of the keys still waiting there intact (an empty slot
//     in the middle of a chain would hide the keys after it). Migration
//     reads only the slot (the new home is tag & newMask), never the record.
//   - old is dropped as soon as its last key leaves (by migration or Remove),
//     often well before the cursor reaches its end.
//
// Why the old table is always drained before cur must resize again. Let S be
// the size of old, c the number of keys, and count only the ops that can
// trigger a resize (Add for a grow, Remove for a shrink); each of them first
// migrates rehashSlotsPerOp = 16 slots, so old is walked after S/16 of them.
//
//   - After a grow (started by the Add that made c = floor(3S/4)+1), cur has
//     2S slots and grows next at c = floor(3S/2)+1: that takes at least
//     floor(3S/2) - floor(3S/4) >= 3S/4 - 1 Adds, and 3S/4 - 1 >= S/16 for
//     every S >= tableSlotsMin = 8 (6 >= 0.5).
//   - After a shrink (started with c < S/16), cur has S/4 slots (or 8) and
//     grows next at c > 3/4 of that: at least 3S/16 - S/16 = S/8 Adds, or 7
//     when cur has 8 slots, which is more than the S/16 needed.
//   - A shrink is never started during a rehash: it waits until old is
//     drained and the next Remove or RehashStep sees the load still under
//     1/16. Only memory waits; lookups are as fast as ever. (Without that rule
//     a shrink right after a shrink would need S/16 ops but could come after
//     3S/64 Removes.)
//
// So a grow always finds old gone. Should that reasoning ever be broken by a
// change of ratios, startRehash finishes old synchronously (correct, just a
// pause) and counts it in syncFinishes; TestTableRehashDrainsBeforeNextResize
// checks the arithmetic for every size and the model tests check the counter.
type slotIndex struct {
	// len(cur) is the power-of-two size (an off-heap mapping's cap may hold
	// more). Outside a rehash only cur is in use; during one, old holds the
	// slots not yet migrated.
	cur       []slot
	old       []slot
	oldCursor int // next old slot to migrate
	curCount  int // live slots in cur
	oldCount  int // live slots in old

	// maps records the off-heap mappings of cur and old, shared with the
	// owner's other arrays. coll: the owner is a collection, whose small
	// arrays stay on the Go heap (collAlloc).
	maps *offheapSet
	coll bool

	// syncFinishes counts resizes that found the previous rehash unfinished
	// and had to complete it synchronously. The ratios above make it
	// impossible; tests assert it stays 0.
	syncFinishes int
}

const (
	// tableSlotsMin is the smallest index; shrinking stops there.
	tableSlotsMin = 8
	// rehashSlotsPerOp is how many old slots each Find/Add/Remove migrates
	// (visits, live or not) while a rehash is in progress.
	rehashSlotsPerOp = 16
	// Load bounds, as fractions: grow when keys > growNum/growDen of the
	// slots, shrink when keys < 1/shrinkBelowDen, and by shrinkFactor.
	tableGrowNum, tableGrowDen = 3, 4
	tableShrinkBelowDen        = 16
	tableShrinkFactor          = 4
)

// RehashStep migrates at most maxSlots slots of the old table (the event
// loop calls it once per turn) and reports whether a rehash is still in
// progress. When none is, it starts a shrink that had to wait for the
// previous rehash to finish.
func (t *slotIndex) RehashStep(maxSlots int) bool {
	if t.old != nil && maxSlots > 0 {
		t.rehashStep(maxSlots)
	}
	t.maybeShrink()
	return t.old != nil
}

// Rehashing reports whether two index tables are in use.
func (t *slotIndex) Rehashing() bool { return t.old != nil }

// Len is the number of live slots.
func (t *slotIndex) Len() int { return t.curCount + t.oldCount }

// init makes an empty index of tableSlotsMin slots. What it held must be
// freed already (the Table's Clear frees every mapping; a dict's arrays are
// the GC's).
func (t *slotIndex) init(maps *offheapSet, coll bool) {
	*t = slotIndex{maps: maps, coll: coll, syncFinishes: t.syncFinishes}
	t.cur = t.alloc(tableSlotsMin)
}

func (t *slotIndex) alloc(n int) []slot {
	if t.coll {
		return collAlloc[slot](t.maps, n)
	}
	return offheapSetAlloc[slot](t.maps, n)
}

func (t *slotIndex) free(s []slot) { collFree(t.maps, s) }

// step is the migration every Find, Add and Remove does first.
func (t *slotIndex) step() {
	if t.old != nil {
		t.rehashStep(rehashSlotsPerOp)
	}
}

// insert adds the slot of a new key (ref = id+1), growing first when the
// key would pass the load limit.
func (t *slotIndex) insert(tag, ref uint32) {
	if (t.Len()+1)*tableGrowDen > len(t.cur)*tableGrowNum {
		t.startRehash(len(t.cur) * 2)
	}
	slotInsert(t.cur, slot{tag: tag, ref: ref})
	t.curCount++
}

// remove deletes the slot of a key from whichever table holds it and
// reports whether it was found.
func (t *slotIndex) remove(tag, ref uint32) bool {
	if slotDelete(t.cur, tag, ref) {
		t.curCount--
		return true
	}
	if t.old != nil && slotTombstone(t.old, tag, ref) {
		t.oldCount--
		if t.oldCount == 0 {
			t.finishRehash()
		}
		return true
	}
	return false
}

// memoryBytes is what the slot arrays take.
func (t *slotIndex) memoryBytes() int {
	return collBytes(t.maps, t.cur) + collBytes(t.maps, t.old)
}

// startRehash makes cur a new table of n slots and the previous one old.
// The new table is a fresh mapping (zeroed pages, touched as keys arrive).
func (t *slotIndex) startRehash(n int) {
	if t.old != nil {
		// Unreachable with the ratios above; see the comment at the top.
		t.syncFinishes++
		t.rehashStep(len(t.old))
	}
	t.old, t.oldCount, t.oldCursor = t.cur, t.curCount, 0
	t.cur, t.curCount = t.alloc(n), 0
	if t.oldCount == 0 {
		t.finishRehash()
	}
}

// rehashStep visits up to maxSlots slots of old from the cursor and moves
// their keys to cur.
func (t *slotIndex) rehashStep(maxSlots int) {
	old := t.old
	i := t.oldCursor
	end := len(old)
	if maxSlots < end-i {
		end = i + maxSlots
	}
	for ; i < end; i++ {
		s := old[i]
		if s.ref == slotEmpty || s.ref == slotTomb {
			continue
		}
		slotInsert(t.cur, s)
		t.curCount++
		old[i] = slot{ref: slotTomb}
		if t.oldCount--; t.oldCount == 0 {
			t.finishRehash()
			return
		}
	}
	t.oldCursor = i
	if i == len(old) {
		panic("BUG: store: rehash cursor passed the end with keys left in the old table")
	}
}

// finishRehash frees old (off-heap, its memory goes back to the kernel at
// once).
func (t *slotIndex) finishRehash() {
	t.free(t.old)
	t.old, t.oldCursor = nil, 0
}

// maybeShrink starts a shrink when the load is under 1/tableShrinkBelowDen,
// unless a rehash is in progress (then it waits; see the top of the file).
func (t *slotIndex) maybeShrink() {
	n := len(t.cur)
	if t.old == nil && n > tableSlotsMin && t.curCount*tableShrinkBelowDen < n {
		t.startRehash(max(n/tableShrinkFactor, tableSlotsMin))
	}
}

// slotInsert puts s in the first empty slot from its home. slots must have
// an empty slot and no tombstone (it is cur).
func slotInsert(slots []slot, s slot) {
	mask := uint32(len(slots) - 1)
	i := s.tag & mask
	for slots[i].ref != slotEmpty {
		i = (i + 1) & mask
	}
	slots[i] = s
}

// slotDelete removes the slot holding ref from a table without tombstones,
// by backward shift: each later slot of the run moves into the hole when the
// hole lies on its probe path (between its home and where it is), so every
// key stays reachable from its home without a gap. Reports whether ref was
// found.
func slotDelete(slots []slot, tag, ref uint32) bool {
	mask := uint32(len(slots) - 1)
	i := tag & mask
	for slots[i].ref != ref {
		if slots[i].ref == slotEmpty {
			return false
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; slots[j].ref != slotEmpty; j = (j + 1) & mask {
		home := slots[j].tag & mask
		if (j-home)&mask >= (j-i)&mask {
			slots[i] = slots[j]
			i = j
		}
	}
	slots[i] = slot{}
	return true
}

// slotTombstone replaces the slot holding ref with a tombstone (old table).
func slotTombstone(slots []slot, tag, ref uint32) bool {
	mask := uint32(len(slots) - 1)
	for i := tag & mask; slots[i].ref != slotEmpty; i = (i + 1) & mask {
		if slots[i].ref == ref {
			slots[i] = slot{ref: slotTomb}
			return true
		}
	}
	return false
}
