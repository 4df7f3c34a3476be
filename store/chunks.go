package store

// chunkArena holds the bytes of a collection's elements (a list's
// elements, a dict's records) in chunks on the Go heap. A chunk never moves,
// so a view into it stays valid while it is referenced; the owner names an
// element by chunk index and position. The chunk being filled starts at
// chunkSizes.min and doubles up to chunkSizes.max, so that a small
// collection stays small; an element longer than chunkSizes.big gets a
// chunk of its own, so that a chunk's unused tail stays small. Each chunk
// counts its live bytes and is let go of once none are left (the chunk
// being filled once it is full), so a collection that loses its oldest
// elements first frees whole chunks and copies nothing. Compacting what
// other patterns leave behind is the owner's policy (list.maybeCompact,
// dict.dropRecord). The zero value is empty.
type chunkArena struct {
	chunks    [][]byte // nil for a chunk let go of (its index is in free)
	live      []int    // live bytes per chunk
	free      []int
	fill      int // 1 + the index of the chunk being filled; 0 for none
	liveBytes int // live bytes in all
	carved    int // bytes carved in the chunks held
	capBytes  int // the chunks' capacity, for MemoryBytes
}

// chunkSizes are an owner's chunk sizes (see chunkArena).
type chunkSizes struct{ min, max, big int }

// alloc carves n > 0 bytes and returns the chunk, the position and the
// bytes. left is a chunk that stopped being filled while under half live
// (-1 for none), for an owner that compacts such chunks.
func (a *chunkArena) alloc(n int, sz *chunkSizes) (c, pos int, b []byte, left int) {
	c, left = a.fill-1, -1
	switch {
	case n > sz.big:
		c = a.newChunk(n)
	case c < 0 || cap(a.chunks[c])-len(a.chunks[c]) < n:
		size := sz.min
		if old := c; old >= 0 {
			size = min(sz.max, 2*cap(a.chunks[old]))
			a.fill = 0
			switch {
			case a.live[old] == 0:
				a.letGo(old) // emptied while it was being filled
			case a.live[old]*2 < len(a.chunks[old]):
				left = old
			}
		}
		c = a.newChunk(max(size, n))
		a.fill = c + 1
	}
	pos = len(a.chunks[c])
	a.chunks[c] = a.chunks[c][:pos+n]
	a.live[c] += n
	a.liveBytes += n
	a.carved += n
	return c, pos, a.chunks[c][pos : pos+n : pos+n], left
}

func (a *chunkArena) newChunk(size int) int {
	a.capBytes += size
	b := make([]byte, 0, size)
	if k := len(a.free); k > 0 {
		c := a.free[k-1]
		a.free = a.free[:k-1]
		a.chunks[c], a.live[c] = b, 0
		return c
	}
	a.chunks = append(a.chunks, b)
	a.live = append(a.live, 0)
	return len(a.chunks) - 1
}

// bytes is the n bytes at pos in chunk c.
func (a *chunkArena) bytes(c, pos, n int) []byte { return a.chunks[c][pos : pos+n : pos+n] }

// drop accounts for n bytes of chunk c leaving, lets go of the chunk when
// none are left, and reports whether they left it under half live (for
// the first time), for an owner that compacts such chunks.
func (a *chunkArena) drop(c, n int) (underHalf bool) {
	half := len(a.chunks[c]) / 2
	a.live[c] -= n
	a.liveBytes -= n
	switch {
	case c == a.fill-1:
	case a.live[c] == 0:
		a.letGo(c)
	case a.live[c] < half && a.live[c]+n >= half:
		return true
	}
	return false
}

// letGo drops chunk c, which holds nothing live; views into it stay
// readable (the GC frees it), and its index is reused.
func (a *chunkArena) letGo(c int) {
	a.capBytes -= cap(a.chunks[c])
	a.carved -= len(a.chunks[c])
	a.chunks[c] = nil
	a.free = append(a.free, c)
}

// clone is a deep copy.
func (a *chunkArena) clone() chunkArena {
	c := *a
	c.live = append([]int(nil), a.live...)
	c.free = append([]int(nil), a.free...)
	c.chunks = make([][]byte, len(a.chunks))
	for i, ch := range a.chunks {
		if ch != nil {
			c.chunks[i] = append(make([]byte, 0, cap(ch)), ch...)
		}
	}
	return c
}
