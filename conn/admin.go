package conn

import (
	"math/bits"
	"time"

	"github.com/ringkv/ringkv/store"
)

// The event loop's hooks for the administrative features (auth, CLIENT
// REPLY/PAUSE, MONITOR, slowlog, latency and command statistics, the idle
// timeout). server.go calls them at a few fixed points; their logic and state
// live here so that the request path in server.go stays short.
//
// Cost on the request path: one call to admit (a few field tests), and, while
// timing is on (slowlog-log-slower-than >= 0, latency-monitor-threshold > 0
// or latency-tracking yes, Redis's defaults), two reads of the monotonic clock
// (time.Since on a monotonic base reads only CLOCK_MONOTONIC through the
// vDSO). Nothing allocates unless a MONITOR is attached or a slowlog entry is
// written.

// clientAdmin is a client's administrative state.
type clientAdmin struct {
	authed bool
	// CLIENT REPLY: off suppresses every reply; skip suppresses this
	// command's; skipNext becomes skip after the current command.
	replyOff, replySkip, replySkipNext bool
	noEvict, noTouch                   bool
	monitor                            bool
	// pauseWait: a command of this client is held by CLIENT PAUSE; it is
	// still in the query buffer.
	pauseWait bool
	// killed: CLIENT KILL closed it after the current command's reply.
	lastCmdMs int64
}

// cmdStat is one command's INFO commandstats line and LATENCY HISTOGRAM.
type cmdStat struct {
	calls, usec, rejected, failed int64
	// hist counts calls by the bit length of their duration in
	// microseconds: hist[i] holds durations in [2^(i-1), 2^i).
	hist [40]int64
}

// serverAdmin is the server's administrative state.
type serverAdmin struct {
	monoBase time.Time // monotonic clock origin for command timing
	// clock is the last command-timing reading: taken when process starts
	// on a client's input and after each command, it is the next command's
	// start time. One clock read per command instead of two: on the VMs
	// here a read costs ~70 ns, a third of GET's own work at pipeline 16.
	// A command's time then includes its own parsing (tens of ns).
	clock     time.Duration
	timing    bool      // time each command (see the comment at the top)
	cmdStats  []cmdStat // by store.Command.ID
	errStats  map[string]int64
	errTotal  int64
	monitors  []*client
	pauseEnd  int64 // unix ms; 0: not paused
	pauseAll  bool  // CLIENT PAUSE ALL (else WRITE)
	pausedCls []*client
	slowlog   slowlog
	latency   latencyMonitor
	lastSave  int64 // unix seconds of the last save (the start, for now)
	nextCron  int64
	// ops per second, sampled by cron as Redis's instantaneous_* fields
	opsSamples       [16]int64
	inSamples        [16]int64
	outSamples       [16]int64
	sampleIdx        int
	lastSampleMs     int64
	lastSampleOps    int64
	lastSampleIn     int64
	lastSampleOut    int64
	shutdownAsked    bool
	changesSinceSave int64
}

func (s *Server) initAdmin() {
	s.adm.monoBase = time.Now()
	s.adm.cmdStats = make([]cmdStat, store.NumIDs())
	s.adm.errStats = map[string]int64{}
	s.adm.lastSave = s.adm.monoBase.Unix()
	s.params.init(s)
	s.updateTiming()
}

// updateTiming recomputes whether commands are timed, after a CONFIG SET of
// one of the parameters that need it.
func (s *Server) updateTiming() {
	s.adm.timing = s.params.slowlogSlowerThan >= 0 || s.params.latencyThresholdMs > 0 || s.params.latencyTracking
}

// admit decides whether cl may run cmd now. When it may not, the refusal
// (NOAUTH) is already appended. Protected mode refuses at accept time.
func (s *Server) admit(cl *client, cmd *store.Command) bool {
	if !cl.adm.authed && s.params.requirePass != "" && cmd.Flags&store.FlagNoAuth == 0 {
		if cmd.Name == "hello" {
			// HELLO without AUTH answers its own NOAUTH text (helloCmd).
			return true
		}
		cl.ctx.Out = append(cl.ctx.Out, errNoAuth...)
		return false
	}
	return true
}

