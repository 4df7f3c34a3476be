package conn

import (
	"errors"
	"fmt"
	"log"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/ring"
	"github.com/ringkv/ringkv/store"
)

// Config is the server's configuration, with Redis's names and defaults
// where Redis has them.
type Config struct {
	Bind       string // "bind": the address to listen on
	Port       int    // "port"; 0 picks a free port (tests)
	IO         string // "io": auto | uring | epoll
	MaxClients int    // "maxclients"
	// QueryBufLimit is client-query-buffer-limit: a client whose unparsed
	// input grows past it is disconnected.
	QueryBufLimit int
	// ReplySoftLimit: past this many pending reply bytes a client's commands
	// are not executed and its socket is not read until the replies drain.
	ReplySoftLimit int
	// ReplyHardLimit is client-output-buffer-limit's hard limit for normal
	// clients: past it the client is disconnected. 0 means none, as in Redis;
	// the soft limit already bounds what a client that stops reading costs.
	ReplyHardLimit int
	Logger         *log.Logger
	// ConfigFile is the config file the server started from ("" for none);
	// CONFIG REWRITE rewrites it.
	ConfigFile string
	// Params are further directives (name, values...) from the config file
	// and the command line, applied through CONFIG's table (config.go) when
	// the server starts.
	Params [][]string
	// AOF is the append-only file (conn/aof.go); the zero value is off.
	AOF AOFConfig
}

// Defaults.
const (
	DefaultPort           = 6379
	DefaultMaxClients     = 10000
	DefaultQueryBufLimit  = 1 << 30
	DefaultReplySoftLimit = 1 << 20
	// loopTickMax is the longest a loop turn waits with nothing to do, so
	// the periodic work (rehash steps, stats) runs even on an idle server.
	loopTickMax = 100 * time.Millisecond
	// loopYieldMs: the busy loop passes through the Go scheduler this often,
	// well inside sysmon's 10 ms preemption horizon (see Run).
	loopYieldMs = 4
	// rehashSlotsPerTurn bounds the rehash work of one loop turn per
	// database: about a microsecond or two of work.
	rehashSlotsPerTurn = 256
	// outKeepMax: a reply buffer that grew past this is dropped once it
	// drains, so a client that once fetched a large value does not pin that
	// memory for the rest of its life.
	outKeepMax = 64 << 10
	// queryKeepMax is the same for the query buffer.
	queryKeepMax = 64 << 10
	// listenBacklog is what Redis passes to listen(2) (tcp-backlog).
	listenBacklog = 511
)

