package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

type modelEntry struct {
	member string
	score  float64
}

func modelCmp(a, b modelEntry) int {
	switch {
	case a.score < b.score:
		return -1
	case a.score > b.score:
		return 1
	}
	return bytes.Compare([]byte(a.member), []byte(b.member))
}

// TestZsetModel drives both forms of the sorted set (the skip list and the
// small sorted slice) against a sorted slice: insert, update, delete, rank,
// range by rank and by score bound.
func TestZsetModel(t *testing.T) {
	seed := testSeed(t)
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprintf("big=%v", big), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(uint64(seed), 7))
			z := newZset(0, 0)
			if big {
				z = newZset(ZsetMaxListpackEntries+1, 0)
			}
			var model []modelEntry
			find := func(m string) int {
				return slices.IndexFunc(model, func(e modelEntry) bool { return e.member == m })
			}
			for step := range 20000 {
				m := fmt.Sprintf("m%d", rnd.IntN(300))
				score := float64(rnd.IntN(50))
				switch op := rnd.IntN(10); {
				case op < 5:
					if i := find(m); i >= 0 {
						if rnd.IntN(2) == 0 {
							// A nudge that mostly keeps the member's place:
							// the skip list's in-place update.
							score = model[i].score + (rnd.Float64()-0.5)*0.2
						}
						z.Update(rnd, []byte(m), score)
						model[i].score = score
					} else {
						z.Insert(rnd, []byte(m), score)
						model = append(model, modelEntry{m, score})
					}
					slices.SortFunc(model, modelCmp)
				case op < 8:
					i := find(m)
					if z.Delete([]byte(m)) != (i >= 0) {
						t.Fatalf("step %d: delete %s disagrees", step, m)
					}
					if i >= 0 {
						model = slices.Delete(model, i, i+1)
					}
				case op == 8 && len(model) > 0 && rnd.IntN(3) == 0:
					// PopEnd, as ZPOPMIN/ZPOPMAX use it.
					min := rnd.IntN(2) == 0
					want := model[0]
					if !min {
						want = model[len(model)-1]
					}
					got, sc := z.PopEnd(min, []byte("prefix:"))
					if string(got) != "prefix:"+want.member || sc != want.score {
						t.Fatalf("step %d: PopEnd(min=%v) = %q %v, model %q %v", step, min, got, sc, want.member, want.score)
					}
					if min {
						model = model[1:]
					} else {
						model = model[:len(model)-1]
					}
				case op == 8:
					r, ok := z.Rank([]byte(m))
					if i := find(m); ok != (i >= 0) || (ok && r != i) {
						t.Fatalf("step %d: rank of %s = %d,%v, model %d", step, m, r, ok, i)
					}
				default:
					n := z.CountWhile(func(s float64, _ []byte) bool { return s < score })
					want := 0
					for want < len(model) && model[want].score < score {
						want++
					}
					if n != want {
						t.Fatalf("step %d: count below %v = %d, model %d", step, score, n, want)
					}
				}
				if z.Len() != len(model) {
					t.Fatalf("step %d: len %d, model %d", step, z.Len(), len(model))
				}
				if step%100 == 0 && len(model) > 0 {
					start := rnd.IntN(len(model))
					end := start + rnd.IntN(len(model)-start)
					rev := rnd.IntN(2) == 0
					var got []modelEntry
					z.Range(start, end, rev, func(m []byte, s float64) bool {
						got = append(got, modelEntry{string(m), s})
						return true
					})
					want := slices.Clone(model[start : end+1])
					if rev {
						slices.Reverse(want)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("step %d: range %d..%d rev=%v:\n got %v\nwant %v", step, start, end, rev, got, want)
					}
				}
			}
		})
	}
}

// checkDict verifies a dict's index against its records: every live record
// indexed exactly once, under its key's tag, reachable from its home.
func checkDict(d *dict) error {
	seen, err := checkIndex(&d.slotIndex, d.IDs(), func(id uint32) (uint32, bool) {
		if !d.Live(id) {
			return 0, false
		}
		return uint32(tableHash(d.Key(id))), true
	})
	if err != nil {
		return err
	}
	live := 0
	for id := range uint32(d.IDs()) {
		if d.Live(id) {
			live++
			if seen[id] != 1 {
				return fmt.Errorf("live id %d indexed %d times", id, seen[id])
			}
		}
	}
	if live != d.Len() {
		return fmt.Errorf("%d live records, Len %d", live, d.Len())
	}
	// Each chunk's live bytes are those of the records ids name; the dead
	// bytes stay within the live bytes plus a chunk.
	a := &d.data
	chunkLive := make([]int, len(a.chunks))
	for id := range uint32(d.IDs()) {
		if d.Live(id) {
			off := d.recs[id]
			c := int(off >> 32)
			if c >= len(a.chunks) || a.chunks[c] == nil {
				return fmt.Errorf("id %d names chunk %d, which the dict let go of", id, c)
			}
			chunkLive[c] += d.recordLen(off)
		}
	}
	carved, liveBytes := 0, 0
	for c, b := range a.chunks {
		if b == nil {
			continue
		}
		if chunkLive[c] != a.live[c] {
			return fmt.Errorf("chunk %d: %d live bytes, counted %d", c, chunkLive[c], a.live[c])
		}
		if a.live[c] == 0 && c != a.fill-1 {
			return fmt.Errorf("chunk %d holds nothing but is kept", c)
		}
		carved += len(b)
		liveBytes += a.live[c]
	}
	if carved != a.carved || liveBytes != a.liveBytes {
		return fmt.Errorf("carved %d (counted %d), live %d (counted %d)", carved, a.carved, liveBytes, a.liveBytes)
	}
	if a.overDead() {
		return fmt.Errorf("%d dead bytes for %d live: compaction did not run", carved-liveBytes, liveBytes)
	}
	return nil
}

