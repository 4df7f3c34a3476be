package store

import (
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/ringkv/ringkv/expire"

	"github.com/ringkv/ringkv/conn/resp"
)

// NumDBs is the number of logical databases (Redis's "databases" default).
const NumDBs = 16

// Ctx is what a command needs from the connection that sent it. conn owns
// it; store reads and updates it while the command runs.
type Ctx struct {
	// Out is the client's reply buffer; handlers append exactly one reply.
	Out []byte
	// DB is the selected database; SELECT changes it.
	DB int
	// Proto is the connection's RESP version, 2 or 3 (HELLO sets it; 0 is
	// read as 2). Replies whose RESP3 type differs are written with
	// conn/resp's protocol-aware encoders (AppendMapLen, AppendDouble ...).
	Proto int
	// NowMs is the loop turn's clock in unix milliseconds, read once per
	// turn by conn (tests set it directly).
	NowMs int64
	// Client is conn's client for the connection-level commands conn
	// registers; store never looks inside it.
	Client any
	// Close asks conn to close the connection once this reply is sent.
	Close bool
	// Prop collects, RESP-encoded, the commands that reproduce this
	// command's effect on the keyspace, for the AOF (and replication
	// later). See propagate.go.
	Prop []byte
	// Rewritten says the handler logged its effect itself (Rewrite), so
	// argv is not logged.
	Rewritten bool
	// Block is set by a blocking command that found nothing to serve: it
	// replied nothing, and conn parks the client (store/blocking.go).
	Block *BlockRequest
	// NoBlock makes blocking commands answer as if they timed out at once
	// instead of blocking (inside MULTI/EXEC and scripts, as Redis's
	// CLIENT_DENY_BLOCKING).
	NoBlock bool
	// Loading says the command is replayed from the AOF: keys are not
	// expired while loading (as in Redis), so that a log replays to the
	// keyspace it recorded whatever the time now.
	Loading bool
}

// Stats are the keyspace counters INFO reports.
type Stats struct {
	Hits, Misses, ExpiredKeys, Dirty int64
}

// Store is the keyspace: NumDBs tables owned by one goroutine.
type Store struct {
	// dbs[i] is what SELECT i sees; SWAPDB swaps its elements. tables
	// never changes: it maps a table's permanent number (the one its
	// timers carry) to the table.
	dbs    [NumDBs]*Table
	tables [NumDBs]*Table
	wheel  *expire.Wheel
	rnd    *rand.Rand
	Stats  Stats
	// dead is the collections the tables dropped in this loop turn, to be
	// released at its end (ReleaseDead).
	dead []collection
	// fire is fireTimer bound once, so Advance gets no new closure per turn.
	fire      func(uint64)
	fireNowMs int64
	// OnExpired, if set, is called for every key that active expiry
	// removes outside any command, before it is removed (the AOF logs it
	// as DEL; lazy expiry inside a command uses Ctx.LogDel instead).
	OnExpired func(db int, key []byte)
	// KeyReady, when set, is called when a list or sorted set key is
	// created, so that conn can serve clients blocked on it
	// (store/blocking.go).
	KeyReady func(db int, key []byte)
	// DBReady, when set, is called when every key of db may have changed
	// at once (SWAPDB), so that conn can look for keys it has clients
	// blocked on there, as Redis's scanDatabaseForReadyKeys.
	DBReady func(db int)
	// popRes and popBuf are the pops' scratch (zpop, SPOP): what the last
	// pop returned, reused by the next (see popScratchMax).
	popRes []zrangeElem
	popBuf []byte
	// activeExpireOff is DEBUG SET-ACTIVE-EXPIRE 0: keys expire only when
	// a command finds them (lazy expiry).
	activeExpireOff bool
	// lruClock is the LRU clock of the running command (lruClock(NowMs)):
	// lookups and new keys are stamped with it, for OBJECT IDLETIME.
	lruClock uint16
}

