package store

import (
	"bytes"
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"unsafe"

	"github.com/ringkv/ringkv/expire"
)

// Table is one database's keyspace: every key, its value and its TTL.
//
// Layout, chosen so that the garbage collector scans almost nothing however
// many keys there are, and holds no headroom for them: the three big arrays
// (entries, the index, the arena's chunks) are mapped off the Go heap
// (offheap.go) and recorded in maps, so Clear, a finished rehash and a grow
// give memory back to the kernel at once.
//
//   - entries is a dense array of fixed-size, pointer-free entry structs. An
//     entry id is its index; it is stable for the life of the key (Scan's
//     cursor relies on that), and freed ids are reused.
//   - The key bytes and, for strings, the value bytes live together in one
//     arena block (arena.go), named by an integer ref.
//   - Values that are Go objects (lists, hashes, ... of later kinds) sit in
//     objs, indexed from the entry; only those are pointers.
//   - The index is an open-addressed hash table of 8-byte pointer-free slots
//     with linear probing, resized progressively (index.go).
//
// Trailing free ids are trimmed (a Remove of the highest id shortens
// entries), so Scan and Random do not walk a dead tail; free ids below the
// highest live id are reused, never compacted. The entries array keeps its
// capacity until Clear.
//
// Views returned by Key and Str point into the arena. A view of entry id
// stays valid until id's own block changes: SetStr, GrowStr, SetObj or
// Remove of id, or Clear. Mutating other entries (Add included) never moves
// it. Callers that keep bytes beyond that copy them. Since the arena is
// unmapped by Clear (and by the cleanup of a Table dropped unreachable), a
// view used too late faults rather than reading stale bytes; a caller that
// drops its last reference to a Table while still using a view must keep the
// Table alive (runtime.KeepAlive). Pointers into entries (&t.entries[id])
// are valid until the next Add, which may move the array.
//
// Table is not safe for concurrent use; one goroutine owns the store.
type Table struct {
	entries []entry  // off-heap; cap is all the mapping holds, [len:cap] is zero
	freeIDs []uint32 // stack of free ids; ids >= len(entries) are stale (trimmed) and skipped

	objs     []any
	freeObjs []uint32

	arena arena

	// The index, off-heap in maps, resized progressively (index.go).
	slotIndex

	expires int // entries with expireAtMs != 0
	// expireSumHi:expireSumLo is the 128-bit sum of every expireAtMs, so
	// that INFO's avg_ttl is O(1) (AvgTTLMs); 64 bits would overflow with
	// a few keys at PEXPIREAT's maximum.
	expireSumHi, expireSumLo uint64

	// clock, when set, is the store's LRU clock (unix seconds, 16 bits):
	// Add stamps new keys with it (OBJECT IDLETIME).
	clock *uint16

	// wheel, when set, holds one timer per key with a TTL (active expiry);
	// the timer's value is num<<32 | id. A table made by NewTable alone
	// (tests) has none and relies on lazy expiry.
	wheel *expire.Wheel
	num   uint32

	// maps records every mapping of entries, cur, old and the arena's
	// chunks; a cleanup frees them when the Table is dropped unreachable.
	maps *offheapSet

	// collBytes counts the mapped bytes of the collections among objs
	// (collmem.go). dead, when set (a Store's tables share the Store's), is
	// where the collections this table drops wait to be released at the
	// end of the loop turn; a table without one leaves them to the GC's
	// cleanup.
	collBytes int
	dead      *[]collection
}

// Kind is the type of the value held by an entry.
type Kind uint8

const (
	KindNone Kind = iota // a free entry id
	KindString
	KindList
	KindHash
	KindSet
	KindZSet
	KindStream
)

