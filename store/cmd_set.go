package store

import (
	"slices"

	"github.com/ringkv/ringkv/conn/resp"
)

// Set commands (Redis's t_set.c), over the set value of set.go.
var setCommands = []*Command{
	{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @set @fast", Group: "set", Since: "1.0.0", Summary: "Add one or more members to a set", Cplx: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Handler: saddCmd},
	{Name: "scard", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @fast", Group: "set", Since: "1.0.0", Summary: "Get the number of members in a set", Cplx: "O(1)", Handler: scardCmd},
	{Name: "sdiff", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "1.0.0", Summary: "Subtract multiple sets", Cplx: "O(N) where N is the total number of elements in all given sets.", Handler: sdiffCmd},
	{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@write @set @slow", Group: "set", Since: "1.0.0", Summary: "Subtract multiple sets and store the resulting set in a key", Cplx: "O(N) where N is the total number of elements in all given sets.", Handler: sdiffstoreCmd},
	{Name: "sinter", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "1.0.0", Summary: "Intersect multiple sets", Cplx: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Handler: sinterCmd},
	{Name: "sintercard", Arity: -3, Flags: FlagReadonly, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@read @set @slow", Group: "set", Since: "7.0.0", Summary: "Intersect multiple sets and return the cardinality of the result", Cplx: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Handler: sintercardCmd},
	{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@write @set @slow", Group: "set", Since: "1.0.0", Summary: "Intersect multiple sets and store the resulting set in a key", Cplx: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Handler: sinterstoreCmd},
	{Name: "sismember", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @fast", Group: "set", Since: "1.0.0", Summary: "Determine if a given value is a member of a set", Cplx: "O(1)", Handler: sismemberCmd},
	{Name: "smembers", Arity: 2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "1.0.0", Summary: "Get all the members in a set", Cplx: "O(N) where N is the set cardinality.", Handler: smembersCmd},
	{Name: "smismember", Arity: -3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @fast", Group: "set", Since: "6.2.0", Summary: "Returns the membership associated with the given elements for a set", Cplx: "O(N) where N is the number of elements being checked for membership", Handler: smismemberCmd},
	{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @set @fast", Group: "set", Since: "1.0.0", Summary: "Move a member from one set to another", Cplx: "O(1)", Handler: smoveCmd},
	{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @set @fast", Group: "set", Since: "1.0.0", Summary: "Remove and return one or multiple random members from a set", Cplx: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", Handler: spopCmd},
	{Name: "srandmember", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "1.0.0", Summary: "Get one or multiple random members from a set", Cplx: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", Handler: srandmemberCmd},
	{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @set @fast", Group: "set", Since: "1.0.0", Summary: "Remove one or more members from a set", Cplx: "O(N) where N is the number of members to be removed.", Handler: sremCmd},
	{Name: "sscan", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "2.8.0", Summary: "Incrementally iterate Set elements", Cplx: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", Handler: sscanCmd},
	{Name: "sunion", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@read @set @slow", Group: "set", Since: "1.0.0", Summary: "Add multiple sets", Cplx: "O(N) where N is the total number of elements in all given sets.", Handler: sunionCmd},
	{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@write @set @slow", Group: "set", Since: "1.0.0", Summary: "Add multiple sets and store the resulting set in a key", Cplx: "O(N) where N is the total number of elements in all given sets.", Handler: sunionstoreCmd},
}

func init() { Register(setCommands...) }

var (
	wordSREM = []byte("SREM")
	wordDEL  = []byte("DEL")
)

func (s *Store) setRead(c *Ctx, key []byte) (st *set, found, wrong bool) {
	t, id, found, wrong := s.getKind(c, key, KindSet, true)
	if found && !wrong {
		st = t.Obj(id).(*set)
	}
	return st, found, wrong
}

func (s *Store) setWrite(c *Ctx, key []byte) (st *set, t *Table, id uint32, found, wrong bool) {
	t, id, found, wrong = s.getKind(c, key, KindSet, false)
	if found && !wrong {
		st = t.Obj(id).(*set)
	}
	return st, t, id, found, wrong
}

func allInts(members [][]byte) bool {
	for _, m := range members {
		if _, ok := resp.ParseInt(m); !ok {
			return false
		}
	}
	return true
}

func saddCmd(s *Store, c *Ctx, argv [][]byte) {
	st, t, _, found, wrong := s.setWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		id := t.Add(argv[1])
		st = newSet(len(argv)-2, allInts(argv[2:]))
		t.SetObj(id, KindSet, st)
	}
	n := 0
	for _, m := range argv[2:] {
		if st.Add(m) {
			n++
		}
	}
	s.Stats.Dirty += int64(n)
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func sremCmd(s *Store, c *Ctx, argv [][]byte) {
	st, t, id, found, wrong := s.setWrite(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		n = removeMembers(t, id, argv[2:], st.Remove, st.Len)
	}
	s.Stats.Dirty += int64(n)
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func smoveCmd(s *Store, c *Ctx, argv [][]byte) {
	t := s.dbs[c.DB]
	_, srcID, srcFound := s.lookup(c, argv[1])
	_, dstID, dstFound := s.lookup(c, argv[2])
	if !srcFound {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if t.Kind(srcID) != KindSet || (dstFound && t.Kind(dstID) != KindSet) {
		wrongType(c)
		return
	}
	src := t.Obj(srcID).(*set)
	if dstFound && srcID == dstID {
		if src.Has(argv[3]) {
			c.Out = append(c.Out, resp.One...)
		} else {
			c.Out = append(c.Out, resp.Zero...)
		}
		return
	}
	if !src.Remove(argv[3]) {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if src.Len() == 0 {
		t.Remove(srcID)
	}
	var dst *set
	if dstFound {
		dst = t.Obj(dstID).(*set)
	} else {
		id := t.Add(argv[2])
		dst = newSet(1, allInts(argv[3:4]))
		t.SetObj(id, KindSet, dst)
	}
	s.Stats.Dirty++
	if dst.Add(argv[3]) {
		s.Stats.Dirty++
	}
	c.Out = append(c.Out, resp.One...)
}

func sismemberCmd(s *Store, c *Ctx, argv [][]byte) {
	st, found, wrong := s.setRead(c, argv[1])
	if wrong {
		return
	}
	c.Out = resp.AppendInt(c.Out, b2i(found && st.Has(argv[2])))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func smismemberCmd(s *Store, c *Ctx, argv [][]byte) {
	st, found, wrong := s.setRead(c, argv[1])
	if wrong {
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(argv)-2)
	for _, m := range argv[2:] {
		c.Out = resp.AppendInt(c.Out, b2i(found && st.Has(m)))
	}
}

func scardCmd(s *Store, c *Ctx, argv [][]byte) {
	st, found, wrong := s.setRead(c, argv[1])
	switch {
	case wrong:
	case !found:
		c.Out = append(c.Out, resp.Zero...)
	default:
		c.Out = resp.AppendInt(c.Out, int64(st.Len()))
	}
}

func smembersCmd(s *Store, c *Ctx, argv [][]byte) {
	st, found, wrong := s.setRead(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = resp.AppendSetLen(c.Out, c.Proto, 0)
		return
	}
	appendSet(c, st)
}

func appendSet(c *Ctx, st *set) {
	c.Out = resp.AppendSetLen(c.Out, c.Proto, st.Len())
	st.ForEach(func(m []byte) bool { c.Out = resp.AppendBulk(c.Out, m); return true })
}

// setOpSets looks up every key for SINTER/SUNION/SDIFF and friends: nil
// for a missing key; ok=false (WRONGTYPE appended) when one is not a set.
func (s *Store) setOpSets(c *Ctx, keys [][]byte, write bool) ([]*set, bool) {
	sets := make([]*set, len(keys))
	for i, k := range keys {
		t, id, found, wrong := s.getKind(c, k, KindSet, !write)
		if wrong {
			return nil, false
		}
		if found {
			sets[i] = t.Obj(id).(*set)
		}
	}
	return sets, true
}

// sinter computes the intersection in the order Redis produces it: the
// smallest set's order, filtered by the others. limit 0 means none.
func sinter(sets []*set, limit int) [][]byte {
	for _, st := range sets {
		if st == nil {
			return nil
		}
	}
	order := slices.Clone(sets)
	slices.SortStableFunc(order, func(a, b *set) int { return a.Len() - b.Len() })
	var out [][]byte
	order[0].ForEach(func(m []byte) bool {
		for _, o := range order[1:] {
			if !o.Has(m) {
				return true
			}
		}
		out = append(out, append([]byte(nil), m...))
		return limit == 0 || len(out) < limit
	})
	return out
}

func sunion(sets []*set) *set {
	res := newSet(0, true)
	for _, st := range sets {
		if st != nil {
			st.ForEach(func(m []byte) bool { res.Add(m); return true })
		}
	}
	return res
}

func sdiff(sets []*set) *set {
	res := newSet(0, true)
	if sets[0] == nil {
		return res
	}
	sets[0].ForEach(func(m []byte) bool {
		for _, o := range sets[1:] {
			if o != nil && o.Has(m) {
				return true
			}
		}
		res.Add(m)
		return true
	})
	return res
}

func setFromMembers(members [][]byte) *set {
	st := newSet(len(members), allInts(members))
	for _, m := range members {
		st.Add(m)
	}
	return st
}

// storeSet replaces dst with st (deleting dst when st is empty) and
// replies with its size.
func (s *Store) storeSet(c *Ctx, dst []byte, st *set) {
	t, id, found := s.lookup(c, dst)
	if st.Len() == 0 {
		st.release() // not stored
		if found {
			t.Remove(id)
			s.Stats.Dirty++
		}
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if found {
		t.Remove(id)
	}
	id = t.Add(dst)
	t.SetObj(id, KindSet, st)
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, int64(st.Len()))
}

func sinterCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[1:], false)
	if !ok {
		return
	}
	members := sinter(sets, 0)
	c.Out = resp.AppendSetLen(c.Out, c.Proto, len(members))
	for _, m := range members {
		c.Out = resp.AppendBulk(c.Out, m)
	}
}

func sinterstoreCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[2:], true)
	if !ok {
		return
	}
	s.storeSet(c, argv[1], setFromMembers(sinter(sets, 0)))
}

func sintercardCmd(s *Store, c *Ctx, argv [][]byte) {
	numkeys, ok := resp.ParseInt(argv[1])
	if !ok || numkeys < 1 {
		c.Out = append(c.Out, resp.ErrNumkeys...)
		return
	}
	if numkeys > int64(len(argv)-2) {
		c.Out = resp.AppendErr(c.Out, "Number of keys can't be greater than number of args")
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(argv); j++ {
		if eqFold(argv[j], "limit") && j+1 < len(argv) {
			j++
			n, ok := resp.ParseInt(argv[j])
			if !ok || n < 0 {
				c.Out = append(c.Out, resp.ErrLimitNegative...)
				return
			}
			limit = n
			continue
		}
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	sets, ok := s.setOpSets(c, argv[2:2+numkeys], false)
	if !ok {
		return
	}
	c.Out = resp.AppendInt(c.Out, int64(len(sinter(sets, int(min(limit, randCountMax))))))
}

func sunionCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[1:], false)
	if ok {
		res := sunion(sets)
		appendSet(c, res)
		res.release() // a result not stored: its memory goes now (collmem.go)
	}
}

func sunionstoreCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[2:], true)
	if ok {
		s.storeSet(c, argv[1], sunion(sets))
	}
}

func sdiffCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[1:], false)
	if ok {
		res := sdiff(sets)
		appendSet(c, res)
		res.release() // a result not stored: its memory goes now (collmem.go)
	}
}

func sdiffstoreCmd(s *Store, c *Ctx, argv [][]byte) {
	sets, ok := s.setOpSets(c, argv[2:], true)
	if ok {
		s.storeSet(c, argv[1], sdiff(sets))
	}
}

func spopCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) > 3 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	if len(argv) == 3 {
		spopCount(s, c, argv)
		return
	}
	st, t, id, found, wrong := s.setWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	// The member goes to the Store's pop scratch (no allocation per pop);
	// the reply and the propagated SREM copy it.
	if cap(s.popBuf) > popScratchMax {
		s.popBuf = nil
	}
	m := st.PopRandom(s.rnd, s.popBuf[:0])
	s.popBuf = m
	c.Out = resp.AppendBulk(c.Out, m)
	c.Rewrite(wordSREM, argv[1], m)
	if st.Len() == 0 {
		t.Remove(id)
	}
	s.Stats.Dirty++
}

func spopCount(s *Store, c *Ctx, argv [][]byte) {
	count, ok := parsePositive(c, argv[2])
	if !ok {
		return
	}
	st, t, id, found, wrong := s.setWrite(c, argv[1])
	if wrong {
		return
	}
	if !found || count == 0 {
		c.Out = resp.AppendSetLen(c.Out, c.Proto, 0)
		return
	}
	if count >= int64(st.Len()) {
		appendSet(c, st)
		s.Stats.Dirty += int64(st.Len())
		t.Remove(id)
		c.Rewrite(wordDEL, argv[1])
		return
	}
	members := make([][]byte, 0, count)
	var tmp [20]byte
	for range count {
		m := append([]byte(nil), st.Random(s.rnd, tmp[:])...)
		st.Remove(m)
		members = append(members, m)
	}
	c.Out = resp.AppendSetLen(c.Out, c.Proto, len(members))
	for _, m := range members {
		c.Out = resp.AppendBulk(c.Out, m)
	}
	c.Rewrite(append([][]byte{wordSREM, argv[1]}, members...)...)
	s.Stats.Dirty += count
}

func srandmemberCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) > 3 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	var tmp [20]byte
	if len(argv) == 2 {
		st, found, wrong := s.setRead(c, argv[1])
		if wrong {
			return
		}
		if !found {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			return
		}
		c.Out = resp.AppendBulk(c.Out, st.Random(s.rnd, tmp[:]))
		return
	}
	count, _, ok := parseRandCount(c, argv)
	if !ok {
		return
	}
	st, found, wrong := s.setRead(c, argv[1])
	if wrong {
		return
	}
	if !found || count == 0 {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	if count < 0 {
		n := int(min(-count, randCountMax))
		c.Out = resp.AppendArrayLen(c.Out, n)
		for range n {
			c.Out = resp.AppendBulk(c.Out, st.Random(s.rnd, tmp[:]))
		}
		return
	}
	if count >= int64(st.Len()) {
		appendSet(c, st)
		return
	}
	picked := pickDistinct(s, st.Len(), int(count))
	c.Out = resp.AppendSetLen(c.Out, c.Proto, int(count))
	i := 0
	st.ForEach(func(m []byte) bool {
		if picked[i] {
			c.Out = resp.AppendBulk(c.Out, m)
		}
		i++
		return true
	})
}

func sscanCmd(s *Store, c *Ctx, argv [][]byte) {
	cursor, ok := parseCollScanCursor(c, argv[2])
	if !ok {
		return
	}
	st, found, wrong := s.setRead(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, emptyScan...)
		return
	}
	o, ok := parseCollScanOpts(c, argv)
	if !ok {
		return
	}
	var items [][]byte
	if st.d == nil {
		st.ForEach(func(m []byte) bool {
			if scanMatch(o, m) {
				items = append(items, append([]byte(nil), m...))
			}
			return true
		})
		scanReply(c, 0, items)
		return
	}
	next := scanDict(st.d, cursor, o.count, func(id uint32) {
		if m := st.d.Key(id); scanMatch(o, m) {
			items = append(items, m)
		}
	})
	scanReply(c, next, items)
}