var errNoAuth = []byte("-NOAUTH Authentication required.\r\n")

// now returns the monotonic clock in nanoseconds since monoBase, or 0 when
// commands are not timed.
func (s *Server) cmdClock() time.Duration {
	if !s.adm.timing {
		return 0
	}
	return time.Since(s.adm.monoBase)
}

// commandDone is called after cmd ran for cl: statistics, slowlog, latency,
// MONITOR. t0 is cmdClock's reading before it ran.
func (s *Server) commandDone(cl *client, cmd *store.Command, argv [][]byte, t0 time.Duration) {
	st := &s.adm.cmdStats[cmd.ID]
	st.calls++
	if s.adm.timing {
		t1 := time.Since(s.adm.monoBase)
		s.adm.clock = t1
		us := int64((t1 - t0) / time.Microsecond)
		st.usec += us
		if s.params.latencyTracking {
			st.hist[bits.Len64(uint64(us))]++
		}
		if s.params.slowlogSlowerThan >= 0 && us >= s.params.slowlogSlowerThan && cmd.Flags&store.FlagSkipSlowlog == 0 {
			s.slowlogAdd(cl, argv, us)
		}
		if ms := us / 1000; s.params.latencyThresholdMs > 0 && ms >= s.params.latencyThresholdMs {
			ev := "command"
			if cmd.Flags&store.FlagFast != 0 {
				ev = "fast-command"
			}
			s.adm.latency.add(ev, s.nowMs/1000, ms)
		}
	}
	if len(s.adm.monitors) > 0 && cmd.Flags&(store.FlagSkipMonitor|store.FlagAdmin) == 0 {
		s.feedMonitors(cl, cmd, argv)
	}
}

// replied runs after every command, accepted or refused: it counts error
// replies (INFO errorstats) and applies CLIENT REPLY OFF/SKIP. mark is the
// length of the reply buffer before the command.
func (s *Server) replied(cl *client, cmd *store.Command, mark int, ran bool) {
	out := cl.ctx.Out
	if mark < len(out) && out[mark] == '-' {
		s.countError(out[mark+1:])
		if cmd != nil {
			if ran {
				s.adm.cmdStats[cmd.ID].failed++
			} else {
				s.adm.cmdStats[cmd.ID].rejected++
			}
		}
	}
	if cl.adm.replyOff || cl.adm.replySkip {
		cl.ctx.Out = out[:mark]
	}
	cl.adm.replySkip, cl.adm.replySkipNext = cl.adm.replySkipNext, false
}

// errStatsMax bounds the distinct error codes counted, as Redis's 128.
const errStatsMax = 128

// countError counts an error reply by its code: the first word when it is
// upper case (WRONGTYPE, NOAUTH ...), as Redis's afterErrorReply does.
func (s *Server) countError(line []byte) {
	s.adm.errTotal++
	n := 0
	for n < len(line) && line[n] != ' ' && line[n] != '\r' {
		n++
	}
	code := line[:n]
	if _, ok := s.adm.errStats[string(code)]; !ok && len(s.adm.errStats) >= errStatsMax {
		return
	}
	s.adm.errStats[string(code)]++
}

// pauseHolds reports whether CLIENT PAUSE holds cl's next command (argv):
// the command stays in the query buffer and runs when the pause ends.
func (s *Server) pauseHolds(cl *client, argv [][]byte) bool {
	if s.adm.pauseEnd == 0 || cl.adm.monitor {
		return false
	}
	if s.nowMs >= s.adm.pauseEnd {
		s.unpause()
		return false
	}
	if !s.adm.pauseAll {
		cmd, _ := store.Resolve(argv)
		// WRITE pauses commands that may change the keyspace.
		if cmd == nil || cmd.Flags&(store.FlagWrite|store.FlagMayReplicate) == 0 {
			return false
		}
	}
	if !cl.adm.pauseWait {
		cl.adm.pauseWait = true
		s.adm.pausedCls = append(s.adm.pausedCls, cl)
	}
	return true
}

