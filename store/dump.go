package store

import (
	"math"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Serialisation for an AOF rewrite without fork: the Dumper emits, in
// bounded steps on the owner goroutine, the commands that rebuild every key,
// while commands keep running between the steps.
//
// The base it writes is the keyspace as it was when the Dumper was made,
// although keys change while it walks. Before a write command runs, conn
// calls Touch with its argv: every existing key named there that the walk
// has not reached yet is dumped at once (its value from before the command)
// and marked done. After the command, Mark marks its keys done (a key the
// command created is in the incr file, from its creation). The walk skips
// what is marked. So each key reaches the base exactly once, with its value
// from before the rewrite's first command, and everything after that is in
// the incr file that the rewrite started: base + incr replays to the live
// keyspace. Treating an argument that is not a key as one is harmless (it is
// dumped earlier, or marked while absent, which only means its creation is
// in the incr file, as it is anyway).
//
// SWAPDB moves keys between databases behind the walk's back: conn restarts
// the rewrite when one runs. Commands that write a key of another database
// (MOVE, COPY ... DB) need Touch and Mark for that database too (TouchAll).
//
// A large collection is dumped over several steps (cur), each ending at a
// command boundary, so that a million-field hash does not stall the loop
// for the whole of it (measured: a PING waited 132 ms). It cannot change in
// between: a write to it Touches it first, which dumps the rest at once,
// with the value from before the write. It can go away without a write
// (expiry, FLUSHALL): the walk notices that the key no longer holds the
// same value and drops the rest; the commands already written are undone
// by the DEL or FLUSHALL that the incr file holds after them.
type Dumper struct {
	s     *Store
	db    int    // database being walked; NumDBs when done
	pos   uint32 // next entry id of db to visit
	done  [NumDBs][]uint64
	last  int // database of the last SELECT emitted; -1 none
	nowMs int64
	keys  int64
	cur   dumpCur
}

// dumpCur is the key whose dump a step left unfinished.
type dumpCur struct {
	active bool
	db     int
	id     uint32
	obj    any // its value when the dump began, to notice it went away
	p      dumpProgress
}

// dumpProgress is how far a kind's DumpFunc got with a value: pos is the
// kind's own position (element index, record id or rank).
type dumpProgress struct {
	pos     int
	ch      dumpChunk
	started bool
	done    bool
}

// DumpFunc appends the commands that rebuild entry id of t, whose key is
// key, TTL excepted (the Dumper adds PEXPIREAT). A kind's function is
// registered in dumpKinds; a large value should be emitted in several
// commands of at most dumpItemsPerCmd items, as Redis's rewrite does
// (AOF_REWRITE_ITEMS_PER_CMD), so the loader never sees a huge command. It
// may stop at the end of a command once dst has reached stopAt bytes,
// leaving p.done false; it is then called again with the same p to go on.
type DumpFunc func(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, stopAt int) []byte

// dumpItemsPerCmd is Redis's AOF_REWRITE_ITEMS_PER_CMD.
const dumpItemsPerCmd = 64

// dumpKinds is the per-kind serialiser table: strings here, the collections
// in dump_coll.go (RPUSH, HSET, SADD, ZADD score member); a kind added later
// registers its own from an init.
var dumpKinds = [KindStream + 1]DumpFunc{
	KindString: dumpString,
}

var (
	dumpSetWord       = []byte("SET")
	dumpPexpireatWord = []byte("PEXPIREAT")
	dumpSelectWord    = []byte("SELECT")
)

func dumpString(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, _ int) []byte {
	p.done = true
	return resp.AppendCommand(dst, dumpSetWord, key, t.Str(id))
}

// NewDumper starts a walk of the whole keyspace.
func (s *Store) NewDumper() *Dumper {
	return &Dumper{s: s, last: -1}
}

// Keys is the number of keys dumped so far.
func (d *Dumper) Keys() int64 { return d.keys }

// Done says the walk has visited every database.
func (d *Dumper) Done() bool { return d.db >= NumDBs && !d.cur.active }

func (d *Dumper) marked(db int, id uint32) bool {
	if db < d.db || (db == d.db && id < d.pos) {
		return true
	}
	bits := d.done[db]
	return int(id>>6) < len(bits) && bits[id>>6]&(1<<(id&63)) != 0
}

func (d *Dumper) mark(db int, id uint32) {
	if db < d.db || (db == d.db && id < d.pos) {
		return
	}
	w := int(id >> 6)
	if w >= len(d.done[db]) {
		grown := make([]uint64, max(w+1, 2*len(d.done[db])))
		copy(grown, d.done[db])
		d.done[db] = grown
	}
	d.done[db][w] |= 1 << (id & 63)
}

// dumpKey appends the commands for entry id of database db, or, when they
// pass stopAt bytes, the first of them, leaving the rest to resume.
func (d *Dumper) dumpKey(dst []byte, db int, t *Table, id uint32, stopAt int) []byte {
	at := t.ExpireAt(id)
	if at != 0 && at <= d.nowMs {
		return dst // expired: its removal will be logged as DEL
	}
	if dumpKinds[t.Kind(id)] == nil {
		panic("BUG: store: no AOF rewrite serialiser for kind " + strconv.Itoa(int(t.Kind(id))))
	}
	// A key of its own: a Touch dumps another key whole while cur waits.
	c := dumpCur{active: true, db: db, id: id, obj: t.Obj(id)}
	if dst = d.resume(&c, dst, stopAt); c.active {
		d.cur = c // only Step stops early, and only when cur is free
	}
	return dst
}

// resume goes on with unfinished key c until it is done or dst passes
// stopAt, and ends it with its TTL. A key that no longer holds the value
// its dump began with is dropped (see Dumper).
func (d *Dumper) resume(c *dumpCur, dst []byte, stopAt int) []byte {
	t := d.s.dbs[c.db]
	if int(c.id) >= len(t.entries) || t.Kind(c.id) == KindNone || t.Obj(c.id) != c.obj {
		c.active = false
		return dst
	}
	if d.last != c.db {
		var n [20]byte
		dst = resp.AppendCommand(dst, dumpSelectWord, strconv.AppendInt(n[:0], int64(c.db), 10))
		d.last = c.db
	}
	key := t.Key(c.id)
	dst = dumpKinds[t.Kind(c.id)](dst, t, c.id, key, &c.p, stopAt)
	if !c.p.done {
		return dst
	}
	c.active = false
	if at := t.ExpireAt(c.id); at != 0 {
		var n [20]byte
		dst = resp.AppendCommand(dst, dumpPexpireatWord, key, strconv.AppendInt(n[:0], at, 10))
	}
	d.keys++
	return dst
}

// Step dumps keys the walk has not reached until dst has grown by maxBytes
// or maxKeys entries were visited, and returns dst. nowMs is the loop
// turn's clock (keys already expired are left out).
func (d *Dumper) Step(dst []byte, nowMs int64, maxBytes, maxKeys int) []byte {
	d.nowMs = nowMs
	start := len(dst)
	if d.cur.active {
		if dst = d.resume(&d.cur, dst, start+maxBytes); d.cur.active {
			return dst
		}
	}
	for visited := 0; d.db < NumDBs; {
		t := d.s.dbs[d.db]
		if int(d.pos) >= len(t.entries) {
			d.db++
			d.pos = 0
			continue
		}
		if len(dst)-start >= maxBytes || visited >= maxKeys {
			break
		}
		id := d.pos
		todo := t.entries[id].kind != KindNone && !d.marked(d.db, id)
		d.pos++ // before the dump: a key left unfinished counts as reached
		visited++
		if todo {
			if dst = d.dumpKey(dst, d.db, t, id, start+maxBytes); d.cur.active {
				break
			}
		}
	}
	return dst
}

// Touch is called before a write command runs in database db with argv:
// each argument that names a key the walk has not dumped is dumped now.
func (d *Dumper) Touch(dst []byte, db int, argv [][]byte, nowMs int64) []byte {
	if d.Done() {
		return dst
	}
	d.nowMs = nowMs
	t := d.s.dbs[db]
	for _, a := range argv[1:] {
		id, ok := t.Find(a)
		switch {
		case !ok:
		case d.cur.active && d.cur.db == db && d.cur.id == id:
			dst = d.resume(&d.cur, dst, math.MaxInt) // the rest, before the write changes it
		case !d.marked(db, id):
			dst = d.dumpKey(dst, db, t, id, math.MaxInt)
			d.mark(db, id)
		}
	}
	return dst
}

// Mark is called after the command: its keys that exist now are done.
func (d *Dumper) Mark(db int, argv [][]byte) {
	if d.Done() {
		return
	}
	t := d.s.dbs[db]
	for _, a := range argv[1:] {
		if id, ok := t.Find(a); ok {
			d.mark(db, id)
		}
	}
}

// TouchAll is Touch in every database, for commands that write keys of
// another database than the selected one; MarkAll is its Mark.
func (d *Dumper) TouchAll(dst []byte, argv [][]byte, nowMs int64) []byte {
	for db := range NumDBs {
		dst = d.Touch(dst, db, argv, nowMs)
	}
	return dst
}

// MarkAll is Mark in every database.
func (d *Dumper) MarkAll(argv [][]byte) {
	for db := range NumDBs {
		d.Mark(db, argv)
	}
}
