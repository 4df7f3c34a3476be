package store

// list is a list value: a ring buffer of elements, so pushes and pops at
// both ends are O(1) amortised and index access is O(1). Elements are
// private copies; views returned by At stay valid until the element is
// removed or replaced.
//
// Element bytes are carved from slabs (listSlabBytes) rather than allocated
// one by one: a push copies into the current slab, so pushing costs no
// allocation and the garbage collector sees a slab per few hundred elements,
// not an object per element. A slab lives while any element in it does;
// removed elements leave dead bytes in their slab, so once the bytes carved
// since the last compaction pass twice the live bytes (plus listSlabSlack)
// the live elements are copied into fresh slabs and the old ones become
// garbage. That bounds a list's slab memory to about twice its live bytes
// whatever the pattern of pushes and removals, at an amortised O(1) copy per
// element carved.
//
// Redis 7.0 always reports a list as "quicklist" (its listpack encoding for
// small lists arrived in 7.2), so there is no small form to switch from.
type list struct {
	buf  [][]byte // len(buf) is 0 or a power of two
	head int
	n    int

	slab   []byte // the current slab: elements are carved from cap(slab)-len(slab)
	live   int    // bytes of the elements held in slabs
	carved int    // bytes carved from slabs since the last compaction
}

const (
	// listSlabBytes is the size of a slab; listSlabMaxElem is the longest
	// element carved from one (longer ones get an allocation of their own,
	// which the GC frees with them).
	listSlabBytes   = 4096
	listSlabMaxElem = 512
	// listSlabSlack: carved bytes below this never trigger a compaction.
	listSlabSlack = 64 << 10
)

// copyElem returns a private copy of v, carved from a slab when short.
func (l *list) copyElem(v []byte) []byte {
	n := len(v)
	if n > listSlabMaxElem {
		return append([]byte(nil), v...)
	}
	if n == 0 {
		return nil
	}
	if cap(l.slab)-len(l.slab) < n {
		l.slab = make([]byte, 0, listSlabBytes)
	}
	k := len(l.slab)
	l.slab = append(l.slab, v...)
	l.live += n
	l.carved += n
	return l.slab[k : k+n : k+n]
}

// dropElem accounts for an element leaving the list.
func (l *list) dropElem(v []byte) {
	if len(v) <= listSlabMaxElem {
		l.live -= len(v)
	}
}

// maybeCompact copies the live elements into fresh slabs once dead bytes
// dominate (see list).
func (l *list) maybeCompact() {
	if l.carved < listSlabSlack || l.carved < 2*l.live {
		return
	}
	l.slab, l.live, l.carved = nil, 0, 0
	for i := 0; i < l.n; i++ {
		j := l.slot(i)
		if len(l.buf[j]) <= listSlabMaxElem {
			l.buf[j] = l.copyElem(l.buf[j])
		}
	}
}

// listShrinkMin: a buffer this large or larger shrinks once a quarter full.
const listShrinkMin = 64

func (l *list) Len() int { return l.n }

func (l *list) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// At returns element i, 0 <= i < Len.
func (l *list) At(i int) []byte { return l.buf[l.slot(i)] }

func (l *list) grow() {
	if l.n < len(l.buf) {
		return
	}
	nb := make([][]byte, max(4, 2*len(l.buf)))
	l.copyTo(nb)
	l.buf, l.head = nb, 0
}

func (l *list) copyTo(nb [][]byte) {
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
		nb := make([][]byte, len(l.buf)/2)
		l.copyTo(nb)
		l.buf, l.head = nb, 0
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
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.dropElem(v)
	l.maybeShrink()
	return v
}

// PopBack removes and returns the last element; the list must not be empty.
func (l *list) PopBack() []byte {
	i := l.slot(l.n - 1)
	v := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.dropElem(v)
	l.maybeShrink()
	return v
}

// Set replaces element i.
func (l *list) Set(i int, v []byte) {
	j := l.slot(i)
	l.dropElem(l.buf[j])
	l.buf[j] = l.copyElem(v)
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
		v := l.buf[(l.head+r)&mask]
		if keep(r, v) {
			l.buf[(l.head+w)&mask] = v
			w++
		} else {
			l.dropElem(v)
		}
	}
	for j := w; j < l.n; j++ {
		l.buf[(l.head+j)&mask] = nil
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
		l.buf[l.head] = nil
		l.head = (l.head + 1) & (len(l.buf) - 1)
		l.n--
	}
	for l.n > end-start+1 {
		l.dropElem(l.buf[l.slot(l.n-1)])
		l.buf[l.slot(l.n-1)] = nil
		l.n--
	}
	l.maybeShrink()
}
