package expire

import (
	"math"
	"math/bits"
)

// Handle names one timer. The zero Handle is never issued, so a zero field
// means "no timer". A handle goes stale when its timer is cancelled or fires;
// Cancel and Update then return false.
type Handle uint64

const (
	slotBits      = 8
	slotsPerLevel = 1 << slotBits // a power of two, a multiple of 64
	slotMask      = slotsPerLevel - 1
	levels        = 6
	wordsPerLevel = slotsPerLevel / 64

	// wheelBits is the span of the levels: deadlines that differ from the
	// wheel's time above this bit wait on the overflow list.
	wheelBits = slotBits * levels

	// Node indexes below sentinels are the lists' sentinels.
	slotSentinels = levels * slotsPerLevel
	listDue       = slotSentinels     // timers whose deadline has come
	listPending   = slotSentinels + 1 // timers of slots being cascaded
	listOverflow  = slotSentinels + 2 // timers beyond the levels' span
	sentinels     = slotSentinels + 3

	// TimersMax bounds the live timers: node indexes are uint32.
	TimersMax = math.MaxUint32 - sentinels

	// MovesPerFire bounds the cascading work of one Advance: it moves at
	// most MovesPerFire*maxFire timers between lists. A move is cheaper than
	// a fire (no callback, no key to free), and a timer moves at most once
	// per level, so 4 keeps cascading from starving firing and from taking
	// more than a few times the firing budget.
	MovesPerFire = 4
)

// node is one timer, or a list sentinel. It holds no pointers.
type node struct {
	deadlineMs int64
	value      uint64
	next, prev uint32 // the circular list the node is on
	gen        uint32 // odd while the timer is live
}

// Wheel is a hierarchical timer wheel. The zero Wheel is not usable; call
// New. A Wheel is owned by one goroutine.
type Wheel struct {
	nodes []node
	// genBase is the generation new nodes start from; Release raises it
	// above every generation issued so far.
	genBase uint32
	// free is the stack of free timer nodes. It is an array rather than a
	// list threaded through the nodes so that Add does not chase a pointer
	// into a cold node to find the next free one: with 10M timers that
	// miss was most of Add's cost.
	free     []uint32
	live     int
	nowMs    int64 // the wheel's time: every timer due at or before it is on listDue
	dueMinMs int64 // a lower bound of the deadlines on listDue; MaxInt64 when it is empty

	// overflowMinMs is a lower bound of the deadlines on listOverflow
	// (MaxInt64 when it is empty): the overflow list is re-examined at the
	// multiple of 2^wheelBits where it may begin to matter, not at every
	// wrap of the top level on the way there.
	overflowMinMs int64

	occupied [levels][wordsPerLevel]uint64 // bit set = slot list not empty

	advancing bool   // inside Advance: the fire callback may not call Advance
	events    uint64 // slots (or the overflow list) spliced for cascading; tests read it
}

// New returns an empty wheel whose time is nowMs.
func New(nowMs int64) *Wheel {
	w := &Wheel{}
	w.init(max(nowMs, 0))
	return w
}

func (w *Wheel) init(nowMs int64) {
	if cap(w.nodes) < sentinels {
		w.nodes = make([]node, sentinels)
	}
	w.nodes = w.nodes[:sentinels]
	for i := range w.nodes {
		w.nodes[i] = node{next: uint32(i), prev: uint32(i)}
	}
	w.free = w.free[:0]
	w.live = 0
	w.nowMs = nowMs
	w.dueMinMs = math.MaxInt64
	w.overflowMinMs = math.MaxInt64
	w.occupied = [levels][wordsPerLevel]uint64{}
}

// Grow makes room for n more timers, so that the next n Adds, and the
// Cancels or fires that free them, do not allocate.
func (w *Wheel) Grow(n int) {
	spare := len(w.free)
	if n > spare && len(w.nodes)+n-spare > cap(w.nodes) {
		nodes := make([]node, len(w.nodes), len(w.nodes)+n-spare)
		copy(nodes, w.nodes)
		w.nodes = nodes
	}
	if total := w.live + len(w.free) + n; total > cap(w.free) {
		free := make([]uint32, len(w.free), total)
		copy(free, w.free)
		w.free = free
	}
}