func (c *Config) fill() {
	if c.Bind == "" {
		c.Bind = "127.0.0.1"
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.QueryBufLimit == 0 {
		c.QueryBufLimit = DefaultQueryBufLimit
	}
	if c.ReplySoftLimit == 0 {
		c.ReplySoftLimit = DefaultReplySoftLimit
	}
	if c.Logger == nil {
		c.Logger = log.Default()
	}
	c.AOF.fill()
}

// Server is the event loop: it owns the ring, the clients and the store,
// all on one goroutine locked to its OS thread.
type Server struct {
	cfg      Config
	ring     ring.Ring
	store    *store.Store
	listenFD int
	port     int
	clients  []*client // indexed by fd
	pending  []*client // clients with replies to send after this batch
	nclients int
	nextID   int64
	nowMs    int64
	// clockFresh says nowMs was read in this loop turn (see tick).
	clockFresh bool
	// yieldAtMs: when the loop next yields to the Go scheduler (see Run).
	yieldAtMs int64
	start     time.Time
	stop      atomic.Bool
	ready     chan struct{}
	stats     stats
	backend   string
	aof       aofState
	adm       serverAdmin // admin.go
	params    params      // config.go

	// blk holds the blocked clients (blocking.go).
	blk blocking
}

type stats struct {
	connections, commands, rejected, netIn, netOut, protoErrors int64
}

// NewServer prepares a server; Run starts it.
func NewServer(cfg Config) *Server {
	cfg.fill()
	s := &Server{cfg: cfg, store: store.New(), ready: make(chan struct{}), listenFD: -1}
	s.initBlocking()
	s.initAdmin()
	s.cfg.AOF = cfg.AOF // Config's values, over the table's defaults (aof_config.go)
	return s
}

// Port is the port the server listens on, known once Ready is closed.
func (s *Server) Port() int { return s.port }

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Shutdown asks Run to return. Safe from any goroutine.
func (s *Server) Shutdown() {
	s.stop.Store(true)
	if r := s.ring; r != nil {
		r.Wake()
	}
}

// Run listens and serves until Shutdown. It locks the calling goroutine to
// its OS thread for the ring's sake.
func (s *Server) Run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, reason, err := ring.New(ring.Config{Backend: s.cfg.IO})
	if err != nil {
		return fmt.Errorf("io backend %q: %w", s.cfg.IO, err)
	}
	s.ring, s.backend = r, r.Backend()
	defer r.Shutdown()
	if err := s.applyParams(s.cfg.Params); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	s.cfg.Logger.Printf("io backend: %s (%s)", r.Backend(), reason)
	if s.stop.Load() { // Shutdown raced with the start
		return nil
	}
	// Load the AOF before accepting anyone (DESIGN.md, data path).
	if err := s.aofStart(); err != nil {
		return err
	}
	defer s.aofStop()
	fd, port, err := listenTCP(s.cfg.Bind, s.cfg.Port)
	if err != nil {
		return err
	}
	s.listenFD, s.port = fd, port
	if err := r.Listen(fd); err != nil {
		unix.Close(fd)
		return fmt.Errorf("listen: %w", err)
	}
	s.start = time.Now()
	s.nowMs = s.start.UnixMilli()
	s.cfg.Logger.Printf("ready to accept connections on %s:%d", s.cfg.Bind, port)
	close(s.ready)
	handle := s.handle
	expireMore := false
	for !s.stop.Load() {
		timeout := loopTickMax
		switch next := s.store.NextExpiryMs(); {
		case s.store.RehashStep(rehashSlotsPerTurn) || expireMore || s.aofBusy():
			timeout = 0 // more bounded work waiting: poll, don't sleep
		case next-s.nowMs < loopTickMax.Milliseconds():
			timeout = time.Duration(max(0, next-s.nowMs)) * time.Millisecond
		}
		if d := s.nextBlockDeadline(); d != 0 && d-s.nowMs < timeout.Milliseconds() {
			timeout = time.Duration(max(0, d-s.nowMs)) * time.Millisecond // blocking.go
		}
		s.clockFresh = false
		if err := r.Wait(timeout, handle); err != nil {
			return fmt.Errorf("ring wait: %w", err)
		}
		s.tick()
		if s.nowMs >= s.yieldAtMs {
			// Go's sysmon treats a goroutine that has not been through the
			// scheduler for 10 ms as running too long: it takes the P away
			// in the next syscall and then polls every 20 us for a while,
			// waking on this (pinned) core thousands of times a second,
			// about 10% of the server's CPU at pipeline 1. Passing through
			// the scheduler every few ms keeps it asleep; for this locked
			// thread that costs two thread handoffs.
			s.yieldAtMs = s.nowMs + loopYieldMs
			runtime.Gosched()
		}
		expireMore = s.store.ActiveExpire(s.nowMs)
		s.expireBlocked() // blocking.go
		s.cron()          // admin.go
		s.aofAfterBatch() // the turn's log written; under always its fsync submitted, dependent replies held
		s.flush()
		// Last: the turn's commands, log and replies may read what they
		// deleted or overwrote until here (store/collmem.go).
		s.store.ReleaseDead()
	}
	s.cfg.Logger.Printf("shutting down: %d clients", s.nclients)
	s.aofDrain() // the AOF's files are closed next (aofStop): not under the ring's fsync
	return nil
}