// New returns an empty keyspace.
func New() *Store {
	s := &Store{rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	s.wheel = expire.New(time.Now().UnixMilli())
	s.fire = s.fireTimer
	for i := range s.dbs {
		t := NewTable()
		t.attachWheel(s.wheel, uint32(i))
		t.clock = &s.lruClock
		t.dead = &s.dead
		s.dbs[i], s.tables[i] = t, t
	}
	return s
}

// ExpireFireMax bounds the keys active expiry removes per loop turn, so a
// million keys expiring in the same millisecond never stall the loop: the
// rest go in the following turns (about 1 us each, wheel and delete).
const ExpireFireMax = 2000

// ActiveExpire removes keys whose TTL passed by nowMs, at most
// ExpireFireMax of them, and reports whether more are due. The event loop
// calls it once per turn.
func (s *Store) ActiveExpire(nowMs int64) (more bool) {
	if s.activeExpireOff {
		return false
	}
	s.fireNowMs = nowMs
	return s.wheel.Advance(nowMs, ExpireFireMax, s.fire)
}

// NextExpiryMs is the earliest time a key may need to be expired: the event
// loop sleeps no longer than that.
func (s *Store) NextExpiryMs() int64 {
	if s.activeExpireOff {
		return math.MaxInt64
	}
	return s.wheel.NextWakeMs()
}

// AvgTTL is INFO keyspace's avg_ttl for database db: the mean remaining TTL
// in ms of its keys with a TTL, 0 when there are none. Redis estimates it
// from the keys its expiry cycle samples; this is the exact mean.
func (s *Store) AvgTTL(db int, nowMs int64) int64 { return s.dbs[db].AvgTTLMs(nowMs) }

func (s *Store) fireTimer(v uint64) {
	t, id := s.tables[v>>32], uint32(v)
	t.timerFired(id)
	if t.Kind(id) == KindNone {
		panic("BUG: store: a timer fired for a free entry")
	}
	at := t.ExpireAt(id)
	if at == 0 {
		panic("BUG: store: a timer fired for a key without a TTL")
	}
	if at > s.fireNowMs {
		// The wheel's time never goes back, the caller's clock may have
		// (a wall-clock step): the key is not due by the caller's clock.
		// Keep its one timer armed rather than expire it early.
		t.SetExpireAt(id, 0)
		t.SetExpireAt(id, at)
		return
	}
	if s.OnExpired != nil {
		for db, d := range s.dbs {
			if d == t {
				s.OnExpired(db, t.Key(id))
				break
			}
		}
	}
	t.Remove(id)
	s.Stats.ExpiredKeys++
}

// DB returns database i's table (for INFO and tests).
func (s *Store) DB(i int) *Table { return s.dbs[i] }

// RehashStep gives every rehashing table a bounded step; the event loop calls
// it once per turn. It returns true while any table still rehashes.
func (s *Store) RehashStep(slotsPerDB int) bool {
	busy := false
	for _, t := range s.dbs {
		if t.Rehashing() && t.RehashStep(slotsPerDB) {
			busy = true
		}
	}
	return busy
}

// ReleaseDead frees the memory of the collections the keyspace dropped
// since the last call (collmem.go). The event loop calls it at the end of
// every turn, once nothing of the turn can still read them.
func (s *Store) ReleaseDead() {
	if len(s.dead) == 0 {
		return
	}
	for i, c := range s.dead {
		c.release()
		s.dead[i] = nil
	}
	s.dead = s.dead[:0]
}

// ReleaseIdle gives back the memory of emptied tables and of an empty timer
// wheel; the event loop calls it from its cron (a few times a second), not
// every turn: checking sixteen tables' mapped sizes at every turn cost about
// 1% of a server at pipeline 1, and memory left after a mass expiry or
// delete can wait a tenth of a second.
func (s *Store) ReleaseIdle() {
	released := false
	for _, t := range s.dbs {
		// A table emptied by expiry or deletes keeps its arena chunks and
		// entries array for reuse; once it holds nothing and maps more than
		// a little, give the memory back (expired keys' memory is freed,
		// as with Redis's allocator). Checked here, not in Remove, so a
		// queue that empties and refills one key does not unmap and map at
		// every pop.
		if t.Len() == 0 && t.MemoryBytes() > emptyTableKeepBytes {
			t.Clear()
			released = true
		}
	}
	// The same for the timers, once none is live.
	if s.wheel.Release() {
		released = true
	}
	if released {
		// What was released on the Go heap (the wheel's nodes, objects)
		// would otherwise wait for a GC that an idle server never starts,
		// and the OS would not see it back. Rare (after a mass expiry or
		// delete) and short: the keyspace lives off the Go heap.
		debug.FreeOSMemory()
	}
}

// emptyTableKeepBytes: an empty table holding more than this is reset.
const emptyTableKeepBytes = 1 << 20

// Exec runs one command. argv[0] must already have been resolved to cmd by
// Lookup and its arity checked by CheckArity.
func (s *Store) Exec(c *Ctx, cmd *Command, argv [][]byte) {
	s.lruClock = lruClock(c.NowMs)
	cmd.Handler(s, c, argv)
}

// lookup finds key in the selected database for a read or a write, removing
// it first if its TTL has passed: an expired key is never seen.
func (s *Store) lookup(c *Ctx, key []byte) (t *Table, id uint32, ok bool) {
	t = s.dbs[c.DB]
	id, ok = t.Find(key)
	if ok {
		if at := t.ExpireAt(id); at != 0 && at <= c.NowMs && !c.Loading {
			c.LogDel(key)
			t.Remove(id)
			s.Stats.ExpiredKeys++
			return t, 0, false
		}
		t.touch(id, s.lruClock)
	}
	return t, id, ok
}

// lookupDB is lookup in database db rather than the selected one, for
// commands that reach a second database (MOVE, COPY). An expired key found
// there is removed without LogDel, which logs against the selected
// database: the command's own propagation (MOVE, COPY as sent) replays to
// the same keyspace because the key it replaces is gone either way.
func (s *Store) lookupDB(c *Ctx, db int, key []byte) (t *Table, id uint32, ok bool) {
	if db == c.DB {
		return s.lookup(c, key)
	}
	t = s.dbs[db]
	id, ok = t.Find(key)
	if ok {
		if expired(t, id, c.NowMs) && !c.Loading {
			t.Remove(id)
			s.Stats.ExpiredKeys++
			return t, 0, false
		}
		t.touch(id, s.lruClock)
	}
	return t, id, ok
}

// lookupNoTouch is lookupRead without recording an access (Redis's
// LOOKUP_NOTOUCH: TTL, OBJECT, DEBUG OBJECT).
func (s *Store) lookupNoTouch(c *Ctx, key []byte) (t *Table, id uint32, ok bool) {
	t = s.dbs[c.DB]
	id, ok = t.Find(key)
	if ok && expired(t, id, c.NowMs) && !c.Loading {
		c.LogDel(key)
		t.Remove(id)
		s.Stats.ExpiredKeys++
		ok = false
	}
	if ok {
		s.Stats.Hits++
	} else {
		s.Stats.Misses++
	}
	return t, id, ok
}

// lookupRead is lookup plus the hit/miss counters of INFO stats.
func (s *Store) lookupRead(c *Ctx, key []byte) (*Table, uint32, bool) {
	t, id, ok := s.lookup(c, key)
	if ok {
		s.Stats.Hits++
	} else {
		s.Stats.Misses++
	}
	return t, id, ok
}

// expired reports whether entry id of t has passed its TTL, without
// removing it (for walks such as KEYS and SCAN that must not mutate the
// table under their cursor).
func expired(t *Table, id uint32, nowMs int64) bool {
	at := t.ExpireAt(id)
	return at != 0 && at <= nowMs
}

func wrongType(c *Ctx) { c.Out = append(c.Out, resp.ErrWrongType...) }
