package store

import "unsafe"

// list is a list value: a ring buffer of element references, so pushes and
// pops at both ends are O(1) amortised and index access is O(1). Elements
// are private copies; views returned by At and the pops stay valid until the
// command ends (the bytes never move: a slab the list lets go of stays
// readable while a view references it).
//
// Why references. A ring of []byte is an array of pointers: every GC cycle
// scans all of them, and growing it copies them with write barriers, which
// at a million elements took hundreds of milliseconds in one push. The
// ring holds listRefs instead (slab, offset, length: no pointers), so the GC
// never scans it, and once it passes collOffheapMinBytes it lives in a
// mapping of its own (collmem.go) that grows with mremap: a grow moves at
// most the shorter of the ring's two wrapped runs.
//
// Element bytes are carved from slabs on the Go heap (a chunkArena,
// chunks.go), not allocated one by one: a push copies into the slab being
// filled (which doubles from listSlabMinBytes to listSlabBytes, so that a
// short list stays small), and an element longer than listSlabMaxElem gets
// a slab of its own. Each slab
// counts its live bytes; one that no element uses any more is let go at
// once, so a queue (push at one end, pop at the other) frees its slabs in
// order and never copies. Other patterns (LREM, LSET, LINSERT) leave dead
// bytes in slabs that still hold live elements; once the bytes carved in the
// slabs the list holds pass twice the live bytes (plus listSlabSlack), the
// live elements are copied into fresh slabs. That bounds a list's slab
// memory to about twice its live bytes whatever the pattern, at an
// amortised O(1) copy per element carved.
//
// Redis 7.0 always reports a list as "quicklist" (its listpack encoding for
// small lists arrived in 7.2), so there is no small form to switch from.
type list struct {
	buf  []listRef // the ring; len is 0 or a power of two
	head int
	n    int

	slabs       chunkArena // the elements' bytes (chunks.go)
	compactions int        // for tests

	// maps holds buf's mapping once buf is large; nil until then.
	maps *offheapSet
	acct *int // where maps counts its bytes (collmem.go)
}

// listRef names an element: n bytes at off in slab (slab is listNoSlab for
// an empty element).
type listRef struct{ slab, off, n uint32 }

const (
	// listSlabBytes is the size a list's slabs grow to, from
	// listSlabMinBytes; listSlabMaxElem is the longest element carved from
	// a shared slab.
	listSlabBytes    = 4096
	listSlabMinBytes = 64
	listSlabMaxElem  = 512
	// listSlabSlack: carved bytes below this never trigger a compaction.
	listSlabSlack = 64 << 10
	listNoSlab    = ^uint32(0)
)

var listSlabSizes = chunkSizes{min: listSlabMinBytes, max: listSlabBytes, big: listSlabMaxElem}

// copyElem stores a private copy of v and returns its reference.
func (l *list) copyElem(v []byte) listRef {
	if len(v) == 0 {
		return listRef{slab: listNoSlab}
	}
	c, pos, b, _ := l.slabs.alloc(len(v), &listSlabSizes)
	copy(b, v)
	return listRef{slab: uint32(c), off: uint32(pos), n: uint32(len(v))}
}

// bytes is the element r names.
func (l *list) bytes(r listRef) []byte {
	if r.n == 0 {
		return nil
	}
	return l.slabs.bytes(int(r.slab), int(r.off), int(r.n))
}

// dropElem accounts for an element leaving the list; a slab nothing uses
// any more is let go of (views into it stay readable: the GC frees it).
func (l *list) dropElem(r listRef) {
	if r.n > 0 {
		l.slabs.drop(int(r.slab), int(r.n))
	}
}

// maybeCompact copies the live elements into fresh slabs once dead bytes
// dominate (see list).
func (l *list) maybeCompact() {
	if l.slabs.carved < listSlabSlack || l.slabs.carved < 2*l.slabs.liveBytes {
		return
	}
	old := l.slabs
	l.slabs = chunkArena{}
	l.compactions++
	for i := 0; i < l.n; i++ {
		j := l.slot(i)
		if r := l.buf[j]; r.n > 0 {
			l.buf[j] = l.copyElem(old.bytes(int(r.slab), int(r.off), int(r.n)))
		}
	}
}

// listShrinkMin: a buffer this large or larger shrinks once a quarter full.
const listShrinkMin = 64

func (l *list) Len() int { return l.n }

func (l *list) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// At returns element i, 0 <= i < Len.
func (l *list) At(i int) []byte { return l.bytes(l.buf[l.slot(i)]) }

