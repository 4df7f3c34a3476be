package store

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Off-heap memory: the table's big arrays (entries, index slots, arena
// chunks) live in anonymous mmap'd regions, not on the Go heap.
//
// Why. Those arrays are pointer-free, so the GC never scanned them, but as Go
// heap objects they still cost memory twice over: every time an array grows
// the old one becomes garbage, and with GOGC=100 the heap runs up to twice the
// live data before a collection frees it, then returns the pages to the OS
// only slowly. With a million keys that was half the process's RSS. Mapped
// here, a grown array is remapped (no garbage, no copy), a freed one goes
// back to the kernel at once, pages never touched cost nothing, and the Go
// heap keeps only small bookkeeping, so a GC cycle is nearly free.
//
// Why it is safe. The GC neither scans nor frees this memory; that is the
// point, and it is only correct because the element types hold no Go
// pointers: a pointer stored here would be invisible to the GC, which could
// free what it points to. TestOffheapPointerFree asserts it, with reflect,
// for every type allocated here (entry, slot, byte). A slice header pointing
// into a mapping is fine anywhere: the GC ignores pointers outside its heap.
// The price is manual lifetime: memory is unmapped when its owner says so
// (offheapFree, offheapSet.freeAll), and a view into it used after that
// faults instead of silently reading stale bytes. Owners must therefore hand
// out views only with a documented validity (see Table).
//
// Why mremap. Growing with MREMAP_MAYMOVE moves page-table entries, not
// bytes: the array never exists twice, so growth needs no double memory and
// costs a syscall whatever the size, and an array can grow by small factors
// (entries grow by 1.25x) without the copying that makes append double.
//
// Failure policy. An mmap or mremap that fails with ENOMEM is an environment
// failure, like the Go runtime's own "out of memory", which is fatal: the
// keyspace cannot take a write half done, so it panics with a message that
// names the request (as Redis's zmalloc aborts on a failed allocation). Any
// other error (EINVAL, a munmap failure) is a bug here and panics with BUG:.

// offheapPageBytes is the unit of every mapping.
var offheapPageBytes = unix.Getpagesize()

// offheapMappedBytes is the size of the mapping that holds n elements of T:
// n*size rounded up to whole pages.
func offheapMappedBytes[T any](n int) int {
	size := int(unsafe.Sizeof(*new(T)))
	if size == 0 || size > offheapPageBytes {
		panic("BUG: store: off-heap element size must be 1.." + fmt.Sprint(offheapPageBytes) + " bytes")
	}
	if n < 0 || n > (math.MaxInt-offheapPageBytes)/size {
		panic(fmt.Sprintf("BUG: store: off-heap array of %d elements of %d bytes", n, size))
	}
	return (n*size + offheapPageBytes - 1) &^ (offheapPageBytes - 1)
}

// offheapSliceOf makes the slice over a mapping of mapped bytes at p: len n,
// cap every whole element the mapping holds.
func offheapSliceOf[T any](p unsafe.Pointer, n, mapped int) []T {
	capElems := mapped / int(unsafe.Sizeof(*new(T)))
	return unsafe.Slice((*T)(p), capElems)[:n]
}

// offheapAlloc returns a zeroed slice of n elements of T in a fresh mapping;
// its cap is every element the mapping's pages hold. n == 0 returns nil. T
// must hold no Go pointers.
func offheapAlloc[T any](n int) []T {
	if n == 0 {
		return nil
	}
	mapped := offheapMappedBytes[T](n)
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(mapped), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		offheapFail("mmap", mapped, err)
	}
	return offheapSliceOf[T](p, n, mapped)
}

// offheapGrow returns s with room for at least newCap elements: the same
// len, the same contents, zeroed beyond them. The mapping grows in place or
// moves (MREMAP_MAYMOVE) without copying; s is invalid afterwards, as are
// views into it. s must come from offheapAlloc or offheapGrow (resliced only
// at the end: s[:n]); a nil s allocates.
func offheapGrow[T any](s []T, newCap int) []T {
	if newCap <= cap(s) {
		return s
	}
	if cap(s) == 0 {
		return offheapAlloc[T](newCap)[:len(s)]
	}
	oldMapped := offheapMappedBytes[T](cap(s))
	mapped := offheapMappedBytes[T](newCap)
	p, err := unix.MremapPtr(unsafe.Pointer(unsafe.SliceData(s)), uintptr(oldMapped), nil, uintptr(mapped), unix.MREMAP_MAYMOVE)
	if err != nil {
		offheapFail("mremap", mapped, err)
	}
	return offheapSliceOf[T](p, len(s), mapped)
}

