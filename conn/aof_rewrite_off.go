package conn

import (
	"time"

	"github.com/ringkv/ringkv/aof"
)

// BGREWRITEAOF while appendonly is no, as Redis 7.0 does it: the keyspace
// is written as a new base in the AOF directory (created if missing), and
// the manifest then lists that base alone; the old base and incr files are
// deleted. Nothing else is written while the AOF is off, so writes made
// during the walk are in no file, as in Redis (its fork's snapshot has none
// of them either): the base is the keyspace as it was when the rewrite
// started, since the walk dumps a key before the first write to it and
// skips keys created after the start (aofBefore, aofLog and the Dumper).
// INFO counts it like any rewrite (aof_rewrites, aof_last_bgrewrite_status)
// and reports aof_enabled:0. CONFIG SET appendonly yes during the walk stops
// it and starts the rewrite of the open AOF instead (aofEnable), as Redis
// kills its child then.

// aofStartOffRewrite starts the rewrite. An error is logged and makes
// aof_last_bgrewrite_status err, without counting in
// aof_rewrites_consecutive_failures (Redis counts only a rewrite that ran);
// BGREWRITEAOF answers it with Redis's text.
func (s *Server) aofStartOffRewrite() error {
	a := &s.aof
	rw, err := aof.StartOffRewrite(s.aofOptions(false), func() {
		if r := s.ring; r != nil {
			r.Wake()
		}
	})
	if err != nil {
		a.lastRewriteOK = false
		s.cfg.Logger.Printf("AOF rewrite (appendonly no): could not start: %v", err)
		return err
	}
	a.rw, a.dumper, a.rwStart = rw, s.store.NewDumper(), time.Now()
	s.cfg.Logger.Printf("AOF rewrite started with appendonly no: the keyspace becomes the only base in %s", s.aofDir())
	return nil
}

// aofOffRewriteStep is aofRewriteStep while appendonly is no: a bounded
// step of the walk per loop turn, then the commit once the base is on disk.
func (s *Server) aofOffRewriteStep() {
	a := &s.aof
	if a.rw == nil {
		return
	}
	if a.rwRestart {
		s.cfg.Logger.Printf("AOF rewrite: SWAPDB ran during the keyspace walk: starting the rewrite again")
		a.rw.Abort()
		a.rw, a.dumper, a.rwRestart = nil, nil, false
		s.aofStartOffRewrite()
		return
	}
	if s.aofRewriteWalk() {
		return
	}
	if !a.rw.Done() {
		return
	}
	rw := a.rw
	a.rw = nil
	err := rw.Err()
	if err == nil {
		err = rw.CommitOff()
	}
	a.lastRewriteSec = int64(time.Since(a.rwStart).Seconds())
	if err != nil {
		rw.Abort()
		a.rwFailures++
		a.lastRewriteOK = false
		s.cfg.Logger.Printf("AOF rewrite (appendonly no) failed: %v", err)
		return
	}
	a.rewrites++
	a.rwFailures = 0
	a.lastRewriteOK = true
	s.cfg.Logger.Printf("AOF rewrite (appendonly no) done: base of %d bytes in %v", rw.Bytes(), time.Since(a.rwStart).Round(time.Millisecond))
}