// grow doubles the ring when it is full. A ring in a mapping grows in
// place (mremap), then the shorter of its two runs moves so that the
// elements are in order from head again.
func (l *list) grow() {
	size := len(l.buf)
	if l.n < size {
		return
	}
	newSize := max(4, 2*size)
	if offheapHolds(l.maps, l.buf) {
		l.buf = offheapSetGrow(l.maps, l.buf, newSize)[:newSize]
		if tail := l.head + l.n - size; tail > 0 { // elements [0, tail) wrapped
			if front := size - l.head; tail <= front {
				copy(l.buf[size:], l.buf[:tail])
			} else {
				copy(l.buf[newSize-front:], l.buf[l.head:size])
				l.head = newSize - front
			}
		}
		return
	}
	if l.maps == nil && newSize*int(unsafe.Sizeof(listRef{})) >= collOffheapMinBytes {
		l.maps = newOffheapSet()
		attachAcct(l.maps, l.acct)
		offheapFreeOnCleanup(l, l.maps) // the safety net (collmem.go)
	}
	l.resize(newSize)
}

// resize moves the elements into a fresh ring of size slots, from index 0.
func (l *list) resize(size int) {
	nb := collAlloc[listRef](l.maps, size)
	l.copyTo(nb)
	collFree(l.maps, l.buf)
	l.buf, l.head = nb, 0
}

func (l *list) copyTo(nb []listRef) {
	if l.n == 0 {
		return
	}
	end := l.head + l.n
	if end <= len(l.buf) {
		copy(nb, l.buf[l.head:end])
	} else {
		k := copy(nb, l.buf[l.head:])
		copy(nb[k:], l.buf[:end-len(l.buf)])
	}
}

func (l *list) maybeShrink() {
	if len(l.buf) >= listShrinkMin && l.n*4 <= len(l.buf) {
		l.resize(len(l.buf) / 2)
	}
}

func (l *list) PushBack(v []byte) {
	l.grow()
	l.buf[l.slot(l.n)] = l.copyElem(v)
	l.n++
	l.maybeCompact()
}

func (l *list) PushFront(v []byte) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = l.copyElem(v)
	l.n++
	l.maybeCompact()
}

// PopFront removes and returns the first element; the list must not be empty.
func (l *list) PopFront() []byte {
	r := l.buf[l.head]
	v := l.bytes(r)
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.dropElem(r)
	l.maybeShrink()
	return v
}

// PopBack removes and returns the last element; the list must not be empty.
func (l *list) PopBack() []byte {
	r := l.buf[l.slot(l.n-1)]
	v := l.bytes(r)
	l.n--
	l.dropElem(r)
	l.maybeShrink()
	return v
}

// Set replaces element i.
func (l *list) Set(i int, v []byte) {
	j := l.slot(i)
	old := l.buf[j]
	l.buf[j] = l.copyElem(v) // before the drop: v may be a view into old's slab
	l.dropElem(old)
	l.maybeCompact()
}

// Insert puts v at index i (0 <= i <= Len), shifting the shorter side.
func (l *list) Insert(i int, v []byte) {
	if i == 0 {
		l.PushFront(v)
		return
	}
	if i == l.n {
		l.PushBack(v)
		return
	}
	l.grow()
	mask := len(l.buf) - 1
	if i < l.n/2 {
		l.head = (l.head - 1) & mask
		for j := 0; j < i; j++ {
			l.buf[(l.head+j)&mask] = l.buf[(l.head+j+1)&mask]
		}
	} else {
		for j := l.n; j > i; j-- {
			l.buf[(l.head+j)&mask] = l.buf[(l.head+j-1)&mask]
		}
	}
	l.buf[(l.head+i)&mask] = l.copyElem(v)
	l.n++
	l.maybeCompact()
}

// Filter keeps the elements for which keep returns true, in order, and
// returns how many were removed.
func (l *list) Filter(keep func(i int, v []byte) bool) int {
	w := 0
	mask := len(l.buf) - 1
	for r := 0; r < l.n; r++ {
		ref := l.buf[(l.head+r)&mask]
		if keep(r, l.bytes(ref)) {
			l.buf[(l.head+w)&mask] = ref
			w++
		} else {
			l.dropElem(ref)
		}
	}
	removed := l.n - w
	l.n = w
	l.maybeShrink()
	return removed
}

// Trim keeps elements [start, end], which must be within the list.
func (l *list) Trim(start, end int) {
	for range start {
		l.dropElem(l.buf[l.head])
		l.head = (l.head + 1) & (len(l.buf) - 1)
		l.n--
	}
	for l.n > end-start+1 {
		l.dropElem(l.buf[l.slot(l.n-1)])
		l.n--
	}
	l.maybeShrink()
}

// offheap, setAcct and release make a list a collection (collmem.go).
func (l *list) offheap() *offheapSet { return l.maps }

func (l *list) setAcct(acct *int) {
	l.acct = acct
	attachAcct(l.maps, acct)
}

func (l *list) release() {
	if l.maps != nil {
		l.maps.freeAll()
	}
	*l = list{}
}
