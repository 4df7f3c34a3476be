package store

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// seedFlag replays a randomised test: go test ./store -run Model -seed N.
// Other randomised tests in this package should call testSeed rather than
// define their own flag (a second "seed" flag would panic at start).
var seedFlag = flag.Int64("seed", 0, "seed for randomised store tests (0: time-based)")

// testSeed returns the -seed flag or a fresh time-based seed, and logs it.
func testSeed(tb testing.TB) int64 {
	tb.Helper()
	s := *seedFlag
	if s == 0 {
		s = time.Now().UnixNano()
	}
	tb.Logf("seed %d (replay with -seed %d)", s, s)
	return s
}

// kindTestObj stands for the object kinds of later issues.
const kindTestObj = KindString + 1

// checkIndex verifies an index's structure against its owner's records:
// ids is the id space, tagOf(id) the tag a live id must have (ok=false for
// a free id). It returns how many times each id is indexed.
func checkIndex(x *slotIndex, ids int, tagOf func(id uint32) (tag uint32, ok bool)) ([]int, error) {
	for _, s := range [][]slot{x.cur, x.old} {
		if s != nil && (len(s) < tableSlotsMin || len(s)&(len(s)-1) != 0) {
			return nil, fmt.Errorf("index of %d slots: want a power of two >= %d", len(s), tableSlotsMin)
		}
	}
	if x.Len()*tableGrowDen > len(x.cur)*tableGrowNum {
		return nil, fmt.Errorf("%d keys in %d slots: over the load limit", x.Len(), len(x.cur))
	}
	if x.old == nil && (x.oldCount != 0 || x.oldCursor != 0) {
		return nil, fmt.Errorf("no old table but oldCount %d oldCursor %d", x.oldCount, x.oldCursor)
	}
	seen := make([]int, ids)
	walk := func(name string, slots []slot, tombsOK bool, cursor int) (int, error) {
		mask := len(slots) - 1
		live := 0
		for i, s := range slots {
			switch s.ref {
			case slotEmpty:
				continue
			case slotTomb:
				if !tombsOK {
					return 0, fmt.Errorf("%s slot %d: tombstone", name, i)
				}
				continue
			}
			if i < cursor {
				return 0, fmt.Errorf("%s slot %d: live behind the cursor %d", name, i, cursor)
			}
			id := s.ref - 1
			tag, ok := uint32(0), int(id) < ids
			if ok {
				tag, ok = tagOf(id)
			}
			if !ok {
				return 0, fmt.Errorf("%s slot %d: id %d is not live", name, i, id)
			}
			if seen[id]++; seen[id] > 1 {
				return 0, fmt.Errorf("%s slot %d: id %d indexed twice", name, i, id)
			}
			if s.tag != tag {
				return 0, fmt.Errorf("%s slot %d: tag %#x, record's hash %#x", name, i, s.tag, tag)
			}
			for j := int(s.tag) & mask; j != i; j = (j + 1) & mask {
				if slots[j].ref == slotEmpty {
					return 0, fmt.Errorf("%s slot %d (id %d): unreachable, empty slot %d on its probe path", name, i, id, j)
				}
			}
			live++
		}
		return live, nil
	}
	n, err := walk("cur", x.cur, false, 0)
	if err != nil {
		return nil, err
	}
	if n != x.curCount {
		return nil, fmt.Errorf("cur holds %d keys, curCount %d", n, x.curCount)
	}
	if x.old != nil {
		n, err := walk("old", x.old, true, x.oldCursor)
		if err != nil {
			return nil, err
		}
		if n != x.oldCount || n == 0 {
			return nil, fmt.Errorf("old holds %d keys, oldCount %d (an empty old table must be dropped)", n, x.oldCount)
		}
	}
	return seen, nil
}

