package expire

import "math"

// The node array: a stack of free timer nodes, and circular doubly linked
// lists by index whose sentinels are the first nodes of the array. Unlinking
// needs no list id: a node's neighbours are enough, and a list that becomes
// empty is recognised by its sentinel pointing at itself.

// alloc takes a node off the free stack, or appends one, and makes its
// generation odd (live).
func (w *Wheel) alloc() uint32 {
	var i uint32
	if n := len(w.free); n > 0 {
		i = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		if len(w.nodes)-sentinels >= TimersMax {
			panic("BUG: expire: more than TimersMax timers")
		}
		i = uint32(len(w.nodes))
		// genBase (even) is above every generation a released node array
		// ever issued (Release), so no old handle can match this node.
		w.nodes = append(w.nodes, node{gen: w.genBase})
	}
	w.nodes[i].gen++
	return i
}

// release pushes node i, on no list, onto the free stack and makes its
// generation even, so every handle to it goes stale.
func (w *Wheel) release(i uint32) {
	n := &w.nodes[i]
	n.gen++
	n.value = 0
	w.free = append(w.free, i)
}

// index returns the node of a live handle.
func (w *Wheel) index(h Handle) (uint32, bool) {
	i, gen := uint32(h), uint32(h>>32)
	if i < sentinels || int64(i) >= int64(len(w.nodes)) || gen&1 == 0 || w.nodes[i].gen != gen {
		return 0, false
	}
	return i, true
}

// pushBack appends node i to the list of sentinel s.
func (w *Wheel) pushBack(s, i uint32) {
	nodes := w.nodes
	tail := nodes[s].prev
	nodes[i].prev = tail
	nodes[i].next = s
	nodes[tail].next = i
	nodes[s].prev = i
}

// unlink takes node i off its list and keeps the occupancy bitmaps,
// dueMinMs and overflowMinMs in step when that list becomes empty.
func (w *Wheel) unlink(i uint32) {
	nodes := w.nodes
	next, prev := nodes[i].next, nodes[i].prev
	nodes[prev].next = next
	nodes[next].prev = prev
	if next != prev {
		return
	}
	// Only a sentinel can be its own neighbour on both sides.
	switch {
	case next < slotSentinels:
		w.occupied[next/slotsPerLevel][next%slotsPerLevel/64] &^= 1 << (next % 64)
	case next == listDue:
		w.dueMinMs = math.MaxInt64
	case next == listOverflow:
		w.overflowMinMs = math.MaxInt64
	}
}

// spliceAll moves every node of the list of sentinel src to the end of the
// list of sentinel dst, in O(1). The caller clears src's occupancy bit.
func (w *Wheel) spliceAll(dst, src uint32) {
	nodes := w.nodes
	first, last := nodes[src].next, nodes[src].prev
	if first == src {
		return
	}
	tail := nodes[dst].prev
	nodes[tail].next = first
	nodes[first].prev = tail
	nodes[last].next = dst
	nodes[dst].prev = last
	nodes[src].next = src
	nodes[src].prev = src
}
