package store

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestListSlabModel drives the list against a slice of byte slices through every
// operation, with element lengths on both sides of listSlabMaxElem and
// empty ones, and checks after each step the contents, the live-byte
// accounting that drives slab compaction, and the bound compaction keeps:
// bytes carved since the last compaction stay below twice the live bytes
// plus listSlabSlack and one element.
func TestListSlabModel(t *testing.T) {
	seed := testSeed(t)
	rnd := rand.New(rand.NewPCG(uint64(seed), 11))
	var l list
	var model [][]byte
	elem := func() []byte {
		n := rnd.IntN(40)
		switch rnd.IntN(20) {
		case 0:
			n = 0
		case 1:
			n = listSlabMaxElem + rnd.IntN(100)
		case 2:
			n = listSlabMaxElem
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	compactions := 0
	for step := range 60000 {
		carvedBefore := l.carved
		switch op := rnd.IntN(20); {
		case op < 5 || len(model) == 0:
			v := elem()
			l.PushBack(v)
			model = append(model, v)
		case op < 9:
			v := elem()
			l.PushFront(v)
			model = append([][]byte{v}, model...)
		case op < 12:
			if got := l.PopFront(); !bytes.Equal(got, model[0]) {
				t.Fatalf("seed %d step %d: PopFront %q, want %q", seed, step, got, model[0])
			}
			model = model[1:]
		case op < 15:
			if got := l.PopBack(); !bytes.Equal(got, model[len(model)-1]) {
				t.Fatalf("seed %d step %d: PopBack %q, want %q", seed, step, got, model[len(model)-1])
			}
			model = model[:len(model)-1]
		case op < 17:
			i := rnd.IntN(len(model))
			v := elem()
			l.Set(i, v)
			model[i] = v
		case op < 18:
			i := rnd.IntN(len(model) + 1)
			v := elem()
			l.Insert(i, v)
			model = append(model[:i], append([][]byte{v}, model[i:]...)...)
		case op < 19:
			// Drop about a third, as LREM does.
			var kept [][]byte
			removed := l.Filter(func(i int, v []byte) bool {
				if !bytes.Equal(v, model[i]) {
					t.Fatalf("seed %d step %d: Filter saw %q at %d, want %q", seed, step, v, i, model[i])
				}
				keep := rnd.IntN(3) != 0
				if keep {
					kept = append(kept, model[i])
				}
				return keep
			})
			if removed != len(model)-len(kept) {
				t.Fatalf("seed %d step %d: Filter removed %d, want %d", seed, step, removed, len(model)-len(kept))
			}
			model = kept
		default:
			start := rnd.IntN(len(model))
			end := start + rnd.IntN(len(model)-start)
			l.Trim(start, end)
			model = model[start : end+1]
		}
		if l.carved < carvedBefore {
			compactions++
		}
		if l.Len() != len(model) {
			t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, l.Len(), len(model))
		}
		live := 0
		for i, want := range model {
			if got := l.At(i); !bytes.Equal(got, want) {
				t.Fatalf("seed %d step %d: At(%d) %q, want %q", seed, step, i, got, want)
			}
			if len(want) <= listSlabMaxElem {
				live += len(want)
			}
		}
		if l.live != live {
			t.Fatalf("seed %d step %d: live bytes %d, want %d", seed, step, l.live, live)
		}
		if l.carved > 2*l.live+listSlabSlack+listSlabMaxElem {
			t.Fatalf("seed %d step %d: %d bytes carved for %d live: compaction did not run", seed, step, l.carved, l.live)
		}
	}
	if compactions == 0 {
		t.Fatalf("seed %d: no compaction ran; the test did not exercise it", seed)
	}
}

// TestListPushAllocs: pushing a short element costs no allocation once the
// buffer has room (the slab takes the bytes).
func TestListPushAllocs(t *testing.T) {
	var l list
	v := []byte("0123456789")
	for range 1 << 12 {
		l.PushBack(v)
	}
	for range 1 << 11 {
		l.PopFront()
	}
	allocs := testing.AllocsPerRun(1000, func() {
		l.PushBack(v)
		l.PopFront()
	})
	// One slab of listSlabBytes per 409 pushes of 10 bytes.
	if allocs > 0.01 {
		t.Fatalf("push+pop: %.3f allocations per op, want ~0", allocs)
	}
}