// checkInvariants verifies the table's internal structure.
func checkInvariants(t *Table) error {
	seen, err := checkIndex(&t.slotIndex, len(t.entries), func(id uint32) (uint32, bool) {
		e := &t.entries[id]
		return uint32(e.hash), e.kind != KindNone
	})
	if err != nil {
		return err
	}
	live, expires, blockBytes := 0, 0, 0
	objUsed := make([]bool, len(t.objs))
	for id := range t.entries {
		e := &t.entries[id]
		if e.kind == KindNone {
			if *e != (entry{}) {
				return fmt.Errorf("free id %d not zeroed: %+v", id, *e)
			}
			continue
		}
		live++
		if seen[id] != 1 {
			return fmt.Errorf("live id %d indexed %d times", id, seen[id])
		}
		if e.hash != tableHash(t.Key(uint32(id))) {
			return fmt.Errorf("id %d: stale hash", id)
		}
		if int(e.keyLen+e.valLen) > t.arena.capacity(e.ref) {
			return fmt.Errorf("id %d: %d+%d bytes in a block of %d", id, e.keyLen, e.valLen, t.arena.capacity(e.ref))
		}
		blockBytes += t.arena.capacity(e.ref)
		if e.expireAtMs != 0 {
			expires++
		}
		if e.kind != KindString {
			if e.valLen != 0 || int(e.obj) >= len(t.objs) || objUsed[e.obj] {
				return fmt.Errorf("id %d: bad object slot %d (valLen %d)", id, e.obj, e.valLen)
			}
			objUsed[e.obj] = true
		}
	}
	if live != t.Len() {
		return fmt.Errorf("%d live entries, Len %d", live, t.Len())
	}
	if n := len(t.entries); n > 0 && t.entries[n-1].kind == KindNone {
		return fmt.Errorf("trailing free id %d not trimmed", n-1)
	}
	if expires != t.expires {
		return fmt.Errorf("%d entries with a TTL, Expires %d", expires, t.expires)
	}
	if blockBytes != t.arena.liveBytes {
		return fmt.Errorf("live entries hold %d arena bytes, arena says %d", blockBytes, t.arena.liveBytes)
	}
	freeSeen := make([]bool, len(t.entries))
	freeValid := 0
	for _, id := range t.freeIDs {
		if int(id) >= len(t.entries) {
			continue // stale
		}
		if t.entries[id].kind != KindNone || freeSeen[id] {
			return fmt.Errorf("free list holds id %d twice or live", id)
		}
		freeSeen[id] = true
		freeValid++
	}
	if freeValid != len(t.entries)-live {
		return fmt.Errorf("free list holds %d usable ids, %d are free", freeValid, len(t.entries)-live)
	}
	for _, i := range t.freeObjs {
		if objUsed[i] || t.objs[i] != nil {
			return fmt.Errorf("free object slot %d in use", i)
		}
	}
	return nil
}

// modelValue is what the model map holds for a key.
type modelValue struct {
	str  string
	kind Kind
	obj  *int
	ttl  int64
}

// tableModel runs a Table against a Go map.
type tableModel struct {
	tb     testing.TB
	seed   int64
	rng    *rand.Rand
	pool   []byte // random bytes that keys and values are cut from
	t      *Table
	vals   map[string]*modelValue
	keys   []string // the keys of vals, for uniform picks
	pos    map[string]int
	op     int
	ttlSet int

	rehashChecks int // lookups asserted while Rehashing() was true
	rehashes     int // rehashes observed starting
	grows        int
	shrinks      int
}

func newTableModel(tb testing.TB) *tableModel {
	seed := testSeed(tb)
	m := &tableModel{
		tb:   tb,
		seed: seed,
		rng:  rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>32|1)),
		t:    NewTable(),
		vals: map[string]*modelValue{},
		pos:  map[string]int{},
	}
	m.pool = make([]byte, 256<<10)
	for i := range m.pool {
		m.pool[i] = byte(m.rng.Uint32())
	}
	// Make the bytes a protocol would choke on common.
	for _, c := range []byte{0, '\r', '\n', ' '} {
		for range 4096 {
			m.pool[m.rng.IntN(len(m.pool))] = c
		}
	}
	return m
}

func (m *tableModel) fatalf(format string, args ...any) {
	m.tb.Helper()
	m.tb.Fatalf("seed %d op %d: %s", m.seed, m.op, fmt.Sprintf(format, args...))
}

func (m *tableModel) bytesOf(n int) []byte {
	off := m.rng.IntN(len(m.pool) - n + 1)
	return m.pool[off : off+n]
}

func (m *tableModel) randKey() []byte { return m.bytesOf(m.rng.IntN(21)) }

func (m *tableModel) randVal() []byte {
	if m.rng.IntN(1000) == 0 {
		return m.bytesOf(m.rng.IntN(100<<10 + 1))
	}
	return m.bytesOf(m.rng.IntN(201))
}

func (m *tableModel) pick() string { return m.keys[m.rng.IntN(len(m.keys))] }