func listenTCP(bind string, port int) (fd, boundPort int, err error) {
	ip, err := parseIPv4(bind)
	if err != nil {
		return -1, 0, err
	}
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("socket: %w", err)
	}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err == nil {
		err = unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: ip})
	}
	if err == nil {
		err = unix.Listen(fd, listenBacklog)
	}
	if err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("listen on %s:%d: %w", bind, port, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

func parseIPv4(s string) ([4]byte, error) {
	var ip [4]byte
	if s == "localhost" {
		return [4]byte{127, 0, 0, 1}, nil
	}
	if s == "*" {
		return ip, nil
	}
	parts := 0
	val, digits := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || val > 255 || parts > 3 {
				return ip, errors.New("bind: only IPv4 addresses are supported: " + strconv.Quote(s))
			}
			ip[parts] = byte(val)
			parts++
			val, digits = 0, 0
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return ip, errors.New("bind: only IPv4 addresses are supported: " + strconv.Quote(s))
		}
		val = val*10 + int(s[i]-'0')
		digits++
	}
	if parts != 4 {
		return ip, errors.New("bind: only IPv4 addresses are supported: " + strconv.Quote(s))
	}
	return ip, nil
}

// tick reads the clock once per loop turn: at the first completion of a
// batch, so that commands never run with the time from before a long wait
// (a TTL set on an idle server would otherwise start early).
func (s *Server) tick() {
	if !s.clockFresh {
		// Never backwards: a key seen expired must stay expired if the wall
		// clock steps back.
		s.nowMs = max(s.nowMs, time.Now().UnixMilli())
		s.clockFresh = true
	}
}

func (s *Server) handle(c *ring.Completion) {
	s.tick()
	switch c.Op {
	case ring.OpAccept:
		s.accept(c)
	case ring.OpRecv:
		cl := s.client(c.FD)
		if cl == nil || cl.closing {
			return
		}
		if c.Res <= 0 {
			s.closeClient(cl)
			return
		}
		s.read(cl, c.Data)
	case ring.OpSend:
		cl := s.client(c.FD)
		if cl == nil {
			return
		}
		s.sent(cl, c.Res)
	case ring.OpClose:
		if cl := s.client(c.FD); cl != nil {
			s.clients[c.FD] = nil
			s.nclients--
		}
	case ring.OpFsync:
		s.aofSynced(c) // aof_commit.go
	case ring.OpWake:
		// Shutdown or another goroutine's request: the loop condition
		// checks; the AOF's test fault hook may have decided.
		s.aofPollFault()
	}
}

func (s *Server) client(fd int32) *client {
	if int(fd) < len(s.clients) {
		return s.clients[fd]
	}
	return nil
}

var errMaxClients = []byte("-ERR max number of clients reached\r\n")

func (s *Server) accept(c *ring.Completion) {
	if c.Res < 0 {
		s.cfg.Logger.Printf("accept: %v", unix.Errno(-c.Res))
		return
	}
	fd := int(c.FD)
	for fd >= len(s.clients) {
		s.clients = append(s.clients, nil)
	}
	if s.clients[fd] != nil {
		panic("BUG: accepted fd " + strconv.Itoa(fd) + " still has a client")
	}
	s.nextID++
	cl := newClient(s, fd, s.nextID)
	s.clients[fd] = cl
	s.nclients++
	s.stats.connections++
	if s.nclients > s.cfg.MaxClients {
		s.stats.rejected++
		cl.ctx.Out = append(cl.ctx.Out, errMaxClients...)
		cl.closeAfterReply = true
		s.queue(cl)
		return
	}
	if s.protectedRefuses(cl) { // admin.go
		cl.ctx.Out = append(cl.ctx.Out, errDenied...)
		cl.closeAfterReply = true
		s.queue(cl)
		return
	}
	s.ring.Recv(fd)
}

// read appends received bytes to the client's query buffer and runs every
// complete command in it.
func (s *Server) read(cl *client, data []byte) {
	s.stats.netIn += int64(len(data))
	cl.lastMs = s.nowMs
	if cl.closeAfterReply {
		return // after a protocol error or QUIT nothing more is read
	}
	if len(cl.qbuf)-cl.qpos+len(data) > s.cfg.QueryBufLimit {
		s.cfg.Logger.Printf("closing client id=%d that reached max query buffer length (%d bytes)", cl.id, s.cfg.QueryBufLimit)
		s.closeClient(cl)
		return
	}
	cl.qbuf = append(cl.qbuf, data...)
	s.process(cl)
}