// entry is one key. It must stay free of pointers (a test checks it): the GC
// then never scans the entries array, however long.
type entry struct {
	hash       uint64        // maphash of the key; uint32(hash) is its slot tag
	ref        uint64        // arena block: the key bytes, then the string value bytes
	expireAtMs int64         // unix ms; 0 = no TTL
	timer      expire.Handle // the key's one live wheel entry when the table has a wheel; 0 = none
	keyLen     uint32
	valLen     uint32 // string value length; 0 when the value is an object
	obj        uint32 // index into Table.objs when kind is an object kind
	kind       Kind   // KindNone marks a free id
	strEnc     StrEnc // how Redis would encode a string value (encoding.go)
	lru        uint16 // last access, unix seconds mod 2^16 (OBJECT IDLETIME)
}

// slot is one position of the index. ref is id+1, slotEmpty or slotTomb.
// tag is the low 32 bits of the key's hash; the slot's home position is
// tag & (len-1), so resizing and backward-shift deletion never need to read
// the entry.
type slot struct {
	tag uint32
	ref uint32
}

const (
	slotEmpty = 0
	slotTomb  = math.MaxUint32 // only ever in the old table during a rehash

	// tableEntriesMax bounds the id space: id+1 must never equal slotTomb,
	// and the largest index (count <= 3/4 of the slots) must have at most
	// 1<<32 slots so that the 32-bit tag covers every home position.
	tableEntriesMax = 1 << 31

	// tableEntryBytesMax bounds key and value lengths (they are uint32).
	// Commands enforce Redis's 512 MB proto-max-bulk-len long before this.
	tableEntryBytesMax = math.MaxUint32

	// strReserveDoubleMaxBytes: GrowStr doubles a string's capacity up to
	// this size, then grows it by a quarter: geometric either way, so a
	// sequence of APPENDs costs amortised O(1) per byte.
	strReserveDoubleMaxBytes = 1 << 20

	// setStrKeepBytes: SetStr rewrites a value in place when the block is
	// at most this big or at most twice what is needed; beyond that a value
	// that shrank moves to a smaller block so its memory is not stranded.
	setStrKeepBytes = 128

	// scanEmptyPerCount: Scan visits at most this many free ids per entry it
	// may return, so a sparse id space cannot make one call walk far (the
	// same bound as Redis's SCAN over empty buckets).
	scanEmptyPerCount = 10

	// randomIDSamples: Random first draws this many ids uniformly; with a
	// half-full id space it falls back to the index walk once in 65536.
	randomIDSamples = 16

	// entriesGrowNum/entriesGrowDen: the entries array grows by 1.25x. Its
	// mapping grows with mremap, which moves no bytes, so a small factor
	// costs only a few more syscalls and keeps the mapped size within a
	// quarter of the ids in use.
	entriesGrowNum, entriesGrowDen = 5, 4
)

// tableHashSeed is per process: hash flooding needs the seed, and nothing
// hashed here is persisted.
var tableHashSeed = maphash.MakeSeed()

func tableHash(key []byte) uint64 { return maphash.Bytes(tableHashSeed, key) }

// NewTable returns an empty table. It maps one page (the smallest index);
// the entries and the arena map memory on the first Add.
func NewTable() *Table {
	t := &Table{maps: newOffheapSet()}
	t.reset()
	// The safety net for a table dropped without Clear (tests make many):
	// its mappings are freed once it is unreachable. The cleanup holds only
	// maps, which does not point back at t.
	offheapFreeOnCleanup(t, t.maps)
	return t
}

// reset makes an empty table from t's maps, which must hold nothing.
func (t *Table) reset() {
	t.arena = newArena(t.maps)
	t.slotIndex.init(t.maps, false)
}

// Expires returns the number of keys with a TTL.
func (t *Table) Expires() int { return t.expires }

// Find returns the id of key.
func (t *Table) Find(key []byte) (id uint32, ok bool) {
	t.step()
	h := tableHash(key)
	if id, ok = t.lookup(t.cur, h, key); ok || t.old == nil {
		return id, ok
	}
	return t.lookup(t.old, h, key)
}

