package store

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// newTestArena returns an arena whose chunks are unmapped when the test ends.
func newTestArena(tb testing.TB) *arena {
	maps := newOffheapSet()
	tb.Cleanup(maps.freeAll)
	a := newArena(maps)
	return &a
}

func TestArenaLimits(t *testing.T) {
	if arenaChunkMaxBytes > arenaRefOffsetMask+1 {
		t.Errorf("arenaChunkMaxBytes %d does not fit the ref offset bits", arenaChunkMaxBytes)
	}
	if arenaSmallMaxBytes > arenaChunkMinBytes {
		t.Errorf("largest class %d does not fit the first chunk of %d", arenaSmallMaxBytes, arenaChunkMinBytes)
	}
	if arenaChunkMinBytes > arenaChunkMaxBytes || arenaChunkMaxBytes%arenaChunkMinBytes != 0 ||
		arenaChunkMinBytes%offheapPageBytes != 0 {
		t.Errorf("chunk sizes %d..%d: want page multiples, doubling from min to max", arenaChunkMinBytes, arenaChunkMaxBytes)
	}
	if arenaClassBytes[0] != arenaClassMinBytes || arenaClassMinBytes < 8 {
		t.Errorf("smallest class %d, want %d (>= 8 for the free-list link)", arenaClassBytes[0], arenaClassMinBytes)
	}
	if arenaClassBytes[arenaClassCount-1] != arenaSmallMaxBytes {
		t.Errorf("largest class %d, want arenaSmallMaxBytes %d", arenaClassBytes[arenaClassCount-1], arenaSmallMaxBytes)
	}
	if arenaClassCount >= arenaClassLarge {
		t.Errorf("arenaClassCount %d collides with arenaClassLarge", arenaClassCount)
	}
	for i, c := range arenaClassBytes {
		if c%arenaClassAlignBytes != 0 {
			t.Errorf("class %d = %d not a multiple of %d", i, c, arenaClassAlignBytes)
		}
		if i > 0 {
			prev := arenaClassBytes[i-1]
			if c <= prev || float64(c)/float64(prev) > 1.5 {
				t.Errorf("class %d = %d after %d: want increasing by at most 1.5x", i, c, prev)
			}
		}
	}
}

// TestArenaClassBoundaries allocates every class size and one byte more.
func TestArenaClassBoundaries(t *testing.T) {
	a := newTestArena(t)
	type got struct {
		ref uint64
		n   int
	}
	var live []got
	check := func(n, wantCap int) {
		t.Helper()
		ref := a.alloc(n)
		if c := a.capacity(ref); c != wantCap {
			t.Fatalf("alloc(%d): capacity %d, want %d", n, c, wantCap)
		}
		if b := a.block(ref); len(b) != wantCap || cap(b) != wantCap {
			t.Fatalf("alloc(%d): block len %d cap %d, want %d", n, len(b), cap(b), wantCap)
		}
		live = append(live, got{ref, n})
	}
	check(0, arenaClassMinBytes)
	check(1, arenaClassMinBytes)
	for i, c := range arenaClassBytes {
		check(int(c)-1, int(c))
		check(int(c), int(c))
		if i+1 < arenaClassCount {
			check(int(c)+1, int(arenaClassBytes[i+1]))
		}
	}
	check(arenaSmallMaxBytes+1, arenaSmallMaxBytes+1) // large: exact size
	check(5<<20, 5<<20)

	// Fill each block with its own byte, then check no block was
	// overwritten by another: the blocks are disjoint.
	for i, g := range live {
		b := a.block(g.ref)
		for j := range b {
			b[j] = byte(i)
		}
	}
	for i, g := range live {
		for j, v := range a.block(g.ref) {
			if v != byte(i) {
				t.Fatalf("block %d (alloc %d) byte %d = %d: overlaps block %d", i, g.n, j, v, v)
			}
		}
	}
	for _, g := range live {
		a.free(g.ref)
	}
	if a.liveBytes != 0 || a.largeBytes != 0 {
		t.Fatalf("after freeing all: liveBytes %d largeBytes %d, want 0", a.liveBytes, a.largeBytes)
	}
}