// process runs the commands in cl's query buffer until it is empty, a
// command is incomplete, or the pending replies pass the soft limit; in that
// last case reading pauses until the replies drain (backpressure).
func (s *Server) process(cl *client) {
	s.adm.clock = s.cmdClock() // the first command's start (admin.go)
	for {
		if cl.closeAfterReply || cl.blocked != nil {
			break
		}
		if cl.outLen() >= s.cfg.ReplySoftLimit {
			if !cl.recvPaused {
				cl.recvPaused = true
				s.ring.PauseRecv(cl.fd)
			}
			break
		}
		argv, next, err := cl.parser.Next(cl.qbuf, cl.qpos)
		if err != nil {
			s.stats.protoErrors++
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				cl.ctx.Out = append(cl.ctx.Out, pe.Reply...)
			}
			cl.closeAfterReply = true
			break
		}
		if next == cl.qpos {
			// Incomplete: make room for a large bulk at once, not by doubling.
			// Pending is the bulk's whole length, part of which may be here
			// already: the room is counted from the command's start, or every
			// read of the bulk would allocate and copy it again (quadratic).
			if need := cl.parser.Pending(); need > 0 && cap(cl.qbuf)-cl.qpos < need {
				grown := make([]byte, len(cl.qbuf)-cl.qpos, len(cl.qbuf)-cl.qpos+need)
				copy(grown, cl.qbuf[cl.qpos:])
				cl.qbuf, cl.qpos = grown, 0
			}
			break
		}
		if argv != nil && s.adm.pauseEnd != 0 && s.pauseHolds(cl, argv) {
			break // CLIENT PAUSE: the command stays in the buffer (admin.go)
		}
		cl.qpos = next
		if argv != nil {
			s.execute(cl, argv)
		}
	}
	// Drop what was parsed; keep the unparsed tail at the front.
	switch {
	case cl.qpos == len(cl.qbuf):
		if cap(cl.qbuf) > queryKeepMax {
			cl.qbuf = nil
		} else {
			cl.qbuf = cl.qbuf[:0]
		}
		cl.qpos = 0
	case cl.qpos > 0:
		n := copy(cl.qbuf, cl.qbuf[cl.qpos:])
		cl.qbuf, cl.qpos = cl.qbuf[:n], 0
	}
	if len(cl.ctx.Out) > 0 {
		s.queue(cl)
	}
}

func (s *Server) execute(cl *client, argv [][]byte) {
	s.stats.commands++
	mark := len(cl.ctx.Out)
	// A client usually repeats one command (a pipeline of GETs): compare
	// with its last one before the table lookup. Commands with subcommands
	// go through Resolve every time.
	var cmd *store.Command
	unknownSub := false
	if last := cl.lastCmd; last != nil && last.Subcommands == nil && last.Is(argv[0]) {
		cmd = last
	} else {
		cmd, unknownSub = store.Resolve(argv)
	}
	ran := false
	switch {
	case cmd == nil:
		cl.ctx.Out = store.AppendCommandError(cl.ctx.Out, argv, unknownSub)
	case !cmd.CheckArity(len(argv)):
		cl.ctx.Out = resp.AppendWrongArity(cl.ctx.Out, cmd.Name)
	case !s.admit(cl, cmd): // auth (admin.go)
	default:
		cl.ctx.NowMs = s.nowMs
		cl.lastCmd = cmd
		if s.aofDenied(cmd) {
			cl.ctx.Out = s.appendDenied(cl.ctx.Out)
			break
		}
		dirty, outStart := s.store.Stats.Dirty, len(cl.ctx.Out)
		s.aofBefore(&cl.ctx, cmd, argv)
		ran = true
		t0 := s.adm.clock // set by process or the previous commandDone
		s.store.Exec(&cl.ctx, cmd, argv)
		if req := cl.ctx.Block; req != nil { // blocking.go
			cl.ctx.Block = nil
			s.blockClient(cl, cmd, argv, req)
		}
		s.commandDone(cl, cmd, argv, t0) // admin.go
		s.aofLog(cl, cmd, argv, dirty, outStart)
		cl.ctx.Prop, cl.ctx.Rewritten = cl.ctx.Prop[:0], false
		s.serveReady() // clients blocked on keys this command filled
		if cl.ctx.Close {
			cl.closeAfterReply = true
		}
	}
	end := len(cl.ctx.Out)
	s.replied(cl, cmd, mark, ran)
	if len(cl.ctx.Out) < end {
		s.aofDropSpans(cl) // CLIENT REPLY OFF or SKIP dropped the reply
	}
	s.aofClassify(cl, mark) // held if it may depend on a log not yet on disk
	if s.overOutputLimits(cl) {
		s.cfg.Logger.Printf("client id=%d closed for overcoming of output buffer limits", cl.id)
		s.closeClient(cl)
	}
}