// lookup probes slots from the key's home to the first empty slot. Tombstones
// (old table only) are stepped over: they keep probe chains intact.
func (t *Table) lookup(slots []slot, h uint64, key []byte) (uint32, bool) {
	mask := uint32(len(slots) - 1)
	tag := uint32(h)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := slots[i]
		if s.ref == slotEmpty {
			return 0, false
		}
		if s.tag == tag && s.ref != slotTomb {
			id := s.ref - 1
			e := &t.entries[id]
			if e.hash == h && bytes.Equal(t.arena.view(e.ref, int(e.keyLen)), key) {
				return id, true
			}
		}
	}
}

// Add inserts a key that is not present (the caller checked with Find) with
// an empty string value, KindString, no TTL, and returns its id.
func (t *Table) Add(key []byte) uint32 {
	t.step()
	if len(key) > tableEntryBytesMax {
		panic("BUG: store: key longer than tableEntryBytesMax")
	}
	h := tableHash(key)
	id := t.allocID()
	ref := t.arena.alloc(len(key))
	copy(t.arena.block(ref), key)
	t.entries[id] = entry{hash: h, ref: ref, keyLen: uint32(len(key)), kind: KindString}
	if t.clock != nil {
		t.entries[id].lru = *t.clock
	}
	t.insert(uint32(h), id+1)
	return id
}

func (t *Table) allocID() uint32 {
	for n := len(t.freeIDs); n > 0; n = len(t.freeIDs) {
		id := t.freeIDs[n-1]
		t.freeIDs = t.freeIDs[:n-1]
		if int(id) < len(t.entries) {
			return id
		}
		// Stale: trimmed off the end after it was freed. The entries array
		// grows again only once this stack is empty, so no stale id can
		// come back into range while it is still on the stack.
	}
	n := len(t.entries)
	if n >= tableEntriesMax {
		panic("BUG: store: more than tableEntriesMax keys")
	}
	if n == cap(t.entries) {
		// At least a page more: offheapGrow rounds up to whole pages.
		t.entries = offheapSetGrow(t.maps, t.entries, min(n*entriesGrowNum/entriesGrowDen+1, tableEntriesMax))
	}
	// [len:cap] is zero: Remove zeroes an entry before trimming it.
	t.entries = t.entries[:n+1]
	return uint32(n)
}

// Remove deletes the entry and frees its memory; the id may be reused.
func (t *Table) Remove(id uint32) {
	t.step()
	e := &t.entries[id]
	if e.kind == KindNone {
		panic("BUG: store: Remove of a free entry id")
	}
	if !t.remove(uint32(e.hash), id+1) {
		panic("BUG: store: live entry missing from the index")
	}
	t.arena.free(e.ref)
	if e.kind != KindString {
		t.freeObj(e.obj)
	}
	if e.expireAtMs != 0 {
		t.expires--
		t.expireSumSub(e.expireAtMs)
	}
	if e.timer != 0 {
		t.wheel.Cancel(e.timer)
	}
	*e = entry{}
	t.freeIDs = append(t.freeIDs, id)
	if int(id) == len(t.entries)-1 {
		n := len(t.entries) - 1
		for n > 0 && t.entries[n-1].kind == KindNone {
			n--
		}
		t.entries = t.entries[:n]
		if n == 0 {
			t.freeIDs = t.freeIDs[:0] // all stale
		}
	}
	t.maybeShrink()
}

// Key returns a view of the key bytes (see Table for its validity).
func (t *Table) Key(id uint32) []byte {
	e := &t.entries[id]
	return t.arena.view(e.ref, int(e.keyLen))
}

// Kind returns the value's kind; KindNone for a free id (trimmed or not).
func (t *Table) Kind(id uint32) Kind {
	if int(id) >= len(t.entries) {
		return KindNone
	}
	return t.entries[id].kind
}

// Str returns a view of the string value (empty for an object kind).
func (t *Table) Str(id uint32) []byte {
	e := &t.entries[id]
	return t.arena.view(e.ref, int(e.keyLen+e.valLen))[e.keyLen:]
}

