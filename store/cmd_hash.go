package store

import (
	"math"
	"math/big"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Hash commands (Redis's t_hash.c), over the hash value of hash.go.
var hashCommands = []*Command{
	{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Delete one or more hash fields", Cplx: "O(N) where N is the number of fields to be removed.", Handler: hdelCmd},
	{Name: "hexists", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Determine if a hash field exists", Cplx: "O(1)", Handler: hexistsCmd},
	{Name: "hget", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Get the value of a hash field", Cplx: "O(1)", Handler: hgetCmd},
	{Name: "hgetall", Arity: 2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @slow", Group: "hash", Since: "2.0.0", Summary: "Get all the fields and values in a hash", Cplx: "O(N) where N is the size of the hash.", Handler: hgetallCmd},
	{Name: "hincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Increment the integer value of a hash field by the given number", Cplx: "O(1)", Handler: hincrbyCmd},
	{Name: "hincrbyfloat", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.6.0", Summary: "Increment the float value of a hash field by the given amount", Cplx: "O(1)", Handler: hincrbyfloatCmd},
	{Name: "hkeys", Arity: 2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @slow", Group: "hash", Since: "2.0.0", Summary: "Get all the fields in a hash", Cplx: "O(N) where N is the size of the hash.", Handler: hkeysCmd},
	{Name: "hlen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Get the number of fields in a hash", Cplx: "O(1)", Handler: hlenCmd},
	{Name: "hmget", Arity: -3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Get the values of all the given hash fields", Cplx: "O(N) where N is the number of fields being requested.", Handler: hmgetCmd},
	{Name: "hmset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Set multiple hash fields to multiple values", Cplx: "O(N) where N is the number of fields being set.", Handler: hmsetCmd},
	{Name: "hrandfield", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @slow", Group: "hash", Since: "6.2.0", Summary: "Get one or multiple random fields from a hash", Cplx: "O(N) where N is the number of fields returned", Handler: hrandfieldCmd},
	{Name: "hscan", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @slow", Group: "hash", Since: "2.8.0", Summary: "Incrementally iterate hash fields and associated values", Cplx: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", Handler: hscanCmd},
	{Name: "hset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Set the string value of a hash field", Cplx: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", Handler: hsetCmd},
	{Name: "hsetnx", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @hash @fast", Group: "hash", Since: "2.0.0", Summary: "Set the value of a hash field, only if the field does not exist", Cplx: "O(1)", Handler: hsetnxCmd},
	{Name: "hstrlen", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @fast", Group: "hash", Since: "3.2.0", Summary: "Get the length of the value of a hash field", Cplx: "O(1)", Handler: hstrlenCmd},
	{Name: "hvals", Arity: 2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @hash @slow", Group: "hash", Since: "2.0.0", Summary: "Get all the values in a hash", Cplx: "O(N) where N is the size of the hash.", Handler: hvalsCmd},
}

func init() { Register(hashCommands...) }

var wordHSET = []byte("HSET")

func (s *Store) hashRead(c *Ctx, key []byte) (h *hash, found, wrong bool) {
	t, id, found, wrong := s.getKind(c, key, KindHash, true)
	if found && !wrong {
		h = t.Obj(id).(*hash)
	}
	return h, found, wrong
}

// hashWrite finds or (when create) creates a hash for a write.
func (s *Store) hashWrite(c *Ctx, key []byte, create bool) (h *hash, t *Table, id uint32, wrong bool) {
	t, id, found, wrong := s.getKind(c, key, KindHash, false)
	if wrong {
		return nil, t, id, true
	}
	if !found {
		if !create {
			return nil, t, id, false
		}
		id = t.Add(key)
		h = &hash{}
		t.SetObj(id, KindHash, h)
		return h, t, id, false
	}
	return t.Obj(id).(*hash), t, id, false
}

func hsetCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv)%2 == 1 {
		c.Out = resp.AppendWrongArity(c.Out, lowerName(argv[0]))
		return
	}
	h, _, _, wrong := s.hashWrite(c, argv[1], true)
	if wrong {
		return
	}
	added := 0
	for j := 2; j < len(argv); j += 2 {
		if h.Set(argv[j], argv[j+1]) {
			added++
		}
	}
	s.Stats.Dirty += int64((len(argv) - 2) / 2)
	if eqFold(argv[0], "hmset") {
		c.Out = append(c.Out, resp.OK...)
	} else {
		c.Out = resp.AppendInt(c.Out, int64(added))
	}
}

func hmsetCmd(s *Store, c *Ctx, argv [][]byte) { hsetCmd(s, c, argv) }

func hsetnxCmd(s *Store, c *Ctx, argv [][]byte) {
	h, _, _, wrong := s.hashWrite(c, argv[1], true)
	if wrong {
		return
	}
	if _, ok := h.Get(argv[2]); ok {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	h.Set(argv[2], argv[3])
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.One...)
}

func hgetCmd(s *Store, c *Ctx, argv [][]byte) {
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	if found {
		if v, ok := h.Get(argv[2]); ok {
			c.Out = resp.AppendBulk(c.Out, v)
			return
		}
	}
	c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
}

func hmgetCmd(s *Store, c *Ctx, argv [][]byte) {
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(argv)-2)
	for _, f := range argv[2:] {
		if found {
			if v, ok := h.Get(f); ok {
				c.Out = resp.AppendBulk(c.Out, v)
				continue
			}
		}
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
	}
}

func hdelCmd(s *Store, c *Ctx, argv [][]byte) {
	h, t, id, wrong := s.hashWrite(c, argv[1], false)
	if wrong {
		return
	}
	n := 0
	if h != nil {
		n = removeMembers(t, id, argv[2:], h.Delete, h.Len)
	}
	s.Stats.Dirty += int64(n)
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func hlenCmd(s *Store, c *Ctx, argv [][]byte) {
	h, found, wrong := s.hashRead(c, argv[1])
	switch {
	case wrong:
	case !found:
		c.Out = append(c.Out, resp.Zero...)
	default:
		c.Out = resp.AppendInt(c.Out, int64(h.Len()))
	}
}

func hstrlenCmd(s *Store, c *Ctx, argv [][]byte) {
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		v, _ := h.Get(argv[2])
		n = len(v)
	}
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func hexistsCmd(s *Store, c *Ctx, argv [][]byte) {
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	if found {
		if _, ok := h.Get(argv[2]); ok {
			c.Out = append(c.Out, resp.One...)
			return
		}
	}
	c.Out = append(c.Out, resp.Zero...)
}

func hgetallGeneric(s *Store, c *Ctx, argv [][]byte, keys, vals bool) {
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		n = h.Len()
	}
	if keys && vals {
		c.Out = resp.AppendMapLen(c.Out, c.Proto, n)
	} else {
		c.Out = resp.AppendArrayLen(c.Out, n)
	}
	if !found {
		return
	}
	h.ForEach(func(f, v []byte) bool {
		if keys {
			c.Out = resp.AppendBulk(c.Out, f)
		}
		if vals {
			c.Out = resp.AppendBulk(c.Out, v)
		}
		return true
	})
}

func hkeysCmd(s *Store, c *Ctx, argv [][]byte)   { hgetallGeneric(s, c, argv, true, false) }
func hvalsCmd(s *Store, c *Ctx, argv [][]byte)   { hgetallGeneric(s, c, argv, false, true) }
func hgetallCmd(s *Store, c *Ctx, argv [][]byte) { hgetallGeneric(s, c, argv, true, true) }

func hincrbyCmd(s *Store, c *Ctx, argv [][]byte) {
	incr, ok := resp.ParseInt(argv[3])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	h, _, _, wrong := s.hashWrite(c, argv[1], true)
	if wrong {
		return
	}
	var cur int64
	if v, found := h.Get(argv[2]); found {
		if cur, ok = resp.ParseInt(v); !ok {
			c.Out = append(c.Out, resp.ErrHashNotInt...)
			return
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.Out = append(c.Out, resp.ErrOverflow...)
		return
	}
	cur += incr
	var tmp [20]byte
	h.Set(argv[2], strconv.AppendInt(tmp[:0], cur, 10))
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, cur)
}

func hincrbyfloatCmd(s *Store, c *Ctx, argv [][]byte) {
	incr, ok := parseLongDouble(argv[3])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotFloat...)
		return
	}
	if incr.IsInf() {
		c.Out = resp.AppendErr(c.Out, "value is NaN or Infinity")
		return
	}
	h, _, _, wrong := s.hashWrite(c, argv[1], true)
	if wrong {
		return
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	if v, found := h.Get(argv[2]); found {
		f, ok := parseLongDouble(v)
		if !ok {
			c.Out = append(c.Out, resp.ErrHashNotFloat...)
			return
		}
		cur = f
	}
	if cur.IsInf() {
		c.Out = append(c.Out, resp.ErrIncrNaN...)
		return
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleExpMax {
		c.Out = append(c.Out, resp.ErrIncrNaN...)
		return
	}
	text := formatLongDouble(sum)
	h.Set(argv[2], text)
	s.Stats.Dirty++
	c.Out = resp.AppendBulk(c.Out, text)
	c.Rewrite(wordHSET, argv[1], argv[2], text)
}

// hrandfieldCountMax: a negative count asks for that many fields with
// repetition; the reply is bounded by the client's output limits in Redis.
// Here the count is capped so that one call cannot build gigabytes.
const randCountMax = 1 << 24

func hrandfieldCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) == 2 {
		h, found, wrong := s.hashRead(c, argv[1])
		if wrong {
			return
		}
		if !found {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			return
		}
		f, _ := h.Random(s.rnd)
		c.Out = resp.AppendBulk(c.Out, f)
		return
	}
	count, withValues, ok := parseRandCount(c, argv)
	if !ok {
		return
	}
	h, found, wrong := s.hashRead(c, argv[1])
	if wrong {
		return
	}
	if !found || count == 0 {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	emit := func(f, v []byte) {
		if withValues && c.Proto >= 3 {
			c.Out = resp.AppendArrayLen(c.Out, 2)
		}
		c.Out = resp.AppendBulk(c.Out, f)
		if withValues {
			c.Out = resp.AppendBulk(c.Out, v)
		}
	}
	header := func(n int) {
		if withValues && c.Proto < 3 {
			n *= 2
		}
		c.Out = resp.AppendArrayLen(c.Out, n)
	}
	if count < 0 {
		n := int(min(-count, randCountMax))
		header(n)
		for range n {
			emit(h.Random(s.rnd))
		}
		return
	}
	size := h.Len()
	if count >= int64(size) {
		header(size)
		h.ForEach(func(f, v []byte) bool { emit(f, v); return true })
		return
	}
	// Distinct fields: choose indexes of the iteration order.
	picked := pickDistinct(s, size, int(count))
	header(len(picked))
	i := 0
	h.ForEach(func(f, v []byte) bool {
		if picked[i] {
			emit(f, v)
		}
		i++
		return true
	})
}

// parseRandCount parses HRANDFIELD/ZRANDMEMBER's count [WITHSCORES|
// WITHVALUES] (argv[2], argv[3]) as Redis 7.0 does.
func parseRandCount(c *Ctx, argv [][]byte) (count int64, with, ok bool) {
	n, isInt := resp.ParseInt(argv[2])
	if !isInt {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return 0, false, false
	}
	if n == math.MinInt64 {
		c.Out = resp.AppendErr(c.Out, "value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, false, false
	}
	word := "withscores"
	if eqFold(argv[0], "hrandfield") {
		word = "withvalues"
	}
	if len(argv) > 4 || (len(argv) == 4 && !eqFold(argv[3], word)) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return 0, false, false
	}
	with = len(argv) == 4
	if with && (n < -math.MaxInt64/2 || n > math.MaxInt64/2) {
		c.Out = resp.AppendErr(c.Out, "value is out of range")
		return 0, false, false
	}
	return n, with, true
}

// pickDistinct marks k distinct indexes of [0, n).
func pickDistinct(s *Store, n, k int) []bool {
	picked := make([]bool, n)
	// Floyd's algorithm: k draws, no retries.
	for j := n - k; j < n; j++ {
		r := s.rnd.IntN(j + 1)
		if picked[r] {
			r = j
		}
		picked[r] = true
	}
	return picked
}

func hscanCmd(s *Store, c *Ctx, argv [][]byte) {
	cursor, ok := parseCollScanCursor(c, argv[2])
	if !ok {
		return
	}
	h, found, wrong := s.hashRead(c, argv[1])
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
	if h.d == nil {
		h.ForEach(func(f, v []byte) bool {
			if scanMatch(o, f) {
				items = append(items, f, v)
			}
			return true
		})
		scanReply(c, 0, items)
		return
	}
	next := scanDict(h.d, cursor, o.count, func(id uint32) {
		if f := h.d.Key(id); scanMatch(o, f) {
			items = append(items, f, h.d.Val(id))
		}
	})
	scanReply(c, next, items)
}