func (m *tableModel) put(k string, v *modelValue) {
	if _, ok := m.vals[k]; !ok {
		m.pos[k] = len(m.keys)
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *tableModel) del(k string) {
	i := m.pos[k]
	last := m.keys[len(m.keys)-1]
	m.keys[i] = last
	m.pos[last] = i
	m.keys = m.keys[:len(m.keys)-1]
	delete(m.pos, k)
	delete(m.vals, k)
}

// find looks k up, noting lookups made during a rehash.
func (m *tableModel) find(k []byte) (uint32, bool) {
	if m.t.Rehashing() {
		m.rehashChecks++
	}
	return m.t.Find(k)
}

// checkKey asserts that the table agrees with the model about k.
func (m *tableModel) checkKey(k string) {
	want, present := m.vals[k]
	id, ok := m.find([]byte(k))
	if ok != present {
		m.fatalf("Find(%q) ok=%v, model has it: %v (rehashing %v)", k, ok, present, m.t.Rehashing())
	}
	if !ok {
		return
	}
	if got := string(m.t.Key(id)); got != k {
		m.fatalf("Find(%q) returned id %d with key %q", k, id, got)
	}
	if got := m.t.Kind(id); got != want.kind {
		m.fatalf("key %q: kind %d, want %d", k, got, want.kind)
	}
	if got := m.t.ExpireAt(id); got != want.ttl {
		m.fatalf("key %q: ExpireAt %d, want %d", k, got, want.ttl)
	}
	if want.kind == KindString {
		if got := m.t.Str(id); string(got) != want.str {
			m.fatalf("key %q: value of %d bytes differs from the model's %d", k, len(got), len(want.str))
		}
	} else if got, _ := m.t.Obj(id).(*int); got != want.obj {
		m.fatalf("key %q: Obj %p, want %p", k, got, want.obj)
	}
}

// checkAll compares the whole table with the model both ways.
func (m *tableModel) checkAll() {
	if err := checkInvariants(m.t); err != nil {
		m.fatalf("invariants: %v", err)
	}
	if m.t.Len() != len(m.vals) {
		m.fatalf("Len %d, model %d", m.t.Len(), len(m.vals))
	}
	if m.t.Expires() != m.ttlSet {
		m.fatalf("Expires %d, model %d", m.t.Expires(), m.ttlSet)
	}
	for k := range m.vals {
		m.checkKey(k)
	}
	seen := make(map[string]bool, len(m.vals))
	cursor, calls := uint64(0), 0
	for {
		cursor = m.t.Scan(cursor, 100, func(id uint32) {
			k := string(m.t.Key(id))
			if _, ok := m.vals[k]; !ok {
				m.fatalf("Scan returned key %q (id %d) not in the model", k, id)
			}
			if seen[k] {
				m.fatalf("Scan returned key %q twice", k)
			}
			seen[k] = true
		})
		if calls++; cursor == 0 {
			break
		}
	}
	if len(seen) != len(m.vals) {
		m.fatalf("Scan returned %d keys, model has %d", len(seen), len(m.vals))
	}
}

// The model's operations and their weights (percent) while the table grows
// and while it shrinks.
const (
	opInsert = iota
	opOverwrite
	opGrow
	opTTL
	opObj
	opAbsent
	opRemove
	opCount
)

var (
	opWeightsGrowing   = [opCount]int{60, 10, 8, 4, 3, 3, 12}
	opWeightsShrinking = [opCount]int{10, 5, 3, 2, 1, 2, 77}
)

// step performs one random operation and checks the key it touched.
func (m *tableModel) step(growing bool) {
	m.op++
	wasRehashing := m.t.Rehashing()
	slots := len(m.t.cur)
	op := opInsert
	if len(m.keys) > 0 {
		weights := &opWeightsGrowing
		if !growing {
			weights = &opWeightsShrinking
		}
		r := m.rng.IntN(100)
		for op = 0; r >= weights[op]; op++ {
			r -= weights[op]
		}
	}
	var touched string
	switch op {
	case opInsert: // insert, or overwrite when the key exists
		k := m.randKey()
		v := m.randVal()
		id, ok := m.find(k)
		if !ok {
			id = m.t.Add(k)
			if got := m.t.Str(id); len(got) != 0 || m.t.Kind(id) != KindString || m.t.ExpireAt(id) != 0 {
				m.fatalf("Add(%q): value %q kind %d ttl %d, want an empty string", k, got, m.t.Kind(id), m.t.ExpireAt(id))
			}
		}
		m.t.SetStr(id, v)
		mv := &modelValue{str: string(v), kind: KindString}
		if old, ok := m.vals[string(k)]; ok {
			mv.ttl = old.ttl // SetStr keeps the TTL; dropping it is the command's call
		}
		m.put(string(k), mv)
		touched = string(k)
	case opOverwrite: // overwrite an existing key, sometimes with a value of the table itself
		k := m.pick()
		id, _ := m.find([]byte(k))
		var v []byte
		switch m.rng.IntN(4) {
		case 0:
			other, _ := m.find([]byte(m.pick()))
			v = m.t.Str(other)
		case 1:
			s := m.t.Str(id)
			v = s[m.rng.IntN(len(s)+1):]
		default:
			v = m.randVal()
		}
		want := string(v)
		m.t.SetStr(id, v)
		m.vals[k].str, m.vals[k].kind, m.vals[k].obj = want, KindString, nil
		touched = k
	case opGrow: // GrowStr, as APPEND and SETRANGE do
		k := m.pick()
		id, _ := m.find([]byte(k))
		mv := m.vals[k]
		have := mv.str
		if mv.kind != KindString {
			have = ""
		}
		n := max(0, len(have)+m.rng.IntN(300)-50)
		b := m.t.GrowStr(id, n)
		want := []byte(have)
		if n <= len(want) {
			want = want[:n]
		} else {
			want = append(want, make([]byte, n-len(want))...)
		}
		if !bytes.Equal(b, want) {
			m.fatalf("GrowStr(%q, %d) from %d bytes: prefix kept or growth zeroed wrongly", k, n, len(have))
		}
		if n > len(have) && m.rng.IntN(2) == 0 {
			copy(b[len(have):], m.bytesOf(n-len(have)))
			copy(want[len(have):], b[len(have):])
		}
		mv.str, mv.kind, mv.obj = string(want), KindString, nil
		touched = k
	case opTTL:
		k := m.pick()
		id, _ := m.find([]byte(k))
		ms := int64(0)
		if m.rng.IntN(3) > 0 {
			ms = 1_700_000_000_000 + m.rng.Int64N(1e9)
		}
		mv := m.vals[k]
		if (mv.ttl != 0) != (ms != 0) {
			if ms != 0 {
				m.ttlSet++
			} else {
				m.ttlSet--
			}
		}
		m.t.SetExpireAt(id, ms)
		mv.ttl = ms
		touched = k
	case opObj:
		k := m.pick()
		id, _ := m.find([]byte(k))
		obj := new(int)
		m.t.SetObj(id, kindTestObj, obj)
		mv := m.vals[k]
		mv.str, mv.kind, mv.obj = "", kindTestObj, obj
		touched = k
	case opAbsent: // lookup of a key that is (probably) absent
		touched = string(m.randKey())
	case opRemove:
		k := m.pick()
		id, ok := m.find([]byte(k))
		if !ok {
			m.fatalf("Find(%q) of a model key failed", k)
		}
		m.t.Remove(id)
		if m.vals[k].ttl != 0 {
			m.ttlSet--
		}
		m.del(k)
		touched = k
	}
	m.checkKey(touched)
	if m.t.Rehashing() {
		// Lookups mid-rehash: one present key, one absent.
		if len(m.keys) > 0 {
			m.checkKey(m.pick())
		}
		m.checkKey(string(m.randKey()))
	}
	if !wasRehashing && m.t.Rehashing() {
		m.rehashes++
		if len(m.t.cur) > slots {
			m.grows++
		} else {
			m.shrinks++
		}
	}
	if m.t.syncFinishes != 0 {
		m.fatalf("a resize had to finish the previous rehash synchronously")
	}
}

// TestTableModel drives the table through phases of growth to ~200k keys and
// shrinkage to a handful against a Go map, checking the touched key after
// every operation and everything periodically.
func TestTableModel(t *testing.T) {
	m := newTableModel(t)
	big := 200_000
	if testing.Short() {
		big = 20_000
	}
	const fullCheckEvery = 100_000
	phases := []int{big, 5, big / 2, 3, big / 4, 0}
	for _, target := range phases {
		growing := target > len(m.keys)
		for growing && len(m.keys) < target || !growing && len(m.keys) > target {
			m.step(growing)
			if m.op%fullCheckEvery == 0 {
				m.checkAll()
			}
		}
		m.checkAll()
		t.Logf("phase to %d keys done at op %d: %d slots, %d ids, rehashing %v", target, m.op, len(m.t.cur), len(m.t.entries), m.t.Rehashing())
	}
	// Drain any deferred shrink, then the table is back to its minimum.
	for m.t.RehashStep(1 << 20) {
	}
	m.checkAll()
	if len(m.t.cur) != tableSlotsMin || len(m.t.entries) != 0 {
		m.fatalf("empty table kept %d slots and %d ids", len(m.t.cur), len(m.t.entries))
	}
	t.Logf("%d ops, %d rehashes (%d grows, %d shrinks), %d lookups mid-rehash", m.op, m.rehashes, m.grows, m.shrinks, m.rehashChecks)
	if m.grows < 10 || m.shrinks < 5 {
		m.fatalf("only %d grows and %d shrinks: the phases do not exercise resizing", m.grows, m.shrinks)
	}
	if m.rehashChecks < 1000 {
		m.fatalf("only %d lookups happened mid-rehash", m.rehashChecks)
	}
}

// TestTableRehashDrainsBeforeNextResize checks the arithmetic of
// index.go for every table size: counting only the Adds that push the
// load up, the old table is walked before cur reaches its own grow threshold.
func TestTableRehashDrainsBeforeNextResize(t *testing.T) {
	growAt := func(slots int) int { return slots*tableGrowNum/tableGrowDen + 1 } // first count over the limit
	opsToDrain := func(slots int) int { return (slots + rehashSlotsPerOp - 1) / rehashSlotsPerOp }
	for s := tableSlotsMin; s <= 1<<32; s *= 2 {
		// After a grow of s slots to 2s.
		if adds := growAt(2*s) - growAt(s); adds < opsToDrain(s) {
			t.Errorf("grow from %d slots: next grow after %d Adds, draining takes %d", s, adds, opsToDrain(s))
		}
		// After a shrink of s slots: started with at most the largest count
		// under s/16.
		if s > tableSlotsMin {
			start := (s+tableShrinkBelowDen-1)/tableShrinkBelowDen - 1
			to := max(s/tableShrinkFactor, tableSlotsMin)
			if adds := growAt(to) - start; adds < opsToDrain(s) {
				t.Errorf("shrink from %d slots: next grow after %d Adds, draining takes %d", s, adds, opsToDrain(s))
			}
		}
	}

	// The same, with a real table: only Adds, then only Removes, then only
	// Adds again, and no Find or RehashStep to help the migration along.
	tbl := NewTable()
	var ids []uint32
	for i := range 300_000 {
		ids = append(ids, tbl.Add(fmt.Appendf(nil, "k%d", i)))
	}
	for _, id := range ids[:len(ids)-3] {
		tbl.Remove(id)
	}
	for i := range 300_000 {
		tbl.Add(fmt.Appendf(nil, "again%d", i))
	}
	if tbl.syncFinishes != 0 {
		t.Fatalf("%d resizes found the previous rehash unfinished", tbl.syncFinishes)
	}
	if err := checkInvariants(tbl); err != nil {
		t.Fatal(err)
	}
}

// TestTableShrinkDeferred checks that a shrink due during a rehash happens
// once it is over, through Remove or RehashStep.
func TestTableShrinkDeferred(t *testing.T) {
	tbl := NewTable()
	var ids []uint32
	for i := range 10_000 {
		ids = append(ids, tbl.Add(fmt.Appendf(nil, "k%d", i)))
	}
	for tbl.RehashStep(1 << 20) {
	}
	peak := len(tbl.cur)
	for _, id := range ids[3:] {
		tbl.Remove(id)
	}
	steps := 0
	for tbl.RehashStep(64) {
		steps++
	}
	if len(tbl.cur) > tableSlotsMin && tbl.Len()*tableShrinkBelowDen < len(tbl.cur) {
		t.Fatalf("3 keys left in %d slots (peak %d) after %d steps: a shrink is still due", len(tbl.cur), peak, steps)
	}
	if len(tbl.cur) >= peak/64 {
		t.Fatalf("3 keys left in %d slots (peak %d)", len(tbl.cur), peak)
	}
	if err := checkInvariants(tbl); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:3] {
		if got, ok := tbl.Find(tbl.Key(id)); !ok || got != id {
			t.Fatalf("key %q lost", tbl.Key(id))
		}
	}
}

