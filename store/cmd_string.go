package store

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// StringLenMax is proto-max-bulk-len as it bounds a string built by APPEND
// and SETRANGE.
const StringLenMax = resp.BulkLenMax

var stringCommands = []*Command{
	{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @string @fast", Group: "string", Since: "1.0.0", Summary: "Get the value of a key", Cplx: "O(1)", Handler: getCmd},
	{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @slow", Group: "string", Since: "1.0.0", Summary: "Set the string value of a key", Cplx: "O(1)", Handler: setCmd},
	{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Set the value of a key, only if the key does not exist", Cplx: "O(1)", Handler: setnxCmd},
	{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @slow", Group: "string", Since: "2.0.0", Summary: "Set the value and expiration of a key", Cplx: "O(1)", Handler: setexCmd},
	{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @slow", Group: "string", Since: "2.6.0", Summary: "Set the value and expiration in milliseconds of a key", Cplx: "O(1)", Handler: setexCmd},
	{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Set the string value of a key and return its old value", Cplx: "O(1)", Handler: getsetCmd},
	{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "6.2.0", Summary: "Get the value of a key and delete the key", Cplx: "O(1)", Handler: getdelCmd},
	{Name: "mget", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@read @string @fast", Group: "string", Since: "1.0.0", Summary: "Get the values of all the given keys", Cplx: "O(N) where N is the number of keys to retrieve.", Handler: mgetCmd},
	{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 2, ACL: "@write @string @slow", Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values", Cplx: "O(N) where N is the number of keys to set.", Handler: msetCmd},
	{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 2, ACL: "@write @string @slow", Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values, only if none of the keys exist", Cplx: "O(N) where N is the number of keys to set.", Handler: msetCmd},
	{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "2.0.0", Summary: "Append a value to a key", Cplx: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", Handler: appendCmd},
	{Name: "strlen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @string @fast", Group: "string", Since: "2.2.0", Summary: "Get the length of the value stored in a key", Cplx: "O(1)", Handler: strlenCmd},
	{Name: "getrange", Arity: 4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @string @slow", Group: "string", Since: "2.4.0", Summary: "Get a substring of the string stored at a key", Cplx: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", Handler: getrangeCmd},
	{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @slow", Group: "string", Since: "2.2.0", Summary: "Overwrite part of a string at key starting at the specified offset", Cplx: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", Handler: setrangeCmd},
	{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by one", Cplx: "O(1)", Handler: incrCmd},
	{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by one", Cplx: "O(1)", Handler: incrCmd},
	{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by the given amount", Cplx: "O(1)", Handler: incrCmd},
	{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by the given number", Cplx: "O(1)", Handler: incrCmd},
	{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "2.6.0", Summary: "Increment the float value of a key by the given amount", Cplx: "O(1)", Handler: incrbyfloatCmd},
}

func init() { Register(stringCommands...) }

func getCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	c.Out = resp.AppendBulk(c.Out, t.Str(id))
}

// SET flags, as parseExtendedStringArgumentsOrReply keeps them.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setExpireMask = setEX | setPX | setEXAT | setPXAT
)

func setCmd(s *Store, c *Ctx, argv [][]byte) {
	flags := 0
	var expireArg []byte
	for j := 3; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j+1 < len(argv)
		switch {
		case eqFold(opt, "nx") && flags&setXX == 0:
			flags |= setNX
		case eqFold(opt, "xx") && flags&setNX == 0:
			flags |= setXX
		case eqFold(opt, "get"):
			flags |= setGet
		case eqFold(opt, "keepttl") && flags&setExpireMask == 0:
			flags |= setKeepTTL
		case eqFold(opt, "ex") && flags&(setKeepTTL|setPX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setEX
			j++
			expireArg = argv[j]
		case eqFold(opt, "px") && flags&(setKeepTTL|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
			j++
			expireArg = argv[j]
		case eqFold(opt, "exat") && flags&(setKeepTTL|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
			j++
			expireArg = argv[j]
		case eqFold(opt, "pxat") && flags&(setKeepTTL|setEX|setPX|setEXAT) == 0 && hasNext:
			flags |= setPXAT
			j++
			expireArg = argv[j]
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	setGeneric(s, c, flags, argv[1], argv[2], expireArg, "set")
}

// expireAtMs turns an expire argument into an absolute unix-ms time the way
// getExpireMillisecondsOrReply does, appending the error reply if it fails.
func expireAtMs(c *Ctx, flags int, arg []byte, cmdName string) (int64, bool) {
	n, ok := resp.ParseInt(arg)
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		c.Out = resp.AppendInvalidExpire(c.Out, cmdName)
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		// Redis adds with C overflow; an overflow shows as <= 0.
		n = int64(uint64(n) + uint64(c.NowMs))
	}
	if n <= 0 {
		c.Out = resp.AppendInvalidExpire(c.Out, cmdName)
		return 0, false
	}
	return n, true
}

// setGeneric is SET after option parsing (and SETEX/PSETEX/SETNX's core).
func setGeneric(s *Store, c *Ctx, flags int, key, val, expireArg []byte, cmdName string) {
	var at int64
	if expireArg != nil {
		var ok bool
		if at, ok = expireAtMs(c, flags, expireArg, cmdName); !ok {
			return
		}
	}
	t, id, found := s.lookup(c, key)
	if flags&setGet != 0 {
		if !found {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		} else if t.Kind(id) != KindString {
			wrongType(c)
			return
		} else {
			c.Out = resp.AppendBulk(c.Out, t.Str(id))
		}
	}
	if (flags&setNX != 0 && found) || (flags&setXX != 0 && !found) {
		if flags&setGet == 0 {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		}
		return
	}
	if !found {
		id = t.Add(key)
	}
	t.SetStr(id, val)
	if flags&setKeepTTL == 0 {
		t.SetExpireAt(id, at)
	}
	s.Stats.Dirty++
	if expireArg != nil && flags&setPXAT == 0 {
		// Logged with an absolute time, as Redis propagates it, so that
		// replay at any later time gives the same expiry.
		var ms [20]byte
		c.Rewrite(propSet, key, val, propPXAT, strconv.AppendInt(ms[:0], at, 10))
	}
	if flags&setGet == 0 {
		c.Out = append(c.Out, resp.OK...)
	}
}

func setnxCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, found := s.lookup(c, argv[1])
	if found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	id = t.Add(argv[1])
	t.SetStr(id, argv[2])
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.One...)
}

func setexCmd(s *Store, c *Ctx, argv [][]byte) {
	flags, name := setEX, "setex"
	if len(argv[0]) == len("psetex") {
		flags, name = setPX, "psetex"
	}
	setGeneric(s, c, flags, argv[1], argv[3], argv[2], name)
}

func getsetCmd(s *Store, c *Ctx, argv [][]byte) {
	dirty := s.Stats.Dirty
	setGeneric(s, c, setGet, argv[1], argv[2], nil, "getset")
	if s.Stats.Dirty != dirty {
		c.Rewrite(propSet, argv[1], argv[2]) // as Redis: GETSET logs as SET
	}
}

// Words of the commands string handlers log in place of themselves.
var (
	propSet     = []byte("SET")
	propPXAT    = []byte("PXAT")
	propKeepTTL = []byte("KEEPTTL")
)

func getdelCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	c.Out = resp.AppendBulk(c.Out, t.Str(id))
	t.Remove(id)
	s.Stats.Dirty++
}

func mgetCmd(s *Store, c *Ctx, argv [][]byte) {
	c.Out = resp.AppendArrayLen(c.Out, len(argv)-1)
	for _, key := range argv[1:] {
		t, id, ok := s.lookupRead(c, key)
		if !ok || t.Kind(id) != KindString {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			continue
		}
		c.Out = resp.AppendBulk(c.Out, t.Str(id))
	}
}

func msetCmd(s *Store, c *Ctx, argv [][]byte) {
	nx := len(argv[0]) == len("msetnx")
	if len(argv)%2 == 0 {
		if nx {
			c.Out = resp.AppendWrongArity(c.Out, "msetnx")
		} else {
			c.Out = resp.AppendWrongArity(c.Out, "mset")
		}
		return
	}
	if nx {
		for j := 1; j < len(argv); j += 2 {
			if _, _, ok := s.lookup(c, argv[j]); ok {
				c.Out = append(c.Out, resp.Zero...)
				return
			}
		}
	}
	for j := 1; j < len(argv); j += 2 {
		t, id, ok := s.lookup(c, argv[j])
		if !ok {
			id = t.Add(argv[j])
		}
		t.SetStr(id, argv[j+1])
		t.SetExpireAt(id, 0)
	}
	s.Stats.Dirty += int64(len(argv) / 2)
	if nx {
		c.Out = append(c.Out, resp.One...)
	} else {
		c.Out = append(c.Out, resp.OK...)
	}
}

func appendCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookup(c, argv[1])
	if !ok {
		id = t.Add(argv[1])
		t.SetStr(id, argv[2])
		s.Stats.Dirty++
		c.Out = resp.AppendInt(c.Out, int64(len(argv[2])))
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	old := len(t.Str(id))
	if old+len(argv[2]) > StringLenMax {
		c.Out = append(c.Out, resp.ErrStringMax...)
		return
	}
	v := t.GrowStr(id, old+len(argv[2]))
	copy(v[old:], argv[2])
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, int64(len(v)))
}

func strlenCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	c.Out = resp.AppendInt(c.Out, int64(len(t.Str(id))))
}

func getrangeCmd(s *Store, c *Ctx, argv [][]byte) {
	start, ok1 := resp.ParseInt(argv[2])
	end, ok2 := resp.ParseInt(argv[3])
	if !ok1 || !ok2 {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	t, id, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.EmptyBulk...)
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	str := t.Str(id)
	n := int64(len(str))
	if start < 0 && end < 0 && start > end {
		c.Out = append(c.Out, resp.EmptyBulk...)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.Out = append(c.Out, resp.EmptyBulk...)
		return
	}
	c.Out = resp.AppendBulk(c.Out, str[start:end+1])
}

func setrangeCmd(s *Store, c *Ctx, argv [][]byte) {
	offset, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	if offset < 0 {
		c.Out = append(c.Out, resp.ErrOffset...)
		return
	}
	val := argv[3]
	t, id, found := s.lookup(c, argv[1])
	if found && t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	old := 0
	if found {
		old = len(t.Str(id))
	}
	if len(val) == 0 {
		c.Out = resp.AppendInt(c.Out, int64(old))
		return
	}
	// Written so that a huge offset cannot overflow the sum (offset
	// 9223372036854775807 used to wrap negative, pass, and panic).
	if offset > StringLenMax-int64(len(val)) {
		c.Out = append(c.Out, resp.ErrStringMax...)
		return
	}
	if !found {
		id = t.Add(argv[1])
	}
	need := max(old, int(offset)+len(val))
	v := t.GrowStr(id, need)
	copy(v[offset:], val)
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, int64(len(v)))
}

func incrCmd(s *Store, c *Ctx, argv [][]byte) {
	var delta int64
	switch {
	case eqFold(argv[0], "incr"):
		delta = 1
	case eqFold(argv[0], "decr"):
		delta = -1
	default:
		n, ok := resp.ParseInt(argv[2])
		if !ok {
			c.Out = append(c.Out, resp.ErrNotInt...)
			return
		}
		if eqFold(argv[0], "decrby") {
			if n == math.MinInt64 {
				c.Out = resp.AppendErr(c.Out, "decrement would overflow")
				return
			}
			n = -n
		}
		delta = n
	}
	t, id, found := s.lookup(c, argv[1])
	var cur int64
	if found {
		if t.Kind(id) != KindString {
			wrongType(c)
			return
		}
		var ok bool
		if cur, ok = resp.ParseInt(t.Str(id)); !ok {
			c.Out = append(c.Out, resp.ErrNotInt...)
			return
		}
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		c.Out = append(c.Out, resp.ErrOverflow...)
		return
	}
	cur += delta
	if !found {
		id = t.Add(argv[1])
	}
	var digits [20]byte
	t.SetStr(id, strconv.AppendInt(digits[:0], cur, 10))
	s.Stats.Dirty++
	c.Out = resp.AppendInt(c.Out, cur)
}

// Redis computes INCRBYFLOAT in C's long double: on x86-64 the 80-bit x87
// format, a 64-bit mantissa and a 15-bit exponent. big.Float at 64 bits of
// precision rounds the same way, so sums such as 0.1+0.2 print as Redis
// prints them ("0.3", not float64's "0.30000000000000004").
const (
	longDoublePrec   = 64
	longDoubleExpMax = 16384    // values at or above 2^16384 are infinite
	longDoubleExpMin = -16445   // below the smallest subnormal: zero
	floatTextMax     = 5 * 1024 // MAX_LONG_DOUBLE_CHARS: longer input is not a float
)

// parseLongDouble is string2ld: strtold over the whole argument, no leading
// space, no NaN, no overflow to infinity or underflow to zero.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= floatTextMax {
		return nil, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return nil, false
	}
	// Base 0 reads strtold's hex floats ("0x1p3"), but also Go's own "_",
	// "0b" and "0o" forms, which strtold does not know.
	for i, ch := range b {
		if ch == '_' || (i > 0 && b[i-1] == '0' && (ch == 'b' || ch == 'B' || ch == 'o' || ch == 'O')) {
			return nil, false
		}
	}
	// Go also takes a binary exponent after a decimal mantissa ("1p3"),
	// which strtold reads as "1" followed by garbage: 'p' is an exponent
	// only in a hex float.
	if unsigned := bytes.TrimLeft(b, "+-"); bytes.ContainsAny(unsigned, "pP") &&
		!(len(unsigned) > 1 && unsigned[0] == '0' && (unsigned[1] == 'x' || unsigned[1] == 'X')) {
		return nil, false
	}
	text := string(b)
	// strtold spells infinity "inf" or "infinity" in any case; ParseFloat
	// knows only the short form.
	if unsigned := strings.TrimLeft(text, "+-"); len(text)-len(unsigned) <= 1 && strings.EqualFold(unsigned, "infinity") {
		text = text[:len(text)-len(unsigned)] + "inf"
	}
	f, _, err := big.ParseFloat(text, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.IsInf() {
		return f, true // strtold accepts "inf"; INCRBYFLOAT then rejects the sum
	}
	if f.Sign() != 0 {
		e := f.MantExp(nil)
		if e > longDoubleExpMax || e < longDoubleExpMin {
			return nil, false
		}
	}
	return f, true
}

func incrbyfloatCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, found := s.lookup(c, argv[1])
	cur := new(big.Float).SetPrec(longDoublePrec)
	if found {
		if t.Kind(id) != KindString {
			wrongType(c)
			return
		}
		v, ok := parseLongDouble(t.Str(id))
		if !ok {
			c.Out = append(c.Out, resp.ErrNotFloat...)
			return
		}
		cur = v
	}
	incr, ok := parseLongDouble(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotFloat...)
		return
	}
	if cur.IsInf() || incr.IsInf() {
		c.Out = append(c.Out, resp.ErrIncrNaN...)
		return
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleExpMax {
		c.Out = append(c.Out, resp.ErrIncrNaN...)
		return
	}
	text := formatLongDouble(sum)
	if !found {
		id = t.Add(argv[1])
	}
	t.SetStr(id, text)
	t.SetStrEnc(id, StrEncNoInt) // createStringObject: embstr or raw, never int
	s.Stats.Dirty++
	// The sum is logged, not the increment, so replay cannot round
	// differently (as Redis: SET key sum KEEPTTL).
	c.Rewrite(propSet, argv[1], text, propKeepTTL)
	c.Out = resp.AppendBulk(c.Out, text)
}

// formatLongDouble is ld2string's LD_STR_HUMAN: "%.17Lf", then trailing
// zeros and a trailing point removed; "-0" becomes "0".
func formatLongDouble(f *big.Float) []byte {
	b := f.Append(nil, 'f', 17)
	if i := len(b) - 1; b[i] == '0' || b[i] == '.' {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if string(b) == "-0" {
		b = b[:0]
		b = append(b, '0')
	}
	return b
}