// The dict against a Go map, in phases that grow it to a target size and
// shrink it back, so that the index grows and shrinks progressively many
// times with Finds, Sets and Deletes landing during each rehash; the
// structure is checked throughout and no resize may find the previous
// rehash unfinished.
func TestDictModel(t *testing.T) {
	seed := testSeed(t)
	rnd := rand.New(rand.NewPCG(uint64(seed), 9))
	d := newDict(0)
	model := map[string]string{}
	keys := []string{} // the model's keys, for picking one to delete
	rehashes, step, compactions := 0, 0, 0
	for _, target := range []int{3000, 10, 20000, 0, 500, 5000, 40} {
		for len(model) != target {
			step++
			k := fmt.Sprintf("key%d", rnd.IntN(3*max(target, len(model))+1))
			grow := len(model) < target
			// Growing: half Sets, a quarter Deletes; shrinking: a quarter
			// Sets, half Deletes; Finds in the rest.
			switch op := rnd.IntN(4); {
			case op == 0 || op == 1 && grow:
				v := bytes.Repeat([]byte{'v'}, rnd.IntN(20))
				_, added := d.Set([]byte(k), v)
				if _, had := model[k]; had == added {
					t.Fatalf("step %d: set %s added=%v", step, k, added)
				}
				if added {
					keys = append(keys, k)
				}
				model[k] = string(v)
			case op <= 2 && len(keys) > 0:
				// Delete a present key.
				i := rnd.IntN(len(keys))
				k = keys[i]
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				id, ok := d.Find([]byte(k))
				if !ok {
					t.Fatalf("step %d: find %s: missing", step, k)
				}
				d.Delete(id)
				delete(model, k)
			default:
				id, ok := d.Find([]byte(k))
				v, had := model[k]
				if had != ok || ok && string(d.Val(id)) != v {
					t.Fatalf("step %d: find %s = %v, model %v", step, k, ok, had)
				}
			}
			if d.Len() != len(model) {
				t.Fatalf("step %d: len %d, model %d", step, d.Len(), len(model))
			}
			if d.Rehashing() {
				rehashes++
			}
			if step%997 == 0 || d.Rehashing() && rnd.IntN(50) == 0 {
				if err := checkDict(d); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
		}
		if err := checkDict(d); err != nil {
			t.Fatalf("phase to %d, step %d: %v", target, step, err)
		}
		compactions += d.data.compactions // a dict emptied starts its count again
		d.data.compactions = 0
		for k, v := range model {
			if id, ok := d.Find([]byte(k)); !ok || string(d.Val(id)) != v {
				t.Fatalf("phase to %d: %s missing or wrong", target, k)
			}
		}
	}
	if d.syncFinishes != 0 {
		t.Fatalf("%d resizes found the previous rehash unfinished", d.syncFinishes)
	}
	if rehashes == 0 {
		t.Fatal("no operation ran during a rehash: the test does not test it")
	}
	if compactions == 0 {
		t.Fatal("no record chunk was compacted: the test does not test it")
	}
	n := 0
	for id := range uint32(d.IDs()) {
		if d.Live(id) {
			n++
			if model[string(d.Key(id))] != string(d.Val(id)) {
				t.Fatalf("value of %s differs", d.Key(id))
			}
		}
	}
	if n != len(model) {
		t.Fatalf("walk found %d, model %d", n, len(model))
	}
}

func TestListModel(t *testing.T) {
	seed := testSeed(t)
	rnd := rand.New(rand.NewPCG(uint64(seed), 11))
	var l list
	var model []string
	for step := range 20000 {
		v := fmt.Sprint(step)
		switch op := rnd.IntN(8); {
		case op == 0:
			l.PushFront([]byte(v))
			model = slices.Insert(model, 0, v)
		case op == 1:
			l.PushBack([]byte(v))
			model = append(model, v)
		case op == 2 && len(model) > 0:
			if got := string(l.PopFront()); got != model[0] {
				t.Fatalf("step %d: popfront %s, model %s", step, got, model[0])
			}
			model = model[1:]
		case op == 3 && len(model) > 0:
			if got := string(l.PopBack()); got != model[len(model)-1] {
				t.Fatalf("step %d: popback", step)
			}
			model = model[:len(model)-1]
		case op == 4:
			i := rnd.IntN(len(model) + 1)
			l.Insert(i, []byte(v))
			model = slices.Insert(model, i, v)
		case op == 5 && len(model) > 0:
			i := rnd.IntN(len(model))
			l.Set(i, []byte(v))
			model[i] = v
		case op == 6 && rnd.IntN(20) == 0:
			l.Filter(func(i int, b []byte) bool { return b[len(b)-1] != '3' })
			model = slices.DeleteFunc(model, func(s string) bool { return s[len(s)-1] == '3' })
		case op == 7 && len(model) > 2 && rnd.IntN(50) == 0:
			s := rnd.IntN(len(model))
			e := s + rnd.IntN(len(model)-s)
			l.Trim(s, e)
			model = slices.Clone(model[s : e+1])
		}
		if l.Len() != len(model) {
			t.Fatalf("step %d: len", step)
		}
		if len(model) > 0 {
			i := rnd.IntN(len(model))
			if string(l.At(i)) != model[i] {
				t.Fatalf("step %d: at %d", step, i)
			}
		}
	}
}
