package store

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Sorted set commands (Redis's t_zset.c), over the zset value of zset.go.
var zsetCommands = []*Command{
	{Name: "bzmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@write @sortedset @slow @blocking", Group: "sorted-set", Since: "7.0.0", Summary: "Remove and return members with scores in a sorted set or block until one is available", Cplx: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: bzmpopCmd},
	{Name: "bzpopmax", Arity: -3, Flags: FlagWrite | FlagNoscript | FlagBlocking | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, ACL: "@write @sortedset @fast @blocking", Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", Cplx: "O(log(N)) with N being the number of elements in the sorted set.", Handler: bzpopmaxCmd},
	{Name: "bzpopmin", Arity: -3, Flags: FlagWrite | FlagNoscript | FlagBlocking | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, ACL: "@write @sortedset @fast @blocking", Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", Cplx: "O(log(N)) with N being the number of elements in the sorted set.", Handler: bzpopminCmd},
	{Name: "zadd", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @fast", Group: "sorted-set", Since: "1.2.0", Summary: "Add one or more members to a sorted set, or update its score if it already exists", Cplx: "O(log(N)) for each item added, where N is the number of elements in the sorted set.", Handler: zaddCmd},
	{Name: "zcard", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "1.2.0", Summary: "Get the number of members in a sorted set", Cplx: "O(1)", Handler: zcardCmd},
	{Name: "zcount", Arity: 4, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "2.0.0", Summary: "Count the members in a sorted set with scores within the given values", Cplx: "O(log(N)) with N being the number of elements in the sorted set.", Handler: zcountCmd},
	{Name: "zdiff", Arity: -3, Flags: FlagReadonly, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Subtract multiple sorted sets", Cplx: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Handler: zdiffCmd},
	{Name: "zdiffstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key", Cplx: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Handler: zdiffstoreCmd},
	{Name: "zincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @fast", Group: "sorted-set", Since: "1.2.0", Summary: "Increment the score of a member in a sorted set", Cplx: "O(log(N)) where N is the number of elements in the sorted set.", Handler: zincrbyCmd},
	{Name: "zinter", Arity: -3, Flags: FlagReadonly, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Intersect multiple sorted sets", Cplx: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Handler: zinterCmd},
	{Name: "zintercard", Arity: -3, Flags: FlagReadonly, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "7.0.0", Summary: "Intersect multiple sorted sets and return the cardinality of the result", Cplx: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", Handler: zintercardCmd},
	{Name: "zinterstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "2.0.0", Summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key", Cplx: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Handler: zinterstoreCmd},
	{Name: "zlexcount", Arity: 4, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "2.8.9", Summary: "Count the number of members in a sorted set between a given lexicographical range", Cplx: "O(log(N)) with N being the number of elements in the sorted set.", Handler: zlexcountCmd},
	{Name: "zmpop", Arity: -4, Flags: FlagWrite, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "7.0.0", Summary: "Remove and return members with scores in a sorted set", Cplx: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: zmpopCmd},
	{Name: "zmscore", Arity: -3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "6.2.0", Summary: "Get the score associated with the given members in a sorted set", Cplx: "O(N) where N is the number of members being requested.", Handler: zmscoreCmd},
	{Name: "zpopmax", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @fast", Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return members with the highest scores in a sorted set", Cplx: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: zpopmaxCmd},
	{Name: "zpopmin", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @fast", Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return members with the lowest scores in a sorted set", Cplx: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: zpopminCmd},
	{Name: "zrandmember", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Get one or multiple random elements from a sorted set", Cplx: "O(N) where N is the number of elements returned", Handler: zrandmemberCmd},
	{Name: "zrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "1.2.0", Summary: "Return a range of members in a sorted set", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Handler: zrangeCmd},
	{Name: "zrangebylex", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "2.8.9", Summary: "Return a range of members in a sorted set, by lexicographical range", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", Handler: zrangebylexCmd},
	{Name: "zrangebyscore", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "1.0.5", Summary: "Return a range of members in a sorted set, by score", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", Handler: zrangebyscoreCmd},
	{Name: "zrangestore", Arity: -5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Store a range of members from sorted set into another key", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", Handler: zrangestoreCmd},
	{Name: "zrank", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "2.0.0", Summary: "Determine the index of a member in a sorted set", Cplx: "O(log(N))", Handler: zrankCmd},
	{Name: "zrem", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @fast", Group: "sorted-set", Since: "1.2.0", Summary: "Remove one or more members from a sorted set", Cplx: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", Handler: zremCmd},
	{Name: "zremrangebylex", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "2.8.9", Summary: "Remove all members in a sorted set between the given lexicographical range", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Handler: zremrangebylexCmd},
	{Name: "zremrangebyrank", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "2.0.0", Summary: "Remove all members in a sorted set within the given indexes", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Handler: zremrangebyrankCmd},
	{Name: "zremrangebyscore", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "1.2.0", Summary: "Remove all members in a sorted set within the given scores", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Handler: zremrangebyscoreCmd},
	{Name: "zrevrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "1.2.0", Summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Handler: zrevrangeCmd},
	{Name: "zrevrangebylex", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "2.8.9", Summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", Handler: zrevrangebylexCmd},
	{Name: "zrevrangebyscore", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "2.2.0", Summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low", Cplx: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", Handler: zrevrangebyscoreCmd},
	{Name: "zrevrank", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "2.0.0", Summary: "Determine the index of a member in a sorted set, with scores ordered from high to low", Cplx: "O(log(N))", Handler: zrevrankCmd},
	{Name: "zscan", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "2.8.0", Summary: "Incrementally iterate sorted sets elements and associated scores", Cplx: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", Handler: zscanCmd},
	{Name: "zscore", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @sortedset @fast", Group: "sorted-set", Since: "1.2.0", Summary: "Get the score associated with the given member in a sorted set", Cplx: "O(1)", Handler: zscoreCmd},
	{Name: "zunion", Arity: -3, Flags: FlagReadonly, FirstKey: 0, LastKey: 0, Step: 0, ACL: "@read @sortedset @slow", Group: "sorted-set", Since: "6.2.0", Summary: "Add multiple sorted sets", Cplx: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Handler: zunionCmd},
	{Name: "zunionstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @sortedset @slow", Group: "sorted-set", Since: "2.0.0", Summary: "Add multiple sorted sets and store the resulting sorted set in a new key", Cplx: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Handler: zunionstoreCmd},
}

func init() { Register(zsetCommands...) }

var (
	wordZPOPMIN = []byte("ZPOPMIN")
	wordZPOPMAX = []byte("ZPOPMAX")
)

// cStrtod is C's strtod over b: optional leading space, sign, "inf" or
// "infinity" or "nan" in any case, hex ("0x1.8p3", "0x10") or decimal. It
// returns the value, how many bytes it read (0: none) and whether the
// result overflowed or underflowed (ERANGE).
func cStrtod(b []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	start := i
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	rest := b[i:]
	// has reports whether rest starts with word, in any case (no allocation:
	// every ZADD parses its scores here).
	has := func(word string) bool {
		return len(rest) >= len(word) && bytes.EqualFold(rest[:len(word)], []byte(word))
	}
	neg := start < len(b) && b[start] == '-'
	switch {
	case has("infinity"):
		return signed(math.Inf(1), neg), i + 8, false
	case has("inf"):
		return signed(math.Inf(1), neg), i + 3, false
	case has("nan"):
		return math.NaN(), i + 3, false
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		j := 2
		digits := 0
		for j < len(rest) && isHex(rest[j]) {
			j++
			digits++
		}
		if j < len(rest) && rest[j] == '.' {
			j++
			for j < len(rest) && isHex(rest[j]) {
				j++
				digits++
			}
		}
		if digits == 0 {
			return 0, i + 1, false // just the "0"
		}
		mant := string(rest[:j])
		exp := "p0"
		if j < len(rest) && (rest[j] == 'p' || rest[j] == 'P') {
			k := j + 1
			if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
				k++
			}
			if k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
				for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
					k++
				}
				exp = string(rest[j:k])
				j = k
			}
		}
		f, err := strconv.ParseFloat(mant+exp, 64)
		return signed(f, neg), i + j, err != nil
	}
	j := 0
	digits := 0
	nonzero := false
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		nonzero = nonzero || rest[j] != '0'
		j++
		digits++
	}
	if j < len(rest) && rest[j] == '.' {
		j++
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			nonzero = nonzero || rest[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(rest) && (rest[j] == 'e' || rest[j] == 'E') {
		k := j + 1
		if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
			k++
		}
		if k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(rest[:j]), 64)
	erange = err != nil || (f == 0 && nonzero)
	if err == nil && f != 0 && math.Abs(f) < 0x1p-1022 {
		erange = true // glibc reports subnormal results as ERANGE
	}
	return signed(f, neg), i + j, erange
}

// cStr is what C sees of an argument handed to strtod: up to the first NUL.
func cStr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func isHex(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}

func signed(f float64, neg bool) float64 {
	if neg {
		return -f
	}
	return f
}

// parseScore is getDoubleFromObject: the whole argument, no leading space,
// no NaN, no overflow, no underflow to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r') {
		return 0, false
	}
	v, n, erange := cStrtod(b)
	if n != len(b) || math.IsNaN(v) || (erange && (math.IsInf(v, 0) || v == 0)) {
		return 0, false
	}
	return v, true
}

// scoreRange is zrangespec.
type scoreRange struct {
	min, max     float64
	minEx, maxEx bool
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := false
	b = cStr(b)
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	v, n, _ := cStrtod(b)
	if n != len(b) || math.IsNaN(v) {
		return 0, false, false
	}
	return v, ex, true
}

// parseScoreRange is zslParseRange.
func parseScoreRange(minArg, maxArg []byte) (scoreRange, bool) {
	var r scoreRange
	var ok1, ok2 bool
	r.min, r.minEx, ok1 = parseScoreBound(minArg)
	r.max, r.maxEx, ok2 = parseScoreBound(maxArg)
	return r, ok1 && ok2
}

func (r scoreRange) gteMin(v float64) bool {
	if r.minEx {
		return v > r.min
	}
	return v >= r.min
}

func (r scoreRange) lteMax(v float64) bool {
	if r.maxEx {
		return v < r.max
	}
	return v <= r.max
}

// lexRange is zlexrangespec; a nil bound with inf set is - or +.
type lexRange struct {
	min, max       []byte
	minInf, maxInf int // -1: "-", +1: "+", 0: a value
	minEx, maxEx   bool
}

func parseLexBound(b []byte) (val []byte, inf int, ex, ok bool) {
	if len(b) == 0 {
		return nil, 0, false, false
	}
	switch b[0] {
	case '+':
		if len(b) == 1 {
			return nil, 1, false, true
		}
	case '-':
		if len(b) == 1 {
			return nil, -1, false, true
		}
	case '(':
		return b[1:], 0, true, true
	case '[':
		return b[1:], 0, false, true
	}
	return nil, 0, false, false
}

func parseLexRange(minArg, maxArg []byte) (lexRange, bool) {
	var r lexRange
	var ok1, ok2 bool
	r.min, r.minInf, r.minEx, ok1 = parseLexBound(minArg)
	r.max, r.maxInf, r.maxEx, ok2 = parseLexBound(maxArg)
	return r, ok1 && ok2
}

func (r lexRange) gteMin(m []byte) bool {
	switch r.minInf {
	case -1:
		return true
	case 1:
		return false
	}
	c := bytes.Compare(m, r.min)
	return c > 0 || (c == 0 && !r.minEx)
}

func (r lexRange) lteMax(m []byte) bool {
	switch r.maxInf {
	case 1:
		return true
	case -1:
		return false
	}
	c := bytes.Compare(m, r.max)
	return c < 0 || (c == 0 && !r.maxEx)
}

// empty reports a range that can hold nothing (zslIsInLexRange's test).
func (r lexRange) empty() bool {
	if r.minInf == 1 || r.maxInf == -1 {
		return true
	}
	if r.minInf != 0 || r.maxInf != 0 {
		return false
	}
	c := bytes.Compare(r.min, r.max)
	return c > 0 || (c == 0 && (r.minEx || r.maxEx))
}

// scoreRanks returns the ranks [first, last] of a score range, ok=false
// when it is empty.
func (z *zset) scoreRanks(r scoreRange) (int, int, bool) {
	if r.min > r.max || (r.min == r.max && (r.minEx || r.maxEx)) {
		return 0, 0, false
	}
	first := z.CountWhile(func(s float64, _ []byte) bool { return !r.gteMin(s) })
	end := z.CountWhile(func(s float64, _ []byte) bool { return r.lteMax(s) })
	if first >= end {
		return 0, 0, false
	}
	return first, end - 1, true
}

// lexRanks is scoreRanks for a lex range. The small form is scanned
// linearly from the start as Redis scans its listpack (that matters only
// when scores differ, where lex ranges are undefined).
func (z *zset) lexRanks(r lexRange) (int, int, bool) {
	if r.empty() || z.Len() == 0 {
		return 0, 0, false
	}
	// As zslIsInLexRange: the last element must reach min and the first
	// must not pass max, or nothing is in range.
	if lastM, _ := z.At(z.Len() - 1); !r.gteMin(lastM) {
		return 0, 0, false
	}
	if firstM, _ := z.At(0); !r.lteMax(firstM) {
		return 0, 0, false
	}
	var first int
	if z.d == nil {
		first = len(z.small)
		for i := range z.small {
			if r.gteMin(z.small[i].bytes()) {
				first = i
				break
			}
		}
	} else {
		first = z.CountWhile(func(_ float64, m []byte) bool { return !r.gteMin(m) })
	}
	if first >= z.Len() {
		return 0, 0, false
	}
	last := first - 1
	z.Range(first, z.Len()-1, false, func(m []byte, _ float64) bool {
		if !r.lteMax(m) {
			return false
		}
		last++
		return true
	})
	if last < first {
		return 0, 0, false
	}
	return first, last, true
}

func (s *Store) zsetRead(c *Ctx, key []byte) (z *zset, found, wrong bool) {
	t, id, found, wrong := s.getKind(c, key, KindZSet, true)
	if found && !wrong {
		z = t.Obj(id).(*zset)
	}
	return z, found, wrong
}

func (s *Store) zsetWrite(c *Ctx, key []byte) (z *zset, t *Table, id uint32, found, wrong bool) {
	t, id, found, wrong = s.getKind(c, key, KindZSet, false)
	if found && !wrong {
		z = t.Obj(id).(*zset)
	}
	return z, t, id, found, wrong
}

func appendScore(c *Ctx, v float64) { c.Out = resp.AppendDouble(c.Out, c.Proto, v) }

// ZADD flags.
const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddCH
	zaddIncr
)

func zaddCmd(s *Store, c *Ctx, argv [][]byte) { zaddGeneric(s, c, argv, 0) }

func zincrbyCmd(s *Store, c *Ctx, argv [][]byte) { zaddGeneric(s, c, argv, zaddIncr) }

func zaddGeneric(s *Store, c *Ctx, argv [][]byte, flags int) {
	// ZINCRBY shares ZADD's parser (options included), as in Redis.
	j := 2
	{
	opts:
		for ; j < len(argv); j++ {
			switch {
			case eqFold(argv[j], "nx"):
				flags |= zaddNX
			case eqFold(argv[j], "xx"):
				flags |= zaddXX
			case eqFold(argv[j], "ch"):
				flags |= zaddCH
			case eqFold(argv[j], "incr"):
				flags |= zaddIncr
			case eqFold(argv[j], "gt"):
				flags |= zaddGT
			case eqFold(argv[j], "lt"):
				flags |= zaddLT
			default:
				break opts
			}
		}
	}
	elems := len(argv) - j
	if elems%2 != 0 || elems == 0 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	elems /= 2
	if flags&zaddNX != 0 && flags&zaddXX != 0 {
		c.Out = append(c.Out, resp.ErrZaddNXXX...)
		return
	}
	if (flags&zaddGT != 0 && flags&zaddNX != 0) || (flags&zaddLT != 0 && flags&zaddNX != 0) || (flags&zaddGT != 0 && flags&zaddLT != 0) {
		c.Out = append(c.Out, resp.ErrZaddGTLTNX...)
		return
	}
	if flags&zaddIncr != 0 && elems > 1 {
		c.Out = append(c.Out, resp.ErrZaddIncr...)
		return
	}
	scores := make([]float64, elems)
	maxLen := 0
	for i := range elems {
		v, ok := parseScore(argv[j+2*i])
		if !ok {
			c.Out = append(c.Out, resp.ErrNotFloat...)
			return
		}
		scores[i] = v
		maxLen = max(maxLen, len(argv[j+2*i+1]))
	}
	z, t, _, found, wrong := s.zsetWrite(c, argv[1])
	if wrong {
		return
	}
	incr := flags&zaddIncr != 0
	if !found {
		if flags&zaddXX != 0 {
			if incr {
				c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			} else {
				c.Out = append(c.Out, resp.Zero...)
			}
			return
		}
		id := t.Add(argv[1])
		z = newZset(elems, maxLen)
		t.SetObj(id, KindZSet, z)
	}
	added, updated, processed := 0, 0, 0
	nanErr := false
	var newScore float64
	for i := range elems {
		member, score := argv[j+2*i+1], scores[i]
		cur, exists := z.Score(member)
		if exists {
			if flags&zaddNX != 0 {
				continue
			}
			if incr {
				score += cur
				if math.IsNaN(score) {
					nanErr = true
					break
				}
			}
			if (flags&zaddLT != 0 && score >= cur) || (flags&zaddGT != 0 && score <= cur) {
				continue
			}
			newScore = score
			processed++
			if score != cur {
				z.Update(s.rnd, member, score)
				updated++
			}
			continue
		}
		if flags&zaddXX != 0 {
			continue
		}
		z.Insert(s.rnd, member, score)
		newScore = score
		added++
		processed++
	}
	if nanErr {
		c.Out = append(c.Out, resp.ErrNaNScore...)
	} else if incr {
		if processed > 0 {
			appendScore(c, newScore)
		} else {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		}
	} else if flags&zaddCH != 0 {
		c.Out = resp.AppendInt(c.Out, int64(added+updated))
	} else {
		c.Out = resp.AppendInt(c.Out, int64(added))
	}
	s.Stats.Dirty += int64(added + updated)
	if !found {
		if z.Len() == 0 {
			t.Remove(mustFind(t, argv[1]))
		} else {
			s.signalReady(c.DB, argv[1])
		}
	}
}

func mustFind(t *Table, key []byte) uint32 {
	id, ok := t.Find(key)
	if !ok {
		panic("BUG: key vanished")
	}
	return id
}

func zremCmd(s *Store, c *Ctx, argv [][]byte) {
	z, t, id, found, wrong := s.zsetWrite(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		n = removeMembers(t, id, argv[2:], z.Delete, z.Len)
	}
	s.Stats.Dirty += int64(n)
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func zcardCmd(s *Store, c *Ctx, argv [][]byte) {
	z, found, wrong := s.zsetRead(c, argv[1])
	switch {
	case wrong:
	case !found:
		c.Out = append(c.Out, resp.Zero...)
	default:
		c.Out = resp.AppendInt(c.Out, int64(z.Len()))
	}
}

func zscoreCmd(s *Store, c *Ctx, argv [][]byte) {
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	if found {
		if v, ok := z.Score(argv[2]); ok {
			appendScore(c, v)
			return
		}
	}
	c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
}

func zmscoreCmd(s *Store, c *Ctx, argv [][]byte) {
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(argv)-2)
	for _, m := range argv[2:] {
		if found {
			if v, ok := z.Score(m); ok {
				appendScore(c, v)
				continue
			}
		}
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
	}
}

func zrankGeneric(s *Store, c *Ctx, argv [][]byte, rev bool) {
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	if found {
		if r, ok := z.Rank(argv[2]); ok {
			if rev {
				r = z.Len() - 1 - r
			}
			c.Out = resp.AppendInt(c.Out, int64(r))
			return
		}
	}
	c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
}

func zrankCmd(s *Store, c *Ctx, argv [][]byte)    { zrankGeneric(s, c, argv, false) }
func zrevrankCmd(s *Store, c *Ctx, argv [][]byte) { zrankGeneric(s, c, argv, true) }

func zcountCmd(s *Store, c *Ctx, argv [][]byte) {
	r, ok := parseScoreRange(argv[2], argv[3])
	if !ok {
		c.Out = append(c.Out, resp.ErrMinMaxFloat...)
		return
	}
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		if first, last, ok := z.scoreRanks(r); ok {
			n = last - first + 1
		}
	}
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func zlexcountCmd(s *Store, c *Ctx, argv [][]byte) {
	r, ok := parseLexRange(argv[2], argv[3])
	if !ok {
		c.Out = append(c.Out, resp.ErrMinMaxLex...)
		return
	}
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	n := 0
	if found {
		if first, last, ok := z.lexRanks(r); ok {
			n = last - first + 1
		}
	}
	c.Out = resp.AppendInt(c.Out, int64(n))
}

// zrangeKind is how ZRANGE's min and max are read.
const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// zrangeElem is one element of a range result (members copied).
type zrangeElem struct {
	member []byte
	score  float64
}

// zrangeGeneric is zrangeGenericCommand: ZRANGE, ZRANGESTORE and the legacy
// forms. argStart is the index of the source key; kind and rev are preset
// by the legacy commands.
func zrangeGeneric(s *Store, c *Ctx, argv [][]byte, argStart int, dst []byte, kind int, rev bool) {
	// Only ZRANGE and ZRANGESTORE take REV; the legacy forms fix the
	// direction.
	dirSet := kind != zrangeAuto
	key := argv[argStart]
	minArg, maxArg := argv[argStart+1], argv[argStart+2]
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := argStart + 3; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch {
		case dst == nil && eqFold(argv[j], "withscores"):
			withScores = true
		case eqFold(argv[j], "limit") && left >= 2:
			o, ok1 := resp.ParseInt(argv[j+1])
			if !ok1 {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return
			}
			l, ok2 := resp.ParseInt(argv[j+2])
			if !ok2 {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return
			}
			offset, limit = o, l
			j += 2
		case !dirSet && eqFold(argv[j], "rev"):
			rev, dirSet = true, true
		case kind == zrangeAuto && eqFold(argv[j], "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && eqFold(argv[j], "byscore"):
			kind = zrangeScore
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.Out = resp.AppendErr(c.Out, "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && kind == zrangeLex {
		c.Out = resp.AppendErr(c.Out, "syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	if rev && kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var start, end int64
	var sr scoreRange
	var lr lexRange
	switch kind {
	case zrangeRank:
		r, ok := parseInts(c, minArg, maxArg)
		if !ok {
			return
		}
		start, end = r[0], r[1]
	case zrangeScore:
		var ok bool
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.Out = append(c.Out, resp.ErrMinMaxFloat...)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.Out = append(c.Out, resp.ErrMinMaxLex...)
			return
		}
	}
	z, found, wrong := s.zsetRead(c, key)
	if wrong {
		return
	}
	var res []zrangeElem
	if found {
		var first, last int
		ok := false
		switch kind {
		case zrangeRank:
			first, last, ok = normRange(start, end, z.Len())
			if ok && rev {
				first, last = z.Len()-1-last, z.Len()-1-first
			}
		case zrangeScore:
			first, last, ok = z.scoreRanks(sr)
		case zrangeLex:
			first, last, ok = z.lexRanks(lr)
		}
		if ok && kind != zrangeRank {
			// LIMIT: a negative offset yields nothing, a negative count
			// everything after the offset (Redis's loops do the same).
			if offset < 0 {
				ok = false
			} else if rev {
				last -= int(min(offset, int64(last-first+1)))
				if limit >= 0 && int64(last-first+1) > limit {
					first = last - int(limit) + 1
				}
			} else {
				first += int(min(offset, int64(last-first+1)))
				if limit >= 0 && int64(last-first+1) > limit {
					last = first + int(limit) - 1
				}
			}
			ok = ok && first <= last
		}
		if ok && dst == nil {
			// A reply is written straight from the set, no copy.
			appendZrangeLen(c, last-first+1, withScores)
			z.Range(first, last, rev, func(m []byte, sc float64) bool {
				appendZrangeElem(c, m, sc, withScores)
				return true
			})
			return
		}
		if ok {
			z.Range(first, last, rev, func(m []byte, sc float64) bool {
				res = append(res, zrangeElem{append([]byte(nil), m...), sc})
				return true
			})
		}
	}
	if dst != nil {
		s.storeZset(c, dst, res)
		return
	}
	appendZrange(c, res, withScores)
}

// appendZrange replies a range: members, or with scores flat pairs in
// RESP2 and [member, score] arrays in RESP3.
func appendZrange(c *Ctx, res []zrangeElem, withScores bool) {
	appendZrangeLen(c, len(res), withScores)
	for _, e := range res {
		appendZrangeElem(c, e.member, e.score, withScores)
	}
}

// appendZrangeLen is the header of a range reply of n elements.
func appendZrangeLen(c *Ctx, n int, withScores bool) {
	if withScores && c.Proto < 3 {
		n *= 2
	}
	c.Out = resp.AppendArrayLen(c.Out, n)
}

// appendZrangeElem is one element of a range reply.
func appendZrangeElem(c *Ctx, member []byte, score float64, withScores bool) {
	if withScores && c.Proto >= 3 {
		c.Out = resp.AppendArrayLen(c.Out, 2)
	}
	c.Out = resp.AppendBulk(c.Out, member)
	if withScores {
		appendScore(c, score)
	}
}

// storeZset replaces dst with the elements (deleting it when there are
// none) and replies with their number.
func (s *Store) storeZset(c *Ctx, dst []byte, res []zrangeElem) {
	t, id, found := s.lookup(c, dst)
	if found {
		t.Remove(id)
		if len(res) == 0 {
			s.Stats.Dirty++
		}
	}
	if len(res) == 0 {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	maxLen := 0
	for _, e := range res {
		maxLen = max(maxLen, len(e.member))
	}
	z := newZset(len(res), maxLen)
	for _, e := range res {
		if _, exists := z.Score(e.member); !exists {
			z.Insert(s.rnd, e.member, e.score)
		}
	}
	id = t.Add(dst)
	t.SetObj(id, KindZSet, z)
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, int64(z.Len()))
	s.signalReady(c.DB, dst)
}

func zrangeCmd(s *Store, c *Ctx, argv [][]byte) { zrangeGeneric(s, c, argv, 1, nil, zrangeAuto, false) }
func zrangestoreCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 2, argv[1], zrangeAuto, false)
}
func zrevrangeCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, nil, zrangeRank, true)
}
func zrangebyscoreCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, nil, zrangeScore, false)
}
func zrevrangebyscoreCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, nil, zrangeScore, true)
}
func zrangebylexCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, nil, zrangeLex, false)
}
func zrevrangebylexCmd(s *Store, c *Ctx, argv [][]byte) {
	zrangeGeneric(s, c, argv, 1, nil, zrangeLex, true)
}

func zremrangeGeneric(s *Store, c *Ctx, argv [][]byte, kind int) {
	var start, end int64
	var sr scoreRange
	var lr lexRange
	switch kind {
	case zrangeRank:
		r, ok := parseInts(c, argv[2], argv[3])
		if !ok {
			return
		}
		start, end = r[0], r[1]
	case zrangeScore:
		var ok bool
		if sr, ok = parseScoreRange(argv[2], argv[3]); !ok {
			c.Out = append(c.Out, resp.ErrMinMaxFloat...)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = parseLexRange(argv[2], argv[3]); !ok {
			c.Out = append(c.Out, resp.ErrMinMaxLex...)
			return
		}
	}
	z, t, id, found, wrong := s.zsetWrite(c, argv[1])
	if wrong {
		return
	}
	if !found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	var first, last int
	ok := false
	switch kind {
	case zrangeRank:
		first, last, ok = normRange(start, end, z.Len())
	case zrangeScore:
		first, last, ok = z.scoreRanks(sr)
	case zrangeLex:
		first, last, ok = z.lexRanks(lr)
	}
	if !ok {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	var members [][]byte
	z.Range(first, last, false, func(m []byte, _ float64) bool {
		members = append(members, append([]byte(nil), m...))
		return true
	})
	for _, m := range members {
		z.Delete(m)
	}
	if z.Len() == 0 {
		t.Remove(id)
	}
	s.Stats.Dirty += int64(len(members))
	c.Out = resp.AppendInt(c.Out, int64(len(members)))
}

func zremrangebyrankCmd(s *Store, c *Ctx, argv [][]byte)  { zremrangeGeneric(s, c, argv, zrangeRank) }
func zremrangebyscoreCmd(s *Store, c *Ctx, argv [][]byte) { zremrangeGeneric(s, c, argv, zrangeScore) }
func zremrangebylexCmd(s *Store, c *Ctx, argv [][]byte)   { zremrangeGeneric(s, c, argv, zrangeLex) }

// zpop pops up to count elements from the low (min) or high end of key.
// It returns nil when the key is missing or empty.
// popScratchMax: pop scratch larger than this is dropped after use.
const popScratchMax = 64 << 10

func (s *Store) zpop(c *Ctx, key []byte, min bool, count int64) (res []zrangeElem, found, wrong bool) {
	z, t, id, found, wrong := s.zsetWrite(c, key)
	if !found || wrong {
		return nil, found, wrong
	}
	n := int(math.Min(float64(count), float64(z.Len())))
	// The popped members go into scratch memory the Store keeps for the
	// next pop (the caller replies before popping again), so a pop costs
	// no allocation; a large count's scratch is not kept.
	if cap(s.popBuf) > popScratchMax {
		s.popBuf, s.popRes = nil, nil
	}
	res, buf := s.popRes[:0], s.popBuf[:0]
	for range n {
		var sc float64
		start := len(buf)
		buf, sc = z.PopEnd(min, buf)
		res = append(res, zrangeElem{buf[start:len(buf):len(buf)], sc})
	}
	s.popRes, s.popBuf = res, buf
	if z.Len() == 0 {
		t.Remove(id)
	}
	s.Stats.Dirty += int64(len(res))
	return res, true, false
}

func zpopGeneric(s *Store, c *Ctx, argv [][]byte, min bool) {
	if len(argv) > 3 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	count, hasCount := int64(1), len(argv) == 3
	if hasCount {
		var ok bool
		if count, ok = parsePositive(c, argv[2]); !ok {
			return
		}
	}
	res, _, wrong := s.zpop(c, argv[1], min, count)
	if wrong {
		return
	}
	if hasCount && c.Proto >= 3 {
		appendZrange(c, res, true)
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, 2*len(res))
	for _, e := range res {
		c.Out = resp.AppendBulk(c.Out, e.member)
		appendScore(c, e.score)
	}
}

func zpopminCmd(s *Store, c *Ctx, argv [][]byte) { zpopGeneric(s, c, argv, true) }
func zpopmaxCmd(s *Store, c *Ctx, argv [][]byte) { zpopGeneric(s, c, argv, false) }

func bzpopGeneric(s *Store, c *Ctx, argv [][]byte, min bool) {
	deadline, ok := parseTimeout(c, argv[len(argv)-1])
	if !ok {
		return
	}
	keys := argv[1 : len(argv)-1]
	for _, key := range keys {
		res, _, wrong := s.zpop(c, key, min, 1)
		if wrong {
			return
		}
		if len(res) == 0 {
			continue
		}
		c.Out = resp.AppendArrayLen(c.Out, 3)
		c.Out = resp.AppendBulk(c.Out, key)
		c.Out = resp.AppendBulk(c.Out, res[0].member)
		appendScore(c, res[0].score)
		if min {
			c.Rewrite(wordZPOPMIN, key)
		} else {
			c.Rewrite(wordZPOPMAX, key)
		}
		return
	}
	if c.NoBlock {
		c.Out = resp.AppendNullArrayP(c.Out, c.Proto)
		return
	}
	block(c, keys, deadline)
}

func bzpopminCmd(s *Store, c *Ctx, argv [][]byte) { bzpopGeneric(s, c, argv, true) }
func bzpopmaxCmd(s *Store, c *Ctx, argv [][]byte) { bzpopGeneric(s, c, argv, false) }

func parseMinMax(c *Ctx, arg []byte) (bool, bool) {
	switch {
	case eqFold(arg, "min"):
		return true, true
	case eqFold(arg, "max"):
		return false, true
	}
	c.Out = append(c.Out, resp.ErrSyntax...)
	return false, false
}

func zmpopGeneric(s *Store, c *Ctx, keys [][]byte, min bool, count int64, blocking bool, deadline int64) {
	for _, key := range keys {
		res, _, wrong := s.zpop(c, key, min, count)
		if wrong {
			return
		}
		if len(res) == 0 {
			continue
		}
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendBulk(c.Out, key)
		appendZrangePairs(c, res)
		var num [20]byte
		word := wordZPOPMIN
		if !min {
			word = wordZPOPMAX
		}
		c.Rewrite(word, key, appendIntBytes(num[:0], int64(len(res))))
		return
	}
	if blocking && !c.NoBlock {
		block(c, keys, deadline)
		return
	}
	c.Out = resp.AppendNullArrayP(c.Out, c.Proto)
}

// appendZrangePairs replies [[member, score], ...] in both protocols.
func appendZrangePairs(c *Ctx, res []zrangeElem) {
	c.Out = resp.AppendArrayLen(c.Out, len(res))
	for _, e := range res {
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendBulk(c.Out, e.member)
		appendScore(c, e.score)
	}
}

func zmpopCmd(s *Store, c *Ctx, argv [][]byte) {
	keys, min, count, ok := parseMpop(c, argv, 1, parseMinMax)
	if ok {
		zmpopGeneric(s, c, keys, min, count, false, 0)
	}
}

func bzmpopCmd(s *Store, c *Ctx, argv [][]byte) {
	deadline, ok := parseTimeout(c, argv[1])
	if !ok {
		return
	}
	keys, min, count, ok := parseMpop(c, argv, 2, parseMinMax)
	if ok {
		zmpopGeneric(s, c, keys, min, count, true, deadline)
	}
}

// Set operations over sorted sets (and sets, whose members score 1).
const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	aggrSum = iota
	aggrMin
	aggrMax
)

type zopSource struct {
	z      *zset
	st     *set
	weight float64
}

func (src *zopSource) size() int {
	switch {
	case src.z != nil:
		return src.z.Len()
	case src.st != nil:
		return src.st.Len()
	}
	return 0
}

func (src *zopSource) score(m []byte) (float64, bool) {
	switch {
	case src.z != nil:
		return src.z.Score(m)
	case src.st != nil:
		if src.st.Has(m) {
			return 1, true
		}
	}
	return 0, false
}

func (src *zopSource) forEach(fn func(m []byte, sc float64)) {
	switch {
	case src.z != nil && src.z.Len() > 0:
		src.z.Range(0, src.z.Len()-1, false, func(m []byte, sc float64) bool { fn(m, sc); return true })
	case src.st != nil:
		src.st.ForEach(func(m []byte) bool { fn(m, 1); return true })
	}
}

func weighted(score, weight float64) float64 {
	v := score * weight
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func aggregate(aggr int, acc, v float64) float64 {
	switch aggr {
	case aggrMin:
		return math.Min(acc, v)
	case aggrMax:
		return math.Max(acc, v)
	}
	s := acc + v
	if math.IsNaN(s) {
		return 0
	}
	return s
}

// zsetOp is zunionInterDiffGenericCommand. numkeysIdx indexes numkeys; dst
// is the destination of the STORE forms; cardOnly is ZINTERCARD.
func zsetOp(s *Store, c *Ctx, argv [][]byte, numkeysIdx int, dst []byte, op int, cardOnly bool) {
	numkeys, ok := resp.ParseInt(argv[numkeysIdx])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	if numkeys < 1 {
		c.Out = resp.AppendErr(c.Out, "at least 1 input key is needed for '", lowerName(argv[0]), "' command")
		return
	}
	if numkeys > int64(len(argv)-numkeysIdx-1) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	srcs := make([]zopSource, numkeys)
	j := numkeysIdx + 1
	for i := range srcs {
		t, id, found := s.lookup(c, argv[j])
		if dst == nil {
			if found {
				s.Stats.Hits++
			} else {
				s.Stats.Misses++
			}
		}
		if found {
			switch t.Kind(id) {
			case KindZSet:
				srcs[i].z = t.Obj(id).(*zset)
			case KindSet:
				srcs[i].st = t.Obj(id).(*set)
			default:
				wrongType(c)
				return
			}
		}
		srcs[i].weight = 1
		j++
	}
	aggr, withScores, limit := aggrSum, false, int64(0)
	for remaining := len(argv) - j; remaining > 0; remaining = len(argv) - j {
		switch {
		case op != zopDiff && !cardOnly && remaining >= len(srcs)+1 && eqFold(argv[j], "weights"):
			j++
			for i := range srcs {
				w, ok := parseScore(argv[j])
				if !ok {
					c.Out = append(c.Out, resp.ErrWeightFloat...)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && eqFold(argv[j], "aggregate"):
			switch w := argv[j+1]; {
			case eqFold(w, "sum"):
				aggr = aggrSum
			case eqFold(w, "min"):
				aggr = aggrMin
			case eqFold(w, "max"):
				aggr = aggrMax
			default:
				c.Out = append(c.Out, resp.ErrSyntax...)
				return
			}
			j += 2
		case dst == nil && !cardOnly && eqFold(argv[j], "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eqFold(argv[j], "limit"):
			n, ok := resp.ParseInt(argv[j+1])
			if !ok || n < 0 {
				c.Out = append(c.Out, resp.ErrLimitNegative...)
				return
			}
			limit = n
			j += 2
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	var res []zrangeElem
	switch op {
	case zopInter:
		order := slices.Clone(srcs)
		slices.SortStableFunc(order, func(a, b zopSource) int { return a.size() - b.size() })
		if order[0].size() == 0 {
			if cardOnly {
				c.Out = append(c.Out, resp.Zero...)
				return
			}
			break
		}
		n := 0
		order[0].forEach(func(m []byte, sc float64) {
			if cardOnly && limit > 0 && int64(n) >= limit {
				return
			}
			acc := weighted(sc, order[0].weight)
			for k := 1; k < len(order); k++ {
				v, ok := order[k].score(m)
				if !ok {
					return
				}
				acc = aggregate(aggr, acc, weighted(v, order[k].weight))
			}
			n++
			if !cardOnly {
				res = append(res, zrangeElem{append([]byte(nil), m...), acc})
			}
		})
		if cardOnly {
			c.Out = resp.AppendInt(c.Out, int64(n))
			return
		}
	case zopUnion:
		index := map[string]int{}
		for _, src := range srcs {
			src.forEach(func(m []byte, sc float64) {
				v := weighted(sc, src.weight)
				if i, ok := index[string(m)]; ok {
					res[i].score = aggregate(aggr, res[i].score, v)
					return
				}
				index[string(m)] = len(res)
				res = append(res, zrangeElem{append([]byte(nil), m...), v})
			})
		}
	case zopDiff:
		srcs[0].forEach(func(m []byte, sc float64) {
			for k := 1; k < len(srcs); k++ {
				if _, ok := srcs[k].score(m); ok {
					return
				}
			}
			res = append(res, zrangeElem{append([]byte(nil), m...), sc})
		})
	}
	slices.SortFunc(res, func(a, b zrangeElem) int {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		}
		return bytes.Compare(a.member, b.member)
	})
	if dst != nil {
		s.storeZset(c, dst, res)
		return
	}
	appendZrange(c, res, withScores)
}

func zunionCmd(s *Store, c *Ctx, argv [][]byte)      { zsetOp(s, c, argv, 1, nil, zopUnion, false) }
func zinterCmd(s *Store, c *Ctx, argv [][]byte)      { zsetOp(s, c, argv, 1, nil, zopInter, false) }
func zdiffCmd(s *Store, c *Ctx, argv [][]byte)       { zsetOp(s, c, argv, 1, nil, zopDiff, false) }
func zintercardCmd(s *Store, c *Ctx, argv [][]byte)  { zsetOp(s, c, argv, 1, nil, zopInter, true) }
func zunionstoreCmd(s *Store, c *Ctx, argv [][]byte) { zsetOp(s, c, argv, 2, argv[1], zopUnion, false) }
func zinterstoreCmd(s *Store, c *Ctx, argv [][]byte) { zsetOp(s, c, argv, 2, argv[1], zopInter, false) }
func zdiffstoreCmd(s *Store, c *Ctx, argv [][]byte)  { zsetOp(s, c, argv, 2, argv[1], zopDiff, false) }

func zrandmemberCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) == 2 {
		z, found, wrong := s.zsetRead(c, argv[1])
		if wrong {
			return
		}
		if !found {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			return
		}
		m, _ := z.At(s.rnd.IntN(z.Len()))
		c.Out = resp.AppendBulk(c.Out, m)
		return
	}
	count, withScores, ok := parseRandCount(c, argv)
	if !ok {
		return
	}
	z, found, wrong := s.zsetRead(c, argv[1])
	if wrong {
		return
	}
	if !found || count == 0 {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	var res []zrangeElem
	switch {
	case count < 0:
		n := int(min(-count, randCountMax))
		for range n {
			m, sc := z.At(s.rnd.IntN(z.Len()))
			res = append(res, zrangeElem{m, sc})
		}
	case count >= int64(z.Len()):
		// The whole set, highest first, as Redis 7.0 replies it.
		z.Range(0, z.Len()-1, true, func(m []byte, sc float64) bool {
			res = append(res, zrangeElem{m, sc})
			return true
		})
	default:
		picked := pickDistinct(s, z.Len(), int(count))
		i := 0
		z.Range(0, z.Len()-1, false, func(m []byte, sc float64) bool {
			if picked[i] {
				res = append(res, zrangeElem{m, sc})
			}
			i++
			return true
		})
	}
	appendZrange(c, res, withScores)
}

func zscanCmd(s *Store, c *Ctx, argv [][]byte) {
	cursor, ok := parseCollScanCursor(c, argv[2])
	if !ok {
		return
	}
	z, found, wrong := s.zsetRead(c, argv[1])
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
	emit := func(m []byte, sc float64) {
		if scanMatch(o, m) {
			items = append(items, append([]byte(nil), m...), resp.FormatDouble(nil, sc))
		}
	}
	if z.d == nil {
		z.Range(0, z.Len()-1, false, func(m []byte, sc float64) bool { emit(m, sc); return true })
		scanReply(c, 0, items)
		return
	}
	next := scanDict(z.d, cursor, o.count, func(id uint32) {
		sc, _ := z.Score(z.d.Key(id))
		emit(z.d.Key(id), sc)
	})
	scanReply(c, next, items)
}