// TestTableSyncFinishFallback forces a resize in the middle of a rehash (the
// path the ratios make unreachable) and checks that nothing is lost.
func TestTableSyncFinishFallback(t *testing.T) {
	tbl := NewTable()
	for i := range 1000 {
		tbl.Add(fmt.Appendf(nil, "k%d", i))
	}
	for !tbl.Rehashing() {
		tbl.Add(fmt.Appendf(nil, "more%d", tbl.Len()))
	}
	tbl.startRehash(len(tbl.cur) * 2)
	if tbl.syncFinishes != 1 {
		t.Fatalf("syncFinishes %d, want 1", tbl.syncFinishes)
	}
	if err := checkInvariants(tbl); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if _, ok := tbl.Find(fmt.Appendf(nil, "k%d", i)); !ok {
			t.Fatalf("k%d lost", i)
		}
	}
}

// TestTableScanDuringRehash grows and shrinks the index between Scan calls:
// every key present for the whole scan comes back exactly once.
func TestTableScanDuringRehash(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	tbl := NewTable()
	stable := map[string]bool{}
	var churn []uint32
	for i := range 200 {
		k := fmt.Sprintf("stable%d", i)
		tbl.Add([]byte(k))
		stable[k] = true
		churn = append(churn, tbl.Add(fmt.Appendf(nil, "churn%d", i)))
	}
	// Remove some churn keys so the scan starts over a sparse id space.
	for i := 0; i < len(churn); i += 2 {
		tbl.Remove(churn[i])
	}
	churn = churn[:0]

	returned := map[string]int{}
	cursor, calls, resizes, next := uint64(0), 0, 0, 0
	for {
		cursor = tbl.Scan(cursor, 1+rng.IntN(4), func(id uint32) { returned[string(tbl.Key(id))]++ })
		calls++
		if cursor == 0 {
			break
		}
		if calls > 100_000 {
			t.Fatalf("seed %d: scan did not finish in %d calls", seed, calls)
		}
		slots := len(tbl.cur)
		if calls%2 == 1 { // grow by thousands of keys
			for range 1000 + rng.IntN(3000) {
				churn = append(churn, tbl.Add(fmt.Appendf(nil, "new%d", next)))
				next++
			}
		} else { // and shrink them all away again
			for _, id := range churn {
				tbl.Remove(id)
			}
			churn = churn[:0]
		}
		if rng.IntN(2) == 0 { // the event loop's step
			tbl.RehashStep(rng.IntN(2 * rehashSlotsPerOp))
		}
		if len(tbl.cur) != slots {
			resizes++
		}
		if err := checkInvariants(tbl); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	for k := range stable {
		if returned[k] != 1 {
			t.Errorf("seed %d: key %q returned %d times, want once", seed, k, returned[k])
		}
	}
	if resizes < 10 {
		t.Errorf("seed %d: only %d resizes during the scan", seed, resizes)
	}
	t.Logf("%d Scan calls, %d resizes between them", calls, resizes)
}

func TestTableScanBounds(t *testing.T) {
	tbl := NewTable()
	var ids []uint32
	for i := range 10_000 {
		ids = append(ids, tbl.Add(fmt.Appendf(nil, "k%d", i)))
	}
	for _, id := range ids[1 : len(ids)-1] {
		tbl.Remove(id)
	}
	visited := 0
	cursor := tbl.Scan(0, 5, func(uint32) { visited++ })
	if visited != 1 || cursor == 0 || cursor > 1+5*scanEmptyPerCount {
		t.Fatalf("first call: %d keys, cursor %d; want 1 key and at most %d free ids visited", visited, cursor, 5*scanEmptyPerCount)
	}
	if got := tbl.Scan(uint64(len(tbl.entries))+7, 10, func(uint32) { t.Fatal("called past the end") }); got != 0 {
		t.Fatalf("cursor past the end returned %d, want 0", got)
	}
	// fn may remove the id it is given (lazy expiry).
	tbl2 := NewTable()
	for i := range 100 {
		tbl2.Add(fmt.Appendf(nil, "k%d", i))
	}
	for cursor := uint64(0); ; {
		cursor = tbl2.Scan(cursor, 7, func(id uint32) { tbl2.Remove(id) })
		if cursor == 0 {
			break
		}
	}
	if tbl2.Len() != 0 {
		t.Fatalf("%d keys left after removing each during the scan", tbl2.Len())
	}
}

func TestTableRandom(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	tests := []struct {
		name   string
		keys   int
		keep   int // remove all but these (from the end and the middle)
		midRun bool
	}{
		{"small", 10, 10, false},
		{"sparse ids", 100_000, 4, false},
		{"during rehash", 1000, 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := NewTable()
			if _, ok := tbl.Random(rng); ok {
				t.Fatal("Random on an empty table returned ok")
			}
			var ids []uint32
			for i := range tt.keys {
				ids = append(ids, tbl.Add(fmt.Appendf(nil, "k%d", i)))
			}
			live := map[uint32]bool{}
			for i, id := range ids {
				if tt.keep < tt.keys && i != len(ids)-1 && i%(tt.keys/tt.keep) != 7 {
					tbl.Remove(id)
					continue
				}
				live[id] = true
			}
			if tt.midRun {
				for !tbl.Rehashing() {
					id := tbl.Add(fmt.Appendf(nil, "more%d", tbl.Len()))
					live[id] = true
				}
			}
			hits := map[uint32]int{}
			for range max(200*len(live), 20_000) {
				id, ok := tbl.Random(rng)
				if !ok || !live[id] {
					t.Fatalf("seed %d: Random returned %d, ok %v: not a live key", seed, id, ok)
				}
				hits[id]++
			}
			if len(hits) != len(live) {
				t.Fatalf("seed %d: Random hit %d of %d keys", seed, len(hits), len(live))
			}
		})
	}
}

