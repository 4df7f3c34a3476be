package store

import (
	"math"
	"slices"
	"strconv"
	"unsafe"

	"github.com/ringkv/ringkv/conn/resp"
)

// Memory of the large collections (hashes, sets and sorted sets in their
// dict form, and lists).
//
// Why off the heap. A collection's arrays (the dict's index slots and record
// offsets, the skip list's nodes and levels, a list's ring of references)
// are pointer-free, so the GC never scans them, but on the Go heap each one
// grows by allocating a bigger array and copying: at a million members that
// is tens of MB allocated and copied in one write, and an allocation that
// size makes the writing goroutine pay GC assist work too.
// BenchmarkDictInsert measured single HSETs of 4 to 220 ms at one to two
// million fields, BenchmarkListPush single pushes of up to 427 ms (a ring of
// pointers, copied with write barriers). So once an array would
// pass collOffheapMinBytes it moves into a mapping of its own (offheap.go)
// that grows with mremap: no copy, no garbage, pages zeroed by the kernel
// when first touched. Below that size arrays stay on the Go heap, so the
// many small large-form collections (a 600-field hash) cost no mapping and
// no page-rounding. The dict's record bytes and a list's element bytes stay
// on the Go heap in chunks (dict.go, list.go): views into them are handed
// out everywhere, and a chunk that never moves keeps every view valid until
// the GC frees it.
//
// Lifetime. Off-heap memory is freed by its owner, not by the GC, so every
// collection that leaves the keyspace is released (release): the Table
// queues the values it drops (Remove, an overwrite, Clear) on its Store's
// dead list, and the Store releases them at the end of the loop turn
// (ReleaseDead), not at once, because the command that dropped a value may
// still read it (ZRANGESTORE dst dst replaces the set it reads from). A value
// that moves between keys (RENAME, MOVE) is detached first, so it is not
// released. Collections a command builds and discards (SUNION's result) are
// released by that command. A collection dropped any other way is a leak
// that a GC cleanup on its dict (or list) catches, late (the GC does not
// see mapped bytes).
//
// Accounting. A collection in a table counts its mapped bytes in the
// Table's collBytes (offheapSet.acct), which MemoryBytes and INFO's
// used_memory include.

// collOffheapMinBytes is the size past which a collection's array lives in
// a mapping of its own. 1 MiB keeps the number of mappings (vm.max_map_count
// is 65530 by default) under one per MiB of collection data, and the copy
// of an array below it to a few hundred microseconds. A variable so that
// tests can make small collections take the off-heap paths.
var collOffheapMinBytes = 1 << 20

// collGrowNum/collGrowDen: an off-heap array grows by 1.25x, as the
// keyspace's entries array does; mremap moves no bytes, so a small factor
// costs only a few more syscalls and keeps the mapped size within a
// quarter of what is used.
const collGrowNum, collGrowDen = 5, 4

// CollOffheapMinBytesMin is the smallest size SetCollOffheapMinBytes takes.
const CollOffheapMinBytesMin = 1024

// SetCollOffheapMinBytes sets the size past which collections' arrays are
// mapped, for the process, before any server runs: a testing knob, so that
// differential runs of small collections take the mapped paths
// (RINGKV_COLL_OFFHEAP_MIN_BYTES in ringkv-server). It reports false for a
// size under CollOffheapMinBytesMin.
func SetCollOffheapMinBytes(n int) bool {
	if n < CollOffheapMinBytesMin {
		return false
	}
	collOffheapMinBytes = n
	return true
}

// collGrow returns s with room for at least extra more elements: on the Go
// heap while that stays under collOffheapMinBytes (append's growth), in
// maps otherwise (a heap array is copied into a mapping once; a mapped one
// grows in place or moves without copying). Views into s are invalid
// afterwards. T must hold no pointers (offheapTypes).
func collGrow[T any](maps *offheapSet, s []T, extra int) []T {
	need := len(s) + extra
	if need <= cap(s) {
		return s
	}
	if offheapHolds(maps, s) {
		return offheapSetGrow(maps, s, max(need, cap(s)*collGrowNum/collGrowDen))
	}
	if need*int(unsafe.Sizeof(*new(T))) < collOffheapMinBytes {
		return slices.Grow(s, extra)
	}
	m := offheapSetAlloc[T](maps, need)[:len(s)]
	copy(m, s)
	return m
}

// collAlloc returns a zeroed array of n elements, mapped in maps when that
// is past collOffheapMinBytes (and maps is set).
func collAlloc[T any](maps *offheapSet, n int) []T {
	if maps == nil || n*int(unsafe.Sizeof(*new(T))) < collOffheapMinBytes {
		return make([]T, n)
	}
	return offheapSetAlloc[T](maps, n)
}

// collFree frees s if it is mapped; a Go heap array is left to the GC.
func collFree[T any](maps *offheapSet, s []T) {
	if offheapHolds(maps, s) {
		offheapSetFree(maps, s)
	}
}

// collClone is a copy of s (a clone's own memory), placed as collAlloc
// places an array of its length.
func collClone[T any](maps *offheapSet, s []T) []T {
	if s == nil {
		return nil
	}
	c := collAlloc[T](maps, len(s))
	copy(c, s)
	return c
}

// collBytes is the memory s takes: its mapping, or its heap array.
func collBytes[T any](maps *offheapSet, s []T) int {
	if offheapHolds(maps, s) {
		return offheapMappedBytes[T](cap(s))
	}
	return cap(s) * int(unsafe.Sizeof(*new(T)))
}

