package store

import (
	"slices"
	"unsafe"
)

// Memory of the large collections (hashes, sets and sorted sets in their
// dict form).
//
// Why off the heap. A collection's arrays (the dict's index slots and record
// offsets, the skip list's nodes and levels) are pointer-free, so the GC
// never scans them, but on the Go heap each one grows by allocating a bigger
// array and copying: at a million members that is tens of MB allocated and
// copied in one write, and an allocation that size makes the writing
// goroutine pay GC assist work too. BenchmarkDictInsert measured single
// HSETs of 4 to 220 ms at one to two million fields. So once an array would
// pass collOffheapMinBytes it moves into a mapping of its own (offheap.go)
// that grows with mremap: no copy, no garbage, pages zeroed by the kernel
// when first touched. Below that size arrays stay on the Go heap, so the
// many small large-form collections (a 600-field hash) cost no mapping and
// no page-rounding. The dict's record bytes stay on the Go heap in chunks
// (dict.go): views into them are handed out everywhere, and a chunk that
// never moves keeps every view valid until the GC frees it.
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
// that a GC cleanup on its dict catches, late (the GC does not see mapped
// bytes).
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

// collAlloc returns a zeroed array of n elements, mapped when that is past
// collOffheapMinBytes.
func collAlloc[T any](maps *offheapSet, n int) []T {
	if n*int(unsafe.Sizeof(*new(T))) < collOffheapMinBytes {
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

// collection is a value whose memory its owner frees: hashes, sets and
// sorted sets. offheap is nil while the value is in its small form.
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
