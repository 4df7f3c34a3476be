package store

import (
	"math"

	"github.com/ringkv/ringkv/conn/resp"
)

// List commands (Redis's t_list.c), over the list value of list.go.
var listCommands = []*Command{
	{Name: "blmove", Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagNoscript | FlagBlocking, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @list @slow @blocking", Group: "list", Since: "6.2.0", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available", Cplx: "O(1)", Handler: blmoveCmd},
	{Name: "blmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@write @list @slow @blocking", Group: "list", Since: "7.0.0", Summary: "Pop elements from a list, or block until one is available", Cplx: "O(N+M) where N is the number of provided keys and M is the number of elements returned.", Handler: blmpopCmd},
	{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagNoscript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, ACL: "@write @list @slow @blocking", Group: "list", Since: "2.0.0", Summary: "Remove and get the first element in a list, or block until one is available", Cplx: "O(N) where N is the number of provided keys.", Handler: blpopCmd},
	{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagNoscript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, ACL: "@write @list @slow @blocking", Group: "list", Since: "2.0.0", Summary: "Remove and get the last element in a list, or block until one is available", Cplx: "O(N) where N is the number of provided keys.", Handler: brpopCmd},
	{Name: "brpoplpush", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagNoscript | FlagBlocking, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @list @slow @blocking", Group: "list", Since: "2.2.0", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available", Cplx: "O(1)", Handler: brpoplpushCmd},
	{Name: "lindex", Arity: 3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @list @slow", Group: "list", Since: "1.0.0", Summary: "Get an element from a list by its index", Cplx: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", Handler: lindexCmd},
	{Name: "linsert", Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "2.2.0", Summary: "Insert an element before or after another element in a list", Cplx: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", Handler: linsertCmd},
	{Name: "llen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @list @fast", Group: "list", Since: "1.0.0", Summary: "Get the length of a list", Cplx: "O(1)", Handler: llenCmd},
	{Name: "lmove", Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "6.2.0", Summary: "Pop an element from a list, push it to another list and return it", Cplx: "O(1)", Handler: lmoveCmd},
	{Name: "lmpop", Arity: -4, Flags: FlagWrite, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@write @list @slow", Group: "list", Since: "7.0.0", Summary: "Pop elements from a list", Cplx: "O(N+M) where N is the number of provided keys and M is the number of elements returned.", Handler: lmpopCmd},
	{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "1.0.0", Summary: "Remove and get the first elements in a list", Cplx: "O(N) where N is the number of elements returned", Handler: lpopCmd},
	{Name: "lpos", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @list @slow", Group: "list", Since: "6.0.6", Summary: "Return the index of matching elements on a list", Cplx: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", Handler: lposCmd},
	{Name: "lpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "1.0.0", Summary: "Prepend one or multiple elements to a list", Cplx: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Handler: lpushCmd},
	{Name: "lpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "2.2.0", Summary: "Prepend an element to a list, only if the list exists", Cplx: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Handler: lpushxCmd},
	{Name: "lrange", Arity: 4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @list @slow", Group: "list", Since: "1.0.0", Summary: "Get a range of elements from a list", Cplx: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", Handler: lrangeCmd},
	{Name: "lrem", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "1.0.0", Summary: "Remove elements from a list", Cplx: "O(N+M) where N is the length of the list and M is the number of elements removed.", Handler: lremCmd},
	{Name: "lset", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "1.0.0", Summary: "Set the value of an element in a list by its index", Cplx: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", Handler: lsetCmd},
	{Name: "ltrim", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "1.0.0", Summary: "Trim a list to the specified range", Cplx: "O(N) where N is the number of elements to be removed by the operation.", Handler: ltrimCmd},
	{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "1.0.0", Summary: "Remove and get the last elements in a list", Cplx: "O(N) where N is the number of elements returned", Handler: rpopCmd},
	{Name: "rpoplpush", Arity: 3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @list @slow", Group: "list", Since: "1.2.0", Summary: "Remove the last element in a list, prepend it to another list and return it", Cplx: "O(1)", Handler: rpoplpushCmd},
	{Name: "rpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "1.0.0", Summary: "Append one or multiple elements to a list", Cplx: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Handler: rpushCmd},
	{Name: "rpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @list @fast", Group: "list", Since: "2.2.0", Summary: "Append an element to a list, only if the list exists", Cplx: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Handler: rpushxCmd},
}

func init() { Register(listCommands...) }

var (
	wordLPOP  = []byte("LPOP")
	wordRPOP  = []byte("RPOP")
	wordLMOVE = []byte("LMOVE")
	wordLeft  = []byte("LEFT")
	wordRight = []byte("RIGHT")
)

// getKind looks key up (for a read when read, counting hits and misses)
// and checks that it holds kind k: found=false when it is missing, wrong=true
// with WRONGTYPE appended when it holds another kind.
func (s *Store) getKind(c *Ctx, key []byte, k Kind, read bool) (t *Table, id uint32, found, wrong bool) {
	if read {
		t, id, found = s.lookupRead(c, key)
	} else {
		t, id, found = s.lookup(c, key)
	}
	if found && t.Kind(id) != k {
		wrongType(c)
		return t, id, true, true
	}
	return t, id, found, false
}

// listWrite finds a list for a write.
func (s *Store) listWrite(c *Ctx, key []byte) (l *list, t *Table, id uint32, found, wrong bool) {
	t, id, found, wrong = s.getKind(c, key, KindList, false)
	if found && !wrong {
		l = t.Obj(id).(*list)
	}
	return l, t, id, found, wrong
}

// listCreate adds key as an empty list and signals it ready.
func (s *Store) listCreate(c *Ctx, t *Table, key []byte) (*list, uint32) {
	id := t.Add(key)
	l := &list{}
	t.SetObj(id, KindList, l)
	return l, id
}

// listDeleteIfEmpty removes a list key that became empty.
func listDeleteIfEmpty(t *Table, id uint32, l *list) {
	if l.Len() == 0 {
		t.Remove(id)
	}
}

func pushCmd(s *Store, c *Ctx, argv [][]byte, front, onlyExisting bool) {
	l, t, _, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		if onlyExisting {
			c.Out = append(c.Out, resp.Zero...)
			return
		}
		l, _ = s.listCreate(c, t, argv[1])
	}
	for _, v := range argv[2:] {
		if front {
			l.PushFront(v)
		} else {
			l.PushBack(v)
		}
	}
	s.Stats.Dirty += int64(len(argv) - 2)
	c.Out = resp.AppendInt(c.Out, int64(l.Len()))
	if !found {
		s.signalReady(c.DB, argv[1])
	}
}

func lpushCmd(s *Store, c *Ctx, argv [][]byte)  { pushCmd(s, c, argv, true, false) }
func rpushCmd(s *Store, c *Ctx, argv [][]byte)  { pushCmd(s, c, argv, false, false) }
func lpushxCmd(s *Store, c *Ctx, argv [][]byte) { pushCmd(s, c, argv, true, true) }
func rpushxCmd(s *Store, c *Ctx, argv [][]byte) { pushCmd(s, c, argv, false, true) }

// parsePositive is getPositiveLongFromObjectOrReply without a message.
func parsePositive(c *Ctx, arg []byte) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok || n < 0 {
		c.Out = append(c.Out, resp.ErrPositive...)
		return 0, false
	}
	return n, true
}

func popCmd(s *Store, c *Ctx, argv [][]byte, front bool) {
	name := "lpop"
	if !front {
		name = "rpop"
	}
	if len(argv) > 3 {
		c.Out = resp.AppendWrongArity(c.Out, name)
		return
	}
	count, hasCount := int64(0), len(argv) == 3
	if hasCount {
		var ok bool
		if count, ok = parsePositive(c, argv[2]); !ok {
			return
		}
	}
	l, t, id, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		if hasCount {
			c.Out = resp.AppendNullArrayP(c.Out, c.Proto)
		} else {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		}
		return
	}
	if !hasCount {
		c.Out = resp.AppendBulk(c.Out, listPop(l, front))
		s.Stats.Dirty++
		listDeleteIfEmpty(t, id, l)
		return
	}
	if count == 0 {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	n := int(min(count, int64(l.Len())))
	c.Out = resp.AppendArrayLen(c.Out, n)
	for range n {
		c.Out = resp.AppendBulk(c.Out, listPop(l, front))
	}
	s.Stats.Dirty += int64(n)
	listDeleteIfEmpty(t, id, l)
}

func listPop(l *list, front bool) []byte {
	if front {
		return l.PopFront()
	}
	return l.PopBack()
}

func lpopCmd(s *Store, c *Ctx, argv [][]byte) { popCmd(s, c, argv, true) }
func rpopCmd(s *Store, c *Ctx, argv [][]byte) { popCmd(s, c, argv, false) }

func llenCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, found, wrong := s.getKind(c, argv[1], KindList, true)
	switch {
	case wrong:
	case !found:
		c.Out = append(c.Out, resp.Zero...)
	default:
		c.Out = resp.AppendInt(c.Out, int64(t.Obj(id).(*list).Len()))
	}
}

// normRange is the start/end normalisation of LRANGE (and ZRANGE by rank):
// negative indexes count from the end; ok=false when the range is empty.
func normRange(start, end int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

// parseInts parses a pair of integer arguments (a range, a LIMIT), replying
// Redis's error if either is not one.
func parseInts(c *Ctx, a, b []byte) ([2]int64, bool) {
	x, ok := resp.ParseInt(a)
	y, ok2 := resp.ParseInt(b)
	if !ok || !ok2 {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return [2]int64{}, false
	}
	return [2]int64{x, y}, true
}

func lrangeCmd(s *Store, c *Ctx, argv [][]byte) {
	r, ok := parseInts(c, argv[2], argv[3])
	if !ok {
		return
	}
	t, id, found, wrong := s.getKind(c, argv[1], KindList, true)
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	l := t.Obj(id).(*list)
	start, end, ok := normRange(r[0], r[1], l.Len())
	if !ok {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, end-start+1)
	for i := start; i <= end; i++ {
		c.Out = resp.AppendBulk(c.Out, l.At(i))
	}
}

func ltrimCmd(s *Store, c *Ctx, argv [][]byte) {
	r, ok := parseInts(c, argv[2], argv[3])
	if !ok {
		return
	}
	l, t, id, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.OK...)
		return
	}
	n := l.Len()
	start, end, ok := normRange(r[0], r[1], n)
	if !ok {
		t.Remove(id)
		s.Stats.Dirty += int64(n)
	} else {
		l.Trim(start, end)
		s.Stats.Dirty += int64(n - l.Len())
		listDeleteIfEmpty(t, id, l)
	}
	c.Out = append(c.Out, resp.OK...)
}

func lindexCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, found, wrong := s.getKind(c, argv[1], KindList, true)
	if wrong {
		return
	}
	if !found {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	idx, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	l := t.Obj(id).(*list)
	if idx < 0 {
		idx += int64(l.Len())
	}
	if idx < 0 || idx >= int64(l.Len()) {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	c.Out = resp.AppendBulk(c.Out, l.At(int(idx)))
}

func lsetCmd(s *Store, c *Ctx, argv [][]byte) {
	l, _, _, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.ErrNoSuchKey...)
		return
	}
	idx, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	if idx < 0 {
		idx += int64(l.Len())
	}
	if idx < 0 || idx >= int64(l.Len()) {
		c.Out = append(c.Out, resp.ErrIndexRange...)
		return
	}
	l.Set(int(idx), argv[3])
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.OK...)
}

func linsertCmd(s *Store, c *Ctx, argv [][]byte) {
	var after bool
	switch {
	case eqFold(argv[2], "after"):
		after = true
	case eqFold(argv[2], "before"):
	default:
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	l, _, _, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	for i := range l.Len() {
		if string(l.At(i)) == string(argv[3]) {
			if after {
				i++
			}
			l.Insert(i, argv[4])
			s.Stats.Dirty++
			c.Out = resp.AppendInt(c.Out, int64(l.Len()))
			return
		}
	}
	c.Out = append(c.Out, resp.MinusOne...)
}

func lremCmd(s *Store, c *Ctx, argv [][]byte) {
	count, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	l, t, id, found, wrong := s.listWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	elem := argv[3]
	n := l.Len()
	var removed int
	switch {
	case count == 0:
		removed = l.Filter(func(_ int, v []byte) bool { return string(v) != string(elem) })
	case count > 0:
		left := count
		removed = l.Filter(func(_ int, v []byte) bool {
			if left > 0 && string(v) == string(elem) {
				left--
				return false
			}
			return true
		})
	default:
		// From the tail: find the indexes to drop first.
		left := -count
		drop := map[int]bool{}
		for i := n - 1; i >= 0 && left > 0; i-- {
			if string(l.At(i)) == string(elem) {
				drop[i] = true
				left--
			}
		}
		removed = l.Filter(func(i int, _ []byte) bool { return !drop[i] })
	}
	if removed > 0 {
		s.Stats.Dirty += int64(removed)
		listDeleteIfEmpty(t, id, l)
	}
	c.Out = resp.AppendInt(c.Out, int64(removed))
}

func lposCmd(s *Store, c *Ctx, argv [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(argv); j++ {
		more := j+1 < len(argv)
		switch {
		case eqFold(argv[j], "rank") && more:
			j++
			n, ok := resp.ParseInt(argv[j])
			if !ok {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return
			}
			if n == 0 {
				c.Out = append(c.Out, resp.ErrRankZero...)
				return
			}
			rank = n
		case eqFold(argv[j], "count") && more:
			j++
			n, ok := resp.ParseInt(argv[j])
			if !ok || n < 0 {
				c.Out = append(c.Out, resp.ErrCountNegative...)
				return
			}
			count = n
		case eqFold(argv[j], "maxlen") && more:
			j++
			n, ok := resp.ParseInt(argv[j])
			if !ok || n < 0 {
				c.Out = append(c.Out, resp.ErrMaxlenNegative...)
				return
			}
			maxlen = n
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	t, id, found, wrong := s.getKind(c, argv[1], KindList, true)
	if wrong {
		return
	}
	if !found {
		if count != -1 {
			c.Out = append(c.Out, resp.EmptyArray...)
		} else {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		}
		return
	}
	l := t.Obj(id).(*list)
	n := l.Len()
	var matches []int
	skip := rank - 1
	if rank < 0 {
		// -LONG_MIN overflows to LONG_MIN in Redis, which every match
		// count passes: the first match from the tail.
		skip = -rank - 1
		if rank == math.MinInt64 {
			skip = 0
		}
	}
	for k := 0; k < n && (maxlen == 0 || int64(k) < maxlen); k++ {
		i := k
		if rank < 0 {
			i = n - 1 - k
		}
		if string(l.At(i)) != string(argv[2]) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		matches = append(matches, i)
		if count != 0 && int64(len(matches)) >= max(count, 1) {
			break
		}
	}
	if count == -1 {
		if len(matches) == 0 {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		} else {
			c.Out = resp.AppendInt(c.Out, int64(matches[0]))
		}
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(matches))
	for _, m := range matches {
		c.Out = resp.AppendInt(c.Out, int64(m))
	}
}

// parseWhere is getListPositionFromObjectOrReply: LEFT (front) or RIGHT.
func parseWhere(c *Ctx, arg []byte) (front, ok bool) {
	switch {
	case eqFold(arg, "left"):
		return true, true
	case eqFold(arg, "right"):
		return false, true
	}
	c.Out = append(c.Out, resp.ErrSyntax...)
	return false, false
}

func lmoveCmd(s *Store, c *Ctx, argv [][]byte) {
	from, ok := parseWhere(c, argv[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, argv[4])
	if !ok {
		return
	}
	lmove(s, c, argv[1], argv[2], from, to, false, 0)
}

func rpoplpushCmd(s *Store, c *Ctx, argv [][]byte) {
	lmove(s, c, argv[1], argv[2], false, true, false, 0)
}

func blmoveCmd(s *Store, c *Ctx, argv [][]byte) {
	from, ok := parseWhere(c, argv[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, argv[4])
	if !ok {
		return
	}
	deadline, ok := parseTimeout(c, argv[5])
	if !ok {
		return
	}
	lmove(s, c, argv[1], argv[2], from, to, true, deadline)
}

func brpoplpushCmd(s *Store, c *Ctx, argv [][]byte) {
	deadline, ok := parseTimeout(c, argv[3])
	if !ok {
		return
	}
	lmove(s, c, argv[1], argv[2], false, true, true, deadline)
}

func whereWord(front bool) []byte {
	if front {
		return wordLeft
	}
	return wordRight
}

// lmove is LMOVE and its blocking and legacy forms. A blocking form logs
// itself as LMOVE, as Redis propagates it.
func lmove(s *Store, c *Ctx, src, dst []byte, from, to, blocking bool, deadline int64) {
	l, t, id, found, wrong := s.listWrite(c, src)
	if wrong {
		return
	}
	if !found || l.Len() == 0 {
		if blocking && !c.NoBlock {
			block(c, [][]byte{src}, deadline)
			return
		}
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	dl, dt, _, dfound, dwrong := s.listWrite(c, dst)
	if dwrong {
		return
	}
	v := listPop(l, from)
	if !dfound {
		dl, _ = s.listCreate(c, dt, dst)
	}
	if to {
		dl.PushFront(v)
	} else {
		dl.PushBack(v)
	}
	c.Out = resp.AppendBulk(c.Out, v)
	if blocking {
		c.Rewrite(wordLMOVE, src, dst, whereWord(from), whereWord(to))
	}
	// The source may have emptied, unless it is the destination too.
	if l.Len() == 0 {
		t.Remove(id)
	}
	s.Stats.Dirty++
	if !dfound {
		s.signalReady(c.DB, dst)
	}
}

// parseMpop parses the numkeys ... LEFT|RIGHT|MIN|MAX [COUNT n] tail of
// LMPOP/BLMPOP/ZMPOP/BZMPOP from argv[idx] (numkeys), as
// lmpopGenericCommand does. isWhere parses the direction word.
func parseMpop(c *Ctx, argv [][]byte, idx int, isWhere func(*Ctx, []byte) (bool, bool)) (keys [][]byte, where bool, count int64, ok bool) {
	numkeys, isInt := resp.ParseInt(argv[idx])
	if !isInt || numkeys < 1 {
		c.Out = append(c.Out, resp.ErrNumkeys...)
		return nil, false, 0, false
	}
	if numkeys >= int64(len(argv)-idx) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return nil, false, 0, false
	}
	whereIdx := idx + int(numkeys) + 1
	if whereIdx >= len(argv) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return nil, false, 0, false
	}
	if where, ok = isWhere(c, argv[whereIdx]); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(argv); j++ {
		if count == -1 && eqFold(argv[j], "count") && j+1 < len(argv) {
			j++
			n, isInt := resp.ParseInt(argv[j])
			if !isInt || n < 1 {
				c.Out = append(c.Out, resp.ErrCountPositive...)
				return nil, false, 0, false
			}
			count = n
			continue
		}
		c.Out = append(c.Out, resp.ErrSyntax...)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return argv[idx+1 : whereIdx], where, count, true
}

func lmpopCmd(s *Store, c *Ctx, argv [][]byte) {
	keys, front, count, ok := parseMpop(c, argv, 1, parseWhere)
	if !ok {
		return
	}
	listMpop(s, c, keys, front, count, false, 0)
}

func blmpopCmd(s *Store, c *Ctx, argv [][]byte) {
	deadline, ok := parseTimeout(c, argv[1])
	if !ok {
		return
	}
	keys, front, count, ok := parseMpop(c, argv, 2, parseWhere)
	if !ok {
		return
	}
	listMpop(s, c, keys, front, count, true, deadline)
}

// listMpop pops up to count elements from the first non-empty list of
// keys and replies [key, [elements]], logged as LPOP/RPOP key count.
func listMpop(s *Store, c *Ctx, keys [][]byte, front bool, count int64, blocking bool, deadline int64) {
	for _, key := range keys {
		l, t, id, found, wrong := s.listWrite(c, key)
		if wrong {
			return
		}
		if !found || l.Len() == 0 {
			continue
		}
		n := int(min(count, int64(l.Len())))
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendBulk(c.Out, key)
		c.Out = resp.AppendArrayLen(c.Out, n)
		for range n {
			c.Out = resp.AppendBulk(c.Out, listPop(l, front))
		}
		var num [20]byte
		word := wordLPOP
		if !front {
			word = wordRPOP
		}
		c.Rewrite(word, key, appendIntBytes(num[:0], int64(n)))
		s.Stats.Dirty += int64(n)
		listDeleteIfEmpty(t, id, l)
		return
	}
	if blocking && !c.NoBlock {
		block(c, keys, deadline)
		return
	}
	c.Out = resp.AppendNullArrayP(c.Out, c.Proto)
}

func blpopCmd(s *Store, c *Ctx, argv [][]byte) { bpop(s, c, argv, true) }
func brpopCmd(s *Store, c *Ctx, argv [][]byte) { bpop(s, c, argv, false) }

// bpop is BLPOP/BRPOP: reply [key, element] from the first non-empty list,
// logged as LPOP/RPOP key.
func bpop(s *Store, c *Ctx, argv [][]byte, front bool) {
	deadline, ok := parseTimeout(c, argv[len(argv)-1])
	if !ok {
		return
	}
	keys := argv[1 : len(argv)-1]
	for _, key := range keys {
		l, t, id, found, wrong := s.listWrite(c, key)
		if wrong {
			return
		}
		if !found || l.Len() == 0 {
			continue
		}
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendBulk(c.Out, key)
		c.Out = resp.AppendBulk(c.Out, listPop(l, front))
		if front {
			c.Rewrite(wordLPOP, key)
		} else {
			c.Rewrite(wordRPOP, key)
		}
		s.Stats.Dirty++
		listDeleteIfEmpty(t, id, l)
		return
	}
	if c.NoBlock {
		c.Out = resp.AppendNullArrayP(c.Out, c.Proto)
		return
	}
	block(c, keys, deadline)
}