// unpause ends CLIENT PAUSE and runs what it held.
func (s *Server) unpause() {
	s.adm.pauseEnd = 0
	held := s.adm.pausedCls
	s.adm.pausedCls = nil
	for _, cl := range held {
		cl.adm.pauseWait = false
		if !cl.closing {
			s.process(cl)
		}
	}
}

// cronIntervalMs is how often cron's periodic work runs.
const cronIntervalMs = 100

// cron is the periodic work of the loop (Redis's serverCron): the end of a
// CLIENT PAUSE, the idle timeout, the instantaneous rates.
func (s *Server) cron() {
	if s.nowMs < s.adm.nextCron {
		return
	}
	s.adm.nextCron = s.nowMs + cronIntervalMs
	if s.adm.pauseEnd != 0 && s.nowMs >= s.adm.pauseEnd {
		s.unpause()
	}
	s.sampleRates()
	s.store.ReleaseIdle()
	if t := s.params.timeoutSec; t > 0 {
		for _, cl := range s.clients {
			if cl != nil && !cl.closing && !cl.adm.monitor && !cl.adm.pauseWait && (s.nowMs-cl.lastMs)/1000 > t {
				s.cfg.Logger.Printf("closing idle client id=%d", cl.id)
				s.closeClient(cl)
			}
		}
	}
}

func (s *Server) sampleRates() {
	a := &s.adm
	if a.lastSampleMs == 0 {
		a.lastSampleMs, a.lastSampleOps, a.lastSampleIn, a.lastSampleOut = s.nowMs, s.stats.commands, s.stats.netIn, s.stats.netOut
		return
	}
	dt := s.nowMs - a.lastSampleMs
	if dt <= 0 {
		return
	}
	a.opsSamples[a.sampleIdx] = (s.stats.commands - a.lastSampleOps) * 1000 / dt
	a.inSamples[a.sampleIdx] = (s.stats.netIn - a.lastSampleIn) * 1000 / dt
	a.outSamples[a.sampleIdx] = (s.stats.netOut - a.lastSampleOut) * 1000 / dt
	a.sampleIdx = (a.sampleIdx + 1) % len(a.opsSamples)
	a.lastSampleMs, a.lastSampleOps, a.lastSampleIn, a.lastSampleOut = s.nowMs, s.stats.commands, s.stats.netIn, s.stats.netOut
}

func mean(v []int64) int64 {
	var sum int64
	for _, x := range v {
		sum += x
	}
	return sum / int64(len(v))
}

// clientGone removes a closing client from the admin lists.
func (s *Server) clientGone(cl *client) {
	if cl.adm.monitor {
		for i, m := range s.adm.monitors {
			if m == cl {
				s.adm.monitors = append(s.adm.monitors[:i], s.adm.monitors[i+1:]...)
				break
			}
		}
	}
	if cl.adm.pauseWait {
		for i, m := range s.adm.pausedCls {
			if m == cl {
				s.adm.pausedCls = append(s.adm.pausedCls[:i], s.adm.pausedCls[i+1:]...)
				break
			}
		}
	}
}

// protectedRefuses reports whether protected mode refuses a new connection
// from addr: protected-mode yes, no password, a peer not on loopback.
// It also starts the client's authentication state: authenticated when the
// default user has no password, as Redis's createClient.
func (s *Server) protectedRefuses(cl *client) bool {
	cl.adm.authed = s.params.requirePass == ""
	if !s.params.protectedMode || s.params.requirePass != "" {
		return false
	}
	return !isLoopback(cl.addr)
}

func isLoopback(addr string) bool {
	return len(addr) >= 4 && addr[:4] == "127."
}

var errDenied = []byte("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n")