// TestTableBinaryKeys: keys and values are bytes, not C strings or lines.
func TestTableBinaryKeys(t *testing.T) {
	tests := []struct{ key, val string }{
		{"", ""},
		{"", "value of the empty key"},
		{"\x00", ""},
		{"\x00\x00", "\x00"},
		{"a\x00b", "a\r\nb"},
		{"a", "\x00"},
		{"\r\n", "\r\n"},
		{"\r", "\n"},
		{"\n", "\r"},
		{"key\r\n$3\r\n", "*1\r\n"},
		{string(bytes.Repeat([]byte{0xff}, 300)), string(bytes.Repeat([]byte{0}, 70000))},
	}
	tbl := NewTable()
	for _, tt := range tests {
		if _, ok := tbl.Find([]byte(tt.key)); ok {
			continue // same key twice in the table: the second value wins below
		}
		tbl.Add([]byte(tt.key))
	}
	want := map[string]string{}
	for _, tt := range tests {
		id, ok := tbl.Find([]byte(tt.key))
		if !ok {
			t.Fatalf("Find(%q) failed", tt.key)
		}
		tbl.SetStr(id, []byte(tt.val))
		want[tt.key] = tt.val
	}
	if tbl.Len() != len(want) {
		t.Fatalf("Len %d, want %d", tbl.Len(), len(want))
	}
	for k, v := range want {
		id, ok := tbl.Find([]byte(k))
		if !ok || string(tbl.Key(id)) != k || string(tbl.Str(id)) != v {
			t.Errorf("Find(%q): ok %v key %q value %q, want value %q", k, ok, tbl.Key(id), tbl.Str(id), v)
		}
	}
	for _, absent := range []string{"\x00\x00\x00", "a\x00", "a\x00b\x00", "\r\n\r\n", "b"} {
		if _, ok := tbl.Find([]byte(absent)); ok {
			t.Errorf("Find(%q) found a key never added", absent)
		}
	}
	if err := checkInvariants(tbl); err != nil {
		t.Fatal(err)
	}
}

