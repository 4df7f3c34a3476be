package store

import "encoding/binary"

// The arena holds the bytes of every key and every string value. It is a
// slab allocator over large chunks mapped off the Go heap (offheap.go), so
// that a keyspace of millions of small strings costs the garbage collector
// nothing to scan and no heap headroom.
//
// Chunks grow from arenaChunkMinBytes, doubling, to arenaChunkMaxBytes: a
// table with a few keys maps 64 KiB (and an empty one nothing), a big one
// needs few mappings. Pages of a chunk not yet reached by the bump pointer
// are never touched, so they cost address space, not memory.
//
// A block is named by a ref, a uint64 that is never a Go pointer:
//
//	bits  0..23  byte offset of the block inside its chunk
//	bits 24..31  size class (arenaClassLarge for a block of its own)
//	bits 32..63  chunk index, or index into arena.large for a large block
//
// Small requests (up to arenaSmallMaxBytes) are rounded up to a size class
// and served from that class's free list, else bump-allocated from the
// current chunk. Freed small blocks go back on their class's free list; the
// list is intrusive (the next ref is stored in the first 8 bytes of the freed
// block), so freeing costs no memory. Chunks are never returned while the
// arena lives: a keyspace that shrank keeps its chunks for the next growth
// (Table.Clear unmaps them all, through the owner's offheapSet).
//
// Large requests get a Go []byte of their own, kept in arena.large; a freed
// large block is dropped for the GC to reclaim and its index is reused. They
// stay on the Go heap on purpose: they are few and big (one pointer each, no
// scanning of their bytes), a mapping each would cost two syscalls per SET of
// a big value, and thousands of big values would each hold a VMA and could
// exhaust vm.max_map_count (65530 by default), turning a workload of large
// values into an out-of-memory panic.
//
// Chunks never move and are never resliced, so a view returned by block stays
// valid (points at the same bytes) until that block is freed or the owner
// unmaps every chunk (maps.freeAll: Table.Clear, or the Table's cleanup).
type arena struct {
	chunks     [][]byte    // off-heap, each recorded in maps
	maps       *offheapSet // the owner's mappings (Table.maps)
	chunkBytes int         // sum of len(chunks[i])
	bumpBytes  int         // next free offset in the last chunk

	freeHead [arenaClassCount]uint64 // per class: first free block, arenaRefNil if none

	large     [][]byte
	largeFree []uint32 // indexes of nil entries in large, reused first

	largeBytes int // sum of len(large[i])
	liveBytes  int // capacity of blocks handed out and not yet freed
}

const (
	// arenaChunkMinBytes is the first chunk's size; each next chunk is
	// twice the previous one up to arenaChunkMaxBytes. Every chunk must
	// hold a block of the largest class, and the largest must fit the
	// 24-bit offset of a ref.
	arenaChunkMinBytes = 64 << 10
	arenaChunkMaxBytes = 4 << 20
	// arenaSmallMaxBytes is the largest request served from chunks; it is
	// also the largest size class. Bigger blocks get their own []byte.
	arenaSmallMaxBytes = 64 << 10
	// arenaClassMinBytes is the smallest class: a freed block must hold the
	// 8-byte intrusive free-list link.
	arenaClassMinBytes = 16
	// arenaClassAlignBytes: every class is a multiple of it, which keeps the
	// size -> class lookup table small (one byte per arenaClassAlignBytes).
	arenaClassAlignBytes = 8
	// arenaClassCount is len(arenaClassBytes).
	arenaClassCount = 36
	// arenaClassLarge marks a ref to a block outside the chunks.
	arenaClassLarge = 0xFF

	arenaRefOffsetMask = 1<<24 - 1
	arenaRefClassShift = 24
	arenaRefIndexShift = 32
	// arenaRefNil ends a free list. No real ref has it: its class byte is
	// arenaClassLarge and a large ref's offset bits are zero.
	arenaRefNil = ^uint64(0)
)

// arenaClassBytes are the block sizes: each about 1.25x the previous one (at
// most 1.5x), rounded up to arenaClassAlignBytes, from arenaClassMinBytes to
// arenaSmallMaxBytes. Rounding a request up to its class wastes under a third
// of the block in the worst case and about a tenth on average.
var arenaClassBytes = [arenaClassCount]int32{
	16, 24, 32, 40, 56, 72, 96, 120, 152, 192, 240, 304, 384, 480, 600, 752,
	944, 1184, 1480, 1856, 2320, 2904, 3632, 4544, 5680, 7104, 8880, 11104,
	13880, 17352, 21696, 27120, 33904, 42384, 52984, 65536,
}

// arenaClassBySize[(n+7)/8] is the smallest class that holds n bytes.
var arenaClassBySize = arenaMakeClassBySize()

func arenaMakeClassBySize() *[arenaSmallMaxBytes/arenaClassAlignBytes + 1]uint8 {
	var t [arenaSmallMaxBytes/arenaClassAlignBytes + 1]uint8
	c := 0
	for i := range t {
		for int(arenaClassBytes[c]) < i*arenaClassAlignBytes {
			c++
		}
		t[i] = uint8(c)
	}
	return &t
}

// newArena returns an empty arena whose chunks are recorded in maps.
func newArena(maps *offheapSet) arena {
	a := arena{maps: maps}
	for i := range a.freeHead {
		a.freeHead[i] = arenaRefNil
	}
	return a
}