// SetStr replaces the value with a copy of val; the kind becomes KindString
// and any object is dropped. val may alias the table's memory (this entry's
// own value or another entry's): the new block is written before the old
// one is freed, and an in-place rewrite uses copy, which handles overlap.
func (t *Table) SetStr(id uint32, val []byte) {
	e := &t.entries[id]
	if e.kind != KindString {
		t.dropObj(e)
	}
	if len(val) > tableEntryBytesMax-int(e.keyLen) {
		panic("BUG: store: value longer than tableEntryBytesMax")
	}
	need := int(e.keyLen) + len(val)
	if c := t.arena.capacity(e.ref); need <= c && (c <= setStrKeepBytes || c <= 2*need) {
		copy(t.arena.block(e.ref)[e.keyLen:], val)
	} else {
		ref := t.arena.alloc(need)
		b := t.arena.block(ref)
		copy(b, t.arena.block(e.ref)[:e.keyLen])
		copy(b[e.keyLen:], val)
		t.arena.free(e.ref)
		e.ref = ref
	}
	e.valLen = uint32(len(val))
	e.strEnc = StrEncAuto
}

// GrowStr resizes the string value to n bytes, keeping the existing prefix
// and zero-filling growth, and returns a writable view of the whole value
// (valid as Str). A block that must move reserves room geometrically, so a
// run of appends is amortised O(1) per byte; shrinking never moves the value.
// An object value is dropped first (the value starts empty).
func (t *Table) GrowStr(id uint32, n int) []byte {
	e := &t.entries[id]
	if e.kind != KindString {
		t.dropObj(e)
	}
	if n < 0 || n > tableEntryBytesMax-int(e.keyLen) {
		panic("BUG: store: GrowStr length out of range")
	}
	kl, have := int(e.keyLen), int(e.valLen)
	need := kl + n
	b := t.arena.block(e.ref)
	if need > len(b) {
		size := need
		if have > 0 { // growing a value, not writing a first one: reserve
			if need < strReserveDoubleMaxBytes {
				size = 2 * need
			} else {
				size = need + need/4
			}
			size = min(size, tableEntryBytesMax)
		}
		ref := t.arena.alloc(size)
		nb := t.arena.block(ref)
		copy(nb, b[:kl+have])
		t.arena.free(e.ref)
		e.ref = ref
		b = nb
	}
	if n > have {
		clear(b[kl+have : need])
	}
	e.valLen = uint32(n)
	// Redis unshares the value into a raw SDS before modifying it in
	// place (APPEND, SETRANGE).
	e.strEnc = StrEncRaw
	return b[kl:need:need]
}

// Obj returns the object value, nil for a string.
func (t *Table) Obj(id uint32) any {
	e := &t.entries[id]
	if e.kind == KindString || e.kind == KindNone {
		return nil
	}
	return t.objs[e.obj]
}

// SetObj replaces the value with a Go object of kind k (not KindString). The
// string bytes are freed; the key moves to a smaller block if one fits.
func (t *Table) SetObj(id uint32, k Kind, v any) {
	if k == KindNone || k == KindString {
		panic("BUG: store: SetObj with a non-object kind")
	}
	e := &t.entries[id]
	if e.kind == KindNone {
		panic("BUG: store: SetObj of a free entry id")
	}
	if e.kind != KindString {
		if old := t.objs[e.obj]; old != v {
			t.dropValue(old)
			t.attachValue(v)
		}
		t.objs[e.obj] = v
		e.kind = k
		return
	}
	e.obj = t.allocObj(v)
	e.kind = k
	e.valLen = 0
	kl := int(e.keyLen)
	if t.arena.capacity(e.ref) > blockBytesFor(kl) {
		ref := t.arena.alloc(kl)
		copy(t.arena.block(ref), t.arena.block(e.ref)[:kl])
		t.arena.free(e.ref)
		e.ref = ref
	}
}

// blockBytesFor is the capacity alloc(n) returns.
func blockBytesFor(n int) int {
	if n > arenaSmallMaxBytes {
		return n
	}
	return int(arenaClassBytes[arenaClassOf(n)])
}

