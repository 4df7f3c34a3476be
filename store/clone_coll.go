package store

import "slices"

// Deep copies of the collection kinds, for COPY (cloneObj in
// cmd_expire.go). Every part is copied: a clone shares no memory with its
// source, so writes to either never show in the other. The structures are
// index-based (no pointers but the few top-level ones), so a copy is a
// handful of slice copies, not a walk.

func init() {
	cloneObj[KindList] = func(v any) any { return v.(*list).clone() }
	cloneObj[KindHash] = func(v any) any { return v.(*hash).clone() }
	cloneObj[KindSet] = func(v any) any { return v.(*set).clone() }
	cloneObj[KindZSet] = func(v any) any { return v.(*zset).clone() }
}

func (l *list) clone() *list {
	c := &list{}
	if l.maps != nil {
		c.maps = newOffheapSet()
		offheapFreeOnCleanup(c, c.maps)
	}
	c.buf = collClone(c.maps, l.buf)
	c.head, c.n = l.head, l.n
	c.slabs = l.slabs.clone() // the references stay valid
	return c
}

func (d *dict) clone() *dict {
	if d == nil {
		return nil
	}
	maps := newOffheapSet()
	c := &dict{slotIndex: d.slotIndex, free: slices.Clone(d.free)}
	c.maps, c.syncFinishes = maps, 0
	c.cur, c.old = collClone(maps, d.cur), collClone(maps, d.old)
	c.recs = collClone(maps, d.recs)
	c.data = dictData{chunkArena: d.data.chunkArena.clone(), sparse: slices.Clone(d.data.sparse)}
	offheapFreeOnCleanup(c, maps)
	return c
}

func (h *hash) clone() *hash {
	return &hash{lp: slices.Clone(h.lp), n: h.n, collDict: collDict{d: h.d.clone()}}
}

func (s *set) clone() *set {
	return &set{ints: slices.Clone(s.ints), collDict: collDict{d: s.d.clone()}}
}

func (z *zset) clone() *zset {
	c := &zset{small: slices.Clone(z.small), collDict: collDict{d: z.d.clone()}} // members are immutable strings
	if z.zsl != nil {
		sl := *z.zsl
		sl.nodes = collClone(c.d.maps, z.zsl.nodes)
		sl.levels = collClone(c.d.maps, z.zsl.levels)
		sl.freeNodes = slices.Clone(z.zsl.freeNodes)
		for i := range sl.freeLevels {
			sl.freeLevels[i] = slices.Clone(z.zsl.freeLevels[i])
		}
		sl.d = c.d
		c.zsl = &sl
	}
	return c
}