// overOutputLimits applies client-output-buffer-limit's normal class as
// Redis's checkClientOutputBufferLimits does: past the hard limit at once;
// past the soft limit once it has stayed past it for more than its seconds
// (the clock starts when a reply first finds it past, and stops when one
// finds it below).
func (s *Server) overOutputLimits(cl *client) bool {
	n := cl.outLen()
	if hard := s.cfg.ReplyHardLimit; hard > 0 && n > hard {
		return true
	}
	soft := s.params.obuf[0]
	if soft.soft <= 0 || int64(n) <= soft.soft {
		cl.obufSoftSinceMs = 0
		return false
	}
	if cl.obufSoftSinceMs == 0 {
		cl.obufSoftSinceMs = s.nowMs
		return false
	}
	return (s.nowMs-cl.obufSoftSinceMs)/1000 > soft.softSec
}

// queue marks cl as having replies to send at the end of the batch.
func (s *Server) queue(cl *client) {
	if !cl.queued {
		cl.queued = true
		s.pending = append(s.pending, cl)
	}
}

// flush starts one send per client with pending replies: every reply the
// batch produced for a client leaves in one send, up to the first reply
// held for the AOF's fsync (aof_commit.go).
func (s *Server) flush() {
	for i, cl := range s.pending {
		s.pending[i] = nil
		cl.queued = false
		if cl.closing {
			continue
		}
		if n := cl.sendable(); !cl.sendBusy && n > 0 {
			cl.sendBusy = true
			if n == len(cl.ctx.Out) {
				cl.sending, cl.ctx.Out = cl.ctx.Out, cl.sending[:0]
			} else {
				// The held rest moves to the other buffer; the send takes
				// the front in place.
				rest := append(cl.sending[:0], cl.ctx.Out[n:]...)
				cl.sending, cl.ctx.Out = cl.ctx.Out[:n], rest
			}
			cl.outSent += n
			s.ring.Send(cl.fd, cl.sending)
			continue
		}
		if cl.closeAfterReply && !cl.sendBusy && len(cl.ctx.Out) == 0 {
			s.closeClient(cl)
		}
	}
	s.pending = s.pending[:0]
}

func (s *Server) sent(cl *client, res int32) {
	cl.sendBusy = false
	if cl.closing {
		return
	}
	if res < 0 {
		s.closeClient(cl)
		return
	}
	s.stats.netOut += int64(res)
	if cap(cl.sending) > outKeepMax {
		cl.sending = nil
	} else {
		cl.sending = cl.sending[:0]
	}
	if len(cl.ctx.Out) > 0 || cl.closeAfterReply {
		s.queue(cl)
	}
	if cl.recvPaused && cl.outLen() < s.cfg.ReplySoftLimit {
		// Drained below the soft limit: run what is buffered, then read
		// again if that did not fill the replies up once more.
		cl.recvPaused = false
		s.process(cl)
		if !cl.recvPaused && !cl.closeAfterReply {
			s.ring.Recv(cl.fd)
		}
	}
}

func (s *Server) closeClient(cl *client) {
	if cl.closing {
		return
	}
	cl.closing = true
	s.unblockClient(cl) // blocking.go
	s.clientGone(cl)
	s.ring.Close(cl.fd)
}
