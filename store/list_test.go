package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestListSlabModel drives the list against a slice of byte slices through every
// operation, with element lengths on both sides of listSlabMaxElem and
// empty ones, and checks after each step the contents, the live-byte
// accounting that drives slab compaction (checkListSlabs), and the bound
// compaction keeps: bytes carved in the slabs the list holds stay below
// twice the live bytes plus listSlabSlack and one element.
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
	for step := range 60000 {
		if step == 30000 {
			for range 3000 {
				v := elem()
				l.PushBack(v)
				model = append(model, v)
			}
		}
		op := rnd.IntN(20)
		if step >= 30000 && len(model) > 0 && (op >= 18 || rnd.IntN(4) != 0) {
			// The second half replaces elements in place more often, and
			// neither trims nor filters: dead bytes pile up in slabs that
			// keep live ones, and compaction has to run.
			op = 15
		}
		switch {
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
		if l.Len() != len(model) {
			t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, l.Len(), len(model))
		}
		// Every step while the list is short, every 97th once it is long.
		if len(model) <= 256 || step%97 == 0 {
			live := 0
			for i, want := range model {
				if got := l.At(i); !bytes.Equal(got, want) {
					t.Fatalf("seed %d step %d: At(%d) %q, want %q", seed, step, i, got, want)
				}
				live += len(want)
			}
			if err := checkListSlabs(&l); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if l.slabs.liveBytes != live {
				t.Fatalf("seed %d step %d: live bytes %d, want %d", seed, step, l.slabs.liveBytes, live)
			}
		}
		if l.slabs.carved > 2*l.slabs.liveBytes+listSlabSlack+listSlabMaxElem {
			t.Fatalf("seed %d step %d: %d bytes carved for %d live: compaction did not run", seed, step, l.slabs.carved, l.slabs.liveBytes)
		}
	}
	if l.compactions == 0 {
		t.Fatalf("seed %d: no compaction ran; the test did not exercise it", seed)
	}
}

// checkListSlabs checks each slab's live count against the elements that
// name it, and carved against the slabs held.
func checkListSlabs(l *list) error {
	live := make([]int, len(l.slabs.chunks))
	for i := 0; i < l.n; i++ {
		r := l.buf[l.slot(i)]
		if r.n == 0 {
			continue
		}
		if int(r.slab) >= len(l.slabs.chunks) || l.slabs.chunks[r.slab] == nil {
			return fmt.Errorf("element %d names slab %d, which the list let go of", i, r.slab)
		}
		live[r.slab] += int(r.n)
	}
	carved, total := 0, 0
	for s, b := range l.slabs.chunks {
		if live[s] != l.slabs.live[s] {
			return fmt.Errorf("slab %d: %d live bytes, counted %d", s, live[s], l.slabs.live[s])
		}
		if b == nil {
			continue
		}
		if live[s] == 0 && s != l.slabs.fill-1 {
			return fmt.Errorf("slab %d holds nothing but is kept", s)
		}
		carved += len(b)
		total += live[s]
	}
	if carved != l.slabs.carved || total != l.slabs.liveBytes {
		return fmt.Errorf("carved %d (counted %d), live %d (counted %d)", carved, l.slabs.carved, total, l.slabs.liveBytes)
	}
	return nil
}

// A queue (push at the back, pop at the front) lets go of each slab once
// its elements are popped: it never compacts and holds a bounded number of
// slabs however many elements pass through.
func TestListQueueFreesSlabs(t *testing.T) {
	var l list
	v := []byte("a-job-payload-of-32-bytes-......")
	for range 10000 {
		l.PushBack(v)
	}
	for i := range 1_000_000 {
		l.PushBack(v)
		if got := l.PopFront(); !bytes.Equal(got, v) {
			t.Fatalf("pop %d: %q", i, got)
		}
	}
	if l.compactions != 0 {
		t.Fatalf("%d compactions for a queue", l.compactions)
	}
	held := 0
	for _, b := range l.slabs.chunks {
		if b != nil {
			held += cap(b)
		}
	}
	if held > 2*l.slabs.liveBytes+2*listSlabBytes {
		t.Fatalf("%d slab bytes held for %d live", held, l.slabs.liveBytes)
	}
	if err := checkListSlabs(&l); err != nil {
		t.Fatal(err)
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
