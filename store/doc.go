// Package store is the keyspace and the data commands. One goroutine (conn's
// loop) owns it: it imports neither sync nor sync/atomic.
//
// Layout. Each of the NumDBs databases is a Table: a dense array of
// pointer-free entries (id = index, stable for the life of a key), an arena
// of pointer-free byte chunks holding keys and string values, and an
// open-addressed index of 8-byte slots mapping hashes to ids. Millions of keys
// are therefore a handful of large pointer-free regions mapped off the Go
// heap (offheap.go): the GC never scans them and they need no GC headroom,
// so RSS tracks the live data. See table.go, index.go and arena.go.
//
// Rehash. The index grows and shrinks progressively: every operation that
// touches a table moves a bounded number of slots, and the event loop gives
// each rehashing table a bounded step per turn (Store.RehashStep). Lookups
// check both indexes while a rehash runs, so every key is seen exactly once.
// The large forms of hashes, sets and sorted sets (dict.go) use the same
// index (slotIndex), stepped by the commands that touch them.
//
// Collections' memory. A large collection's arrays (index slots, record
// offsets, skip list nodes and levels, a list's ring) move into mappings of
// their own past 1 MiB, so that no write to a big collection copies it or
// makes the GC work; the keyspace releases a collection it drops at the
// end of the loop turn (Store.ReleaseDead), and counts what collections map
// in each table's MemoryBytes. collmem.go has the rules.
//
// SCAN walks entry ids, not index slots, so a key present for a whole scan is
// returned exactly once whatever the table does in between.
//
// Commands. Each command family has a file that starts with its table
// (cmd_keys.go, cmd_string.go ...): name, arity, flags, key positions, docs
// and handler. COMMAND and its subcommands are derived from those tables
// (command.go). Handlers append exactly one reply to Ctx.Out with conn/resp's
// encoders, and use only conn/resp's error texts. Data-structure files know
// nothing of RESP.
//
// Expiry. A key's TTL is an absolute unix-ms time in its entry. Every lookup
// removes a key whose time has passed before the command sees it (lazy
// expiry); each key with a TTL also has exactly one timer in expire's wheel,
// which Table.SetExpireAt keeps in step, and Store.ActiveExpire removes the
// keys whose timers fire (bounded work per loop turn; DEBUG
// SET-ACTIVE-EXPIRE 0 turns it off). Commands only ever set or clear the
// absolute time (cmd_expire.go); relative times are logged as absolute
// (PEXPIREAT), and a time already passed deletes the key and logs DEL.
//
// Encodings. OBJECT ENCODING and DEBUG OBJECT report the encoding Redis
// would have chosen; encoding.go says how strings track it and how object
// kinds register theirs (objectEncodings); COPY deep-copies object kinds
// through cloneObj (cmd_expire.go), which each kind's file fills in.
package store
