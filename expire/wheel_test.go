package expire

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// checkInvariants verifies the wheel's structure: every live timer on
// exactly one well-linked list, in the place its deadline and the wheel's
// time call for; occupancy bits matching the slot lists; every other timer
// node on the free stack with an even generation.
func checkInvariants(w *Wheel) error {
	nodes := w.nodes
	if len(nodes) < sentinels {
		return fmt.Errorf("%d nodes, fewer than the %d sentinels", len(nodes), sentinels)
	}
	if w.nowMs < 0 {
		return fmt.Errorf("wheel time %d < 0", w.nowMs)
	}
	seen := make([]bool, len(nodes))
	onLists := 0
	walk := func(s uint32, check func(i uint32, d int64) error) (int, error) {
		if nodes[s].gen != 0 {
			return 0, fmt.Errorf("sentinel %d: generation %d", s, nodes[s].gen)
		}
		count := 0
		prev := s
		for i := nodes[s].next; i != s; i = nodes[i].next {
			if int(i) >= len(nodes) || i < sentinels {
				return 0, fmt.Errorf("list %d: link to node %d", s, i)
			}
			if seen[i] {
				return 0, fmt.Errorf("list %d: node %d seen twice", s, i)
			}
			seen[i] = true
			if nodes[i].prev != prev {
				return 0, fmt.Errorf("list %d: node %d prev %d, want %d", s, i, nodes[i].prev, prev)
			}
			if nodes[i].gen&1 != 1 {
				return 0, fmt.Errorf("list %d: node %d not live (gen %d)", s, i, nodes[i].gen)
			}
			if err := check(i, nodes[i].deadlineMs); err != nil {
				return 0, fmt.Errorf("list %d node %d deadline %d now %d: %v", s, i, nodes[i].deadlineMs, w.nowMs, err)
			}
			prev = i
			count++
		}
		if nodes[s].prev != prev {
			return 0, fmt.Errorf("list %d: sentinel prev %d, want %d", s, nodes[s].prev, prev)
		}
		return count, nil
	}
	for level := range levels {
		for slot := range slotsPerLevel {
			s := uint32(level*slotsPerLevel + slot)
			n, err := walk(s, func(i uint32, d int64) error {
				if d <= w.nowMs {
					return fmt.Errorf("due timer in level %d slot %d", level, slot)
				}
				l := (63 - bits.LeadingZeros64(uint64(d^w.nowMs))) / slotBits
				if l != level || int(uint64(d)>>(level*slotBits))&slotMask != slot {
					return fmt.Errorf("misplaced in level %d slot %d", level, slot)
				}
				return nil
			})
			if err != nil {
				return err
			}
			bit := w.occupied[level][slot/64]>>(slot%64)&1 == 1
			if bit != (n > 0) {
				return fmt.Errorf("level %d slot %d: %d timers, occupancy bit %v", level, slot, n, bit)
			}
			onLists += n
		}
	}
	n, err := walk(listDue, func(i uint32, d int64) error {
		if d > w.nowMs || d < w.dueMinMs {
			return fmt.Errorf("on the due list, dueMinMs %d", w.dueMinMs)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 && w.dueMinMs != math.MaxInt64 {
		return fmt.Errorf("empty due list, dueMinMs %d", w.dueMinMs)
	}
	onLists += n
	n, err = walk(listPending, func(i uint32, d int64) error {
		if d < w.nowMs {
			return fmt.Errorf("pending timer already overdue")
		}
		return nil
	})
	if err != nil {
		return err
	}
	onLists += n
	n, err = walk(listOverflow, func(i uint32, d int64) error {
		if d <= w.nowMs || uint64(d^w.nowMs)>>wheelBits == 0 {
			return fmt.Errorf("on the overflow list within the levels' span")
		}
		if d < w.overflowMinMs {
			return fmt.Errorf("on the overflow list below overflowMinMs %d", w.overflowMinMs)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 && w.overflowMinMs != math.MaxInt64 {
		return fmt.Errorf("empty overflow list, overflowMinMs %d", w.overflowMinMs)
	}
	onLists += n
	if onLists != w.live {
		return fmt.Errorf("%d timers on lists, live %d", onLists, w.live)
	}
	free := 0
	for _, i := range w.free {
		if int(i) >= len(nodes) || i < sentinels || seen[i] {
			return fmt.Errorf("free stack: bad or repeated node %d", i)
		}
		seen[i] = true
		if nodes[i].gen&1 != 0 {
			return fmt.Errorf("free node %d has live generation %d", i, nodes[i].gen)
		}
		free++
	}
	if sentinels+onLists+free != len(nodes) {
		return fmt.Errorf("%d nodes: %d sentinels + %d live + %d free", len(nodes), sentinels, onLists, free)
	}
	return nil
}

// collect advances to nowMs until done and returns the fired values, failing
// the test if any call fires more than maxFire.
func collect(t *testing.T, w *Wheel, nowMs int64, maxFire int) []uint64 {
	t.Helper()
	var got []uint64
	for {
		n := 0
		more := w.Advance(nowMs, maxFire, func(v uint64) { got = append(got, v); n++ })
		if n > maxFire {
			t.Fatalf("Advance(%d) fired %d, maxFire %d", nowMs, n, maxFire)
		}
		if !more {
			return got
		}
	}
}

// TestLimits asserts the relations between the wheel's constants.
func TestLimits(t *testing.T) {
	if slotsPerLevel%64 != 0 || slotsPerLevel&(slotsPerLevel-1) != 0 {
		t.Errorf("slotsPerLevel %d: want a power of two and a multiple of 64 (bitmap words)", slotsPerLevel)
	}
	if wheelBits > 62 {
		t.Errorf("wheelBits %d: the next multiple of 2^wheelBits must fit an int64", wheelBits)
	}
	if int64(1)<<wheelBits < 1000*yearMs {
		t.Errorf("the levels span %d ms, less than a thousand years", int64(1)<<wheelBits)
	}
	if TimersMax+sentinels > math.MaxUint32 {
		t.Errorf("node indexes: %d sentinels + TimersMax %d must fit a uint32", sentinels, TimersMax)
	}
	if MovesPerFire < 1 {
		t.Errorf("MovesPerFire %d: cascading would never progress", MovesPerFire)
	}
}

func TestAddFireOnce(t *testing.T) {
	const start = 1_700_000_000_000
	w := New(start)
	w.Add(start+10, 1)
	w.Add(start+10, 2)
	w.Add(start+11, 3)
	if got := collect(t, w, start+9, 10); len(got) != 0 {
		t.Fatalf("fired %v before the deadline", got)
	}
	if got := collect(t, w, start+10, 10); len(got) != 2 {
		t.Fatalf("at the deadline fired %v, want 1 and 2", got)
	}
	if got := collect(t, w, start+10, 10); len(got) != 0 {
		t.Fatalf("fired %v twice", got)
	}
	if got := collect(t, w, start+1000, 10); len(got) != 1 || got[0] != 3 {
		t.Fatalf("fired %v, want [3]", got)
	}
	if w.Len() != 0 || w.NextWakeMs() != math.MaxInt64 {
		t.Fatalf("Len %d NextWakeMs %d after all fired", w.Len(), w.NextWakeMs())
	}
}

// TestUpdateKeepsOneEntry: a thousand updates of one timer leave one entry,
// which fires once, at the last deadline only.
func TestUpdateKeepsOneEntry(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const start = 1_700_000_000_000
	w := New(start)
	other := w.Add(start+5000, 99)
	h := w.Add(start+1, 7)
	var last int64
	for range 1000 {
		last = start + 1 + rng.Int64N(10*yearMs)
		if !w.Update(h, last) {
			t.Fatal("Update of a live handle returned false")
		}
	}
	last = start + 3000 // a deadline below earlier ones and the other timer's
	w.Update(h, last)
	if w.Len() != 2 {
		t.Fatalf("Len %d after updates, want 2", w.Len())
	}
	if err := checkInvariants(w); err != nil {
		t.Fatal(err)
	}
	if d, ok := w.Deadline(h); !ok || d != last {
		t.Fatalf("Deadline %d %v, want %d", d, ok, last)
	}
	if got := collect(t, w, last-1, 1); len(got) != 0 {
		t.Fatalf("fired %v before the last deadline", got)
	}
	if got := collect(t, w, last, 1); len(got) != 1 || got[0] != 7 {
		t.Fatalf("fired %v at the last deadline, want [7]", got)
	}
	if got := collect(t, w, start+100*yearMs, 1); len(got) != 1 || got[0] != 99 {
		t.Fatalf("fired %v afterwards, want only the other timer", got)
	}
	if w.Cancel(other) || w.Cancel(h) {
		t.Fatal("Cancel of a fired timer returned true")
	}
	// Updating a due timer to the future takes it off the due list.
	h = w.Add(0, 8)
	w.Update(h, w.NowMs()+50)
	if got := collect(t, w, w.NowMs()+49, 1); len(got) != 0 {
		t.Fatalf("fired %v at its old deadline", got)
	}
	if got := collect(t, w, w.NowMs()+1, 1); len(got) != 1 {
		t.Fatalf("fired %v at its new deadline", got)
	}
}

func TestStaleHandle(t *testing.T) {
	w := New(1000)
	h := w.Add(2000, 1)
	if !w.Cancel(h) {
		t.Fatal("Cancel of a live handle returned false")
	}
	if w.Cancel(h) || w.Update(h, 3000) {
		t.Fatal("Cancel/Update of a cancelled handle returned true")
	}
	// The node is reused by the next Add: the old handle must not reach it.
	h2 := w.Add(2000, 2)
	if uint32(h2) != uint32(h) {
		t.Fatalf("expected node reuse: %#x vs %#x", h2, h)
	}
	if w.Cancel(h) || w.Update(h, 1) {
		t.Fatal("a stale handle reached the reused node")
	}
	if d, ok := w.Deadline(h2); !ok || d != 2000 || w.Len() != 1 {
		t.Fatalf("the live timer was disturbed: %d %v Len %d", d, ok, w.Len())
	}
	// Fired handles go stale too; handles never issued are refused.
	collect(t, w, 2000, 1)
	for _, bad := range []Handle{h2, 0, 1, Handle(sentinels), Handle(listDue), Handle(1<<32 | listDue), math.MaxUint64, Handle(3<<32 | uint64(uint32(h2)))} {
		if w.Cancel(bad) || w.Update(bad, 5) {
			t.Fatalf("handle %#x accepted", bad)
		}
		if _, ok := w.Deadline(bad); ok {
			t.Fatalf("Deadline of handle %#x accepted", bad)
		}
	}
	if err := checkInvariants(w); err != nil {
		t.Fatal(err)
	}
	w.Add(3000, 3)
	w.Add(4000, 4)
	live := w.Add(0, 5)
	w.Clear()
	if w.Len() != 0 || w.Cancel(live) || w.NextWakeMs() != math.MaxInt64 {
		t.Fatal("Clear left timers or live handles")
	}
	if err := checkInvariants(w); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, w, 10_000, 1); len(got) != 0 {
		t.Fatalf("fired %v after Clear", got)
	}
}

// TestExtremeTTLs: 1 ms and multi-year TTLs fire exactly at their deadline,
// and a jump of years costs a few cascade events, not a walk over slots.
func TestExtremeTTLs(t *testing.T) {
	const start = 1_700_000_000_123
	for _, ttl := range []int64{1, 2, 255, 256, 257, 65_536, 3600_000, dayMs, 2 * yearMs, 30 * yearMs, 500 * yearMs, 9000 * yearMs, 1 << 50, math.MaxInt64 - start} {
		w := New(start)
		w.Add(start+ttl, 42)
		if wake := w.NextWakeMs(); wake > start+ttl || wake <= start {
			t.Errorf("ttl %d: NextWakeMs %d", ttl, wake)
		}
		if got := collect(t, w, start+ttl-1, 1); len(got) != 0 {
			t.Errorf("ttl %d: fired 1 ms early", ttl)
		}
		if err := checkInvariants(w); err != nil {
			t.Fatalf("ttl %d: %v", ttl, err)
		}
		if got := collect(t, w, start+ttl, 1); len(got) != 1 {
			t.Errorf("ttl %d: did not fire at its deadline", ttl)
		}
		// A timer moves at most once per level, plus wraps of the overflow.
		if w.events > 2*levels {
			t.Errorf("ttl %d: %d cascade events", ttl, w.events)
		}
	}
}

// TestIdleJump: after an idle period of years the wheel reaches the next
// timer through its occupancy bitmaps, with no per-slot walking.
func TestIdleJump(t *testing.T) {
	const start = 1_700_000_000_000
	w := New(start)
	w.Add(start+3*yearMs+17, 1)
	w.Add(start+7*yearMs, 2)
	if got := collect(t, w, start+5*yearMs, 1); len(got) != 1 || got[0] != 1 {
		t.Fatalf("fired %v, want [1]", got)
	}
	if got := collect(t, w, start+50*yearMs, 1); len(got) != 1 || got[0] != 2 {
		t.Fatalf("fired %v, want [2]", got)
	}
	if w.events > 2*levels {
		t.Fatalf("%d cascade events for two timers", w.events)
	}
	if w.NowMs() != start+50*yearMs {
		t.Fatalf("wheel time %d, want %d", w.NowMs(), start+50*yearMs)
	}
	// The clock going backwards fires nothing and moves nothing.
	w.Add(start+50*yearMs+10, 3)
	if got := collect(t, w, start, 1); len(got) != 0 || w.NowMs() != start+50*yearMs {
		t.Fatalf("backwards clock: fired %v, time %d", got, w.NowMs())
	}
}

// TestMillionSameMs: a million timers due in the same millisecond fire over
// several calls, none firing more than maxFire, each exactly once.
func TestMillionSameMs(t *testing.T) {
	const start, n, maxFire = 1_700_000_000_000, 1_000_000, 10_000
	w := New(start)
	w.Grow(n)
	for i := range n {
		w.Add(start+90_000, uint64(i))
	}
	seen := make([]bool, n)
	calls, total := 0, 0
	for more := true; more; calls++ {
		fired := 0
		more = w.Advance(start+90_000, maxFire, func(v uint64) {
			if seen[v] {
				t.Fatalf("value %d fired twice", v)
			}
			seen[v] = true
			fired++
		})
		if fired > maxFire {
			t.Fatalf("call %d fired %d, maxFire %d", calls, fired, maxFire)
		}
		total += fired
	}
	if total != n || w.Len() != 0 {
		t.Fatalf("fired %d of %d, %d left", total, n, w.Len())
	}
	// One move per timer out of level 1 plus one per firing: at least
	// n/maxFire calls, and not many more.
	if calls < n/maxFire || calls > 2*n/maxFire+2 {
		t.Fatalf("%d calls for %d timers at maxFire %d", calls, n, maxFire)
	}
	t.Logf("%d timers fired in %d calls", n, calls)
}

// TestFireCallback: the callback sees a consistent wheel and may change it.
func TestFireCallback(t *testing.T) {
	w := New(100)
	w.Add(110, 1)
	h2 := w.Add(110, 2) // fires after 1: lists keep the order of arrival
	var got []uint64
	w.Advance(110, 10, func(v uint64) {
		got = append(got, v)
		if v == 1 {
			w.Cancel(h2) // a due timer cancelled before it fires
			w.Add(105, 3)
			w.Add(500, 4)
		}
		if v == 2 {
			t.Fatal("a cancelled timer fired")
		}
	})
	if len(got) != 2 || got[0] != 1 || got[1] != 3 || w.Len() != 1 {
		t.Fatalf("fired %v, Len %d", got, w.Len())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Advance from the fire callback did not panic")
		}
	}()
	w.Add(0, 5)
	w.Advance(200, 1, func(uint64) { w.Advance(200, 1, func(uint64) {}) })
}

// TestZeroAllocs pins the steady state: Add, Cancel, Update and Advance
// (firing) allocate nothing once the node array has grown.
func TestZeroAllocs(t *testing.T) {
	const start = 1_700_000_000_000
	w := New(start)
	handles := make([]Handle, 10_000)
	for i := range handles {
		handles[i] = w.Add(start+int64(i)*7, uint64(i))
	}
	w.Grow(1000)
	now := int64(start)
	var fired int
	fire := func(uint64) { fired++ }
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		h := w.Add(now+int64(i%5000), 1)
		w.Update(h, now+int64(i%70_000))
		w.Update(handles[i%len(handles)], now+int64(i%90_000))
		w.Cancel(h)
		w.Add(now+1+int64(i%3), 2)
		now += 2
		w.Advance(now, 3, fire)
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Add/Update/Cancel/Advance", allocs)
	}
	if fired == 0 {
		t.Fatal("nothing fired: the test measured nothing")
	}
}

// Release gives back an empty wheel's nodes, and every handle issued before
// stays stale even though node indexes are reused afterwards.
func TestReleaseKeepsOldHandlesStale(t *testing.T) {
	w := New(0)
	var old []Handle
	for i := range releaseNodesMin {
		old = append(old, w.Add(int64(1+i%50), uint64(i)))
	}
	if w.Release() {
		t.Fatal("Release with live timers")
	}
	fired := 0
	for more := true; more; more = w.Advance(100, 1<<20, func(uint64) { fired++ }) {
	}
	if fired != releaseNodesMin {
		t.Fatalf("fired %d of %d", fired, releaseNodesMin)
	}
	if !w.Release() {
		t.Fatal("Release of an empty wheel with a large node array did nothing")
	}
	if cap(w.nodes) >= releaseNodesMin {
		t.Fatalf("node array still has room for %d", cap(w.nodes))
	}
	h := w.Add(500, 7) // reuses the first node index
	for _, o := range old {
		if w.Cancel(o) {
			t.Fatalf("stale handle %x cancelled a new timer", o)
		}
	}
	if d, ok := w.Deadline(h); !ok || d != 500 {
		t.Fatalf("new timer lost: %d %v", d, ok)
	}
	got := []uint64{}
	for more := true; more; more = w.Advance(600, 10, func(v uint64) { got = append(got, v) }) {
	}
	if len(got) != 1 || got[0] != 7 || w.Len() != 0 {
		t.Fatalf("after release: fired %v, len %d", got, w.Len())
	}
}
