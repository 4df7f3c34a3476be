package store

import (
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Generic keyspace commands: they work on keys whatever their type.
var keysCommands = []*Command{
	{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@keyspace @write @slow", Group: "generic", Since: "1.0.0", Summary: "Delete a key", Cplx: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", Handler: delCmd},
	{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "4.0.0", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Cplx: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", Handler: delCmd},
	{Name: "exists", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "1.0.0", Summary: "Determine if a key exists", Cplx: "O(N) where N is the number of keys to check.", Handler: existsCmd},
	{Name: "type", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@keyspace @read @fast", Group: "generic", Since: "1.0.0", Summary: "Determine the type stored at key", Cplx: "O(1)", Handler: typeCmd},
	{Name: "keys", Arity: 2, Flags: FlagReadonly, ACL: "@keyspace @read @slow @dangerous", Group: "generic", Since: "1.0.0", Summary: "Find all keys matching the given pattern", Cplx: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", Handler: keysCmd},
	{Name: "scan", Arity: -2, Flags: FlagReadonly, ACL: "@keyspace @read @slow", Group: "generic", Since: "2.8.0", Summary: "Incrementally iterate the keys space", Cplx: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", Handler: scanCmd},
	{Name: "randomkey", Arity: 1, Flags: FlagReadonly, ACL: "@keyspace @read @slow", Group: "generic", Since: "1.0.0", Summary: "Return a random key from the keyspace", Cplx: "O(1)", Handler: randomkeyCmd},
	{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@keyspace @write @slow", Group: "generic", Since: "1.0.0", Summary: "Rename a key", Cplx: "O(1)", Handler: renameCmd},
	{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@keyspace @write @fast", Group: "generic", Since: "1.0.0", Summary: "Rename a key, only if the new key does not exist", Cplx: "O(1)", Handler: renameCmd},
	{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, ACL: "@keyspace @read @fast", Group: "server", Since: "1.0.0", Summary: "Return the number of keys in the selected database", Cplx: "O(1)", Handler: dbsizeCmd},
	{Name: "flushdb", Arity: -1, Flags: FlagWrite, ACL: "@keyspace @write @slow @dangerous", Group: "server", Since: "1.0.0", Summary: "Remove all keys from the current database", Cplx: "O(N) where N is the number of keys in the selected database", Handler: flushCmd},
	{Name: "flushall", Arity: -1, Flags: FlagWrite, ACL: "@keyspace @write @slow @dangerous", Group: "server", Since: "1.0.0", Summary: "Remove all keys from all databases", Cplx: "O(N) where N is the total number of keys in all databases", Handler: flushCmd},
	{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, ACL: "@fast @connection", Group: "connection", Since: "1.0.0", Summary: "Change the selected database for the current connection", Cplx: "O(1)", Handler: selectCmd},
	{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast, ACL: "@keyspace @write @fast @dangerous", Group: "server", Since: "4.0.0", Summary: "Swaps two Redis databases", Cplx: "O(N) where N is the count of clients watching or blocking on keys from both databases.", Handler: swapdbCmd},
	{Name: "ping", Arity: -1, Flags: FlagFast, ACL: "@fast @connection", Group: "connection", Since: "1.0.0", Summary: "Ping the server", Cplx: "O(1)", Handler: pingCmd},
	{Name: "echo", Arity: 2, Flags: FlagFast | FlagLoading | FlagStale, ACL: "@fast @connection", Group: "connection", Since: "1.0.0", Summary: "Echo the given string", Cplx: "O(1)", Handler: echoCmd},
}

func init() { Register(keysCommands...) }

func delCmd(s *Store, c *Ctx, argv [][]byte) {
	n := int64(0)
	for _, key := range argv[1:] {
		if t, id, ok := s.lookup(c, key); ok {
			t.Remove(id)
			n++
		}
	}
	s.Stats.Dirty += n
	c.Out = resp.AppendInt(c.Out, n)
}

func existsCmd(s *Store, c *Ctx, argv [][]byte) {
	n := int64(0)
	for _, key := range argv[1:] {
		if _, _, ok := s.lookup(c, key); ok {
			n++
		}
	}
	c.Out = resp.AppendInt(c.Out, n)
}

var typeReplies = [...][]byte{
	KindNone:   resp.TypeNone,
	KindString: resp.TypeString,
	KindList:   resp.TypeList,
	KindHash:   resp.TypeHash,
	KindSet:    resp.TypeSet,
	KindZSet:   resp.TypeZSet,
}

func typeName(k Kind) string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindHash:
		return "hash"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "none"
}

func typeCmd(s *Store, c *Ctx, argv [][]byte) {
	t, id, ok := s.lookup(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.TypeNone...)
		return
	}
	c.Out = append(c.Out, typeReplies[t.Kind(id)]...)
}

func keysCmd(s *Store, c *Ctx, argv [][]byte) {
	t := s.dbs[c.DB]
	pattern := argv[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	// The count is not known until the walk ends: reserve the header's
	// place and write the elements after it, then fix the header up.
	headerAt := len(c.Out)
	c.Out = append(c.Out, "*0000000000\r\n"...)
	n := 0
	var cursor uint64
	for {
		cursor = t.Scan(cursor, 1024, func(id uint32) {
			if expired(t, id, c.NowMs) {
				return
			}
			key := t.Key(id)
			if all || globMatch(pattern, key) {
				c.Out = resp.AppendBulk(c.Out, key)
				n++
			}
		})
		if cursor == 0 {
			break
		}
	}
	c.Out = fixArrayHeader(c.Out, headerAt, n)
}

// fixArrayHeader rewrites the placeholder "*0000000000\r\n" at headerAt with
// the real count, moving the elements back over the unused digits.
func fixArrayHeader(out []byte, headerAt, n int) []byte {
	const placeholder = len("*0000000000\r\n")
	var hdr [16]byte
	h := resp.AppendArrayLen(hdr[:0], n)
	body := headerAt + placeholder
	copy(out[headerAt:], h)
	m := copy(out[headerAt+len(h):], out[body:])
	return out[:headerAt+len(h)+m]
}

// scanCountMax bounds the COUNT hint, so one SCAN call is bounded work.
const scanCountMax = 1 << 20

func scanCmd(s *Store, c *Ctx, argv [][]byte) {
	cursor, ok := parseScanCursor(argv[1])
	if !ok {
		c.Out = append(c.Out, resp.ErrCursor...)
		return
	}
	count := int64(10)
	var pattern []byte
	var typeFilter []byte
	for i := 2; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
		opt, val := argv[i], argv[i+1]
		switch {
		case eqFold(opt, "count"):
			n, ok := resp.ParseInt(val)
			if !ok {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return
			}
			if n < 1 {
				c.Out = append(c.Out, resp.ErrSyntax...)
				return
			}
			count = min(n, scanCountMax)
		case eqFold(opt, "match"):
			pattern = val
		case eqFold(opt, "type"):
			typeFilter = val
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	all := pattern == nil || (len(pattern) == 1 && pattern[0] == '*')
	t := s.dbs[c.DB]
	keysAt := len(c.Out)
	c.Out = append(c.Out, "*2\r\n$00000000000000000000\r\n"...)
	headerAt := len(c.Out)
	c.Out = append(c.Out, "*0000000000\r\n"...)
	n := 0
	next := t.Scan(cursor, int(count), func(id uint32) {
		if expired(t, id, c.NowMs) {
			return
		}
		if typeFilter != nil && !eqFold(typeFilter, typeName(t.Kind(id))) {
			return
		}
		key := t.Key(id)
		if all || globMatch(pattern, key) {
			c.Out = resp.AppendBulk(c.Out, key)
			n++
		}
	})
	c.Out = fixArrayHeader(c.Out, headerAt, n)
	// Now the cursor: write it in the fixed slot, then close the gap.
	var cur [20]byte
	digits := strconv.AppendUint(cur[:0], next, 10)
	var hdr [32]byte
	h := append(hdr[:0], "*2\r\n$"...)
	h = strconv.AppendInt(h, int64(len(digits)), 10)
	h = append(h, "\r\n"...)
	h = append(h, digits...)
	h = append(h, "\r\n"...)
	slot := len("*2\r\n$00000000000000000000\r\n")
	copy(c.Out[keysAt:], h)
	m := copy(c.Out[keysAt+len(h):], c.Out[keysAt+slot:])
	c.Out = c.Out[:keysAt+len(h)+m]
}

// parseScanCursor is strtoull as Redis's parseScanCursorOrReply uses it: no
// leading space, an optional sign ("-1" wraps around), digits only, and no
// overflow.
func parseScanCursor(b []byte) (uint64, bool) {
	// Redis hands the argument to strtoul as a C string: it ends at the
	// first NUL, so "7\x00junk" is cursor 7 and "\x00" is cursor 0.
	for i, ch := range b {
		if ch == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return 0, true // strtoull of "" is 0 with nothing left over
	}
	neg := false
	switch b[0] {
	case '-':
		neg, b = true, b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// randomTriesMax bounds how many expired keys RANDOMKEY removes before it
// gives up and answers with one of them anyway... Redis answers with an
// expired key in that case only on replicas; here it keeps the loop bounded.
const randomTriesMax = 100

func randomkeyCmd(s *Store, c *Ctx, argv [][]byte) {
	t := s.dbs[c.DB]
	for range randomTriesMax {
		id, ok := t.Random(s.rnd)
		if !ok {
			break
		}
		if expired(t, id, c.NowMs) {
			t.Remove(id)
			s.Stats.ExpiredKeys++
			continue
		}
		c.Out = resp.AppendBulk(c.Out, t.Key(id))
		return
	}
	c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
}

func renameCmd(s *Store, c *Ctx, argv [][]byte) {
	nx := len(argv[0]) == len("renamenx")
	t, src, ok := s.lookup(c, argv[1])
	if !ok {
		c.Out = append(c.Out, resp.ErrNoSuchKey...)
		return
	}
	if string(argv[1]) == string(argv[2]) {
		if nx {
			c.Out = append(c.Out, resp.Zero...)
		} else {
			c.Out = append(c.Out, resp.OK...)
		}
		return
	}
	if _, dst, exists := s.lookup(c, argv[2]); exists {
		if nx {
			c.Out = append(c.Out, resp.Zero...)
			return
		}
		t.Remove(dst)
	}
	kind := t.Kind(src)
	moveEntry(t, src, t, argv[2])
	s.Stats.Dirty++
	if kind == KindList || kind == KindZSet {
		s.signalReady(c.DB, argv[2]) // clients blocked on the new name
	}
	if nx {
		c.Out = append(c.Out, resp.One...)
	} else {
		c.Out = append(c.Out, resp.OK...)
	}
}

// moveEntry gives the value and TTL of entry src in table from to a new key
// in table to (which must not hold it), then removes src.
func moveEntry(from *Table, src uint32, to *Table, key []byte) {
	dst := to.Add(key)
	if from.Kind(src) == KindString {
		to.SetStr(dst, from.Str(src))
		to.SetStrEnc(dst, from.StrEnc(src)) // the same object, so the same encoding
	} else {
		to.SetObj(dst, from.Kind(src), from.Obj(src))
	}
	to.SetExpireAt(dst, from.ExpireAt(src))
	to.entries[dst].lru = from.entries[src].lru
	from.detachObj(src) // the value is dst's now: Remove must not release it
	from.Remove(src)
}

func dbsizeCmd(s *Store, c *Ctx, argv [][]byte) {
	c.Out = resp.AppendInt(c.Out, int64(s.dbs[c.DB].Len()))
}

func flushCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) > 2 || (len(argv) == 2 && !eqFold(argv[1], "sync") && !eqFold(argv[1], "async")) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	if len(argv[0]) == len("flushall") {
		for _, t := range s.dbs {
			s.Stats.Dirty += int64(t.Len())
			t.Clear()
		}
	} else {
		s.Stats.Dirty += int64(s.dbs[c.DB].Len())
		s.dbs[c.DB].Clear()
	}
	s.Stats.Dirty++
	c.Out = append(c.Out, resp.OK...)
}

// parseDBIndex is getIntFromObject: an int64 that fits in a C int.
func parseDBIndex(b []byte) (int64, bool) {
	n, ok := resp.ParseInt(b)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

func selectCmd(s *Store, c *Ctx, argv [][]byte) {
	n, ok := parseDBIndex(argv[1])
	if !ok {
		// getIntFromObjectOrReply: not an integer, or not a C int.
		if _, isInt := resp.ParseInt(argv[1]); isInt {
			c.Out = append(c.Out, resp.ErrIntRange...)
		} else {
			c.Out = append(c.Out, resp.ErrNotInt...)
		}
		return
	}
	if n < 0 || n >= NumDBs {
		c.Out = append(c.Out, resp.ErrDBIndex...)
		return
	}
	c.DB = int(n)
	c.Out = append(c.Out, resp.OK...)
}

func swapdbCmd(s *Store, c *Ctx, argv [][]byte) {
	a, ok := parseDBIndex(argv[1])
	if !ok {
		c.Out = resp.AppendErr(c.Out, "invalid first DB index")
		return
	}
	b, ok := parseDBIndex(argv[2])
	if !ok {
		c.Out = resp.AppendErr(c.Out, "invalid second DB index")
		return
	}
	if a < 0 || a >= NumDBs || b < 0 || b >= NumDBs {
		c.Out = append(c.Out, resp.ErrDBIndex...)
		return
	}
	s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a]
	s.Stats.Dirty++
	if a != b {
		// Clients blocked in a or b now wait on the other table's keys.
		s.signalDBReady(int(a))
		s.signalDBReady(int(b))
	}
	c.Out = append(c.Out, resp.OK...)
}

func pingCmd(s *Store, c *Ctx, argv [][]byte) {
	switch len(argv) {
	case 1:
		c.Out = append(c.Out, resp.Pong...)
	case 2:
		c.Out = resp.AppendBulk(c.Out, argv[1])
	default:
		c.Out = resp.AppendWrongArity(c.Out, "ping")
	}
}

func echoCmd(s *Store, c *Ctx, argv [][]byte) {
	c.Out = resp.AppendBulk(c.Out, argv[1])
}