// offheapFree unmaps s (from offheapAlloc or offheapGrow, resliced only at
// the end). A nil s is a no-op. Every view into s is invalid afterwards.
func offheapFree[T any](s []T) {
	if cap(s) == 0 {
		return
	}
	offheapUnmap(offheapAddr(s), offheapMappedBytes[T](cap(s)))
}

func offheapUnmap(addr unsafe.Pointer, mapped int) {
	if err := unix.MunmapPtr(addr, uintptr(mapped)); err != nil {
		panic(fmt.Sprintf("BUG: store: munmap of %d bytes at %p: %v", mapped, addr, err))
	}
}

func offheapFail(op string, mapped int, err error) {
	if err == unix.ENOMEM {
		panic(fmt.Sprintf("store: out of memory: %s of %d bytes for the keyspace failed (%v); "+
			"raise the memory limit or vm.max_map_count, or hold fewer keys", op, mapped, err))
	}
	panic(fmt.Sprintf("BUG: store: %s of %d bytes: %v", op, mapped, err))
}

// offheapSet records the mappings one owner (a Table) holds, so that they
// can all be freed at once: by Clear, or by a cleanup once the owner is
// unreachable (runtime.AddCleanup). Its keys point outside the Go heap, so
// the GC ignores them; it must never point back at its owner (a cleanup whose
// argument reaches the owner never runs).
type offheapSet struct {
	mapped map[unsafe.Pointer]int // mapping address -> mapped bytes
	bytes  int                    // sum of mapped
	// acct, when set, counts the same bytes again: a Table's collBytes while
	// the collection owning the set is one of its values (collmem.go). Only
	// the owner goroutine sets it, and only on a set whose owner is
	// reachable, so a cleanup (which runs once the owner is unreachable)
	// never finds it set.
	acct *int
}

func newOffheapSet() *offheapSet { return &offheapSet{mapped: map[unsafe.Pointer]int{}} }

// offheapAddr is the address of s's mapping.
func offheapAddr[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// offheapSetAlloc is offheapAlloc, recorded in set.
func offheapSetAlloc[T any](set *offheapSet, n int) []T {
	s := offheapAlloc[T](n)
	set.add(offheapAddr(s), offheapMappedBytes[T](cap(s)))
	return s
}

// offheapSetGrow is offheapGrow, recorded in set.
func offheapSetGrow[T any](set *offheapSet, s []T, newCap int) []T {
	if newCap <= cap(s) {
		return s
	}
	if cap(s) > 0 {
		set.remove(offheapAddr(s))
	}
	s = offheapGrow(s, newCap)
	set.add(offheapAddr(s), offheapMappedBytes[T](cap(s)))
	return s
}

// offheapSetFree is offheapFree, forgotten by set.
func offheapSetFree[T any](set *offheapSet, s []T) {
	if cap(s) == 0 {
		return
	}
	set.remove(offheapAddr(s))
	offheapFree(s)
}

func (set *offheapSet) add(addr unsafe.Pointer, mapped int) {
	set.mapped[addr] = mapped
	set.bytes += mapped
	if set.acct != nil {
		*set.acct += mapped
	}
}

// holds reports whether s is one of set's mappings (not a Go heap slice).
func offheapHolds[T any](set *offheapSet, s []T) bool {
	if set == nil || cap(s) == 0 {
		return false
	}
	_, ok := set.mapped[offheapAddr(s)]
	return ok
}

func (set *offheapSet) remove(addr unsafe.Pointer) {
	n, ok := set.mapped[addr]
	if !ok {
		panic(fmt.Sprintf("BUG: store: freeing an off-heap mapping at %p its owner does not hold", addr))
	}
	delete(set.mapped, addr)
	set.bytes -= n
	if set.acct != nil {
		*set.acct -= n
	}
}

// freeAll unmaps every mapping in set; set stays usable (empty).
func (set *offheapSet) freeAll() {
	for addr, n := range set.mapped {
		offheapUnmap(addr, n)
	}
	clear(set.mapped)
	if set.acct != nil {
		*set.acct -= set.bytes
	}
	set.bytes = 0
}

// offheapFreeOnCleanup frees set's mappings once owner is unreachable: the
// safety net for owners dropped without being cleared (tests make many
// tables). The GC does not see mapped bytes, so it may run late: a program
// that drops big tables should Clear them first.
func offheapFreeOnCleanup[T any](owner *T, set *offheapSet) {
	runtime.AddCleanup(owner, (*offheapSet).freeAll, set)
}
