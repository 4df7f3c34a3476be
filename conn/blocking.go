package conn

import (
	"slices"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// Blocked clients: conn's half of BLPOP, BLMOVE, BZPOPMIN and the other
// blocking commands (store/blocking.go has store's half).
//
// A command that finds nothing to pop sets Ctx.Block; execute then parks
// the client: it keeps a private copy of argv, joins the FIFO queue of each
// key it waits on, and its query buffer is not processed any further, so
// the reply of the blocking command comes before anything pipelined after
// it.
//
// When store creates a list or sorted set key that someone waits on
// (Store.KeyReady: a push, LMOVE, RENAME, MOVE, COPY ...), the key is
// queued as ready; SWAPDB queues every key waited on in the two databases
// that exists after the swap (Store.DBReady), as Redis's
// scanDatabaseForReadyKeys. After the command (and its AOF record),
// serveReady goes through the clients waiting on each ready key, first come
// first served, as Redis's serveClientsBlockedOnListKey does: a client that
// waits for another type (BLPOP on a key that is now a sorted set) is
// skipped and stays blocked; the others run their command again narrowed to
// that key (BLPOP a b 0 served by b runs as BLPOP b 0, so it pops from b
// whatever a holds), until one blocks again (the key is gone). A served or
// timed-out client resumes its pipeline.
//
// Timeouts: each turn the loop waits at most until the earliest deadline
// and then expires what is due (expireBlocked). The blocked clients are few
// next to the keys, so a scan of them per turn is cheaper than a wheel's
// bookkeeping; blockedMax names the point where that would stop being
// true, and is reported, not enforced.
//
// A disconnect removes the client from every queue (unblockClient).

type blockKey struct {
	db  int
	key string
}

// blockState is a parked client's command.
type blockState struct {
	cmd        *store.Command
	argv       [][]byte
	keys       []blockKey
	kind       store.Kind // what it pops: KindList or KindZSet
	deadlineMs int64      // 0: forever
}

// blockedKind is the type of value cmd waits for, as Redis's btype
// (BLOCKED_LIST, BLOCKED_ZSET).
func blockedKind(cmd *store.Command) store.Kind {
	switch cmd.Name {
	case "bzpopmin", "bzpopmax", "bzmpop":
		return store.KindZSet
	}
	return store.KindList
}

type blocking struct {
	waiting  map[blockKey][]*client
	ready    []blockKey
	isReady  map[blockKey]bool
	clients  map[*client]struct{}
	resume   []*client
	serving  bool
	nextScan int64
}

func (s *Server) initBlocking() {
	s.blk.waiting = map[blockKey][]*client{}
	s.blk.isReady = map[blockKey]bool{}
	s.blk.clients = map[*client]struct{}{}
	s.store.KeyReady = s.keyReady
	s.store.DBReady = s.dbReady
}

// keyReady is store's KeyReady hook.
func (s *Server) keyReady(db int, key []byte) { s.markReady(blockKey{db, string(key)}) }

func (s *Server) markReady(bk blockKey) {
	if len(s.blk.waiting[bk]) == 0 || s.blk.isReady[bk] {
		return
	}
	s.blk.isReady[bk] = true
	s.blk.ready = append(s.blk.ready, bk)
}

// dbReady is store's DBReady hook (SWAPDB): each key of db that clients
// wait on and that exists now is ready. Redis visits them in the order of
// its dict; here they go in key order, so that a run can be repeated.
func (s *Server) dbReady(db int) {
	var keys []blockKey
	for bk := range s.blk.waiting {
		if bk.db != db {
			continue
		}
		if _, exists := s.keyKind(bk); exists {
			keys = append(keys, bk)
		}
	}
	slices.SortFunc(keys, func(a, b blockKey) int { return strings.Compare(a.key, b.key) })
	for _, bk := range keys {
		s.markReady(bk)
	}
}

// keyKind is the type of the value at bk, if there is one. It does not
// check the TTL: a key past it is found by the command run again, which
// removes it and blocks again.
func (s *Server) keyKind(bk blockKey) (store.Kind, bool) {
	t := s.store.DB(bk.db)
	id, ok := t.Find([]byte(bk.key))
	if !ok {
		return 0, false
	}
	return t.Kind(id), true
}

// blockClient parks cl on the keys of req.
func (s *Server) blockClient(cl *client, cmd *store.Command, argv [][]byte, req *store.BlockRequest) {
	bs := &blockState{cmd: cmd, kind: blockedKind(cmd), deadlineMs: req.DeadlineMs}
	bs.argv = make([][]byte, len(argv))
	for i, a := range argv {
		bs.argv[i] = append([]byte(nil), a...)
	}
	for _, k := range req.Keys {
		bk := blockKey{cl.ctx.DB, string(k)}
		if !containsKey(bs.keys, bk) {
			bs.keys = append(bs.keys, bk)
			s.blk.waiting[bk] = append(s.blk.waiting[bk], cl)
		}
	}
	cl.blocked = bs
	s.blk.clients[cl] = struct{}{}
}

func containsKey(keys []blockKey, bk blockKey) bool {
	for _, k := range keys {
		if k == bk {
			return true
		}
	}
	return false
}

// unblockClient takes cl out of every queue.
func (s *Server) unblockClient(cl *client) {
	bs := cl.blocked
	if bs == nil {
		return
	}
	for _, bk := range bs.keys {
		q := s.blk.waiting[bk]
		for i, w := range q {
			if w == cl {
				q = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(s.blk.waiting, bk)
		} else {
			s.blk.waiting[bk] = q
		}
	}
	cl.blocked = nil
	delete(s.blk.clients, cl)
}

// serveReady serves the clients waiting on keys made ready by the command
// that just ran, then resumes the pipelines of those it served.
func (s *Server) serveReady() {
	if s.blk.serving || len(s.blk.ready) == 0 {
		return
	}
	s.blk.serving = true
	for len(s.blk.ready) > 0 || len(s.blk.resume) > 0 {
		for len(s.blk.ready) > 0 {
			bk := s.blk.ready[0]
			s.blk.ready = s.blk.ready[1:]
			delete(s.blk.isReady, bk)
			// A served client leaves the queue; a skipped one stays at i.
			for i := 0; i < len(s.blk.waiting[bk]); {
				kind, exists := s.keyKind(bk)
				if !exists {
					break
				}
				cl := s.blk.waiting[bk][i]
				if cl.blocked.kind != kind {
					i++
					continue
				}
				if !s.retryBlocked(cl, bk.key) {
					break
				}
			}
		}
		// Resume pipelines only once the ready keys are drained, so that a
		// resumed client's own pushes are served in order too.
		if len(s.blk.resume) > 0 {
			cl := s.blk.resume[0]
			s.blk.resume = s.blk.resume[1:]
			if !cl.closing && cl.blocked == nil {
				s.process(cl)
			}
		}
	}
	s.blk.serving = false
}

// retryBlocked runs cl's blocked command again, narrowed to the ready key;
// it reports whether cl was served (false: it would block again, and stays
// where it was in line).
func (s *Server) retryBlocked(cl *client, key string) bool {
	bs := cl.blocked
	argv := narrowArgv(bs, key)
	savedDB := cl.ctx.DB
	cl.ctx.DB = bs.keys[0].db
	cl.ctx.NowMs = s.nowMs
	dirty, outStart := s.store.Stats.Dirty, len(cl.ctx.Out)
	s.aofBefore(&cl.ctx, bs.cmd, argv)
	s.store.Exec(&cl.ctx, bs.cmd, argv)
	cl.ctx.DB = savedDB
	// Logged even when it blocks again: a key it found expired is a DEL
	// that must reach the AOF now, not with a later command.
	s.aofLog(cl, bs.cmd, argv, dirty, outStart)
	cl.ctx.Prop, cl.ctx.Rewritten = cl.ctx.Prop[:0], false
	if cl.ctx.Block != nil {
		cl.ctx.Block = nil
		return false
	}
	s.unblockClient(cl)
	s.queue(cl)
	s.blk.resume = append(s.blk.resume, cl)
	return true
}

// narrowArgv is bs's command with key as its only key to pop from. The
// commands that take one source key (BLMOVE, BRPOPLPUSH) are unchanged.
func narrowArgv(bs *blockState, key string) [][]byte {
	argv := bs.argv
	switch bs.cmd.Name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax": // name key... timeout
		if len(argv) > 3 {
			return [][]byte{argv[0], []byte(key), argv[len(argv)-1]}
		}
	case "blmpop", "bzmpop": // name timeout numkeys key... where [COUNT n]
		if n, ok := resp.ParseInt(argv[2]); ok && n > 1 && int(n)+3 <= len(argv) {
			narrow := [][]byte{argv[0], argv[1], []byte("1"), []byte(key)}
			return append(narrow, argv[3+n:]...)
		}
	}
	return argv
}

// nextBlockDeadline returns the earliest deadline of a blocked client, or
// 0 when none has one.
func (s *Server) nextBlockDeadline() int64 {
	var next int64
	for cl := range s.blk.clients {
		if d := cl.blocked.deadlineMs; d != 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}

// expireBlocked answers the clients whose timeout has passed with a null
// array, as Redis's replyToBlockedClientTimedOut does for lists and sorted
// sets, and resumes their pipelines.
func (s *Server) expireBlocked() {
	if len(s.blk.clients) == 0 {
		return
	}
	var due []*client
	for cl := range s.blk.clients {
		if d := cl.blocked.deadlineMs; d != 0 && d <= s.nowMs {
			due = append(due, cl)
		}
	}
	for _, cl := range due {
		s.unblockWith(cl, resp.AppendNullArrayP(nil, cl.ctx.Proto))
	}
}

// unblockWith ends cl's wait with reply and resumes its pipeline.
func (s *Server) unblockWith(cl *client, reply []byte) {
	s.unblockClient(cl)
	cl.ctx.Out = append(cl.ctx.Out, reply...)
	s.queue(cl)
	if !s.blk.serving {
		s.process(cl)
	} else {
		s.blk.resume = append(s.blk.resume, cl)
	}
}

var errUnblocked = []byte("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")

func init() { UnblockHook = (*Server).unblockByID }

// unblockByID is CLIENT UNBLOCK's hook (cmd_conn.go).
func (s *Server) unblockByID(id int64, withError bool) bool {
	for cl := range s.blk.clients {
		if cl.id == id {
			if withError {
				s.unblockWith(cl, errUnblocked)
			} else {
				s.unblockWith(cl, resp.AppendNullArrayP(nil, cl.ctx.Proto))
			}
			return true
		}
	}
	return false
}