func (t *Table) allocObj(v any) uint32 {
	t.attachValue(v)
	if n := len(t.freeObjs); n > 0 {
		i := t.freeObjs[n-1]
		t.freeObjs = t.freeObjs[:n-1]
		t.objs[i] = v
		return i
	}
	t.objs = append(t.objs, v)
	return uint32(len(t.objs) - 1)
}

// dropObj turns an object entry into an empty string.
func (t *Table) dropObj(e *entry) {
	if e.kind == KindNone {
		panic("BUG: store: write to a free entry id")
	}
	t.freeObj(e.obj)
	e.kind = KindString
	e.valLen = 0
}

func (t *Table) freeObj(i uint32) {
	t.dropValue(t.objs[i])
	t.objs[i] = nil // let the GC have it
	t.freeObjs = append(t.freeObjs, i)
}

// attachValue makes a collection that becomes one of t's values count its
// mapped bytes in t.collBytes.
func (t *Table) attachValue(v any) {
	if c, ok := v.(collection); ok {
		c.setAcct(&t.collBytes)
	}
}

// dropValue takes a value out of t's accounts and queues a large
// collection for release at the end of the loop turn (collmem.go says why
// not at once).
func (t *Table) dropValue(v any) {
	c, ok := v.(collection)
	if !ok {
		return
	}
	c.setAcct(nil)
	if t.dead != nil && c.offheap() != nil {
		*t.dead = append(*t.dead, c)
	}
}

// detachObj takes entry id's object out of the table without dropping it:
// moveEntry has given it to another key, which owns it now.
func (t *Table) detachObj(id uint32) {
	if e := &t.entries[id]; e.kind != KindString && e.kind != KindNone {
		t.objs[e.obj] = nil
	}
}

// ExpireAt returns the key's expiry time in unix ms, 0 for none.
func (t *Table) ExpireAt(id uint32) int64 { return t.entries[id].expireAtMs }

// SetExpireAt sets the expiry time in unix ms; 0 removes the TTL.
func (t *Table) SetExpireAt(id uint32, ms int64) {
	e := &t.entries[id]
	switch {
	case e.expireAtMs == 0 && ms != 0:
		t.expires++
	case e.expireAtMs != 0 && ms == 0:
		t.expires--
	}
	if e.expireAtMs != 0 {
		t.expireSumSub(e.expireAtMs)
	}
	if ms != 0 {
		t.expireSumAdd(ms)
	}
	e.expireAtMs = ms
	if t.wheel == nil {
		return
	}
	// Exactly one live wheel entry per key with a TTL, none without.
	switch {
	case ms == 0 && e.timer != 0:
		t.wheel.Cancel(e.timer)
		e.timer = 0
	case ms != 0 && e.timer != 0:
		t.wheel.Update(e.timer, ms)
	case ms != 0:
		e.timer = t.wheel.Add(ms, uint64(t.num)<<32|uint64(id))
	}
}

func (t *Table) expireSumAdd(ms int64) {
	var carry uint64
	t.expireSumLo, carry = bits.Add64(t.expireSumLo, uint64(ms), 0)
	t.expireSumHi += carry
}

func (t *Table) expireSumSub(ms int64) {
	var borrow uint64
	t.expireSumLo, borrow = bits.Sub64(t.expireSumLo, uint64(ms), 0)
	t.expireSumHi -= borrow
}

// AvgTTLMs is the mean remaining TTL in ms of the keys with a TTL at nowMs
// (0 when there are none), as INFO keyspace's avg_ttl. Keys already due but
// not yet removed count as 0 only through the clamp of the mean.
func (t *Table) AvgTTLMs(nowMs int64) int64 {
	if t.expires == 0 {
		return 0
	}
	// Every term is below 2^63, so hi < expires and Div64 cannot overflow.
	mean, _ := bits.Div64(t.expireSumHi, t.expireSumLo, uint64(t.expires))
	if int64(mean) <= nowMs {
		return 0
	}
	return int64(mean) - nowMs
}

// attachWheel makes t keep a timer per key with a TTL in w, tagged with num.
func (t *Table) attachWheel(w *expire.Wheel, num uint32) {
	t.wheel, t.num = w, num
}

