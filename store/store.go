package store

import (
	"math/rand/v2"
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
	// fire is fireTimer bound once, so Advance gets no new closure per turn.
	fire      func(uint64)
	fireNowMs int64
	// OnExpired, if set, is called for every key that active expiry
	// removes outside any command, before it is removed (the AOF logs it
	// as DEL; lazy expiry inside a command uses Ctx.LogDel instead).
	OnExpired func(db int, key []byte)
}

// New returns an empty keyspace.
func New() *Store {
	s := &Store{rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	s.wheel = expire.New(time.Now().UnixMilli())
	s.fire = s.fireTimer
	for i := range s.dbs {
		t := NewTable()
		t.attachWheel(s.wheel, uint32(i))
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
	s.fireNowMs = nowMs
	return s.wheel.Advance(nowMs, ExpireFireMax, s.fire)
}

// NextExpiryMs is the earliest time a key may need to be expired: the event
// loop sleeps no longer than that.
func (s *Store) NextExpiryMs() int64 { return s.wheel.NextWakeMs() }

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

// Exec runs one command. argv[0] must already have been resolved to cmd by
// Lookup and its arity checked by CheckArity.
func (s *Store) Exec(c *Ctx, cmd *Command, argv [][]byte) {
	cmd.Handler(s, c, argv)
}

// lookup finds key in the selected database for a read or a write, removing
// it first if its TTL has passed: an expired key is never seen.
func (s *Store) lookup(c *Ctx, key []byte) (t *Table, id uint32, ok bool) {
	t = s.dbs[c.DB]
	id, ok = t.Find(key)
	if ok {
		if at := t.ExpireAt(id); at != 0 && at <= c.NowMs {
			c.LogDel(key)
			t.Remove(id)
			s.Stats.ExpiredKeys++
			return t, 0, false
		}
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