// Len returns the number of live timers.
func (w *Wheel) Len() int { return w.live }

// NowMs returns the wheel's time: the latest time an Advance reached (or
// New's), never later than the latest nowMs passed to Advance.
func (w *Wheel) NowMs() int64 { return w.nowMs }

// Add starts a timer that fires value at deadlineMs and returns its handle.
// A deadline at or before the wheel's time fires at the next Advance.
func (w *Wheel) Add(deadlineMs int64, value uint64) Handle {
	i := w.alloc()
	n := &w.nodes[i]
	n.deadlineMs = deadlineMs
	n.value = value
	w.live++
	w.place(i)
	return Handle(uint64(n.gen)<<32 | uint64(i))
}

// Cancel stops the timer of h. It returns false, and does nothing, when h is
// stale (the timer fired or was cancelled) or was never issued.
func (w *Wheel) Cancel(h Handle) bool {
	i, ok := w.index(h)
	if !ok {
		return false
	}
	w.unlink(i)
	w.release(i)
	w.live--
	return true
}

// Update moves the timer of h to deadlineMs, keeping its handle and value.
// It returns false, and does nothing, when h is stale or was never issued.
func (w *Wheel) Update(h Handle, deadlineMs int64) bool {
	i, ok := w.index(h)
	if !ok {
		return false
	}
	w.unlink(i)
	w.nodes[i].deadlineMs = deadlineMs
	w.place(i)
	return true
}

// Deadline returns the deadline of the timer of h, and false when h is stale
// or was never issued.
func (w *Wheel) Deadline(h Handle) (int64, bool) {
	i, ok := w.index(h)
	if !ok {
		return 0, false
	}
	return w.nodes[i].deadlineMs, true
}

// NextWakeMs returns a time at or before the earliest deadline of any live
// timer (math.MaxInt64 when there is none): the event loop may sleep until
// then, and must call Advance once it has passed. It can be earlier than
// the earliest deadline (by up to one slot of the level that timer waits
// on), never later; when timers are already due it is at or before the
// wheel's time, so the caller does not sleep.
func (w *Wheel) NextWakeMs() int64 {
	if w.nodes[listDue].next != listDue {
		return w.dueMinMs
	}
	if w.nodes[listPending].next != listPending {
		return w.nowMs
	}
	ms, _ := w.nextEvent()
	return ms
}

// Advance moves the wheel's time towards nowMs and fires the timers whose
// deadline is at or before it: each fired timer is removed (its handle goes
// stale) and then its value passed to fire, in no particular order. It
// fires at most maxFire timers and moves at most MovesPerFire*maxFire
// between levels, and returns more == true when it stopped for that reason:
// the caller should call it again soon (at the same or a later time) without
// sleeping. more == false means every timer due at nowMs has fired.
//
// fire may Add, Cancel and Update timers, but not call Advance. maxFire
// must be at least 1.
func (w *Wheel) Advance(nowMs int64, maxFire int, fire func(value uint64)) (more bool) {
	if maxFire < 1 {
		panic("BUG: expire: Advance with maxFire < 1")
	}
	if w.advancing {
		panic("BUG: expire: Advance called from its own fire callback")
	}
	w.advancing = true
	defer func() { w.advancing = false }()

	movesMax := maxFire * MovesPerFire
	if movesMax/MovesPerFire != maxFire {
		movesMax = math.MaxInt
	}
	fired, moves := 0, 0
	for {
		// Due timers first: they are what the caller is waiting for, and
		// each was already paid for by a move (or by Add).
		if i := w.nodes[listDue].next; i != listDue {
			if fired == maxFire {
				return true
			}
			value := w.nodes[i].value
			w.unlink(i)
			w.release(i)
			w.live--
			fired++
			// Everything is consistent before the callback runs: it may
			// add, cancel or update timers, even reuse this node.
			fire(value)
			continue
		}
		if i := w.nodes[listPending].next; i != listPending {
			if moves == movesMax {
				return true
			}
			w.unlink(i)
			w.place(i)
			moves++
			continue
		}
		if nowMs <= w.nowMs {
			return false
		}
		eventMs, list := w.nextEvent()
		if eventMs > nowMs {
			// No occupied slot starts in (w.nowMs, nowMs]: every timer
			// keeps its place relative to the new time (doc.go).
			w.nowMs = nowMs
			return false
		}
		w.nowMs = eventMs
		w.spliceAll(listPending, list)
		if list < slotSentinels {
			w.occupied[list/slotsPerLevel][list%slotsPerLevel/64] &^= 1 << (list % 64)
		} else {
			w.overflowMinMs = math.MaxInt64
		}
		w.events++
	}
}

