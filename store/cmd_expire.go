package store

import (
	"math"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Expiry commands and the commands that carry a key with its TTL somewhere
// else (MOVE, COPY). A TTL is an absolute unix-ms time in the key's entry;
// Table.SetExpireAt keeps the key's one wheel timer in step with it, so these
// handlers only ever set or clear that time.
var expireCommands = []*Command{
	{Name: "expire", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "1.0.0", Summary: "Set a key's time to live in seconds", Cplx: "O(1)", Handler: expireCmd},
	{Name: "pexpire", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "2.6.0", Summary: "Set a key's time to live in milliseconds", Cplx: "O(1)", Handler: expireCmd},
	{Name: "expireat", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "1.2.0", Summary: "Set the expiration for a key as a UNIX timestamp", Cplx: "O(1)", Handler: expireCmd},
	{Name: "pexpireat", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "2.6.0", Summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", Cplx: "O(1)", Handler: expireCmd},
	{Name: "ttl", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "1.0.0", Summary: "Get the time to live for a key in seconds", Cplx: "O(1)", Handler: ttlCmd},
	{Name: "pttl", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "2.6.0", Summary: "Get the time to live for a key in milliseconds", Cplx: "O(1)", Handler: ttlCmd},
	{Name: "expiretime", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key", Cplx: "O(1)", Handler: ttlCmd},
	{Name: "pexpiretime", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key in milliseconds", Cplx: "O(1)", Handler: ttlCmd},
	{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "2.2.0", Summary: "Remove the expiration from a key", Cplx: "O(1)", Handler: persistCmd},
	{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @string @fast", Group: "string", Since: "6.2.0", Summary: "Get the value of a key and optionally set its expiration", Cplx: "O(1)", Handler: getexCmd},
	{Name: "touch", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "3.2.1", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", Cplx: "O(N) where N is the number of keys that will be touched.", Handler: touchCmd},
	{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "1.0.0", Summary: "Move a key to another database", Cplx: "O(1)", Handler: moveCmd},
	{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@keyspace @write @slow", Group: "generic", Since: "6.2.0", Summary: "Copy a key", Cplx: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", Handler: copyCmd},
}

func init() { Register(expireCommands...) }

// cloneObj deep-copies an object value for COPY, per kind. The file that
// implements a kind registers its clone here (in an init). COPY of a kind
// without one answers resp.ErrCopyKind: sharing a mutable object between two
// keys would let a write to one change the other.
var cloneObj = map[Kind]func(v any) any{}

// EXPIRE-family option flags, as parseExtendedExpireArgumentsOrReply keeps
// them.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

var expireRewriteWord = []byte("PEXPIREAT")

// expireCmd is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (expireGenericCommand).
func expireCmd(s *Store, c *Ctx, argv [][]byte) {
	name := argv[0]
	seconds := eqFold(name, "expire") || eqFold(name, "expireat")
	relative := eqFold(name, "expire") || eqFold(name, "pexpire")
	flags := 0
	for _, opt := range argv[3:] {
		switch {
		case eqFold(opt, "nx"):
			flags |= expireNX
		case eqFold(opt, "xx"):
			flags |= expireXX
		case eqFold(opt, "gt"):
			flags |= expireGT
		case eqFold(opt, "lt"):
			flags |= expireLT
		default:
			c.Out = resp.AppendUnsupportedOption(c.Out, opt)
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Out = append(c.Out, resp.ErrExpireNXXXGTLT...)
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Out = append(c.Out, resp.ErrExpireGTLT...)
		return
	}
	when, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	cmdName := lowerName(name)
	// Negative times are allowed (they delete the key); only overflow of
	// the unit conversion or of the addition of now is an error.
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Out = resp.AppendInvalidExpire(c.Out, cmdName)
			return
		}
		when *= 1000
	}
	if relative {
		if when > math.MaxInt64-c.NowMs {
			c.Out = resp.AppendInvalidExpire(c.Out, cmdName)
			return
		}
		when += c.NowMs
	}
	t, id, found := s.lookup(c, argv[1])
	if !found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if flags != 0 {
		cur := t.ExpireAt(id) // 0: no TTL, which GT and LT read as infinite
		if (flags&expireNX != 0 && cur != 0) ||
			(flags&expireXX != 0 && cur == 0) ||
			(flags&expireGT != 0 && (cur == 0 || when <= cur)) ||
			(flags&expireLT != 0 && cur != 0 && when >= cur) {
			c.Out = append(c.Out, resp.Zero...)
			return
		}
	}
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.One...)
	if when <= c.NowMs && !c.Loading {
		// A time already passed deletes the key, logged as DEL.
		t.Remove(id)
		c.Rewrite(delWord, argv[1])
		return
	}
	// when is at least 1 here (or a loaded past time, kept as is); 0 would
	// mean "no TTL" to the table.
	t.SetExpireAt(id, max(when, 1))
	var digits [20]byte
	rew := append([][]byte{expireRewriteWord, argv[1], strconv.AppendInt(digits[:0], when, 10)}, argv[3:]...)
	c.Rewrite(rew...)
}

// lowerName is a command name as error texts quote it.
func lowerName(name []byte) string {
	b := make([]byte, len(name))
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	return string(b)
}

// ttlCmd is TTL, PTTL, EXPIRETIME and PEXPIRETIME (ttlGenericCommand): -2
// for no key, -1 for no TTL, else the time left (or the absolute time),
// rounded to the nearest second for TTL and EXPIRETIME.
func ttlCmd(s *Store, c *Ctx, argv [][]byte) {
	name := argv[0]
	ms := name[0] == 'p' || name[0] == 'P'
	abs := len(name) > 4 // expiretime, pexpiretime
	t, id, ok := s.lookupNoTouch(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.MinusTwo...)
		return
	}
	at := t.ExpireAt(id)
	if at == 0 {
		c.Out = append(c.Out, resp.MinusOne...)
		return
	}
	v := at
	if !abs {
		v = max(at-c.NowMs, 0)
	}
	if !ms {
		// Redis's (ttl+500)/1000 on a value that is never negative: done
		// unsigned, as its compiler does, so that PEXPIREAT's maximum
		// reads 9223372036854776 rather than wrapping.
		v = int64((uint64(v) + 500) / 1000)
	}
	c.Out = resp.AppendInt(c.Out, v)
}

func persistCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookup(c, argv[1])
	if !ok || t.ExpireAt(id) == 0 {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	t.SetExpireAt(id, 0)
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.One...)
}

const getexPersist = setPXAT << 1

var persistWord = []byte("PERSIST")

// getexCmd is GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]. It is
// never logged as sent: its effect is PEXPIREAT, DEL or PERSIST.
func getexCmd(s *Store, c *Ctx, argv [][]byte) {
	flags := 0
	var expireArg []byte
	for j := 2; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j+1 < len(argv)
		switch {
		case eqFold(opt, "ex") && flags&(getexPersist|setPX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setEX
		case eqFold(opt, "px") && flags&(getexPersist|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
		case eqFold(opt, "exat") && flags&(getexPersist|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
		case eqFold(opt, "pxat") && flags&(getexPersist|setEX|setPX|setEXAT) == 0 && hasNext:
			flags |= setPXAT
		case eqFold(opt, "persist") && flags&setExpireMask == 0:
			flags |= getexPersist
			continue
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
		j++
		expireArg = argv[j]
	}
	t, id, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	if t.Kind(id) != KindString {
		wrongType(c)
		return
	}
	var at int64
	if expireArg != nil {
		if at, ok = expireAtMs(c, flags, expireArg, "getex"); !ok {
			return
		}
	}
	c.Out = resp.AppendBulk(c.Out, t.Str(id))
	switch {
	case flags&(setEXAT|setPXAT) != 0 && at <= c.NowMs && !c.Loading:
		t.Remove(id)
		c.Rewrite(delWord, argv[1])
		s.Stats.Dirty++
	case expireArg != nil:
		t.SetExpireAt(id, at)
		var digits [20]byte
		c.Rewrite(expireRewriteWord, argv[1], strconv.AppendInt(digits[:0], at, 10))
		s.Stats.Dirty++
	case flags&getexPersist != 0 && t.ExpireAt(id) != 0:
		t.SetExpireAt(id, 0)
		c.Rewrite(persistWord, argv[1])
		s.Stats.Dirty++
	}
}

func touchCmd(s *Store, c *Ctx, argv [][]byte) {
	n := int64(0)
	for _, key := range argv[1:] {
		if _, _, ok := s.lookupRead(c, key); ok {
			n++
		}
	}
	c.Out = resp.AppendInt(c.Out, n)
}

// parseDBArg reads a database number as getIntFromObjectOrReply and the
// range check after it do, appending the error reply if it fails.
func parseDBArg(c *Ctx, arg []byte) (int, bool) {
	n, ok := parseDBIndex(arg)
	if !ok {
		if _, isInt := resp.ParseInt(arg); isInt {
			c.Out = append(c.Out, resp.ErrIntRange...)
		} else {
			c.Out = append(c.Out, resp.ErrNotInt...)
		}
		return 0, false
	}
	if n < 0 || n >= NumDBs {
		c.Out = append(c.Out, resp.ErrDBIndex...)
		return 0, false
	}
	return int(n), true
}

// moveCmd is MOVE key db: the key, its value and its TTL go to db unless a
// key of that name is there.
func moveCmd(s *Store, c *Ctx, argv [][]byte) {
	db, ok := parseDBArg(c, argv[2])
	if !ok {
		return
	}
	if s.dbs[db] == s.dbs[c.DB] {
		c.Out = append(c.Out, resp.ErrSameObj...)
		return
	}
	t, id, found := s.lookup(c, argv[1])
	if !found {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	if _, _, exists := s.lookupDB(c, db, argv[1]); exists {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	kind := t.Kind(id)
	moveEntry(t, id, s.dbs[db], argv[1])
	s.Stats.Dirty++
	s.signalIfBlockable(db, argv[1], kind) // clients blocked on it in db
	c.Out = append(c.Out, resp.One...)
}

// copyCmd is COPY source destination [DB db] [REPLACE]: a deep copy of the
// value, with the source's TTL.
func copyCmd(s *Store, c *Ctx, argv [][]byte) {
	db, replace := c.DB, false
	for j := 3; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "db") && j+1 < len(argv):
			var ok bool
			if db, ok = parseDBArg(c, argv[j+1]); !ok {
				return
			}
			j++
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	if s.dbs[db] == s.dbs[c.DB] && string(argv[1]) == string(argv[2]) {
		c.Out = append(c.Out, resp.ErrSameObj...)
		return
	}
	from, src, ok := s.lookupRead(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	to, old, exists := s.lookupDB(c, db, argv[2])
	if exists && !replace {
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	kind := from.Kind(src)
	var obj any
	if kind != KindString {
		clone := cloneObj[kind]
		if clone == nil {
			// A kind whose file has not registered its clone yet: refuse
			// rather than share one mutable object between two keys.
			c.Out = append(c.Out, resp.ErrCopyKind...)
			return
		}
		obj = clone(from.Obj(src))
	}
	if exists {
		to.Remove(old)
	}
	dst := to.Add(argv[2])
	if kind == KindString {
		// The source's bytes stay put while dst is added and written
		// (Table: only an entry's own changes move its block).
		v := from.Str(src)
		to.SetStr(dst, v)
		enc := from.StrEnc(src)
		if strEncodingName(v, enc) == "int" {
			enc = StrEncIntPrivate // dupStringObject: never the shared integer
		}
		to.SetStrEnc(dst, enc)
	} else {
		to.SetObj(dst, kind, obj)
	}
	to.SetExpireAt(dst, from.ExpireAt(src))
	s.Stats.Dirty++
	s.signalIfBlockable(db, argv[2], kind) // clients blocked on the copy
	c.Out = append(c.Out, resp.One...)
}