// arenaClassOf returns the class of a small request of n bytes (n <= arenaSmallMaxBytes).
func arenaClassOf(n int) int {
	return int(arenaClassBySize[(n+arenaClassAlignBytes-1)/arenaClassAlignBytes])
}

// alloc returns a block of at least n bytes. Its contents are undefined
// (old bytes of a freed block), except that a large block is zeroed.
func (a *arena) alloc(n int) uint64 {
	if n > arenaSmallMaxBytes {
		return a.allocLarge(n)
	}
	c := arenaClassOf(n)
	size := int(arenaClassBytes[c])
	a.liveBytes += size
	if ref := a.freeHead[c]; ref != arenaRefNil {
		off := int(ref & arenaRefOffsetMask)
		a.freeHead[c] = binary.LittleEndian.Uint64(a.chunks[ref>>arenaRefIndexShift][off:])
		return ref
	}
	if len(a.chunks) == 0 || a.bumpBytes+size > len(a.chunks[len(a.chunks)-1]) {
		a.newChunk()
	}
	ref := uint64(len(a.chunks)-1)<<arenaRefIndexShift | uint64(c)<<arenaRefClassShift | uint64(a.bumpBytes)
	a.bumpBytes += size
	return ref
}

// newChunk starts a new slab. The tail of the current one, too short for the
// request that did not fit, is cut into the largest blocks that fit and put on
// the free lists, so at most arenaClassMinBytes-1 bytes per chunk are lost.
func (a *arena) newChunk() {
	size := arenaChunkMinBytes
	if n := len(a.chunks); n > 0 {
		last := len(a.chunks[n-1])
		size = min(2*last, arenaChunkMaxBytes)
		for last-a.bumpBytes >= arenaClassMinBytes {
			rest := last - a.bumpBytes
			c := arenaClassOf(rest / arenaClassAlignBytes * arenaClassAlignBytes)
			if int(arenaClassBytes[c]) > rest {
				c--
			}
			ref := uint64(n-1)<<arenaRefIndexShift | uint64(c)<<arenaRefClassShift | uint64(a.bumpBytes)
			a.bumpBytes += int(arenaClassBytes[c])
			a.push(c, ref)
		}
	}
	// The mapping comes zeroed, but alloc promises nothing about contents.
	a.chunks = append(a.chunks, offheapSetAlloc[byte](a.maps, size))
	a.chunkBytes += size
	a.bumpBytes = 0
}

func (a *arena) allocLarge(n int) uint64 {
	b := make([]byte, n)
	a.largeBytes += n
	a.liveBytes += n
	var i uint32
	if k := len(a.largeFree); k > 0 {
		i = a.largeFree[k-1]
		a.largeFree = a.largeFree[:k-1]
		a.large[i] = b
	} else {
		i = uint32(len(a.large))
		a.large = append(a.large, b)
	}
	return uint64(i)<<arenaRefIndexShift | arenaClassLarge<<arenaRefClassShift
}

// free returns a block. Its bytes may be overwritten at once (free-list link).
func (a *arena) free(ref uint64) {
	c := int(ref >> arenaRefClassShift & 0xFF)
	if c == arenaClassLarge {
		i := uint32(ref >> arenaRefIndexShift)
		n := len(a.large[i])
		a.largeBytes -= n
		a.liveBytes -= n
		a.large[i] = nil
		a.largeFree = append(a.largeFree, i)
		return
	}
	a.liveBytes -= int(arenaClassBytes[c])
	a.push(c, ref)
}

func (a *arena) push(c int, ref uint64) {
	off := int(ref & arenaRefOffsetMask)
	binary.LittleEndian.PutUint64(a.chunks[ref>>arenaRefIndexShift][off:], a.freeHead[c])
	a.freeHead[c] = ref
}

// block returns the whole block named by ref; len and cap are its capacity.
func (a *arena) block(ref uint64) []byte {
	c := int(ref >> arenaRefClassShift & 0xFF)
	if c == arenaClassLarge {
		return a.large[ref>>arenaRefIndexShift]
	}
	off := int(ref & arenaRefOffsetMask)
	end := off + int(arenaClassBytes[c])
	return a.chunks[ref>>arenaRefIndexShift][off:end:end]
}

// view returns the first n bytes of the block named by ref (n <= its
// capacity). Cheaper than block: it needs no class size.
func (a *arena) view(ref uint64, n int) []byte {
	if ref>>arenaRefClassShift&0xFF == arenaClassLarge {
		return a.large[ref>>arenaRefIndexShift][:n:n]
	}
	off := int(ref & arenaRefOffsetMask)
	return a.chunks[ref>>arenaRefIndexShift][off : off+n : off+n]
}

// capacity returns the usable size of the block named by ref.
func (a *arena) capacity(ref uint64) int {
	c := int(ref >> arenaRefClassShift & 0xFF)
	if c == arenaClassLarge {
		return len(a.large[ref>>arenaRefIndexShift])
	}
	return int(arenaClassBytes[c])
}

// memoryBytes is what the arena holds: every chunk mapped (used or not),
// the large blocks and the bookkeeping on the Go heap.
func (a *arena) memoryBytes() int {
	return a.chunkBytes + a.largeBytes +
		cap(a.chunks)*24 + cap(a.large)*24 + cap(a.largeFree)*4
}