// TestTableSetStrAliasing: SetStr takes values that live in the table itself.
func TestTableSetStrAliasing(t *testing.T) {
	long := string(bytes.Repeat([]byte("0123456789"), 100))
	tests := []struct {
		name string
		init string
		val  func(tbl *Table, id, other uint32) []byte
		want string
	}{
		{"own suffix, in place", "abcdef", func(tbl *Table, id, _ uint32) []byte { return tbl.Str(id)[2:] }, "cdef"},
		{"own prefix, in place", "abcdef", func(tbl *Table, id, _ uint32) []byte { return tbl.Str(id)[:3] }, "abc"},
		{"own value, moving to a smaller block", long, func(tbl *Table, id, _ uint32) []byte { return tbl.Str(id)[990:] }, long[990:]},
		{"own key", "x", func(tbl *Table, id, _ uint32) []byte { return tbl.Key(id) }, "the key"},
		{"other entry's value, moving to a bigger block", "x", func(tbl *Table, _, other uint32) []byte { return tbl.Str(other) }, long},
		{"other entry's key", "x", func(tbl *Table, _, other uint32) []byte { return tbl.Key(other) }, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := NewTable()
			id := tbl.Add([]byte("the key"))
			tbl.SetStr(id, []byte(tt.init))
			other := tbl.Add([]byte("other"))
			tbl.SetStr(other, []byte(long))
			tbl.SetStr(id, tt.val(tbl, id, other))
			if got := string(tbl.Str(id)); got != tt.want {
				t.Fatalf("value %q, want %q", got, tt.want)
			}
			if string(tbl.Key(id)) != "the key" || string(tbl.Str(other)) != long {
				t.Fatalf("neighbouring bytes changed: key %q, other %d bytes", tbl.Key(id), len(tbl.Str(other)))
			}
			if err := checkInvariants(tbl); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTableViewsSurviveOtherMutations pins the documented view validity: a
// Key or Str view stays valid while other entries are added and changed.
func TestTableViewsSurviveOtherMutations(t *testing.T) {
	tbl := NewTable()
	id := tbl.Add([]byte("kept"))
	tbl.SetStr(id, []byte("value"))
	key, val := tbl.Key(id), tbl.Str(id)
	for i := range 50_000 {
		o := tbl.Add(fmt.Appendf(nil, "k%d", i))
		tbl.SetStr(o, bytes.Repeat([]byte{'v'}, i%300))
		if i%3 == 0 {
			tbl.Remove(o)
		}
	}
	if string(key) != "kept" || string(val) != "value" {
		t.Fatalf("views changed to %q %q", key, val)
	}
}

// TestTableGrowStrAmortised: a long run of 1-byte appends moves the value
// only a logarithmic number of times.
func TestTableGrowStrAmortised(t *testing.T) {
	tbl := NewTable()
	id := tbl.Add([]byte("k"))
	moves := 0
	ref := tbl.entries[id].ref
	const n = 3 << 20
	for i := range n {
		b := tbl.GrowStr(id, i+1)
		b[i] = byte(i)
		if r := tbl.entries[id].ref; r != ref {
			moves++
			ref = r
		}
	}
	s := tbl.Str(id)
	for i := range n {
		if s[i] != byte(i) {
			t.Fatalf("byte %d = %d after %d appends", i, s[i], n)
		}
	}
	if moves > 40 {
		t.Fatalf("%d appends moved the value %d times, want O(log n)", n, moves)
	}
	t.Logf("%d appends, %d moves, block %d bytes", n, moves, tbl.arena.capacity(ref))
}

func TestTableObjAndTTL(t *testing.T) {
	tbl := NewTable()
	id := tbl.Add([]byte("key"))
	tbl.SetStr(id, bytes.Repeat([]byte{'x'}, 1000))
	obj := &struct{ n int }{7}
	tbl.SetObj(id, kindTestObj, obj)
	if tbl.Kind(id) != kindTestObj || tbl.Obj(id) != obj || len(tbl.Str(id)) != 0 {
		t.Fatalf("after SetObj: kind %d obj %v str %d bytes", tbl.Kind(id), tbl.Obj(id), len(tbl.Str(id)))
	}
	if c := tbl.arena.capacity(tbl.entries[id].ref); c != blockBytesFor(3) {
		t.Fatalf("object entry keeps a %d-byte block, want %d for the key alone", c, blockBytesFor(3))
	}
	tbl.SetExpireAt(id, 123)
	tbl.SetExpireAt(id, 456)
	if tbl.Expires() != 1 || tbl.ExpireAt(id) != 456 {
		t.Fatalf("Expires %d ExpireAt %d", tbl.Expires(), tbl.ExpireAt(id))
	}
	tbl.SetStr(id, []byte("back"))
	if tbl.Kind(id) != KindString || tbl.Obj(id) != nil || string(tbl.Str(id)) != "back" || tbl.objs[0] != nil {
		t.Fatalf("after SetStr: kind %d obj %v str %q", tbl.Kind(id), tbl.Obj(id), tbl.Str(id))
	}
	tbl.Remove(id)
	if tbl.Expires() != 0 || tbl.Len() != 0 {
		t.Fatalf("after Remove: Expires %d Len %d", tbl.Expires(), tbl.Len())
	}
	if err := checkInvariants(tbl); err != nil {
		t.Fatal(err)
	}
}

func TestTableClearAndMemory(t *testing.T) {
	tbl := NewTable()
	empty := tbl.MemoryBytes()
	for i := range 100_000 {
		id := tbl.Add(fmt.Appendf(nil, "key:%d", i))
		tbl.SetStr(id, []byte("some value bytes"))
		tbl.SetExpireAt(id, 1)
	}
	full := tbl.MemoryBytes()
	// 100k keys of about 30 bytes each, plus their entries and slots.
	if full < 100_000*(30+40+8) || full > 100_000*400 {
		t.Fatalf("MemoryBytes %d for 100k small keys: implausible", full)
	}
	tbl.Clear()
	if tbl.Len() != 0 || tbl.Expires() != 0 || tbl.Rehashing() || tbl.MemoryBytes() != empty {
		t.Fatalf("after Clear: Len %d Expires %d MemoryBytes %d (empty %d)", tbl.Len(), tbl.Expires(), tbl.MemoryBytes(), empty)
	}
	if _, ok := tbl.Find([]byte("key:1")); ok {
		t.Fatal("key found after Clear")
	}
}

// TestTableZeroAllocs: the request path does not allocate.
func TestTableZeroAllocs(t *testing.T) {
	tbl := NewTable()
	var keys [][]byte
	for i := range 1000 {
		k := fmt.Appendf(nil, "key:%d", i)
		keys = append(keys, k)
		id := tbl.Add(k)
		tbl.SetStr(id, []byte("0123456789"))
	}
	for tbl.RehashStep(1 << 20) {
	}
	i := 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Find hit", func() { tbl.Find(keys[i%len(keys)]); i++ }},
		{"Find miss", func() { tbl.Find([]byte("missing")) }},
		{"SetStr same size", func() {
			id, _ := tbl.Find(keys[i%len(keys)])
			tbl.SetStr(id, []byte("abcdefghij"))
			i++
		}},
		{"Add+Remove steady state", func() {
			id := tbl.Add([]byte("transient key"))
			tbl.Remove(id)
		}},
		{"GrowStr within capacity", func() {
			id, _ := tbl.Find(keys[0])
			tbl.GrowStr(id, 10)
		}},
	}
	for _, tt := range tests {
		tt.fn() // warm up
		if got := testing.AllocsPerRun(1000, tt.fn); got != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, got)
		}
	}
}

func TestTableLimits(t *testing.T) {
	// Every id+1 fits a slot without colliding with slotTomb.
	if uint64(tableEntriesMax) >= slotTomb {
		t.Errorf("tableEntriesMax %d reaches slotTomb", tableEntriesMax)
	}
	// The largest index the load limit allows is addressable by the tag.
	slots := uint64(tableSlotsMin)
	for slots*tableGrowNum/tableGrowDen < tableEntriesMax {
		slots *= 2
	}
	if slots > 1<<32 {
		t.Errorf("%d keys need %d slots, more than the 32-bit tag addresses", tableEntriesMax, slots)
	}
	if tableSlotsMin&(tableSlotsMin-1) != 0 || tableSlotsMin < tableShrinkFactor {
		t.Errorf("tableSlotsMin %d must be a power of two >= the shrink factor", tableSlotsMin)
	}
	if rehashSlotsPerOp < 1 || randomIDSamples < 1 || scanEmptyPerCount < 1 {
		t.Error("step bounds must be positive")
	}
	if setStrKeepBytes < arenaClassMinBytes {
		t.Errorf("setStrKeepBytes %d below the smallest block", setStrKeepBytes)
	}
}