// Clear cancels every timer, making all their handles stale. It keeps the
// wheel's time and its memory, and visits every node once: it is O(n), for
// FLUSHALL-like resets and tests, not for a loop turn.
func (w *Wheel) Clear() {
	n := len(w.nodes)
	w.init(w.nowMs) // resets the sentinels only: the timer nodes keep their generations
	w.nodes = w.nodes[:n]
	for i := n - 1; i >= sentinels; i-- {
		if w.nodes[i].gen&1 == 1 {
			w.nodes[i].gen++
		}
		w.free = append(w.free, uint32(i))
	}
}

// releaseNodesMin: Release keeps a node array smaller than this.
const releaseNodesMin = 1 << 16

// Release gives the memory of the timer nodes back when no timer is live
// (after a mass expiry, say) and the array is large, and reports whether it
// did. Handles issued before stay stale: new nodes start above every
// generation ever issued.
func (w *Wheel) Release() bool {
	if w.Len() != 0 || cap(w.nodes) < releaseNodesMin {
		return false
	}
	maxGen := w.genBase
	for i := sentinels; i < len(w.nodes); i++ {
		maxGen = max(maxGen, w.nodes[i].gen)
	}
	w.genBase = (maxGen + 2) &^ 1 // even: a node is live while odd
	w.nodes = nil
	w.free = nil
	w.init(w.nowMs)
	return true
}

// place puts node i, on no list, where its deadline belongs relative to the
// wheel's time: the due list, a slot, or the overflow list.
func (w *Wheel) place(i uint32) {
	d := w.nodes[i].deadlineMs
	if d <= w.nowMs {
		w.dueMinMs = min(w.dueMinMs, d)
		w.pushBack(listDue, i)
		return
	}
	// d > nowMs >= 0: the highest differing bit picks the level.
	level := (63 - bits.LeadingZeros64(uint64(d^w.nowMs))) / slotBits
	if level >= levels {
		w.overflowMinMs = min(w.overflowMinMs, d)
		w.pushBack(listOverflow, i)
		return
	}
	slot := int(uint64(d)>>(level*slotBits)) & slotMask
	w.pushBack(uint32(level*slotsPerLevel+slot), i)
	w.occupied[level][slot/64] |= 1 << (slot % 64)
}

// nextEvent returns the next time at which the wheel has work that is not
// yet on the due or pending list, and the list to cascade then:
// the first occupied slot of the lowest non-empty level (every lower level
// slot lies before every occupied higher level slot, doc.go), else, when
// the overflow list holds timers, the later of the next multiple of
// 2^wheelBits and the multiple at or before its earliest deadline (the
// levels are empty, so the wheel's time may jump there), else
// (math.MaxInt64, 0).
func (w *Wheel) nextEvent() (int64, uint32) {
	for level := range levels {
		for word, b := range w.occupied[level] {
			if b == 0 {
				continue
			}
			slot := word*64 + bits.TrailingZeros64(b)
			above := uint(level+1) * slotBits
			startMs := w.nowMs>>above<<above | int64(slot)<<(uint(level)*slotBits)
			return startMs, uint32(level*slotsPerLevel + slot)
		}
	}
	if w.nodes[listOverflow].next != listOverflow {
		top := w.nowMs >> wheelBits
		if top == math.MaxInt64>>wheelBits {
			panic("BUG: expire: overflow timers with the wheel's time in its last span")
		}
		return max((top+1)<<wheelBits, w.overflowMinMs>>wheelBits<<wheelBits), listOverflow
	}
	return math.MaxInt64, 0
}
