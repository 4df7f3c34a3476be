package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

// DEBUG: the subcommands tests and tools use. Redis 7.0 refuses DEBUG
// unless enable-debug-command allows it; ringkv always allows it (README,
// known differences).
var debugCommands = []*Command{
	{Name: "debug", Arity: -2, Flags: FlagAdmin | FlagNoscript | FlagLoading | FlagStale, ACL: "@admin @slow @dangerous", Group: "server", Since: "1.0.0", Summary: "A container for debugging commands", Cplx: "Depends on subcommand.", Handler: debugCmd},
}

func init() { Register(debugCommands...) }

var debugHelp = []string{
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

func debugCmd(s *Store, c *Ctx, argv [][]byte) {
	sub := strings.ToLower(string(argv[1]))
	switch {
	case sub == "help" && len(argv) == 2:
		c.Out = resp.AppendHelp(c.Out, "DEBUG", debugHelp)
	case sub == "object" && len(argv) == 3:
		debugObject(s, c, argv[2])
	case sub == "sleep" && len(argv) == 3:
		// The whole server stops, as in Redis: that is what it is for.
		if d := time.Duration(debugStrtod(argv[2]) * 1e9); d > 0 {
			time.Sleep(d)
		}
		c.Out = append(c.Out, resp.OK...)
	case sub == "set-active-expire" && len(argv) == 3:
		s.activeExpireOff = debugAtoi(argv[2]) == 0
		c.Out = append(c.Out, resp.OK...)
	default:
		c.Out = resp.AppendSubcommandSyntax(c.Out, "DEBUG", argv[1])
	}
}

// debugObject is DEBUG OBJECT key: "Value at:... refcount:... encoding:...
// serializedlength:... lru:... lru_seconds_idle:...", the fields tools
// parse. Like Redis it looks the key up without expiring it. The address
// is a stand-in (ringkv values have none of their own) that is stable and
// distinct per key.
func debugObject(s *Store, c *Ctx, key []byte) {
	t := s.dbs[c.DB]
	id, ok := t.Find(key)
	if !ok {
		c.Out = append(c.Out, resp.ErrNoSuchKey...)
		return
	}
	b := append(c.Out, "+Value at:0x7f"...)
	b = strconv.AppendUint(b, uint64(t.num)<<40|uint64(id)<<4, 16)
	b = append(b, " refcount:"...)
	b = strconv.AppendInt(b, objectRefcount(t, id), 10)
	b = append(b, " encoding:"...)
	b = append(b, objectEncoding(t, id)...)
	b = append(b, " serializedlength:"...)
	b = strconv.AppendInt(b, serializedLength(t, id), 10)
	b = append(b, " lru:"...)
	b = strconv.AppendUint(b, uint64(t.entries[id].lru), 10)
	b = append(b, " lru_seconds_idle:"...)
	b = strconv.AppendInt(b, t.idleSeconds(id, s.lruClock), 10)
	c.Out = append(b, '\r', '\n')
}

// serializedLength is rdbSavedObjectLen for a string: RDB's integer
// encodings for small integers, else a length prefix and the bytes. Redis
// also LZF-compresses strings over 20 bytes when that helps; ringkv reports
// them uncompressed. Object kinds report 0 until the RDB format exists.
func serializedLength(t *Table, id uint32) int64 {
	if t.Kind(id) != KindString {
		return 0
	}
	v := t.Str(id)
	isInt := strEncodingName(v, t.StrEnc(id)) == "int"
	if isInt || len(v) <= 11 {
		if n, ok := resp.ParseInt(v); ok {
			switch {
			case n >= -1<<7 && n < 1<<7:
				return 2
			case n >= -1<<15 && n < 1<<15:
				return 3
			case n >= -1<<31 && n < 1<<31:
				return 5
			}
		}
	}
	return rdbLenBytes(len(v)) + int64(len(v))
}

// rdbLenBytes is the size of RDB's length prefix for n.
func rdbLenBytes(n int) int64 {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case uint64(n) <= 1<<32-1:
		return 5
	}
	return 9
}

// debugStrtod is C's strtod as DEBUG SLEEP uses it: the longest prefix that is a
// decimal number, 0 when there is none.
func debugStrtod(b []byte) float64 {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	best := 0.0
	for end := 1; end <= len(s) && end <= 64; end++ {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
			best = f
		}
	}
	return best
}

// debugAtoi is C's atoi: optional space and sign, then digits; 0 when none.
func debugAtoi(b []byte) int64 {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n
}