func TestArenaReuse(t *testing.T) {
	tests := []struct {
		name string
		n, m int // free a block of n, then allocate m
		same bool
	}{
		{"same size", 100, 100, true},
		{"same class", 97, 120, true},
		{"smaller class", 100, 50, false},
		{"min class", 0, 16, true},
		{"max class", arenaSmallMaxBytes, arenaSmallMaxBytes - 5, true},
		{"large index reused", arenaSmallMaxBytes + 1, 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestArena(t)
			keep := a.alloc(tt.n) // so the freed block is not the only one
			ref := a.alloc(tt.n)
			a.free(ref)
			got := a.alloc(tt.m)
			if (got == ref) != tt.same {
				t.Fatalf("reused=%v, want %v (ref %#x got %#x)", got == ref, tt.same, ref, got)
			}
			if a.capacity(got) < tt.m {
				t.Fatalf("capacity %d < %d", a.capacity(got), tt.m)
			}
			a.free(got)
			a.free(keep)
			if a.liveBytes != 0 {
				t.Fatalf("liveBytes %d after freeing all", a.liveBytes)
			}
		})
	}
}

// TestArenaChunkTail fills chunks with big blocks and checks that the tail of
// a chunk too short for the next block is handed out by smaller classes
// before a new chunk is cut.
func TestArenaChunkTail(t *testing.T) {
	a := newTestArena(t)
	big := int(arenaClassBytes[arenaClassCount-2])
	n := arenaChunkMinBytes / big
	for range n + 1 {
		a.alloc(big)
	}
	if len(a.chunks) != 2 {
		t.Fatalf("%d chunks after %d blocks of %d, want 2", len(a.chunks), n+1, big)
	}
	tail := arenaChunkMinBytes - n*big
	c := arenaClassCount - 1
	for int(arenaClassBytes[c]) > tail {
		c--
	}
	ref := a.alloc(int(arenaClassBytes[c]))
	if ref>>arenaRefIndexShift != 0 {
		t.Fatalf("a %d-byte block came from chunk %d, want the %d-byte tail of chunk 0",
			arenaClassBytes[c], ref>>arenaRefIndexShift, tail)
	}
}

// TestArenaChunkSizes: chunks double from the smallest to the largest, so a
// small table maps little and a big one few mappings.
func TestArenaChunkSizes(t *testing.T) {
	a := newTestArena(t)
	if a.memoryBytes() != 0 || a.maps.bytes != 0 {
		t.Fatalf("an empty arena holds %d bytes (%d mapped)", a.memoryBytes(), a.maps.bytes)
	}
	want := arenaChunkMinBytes
	for i := range 12 {
		for len(a.chunks) == i {
			a.alloc(arenaSmallMaxBytes)
		}
		if got := len(a.chunks[i]); got != want {
			t.Fatalf("chunk %d: %d bytes, want %d", i, got, want)
		}
		want = min(2*want, arenaChunkMaxBytes)
	}
	if a.maps.bytes != a.chunkBytes || len(a.maps.mapped) != len(a.chunks) {
		t.Fatalf("maps holds %d bytes in %d mappings, arena %d in %d chunks", a.maps.bytes, len(a.maps.mapped), a.chunkBytes, len(a.chunks))
	}
}

// TestArenaModel allocates and frees at random against a map of expected
// contents.
func TestArenaModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	a := newTestArena(t)
	live := map[uint64][]byte{}
	var refs []uint64
	for op := range 200_000 {
		if len(refs) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(refs))
			ref := refs[i]
			want := live[ref]
			if got := a.block(ref)[:len(want)]; !bytes.Equal(got, want) {
				t.Fatalf("seed %d op %d: block %#x changed", seed, op, ref)
			}
			a.free(ref)
			delete(live, ref)
			refs[i] = refs[len(refs)-1]
			refs = refs[:len(refs)-1]
			continue
		}
		n := rng.IntN(600)
		if rng.IntN(500) == 0 {
			n = rng.IntN(200 << 10)
		}
		ref := a.alloc(n)
		if _, dup := live[ref]; dup {
			t.Fatalf("seed %d op %d: ref %#x handed out twice", seed, op, ref)
		}
		b := a.block(ref)[:n]
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		live[ref] = bytes.Clone(b)
		refs = append(refs, ref)
	}
	sum := 0
	for ref, want := range live {
		if !bytes.Equal(a.block(ref)[:len(want)], want) {
			t.Fatalf("seed %d: block %#x changed", seed, ref)
		}
		sum += a.capacity(ref)
	}
	if sum != a.liveBytes {
		t.Fatalf("seed %d: liveBytes %d, sum of live capacities %d", seed, a.liveBytes, sum)
	}
}