// collection is a value whose memory its owner frees: hashes, sets, sorted
// sets and lists. offheap is nil while the value maps nothing.
type collection interface {
	offheap() *offheapSet
	// setAcct makes the value count its mapped bytes in *acct (nil: in
	// none), now and when it converts to its large form later.
	setAcct(acct *int)
	// release frees the value's mappings; it must not be used afterwards.
	release()
}

// attachAcct moves the count of maps' bytes from its current acct to acct.
func attachAcct(maps *offheapSet, acct *int) {
	if maps == nil {
		return
	}
	if maps.acct != nil {
		*maps.acct -= maps.bytes
	}
	maps.acct = acct
	if acct != nil {
		*acct += maps.bytes
	}
}

// collDict is the large form's dict and its accounts, embedded in hash,
// set and zset, which make them collections.
type collDict struct {
	d    *dict // nil while the value is small
	acct *int  // where the large form counts its mapped bytes
}

func (c *collDict) offheap() *offheapSet {
	if c.d == nil {
		return nil
	}
	return c.d.maps
}

func (c *collDict) setAcct(acct *int) {
	c.acct = acct
	if c.d != nil {
		attachAcct(c.d.maps, acct)
	}
}

// large installs d as the large form, counted where the value counts.
func (c *collDict) large(d *dict) {
	attachAcct(d.maps, c.acct)
	c.d = d
}

func (c *collDict) release() {
	if c.d != nil {
		c.d.release()
		c.d = nil
	}
}

// release frees the dict's maps, which hold the skip list's arrays too.
func (z *zset) release() {
	z.collDict.release()
	z.zsl = nil
}

// MEMORY USAGE estimates (Store.KeyMemoryUsage adds the key and the object
// header). Small forms are sized as Redis 7.0 lays them out, entry by entry
// (listpack, intset), so that a GUI's per-key figures match redis-server's
// for the small collections most keyspaces are made of; large forms report
// what ringkv holds for them, which is less than Redis's hash tables.

// lpEntryBytes is the size of b as a listpack entry: an integer string2ll
// reads is stored in the smallest integer encoding, anything else as a
// string with its length header; each entry ends with its backlen.
func lpEntryBytes(b []byte) int {
	if v, ok := resp.ParseInt(b); ok && len(b) <= 20 {
		switch {
		case v >= 0 && v <= 127:
			return 2
		case v >= -4096 && v <= 4095:
			return 3
		case v >= math.MinInt16 && v <= math.MaxInt16:
			return 4
		case v >= -1<<23 && v < 1<<23:
			return 5
		case v >= math.MinInt32 && v <= math.MaxInt32:
			return 6
		}
		return 10
	}
	n := len(b)
	hdr := 5
	switch {
	case n < 64:
		hdr = 1
	case n < 4096:
		hdr = 2
	}
	l := hdr + n
	back := 1
	for x := l >> 7; x > 0; x >>= 7 {
		back++
	}
	return l + back
}

// listpackBytes is the allocation of a listpack whose entries take n bytes:
// a 6-byte header and an end byte.
func listpackBytes(n int) int { return jemallocSize(6 + n + 1) }

// scoreText is a score as Redis writes it into a listpack (d2string): an
// integral value as an integer, anything else as %.17g.
func scoreText(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && f >= -(1<<53) && f <= 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// usageSampleMax bounds the elements a small-form estimate walks (a list
// has no large form): past it the rest are extrapolated, as Redis's
// MEMORY USAGE samples.
const usageSampleMax = 10000

func (h *hash) MemoryUsage() int {
	if h.d != nil {
		return h.d.MemoryBytes()
	}
	n := 0
	h.ForEach(func(f, v []byte) bool { n += lpEntryBytes(f) + lpEntryBytes(v); return true })
	return listpackBytes(n)
}

func (s *set) MemoryUsage() int {
	if s.d != nil {
		return s.d.MemoryBytes()
	}
	width := 2
	for _, v := range s.ints {
		switch {
		case v < math.MinInt32 || v > math.MaxInt32:
			width = 8
		case width < 4 && (v < math.MinInt16 || v > math.MaxInt16):
			width = 4
		}
	}
	return jemallocSize(8 + width*len(s.ints)) // intset: encoding, length, contents
}

func (z *zset) MemoryUsage() int {
	if z.d != nil {
		sl := z.zsl
		return z.d.MemoryBytes() + collBytes(z.d.maps, sl.nodes) + collBytes(z.d.maps, sl.levels) + cap(sl.freeNodes)*4
	}
	n := 0
	var buf [32]byte
	for i := range z.small {
		e := &z.small[i]
		n += lpEntryBytes(e.bytes()) + lpEntryBytes(scoreText(buf[:0], e.score))
	}
	return listpackBytes(n)
}

// MemoryUsage of a list is that of Redis 7.0's quicklist: a header, and
// nodes of listpacks of up to 8 KiB (list-max-listpack-size -2).
func (l *list) MemoryUsage() int {
	const quicklist, node, nodeBytes = 48, 32, 8 << 10
	n, walked := 0, min(l.n, usageSampleMax)
	for i := range walked {
		n += lpEntryBytes(l.At(i))
	}
	if walked > 0 && walked < l.n {
		n = int(float64(n) / float64(walked) * float64(l.n))
	}
	full := n / (nodeBytes - 7)
	rest := n - full*(nodeBytes-7)
	total := quicklist + full*(node+nodeBytes)
	if rest > 0 || full == 0 {
		total += node + listpackBytes(rest)
	}
	return total
}