// timerFired forgets id's timer, which the wheel has just removed.
func (t *Table) timerFired(id uint32) {
	if int(id) < len(t.entries) {
		t.entries[id].timer = 0
	}
}

// Scan calls fn for live entries with ids >= cursor, at most count of them,
// visiting at most scanEmptyPerCount*count free ids, and returns the next
// cursor (0 when the walk is complete).
//
// The cursor is an entry id, not an index position: ids are stable, so a key
// present for the whole scan is returned exactly once whatever the index
// does (grow, shrink, rehash) between calls. A key added during the scan is
// returned if its id is at or above the cursor. fn may Remove the id it is
// given (lazy expiry) or Add keys.
//
// The price of stable ids: after a mass deletion the survivors keep their
// ids, so the id space can stay much larger than Len (only its free tail is
// trimmed) and a scan of a few keys may take many calls that return nothing,
// each bounded by scanEmptyPerCount*count.
func (t *Table) Scan(cursor uint64, count int, fn func(id uint32)) uint64 {
	count = min(max(count, 1), tableEntriesMax) // no overflow below
	emptyBudget := scanEmptyPerCount * count
	id := cursor
	for id < uint64(len(t.entries)) {
		if t.entries[id].kind == KindNone {
			id++
			if emptyBudget--; emptyBudget == 0 {
				break
			}
			continue
		}
		fn(uint32(id))
		id++
		if count--; count == 0 {
			break
		}
	}
	if id >= uint64(len(t.entries)) {
		return 0
	}
	return id
}

// Random returns a live entry, ok=false when the table is empty.
//
// It draws up to randomIDSamples ids uniformly from the id space; a hit is a
// uniform choice among live keys. When the id space is too sparse for that
// (many keys deleted below the highest live id), it falls back to the index:
// a random slot of a table chosen in proportion to its keys, then the next
// live slot. That walk is bounded by the index size, which is proportional to
// the number of keys, and is biased toward keys after long empty runs, as
// Redis's dictGetSomeKeys is.
func (t *Table) Random(rnd *rand.Rand) (id uint32, ok bool) {
	n := t.Len()
	if n == 0 {
		return 0, false
	}
	for range randomIDSamples {
		id := uint32(rnd.IntN(len(t.entries)))
		if t.entries[id].kind != KindNone {
			return id, true
		}
	}
	slots := t.cur
	if t.oldCount > 0 && rnd.IntN(n) < t.oldCount {
		slots = t.old
	}
	mask := len(slots) - 1
	for i := rnd.IntN(len(slots)); ; i = (i + 1) & mask {
		if r := slots[i].ref; r != slotEmpty && r != slotTomb {
			return r - 1, true
		}
	}
}

// Clear drops every key (FLUSHDB). The keys' timers are cancelled first
// (O(keys with a TTL) when a wheel is attached), then every mapping is
// unmapped: its memory goes back to the kernel at once, and every view into
// the table is invalid.
func (t *Table) Clear() {
	w, num := t.wheel, t.num
	if w != nil && t.expires > 0 {
		for i := range t.entries {
			if h := t.entries[i].timer; h != 0 {
				w.Cancel(h)
			}
		}
	}
	for _, v := range t.objs {
		t.dropValue(v)
	}
	clock, maps, dead := t.clock, t.maps, t.dead
	maps.freeAll()
	*t = Table{maps: maps, dead: dead}
	t.reset()
	t.wheel, t.num, t.clock = w, num, clock
}

// MemoryBytes approximates the bytes the table holds: arena chunks and large
// blocks, the index, the entries array (mapped sizes, touched or not) and the
// object slots (not the objects themselves).
func (t *Table) MemoryBytes() int {
	const objBytes = int(unsafe.Sizeof(any(nil)))
	return t.arena.memoryBytes() + t.collBytes +
		t.slotIndex.memoryBytes() +
		offheapMappedBytes[entry](cap(t.entries)) + cap(t.freeIDs)*4 +
		cap(t.objs)*objBytes + cap(t.freeObjs)*4
}
