package conn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ringkv/ringkv/aof"
	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// AOFConfig is the append-only file's configuration, with redis.conf's
// names. The zero value has the AOF off (in-process test servers); the
// server binary's defaults are appendonly yes, appendfsync everysec, dir ".".
type AOFConfig struct {
	Enabled  bool   // appendonly
	Dir      string // dir (default ".")
	Dirname  string // appenddirname (default "appendonlydir")
	Filename string // appendfilename (default "appendonly.aof")
	Fsync    string // appendfsync: always | everysec (default) | no
	// RefuseTruncated is aof-load-truncated no: a torn tail stops the start
	// instead of being cut off (Redis's default, yes, is the zero value).
	RefuseTruncated bool
	// RewritePercentage is auto-aof-rewrite-percentage: rewrite when the
	// files have grown by this percent since the last rewrite (0: never).
	RewritePercentage int64
	// RewriteMinSize is auto-aof-rewrite-min-size in bytes.
	RewriteMinSize int64
	// Fault is a fault-injection hook for tests (see aof.Options.Fault).
	Fault func(aof.Op) error
}

func (c *AOFConfig) fill() {
	if c.Dir == "" {
		c.Dir = "."
	}
	if c.Dirname == "" {
		c.Dirname = "appendonlydir"
	}
	if c.Filename == "" {
		c.Filename = "appendonly.aof"
	}
	if c.Fsync == "" {
		c.Fsync = "everysec"
	}
}

// Rewrite pacing: one step of the keyspace walk per loop turn serialises at
// most this much, so a rewrite never holds up a turn by more than about
// 100 us; the loop polls instead of sleeping while a walk is under way.
const (
	rewriteStepBytes = 64 << 10
	rewriteStepKeys  = 1024
	// aofRetryMs: after a failed write, retry at most this often.
	aofRetryMs = 100
	// aofRecoverRetryMs: between tries of the rewrite that follows a failed fsync.
	aofRecoverRetryMs = 1000
)

// aofState is conn's side of the AOF: what each command logs goes into the
// writer's batch, and after each loop turn the batch is written; under
// always it is fsynced on the ring while the loop goes on, and the replies
// that depend on it wait for that fsync (aof_commit.go).
type aofState struct {
	w      *aof.Writer // nil: appendonly no
	policy aof.Fsync
	lastDB int // database of the last SELECT in the current incr file; -1: none yet
	// gc is the group commit of always: commits in flight, the replies
	// they hold and the spans of those that become MISCONF errors if their
	// fsync fails (aof_commit.go).
	gc aofCommit
	// denyErr: the last write or fsync failed; write commands are refused
	// (MISCONF) until a write succeeds or, after a failed fsync
	// (mustRewrite), until a rewrite has replaced the files.
	denyErr   error
	retryAtMs int64
	// mustRewrite: an fsync of the incr file failed, so the file is no
	// longer trusted: the kernel may have dropped the pages it did not
	// write and report a later fsync of the same file as successful
	// ("fsyncgate"), and whatever is appended after them would follow a
	// hole. Writes stay refused until a rewrite, started on the retry
	// schedule and itself free of failed fsyncs, has put the keyspace in a
	// new base and the manifest names it (aofFsyncFailed, aofRewriteStep).
	mustRewrite bool
	// fsyncSeen is the writer's FsyncFailures already handled.
	fsyncSeen int64

	rw             *aof.Rewrite
	dumper         *store.Dumper
	rwStart        time.Time
	rwRestart      bool // SWAPDB ran during the walk: start again
	rwScheduled    bool
	rewrites       int64
	rwFailures     int64
	lastRewriteOK  bool
	lastRewriteSec int64
	lastWriteOK    bool
	enabledByUser  bool // CONFIG SET appendonly yes is waiting for its rewrite
	started        bool // the server runs: CONFIG SET acts at once
}

// aofSpan is the reply of a logged command, as absolute positions in its
// client's reply stream (see client.outSent).
type aofSpan struct {
	cl         *client
	start, end int
}

func (s *Server) aofDir() string { return filepath.Join(s.cfg.AOF.Dir, s.cfg.AOF.Dirname) }

func (s *Server) aofOptions(fresh bool) aof.Options {
	p, _ := aof.ParseFsync(s.cfg.AOF.Fsync)
	return aof.Options{Dir: s.aofDir(), Filename: s.cfg.AOF.Filename, Fsync: p, Fault: s.cfg.AOF.Fault,
		Logf: s.cfg.Logger.Printf, Fresh: fresh}
}

// aofStart loads the AOF and opens it for appending, before the server
// accepts connections.
func (s *Server) aofStart() error {
	a := &s.aof
	a.lastDB, a.lastRewriteOK, a.lastWriteOK = -1, true, true
	a.gc.gen = 1     // commit 0 is "none" (aofNeed)
	a.started = true // CONFIG SET appendonly acts from now on (aof_config.go)
	if !s.cfg.AOF.Enabled {
		return nil
	}
	start := time.Now()
	ctx := &store.Ctx{Loading: true, NowMs: start.UnixMilli()}
	errReplies := 0
	apply := func(argv [][]byte) error {
		cmd := store.Lookup(argv[0])
		if cmd == nil {
			return fmt.Errorf("unknown command '%s' reading the append only file", argv[0])
		}
		if cmd.Flags&store.FlagWrite == 0 && cmd.Name != "select" {
			return fmt.Errorf("command '%s' is not a write command and cannot be in an append only file", argv[0])
		}
		if !cmd.CheckArity(len(argv)) {
			return fmt.Errorf("wrong number of arguments for '%s' in the append only file", argv[0])
		}
		ctx.Out, ctx.Prop, ctx.Rewritten = ctx.Out[:0], ctx.Prop[:0], false
		s.store.Exec(ctx, cmd, argv)
		if len(ctx.Out) > 0 && ctx.Out[0] == '-' {
			// Redis ignores the replies of replayed commands; say so once.
			if errReplies++; errReplies == 1 {
				s.cfg.Logger.Printf("AOF: a replayed %s answered %q (ignored, as Redis does)", cmd.Name, strings.TrimSpace(string(ctx.Out)))
			}
		}
		s.store.ReleaseDead() // nothing reads what the command dropped: no turn to wait for
		return nil
	}
	st, err := aof.Load(aof.LoadOptions{Dir: s.aofDir(), Filename: s.cfg.AOF.Filename,
		RefuseTruncated: s.cfg.AOF.RefuseTruncated, Logf: s.cfg.Logger.Printf}, apply)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.cfg.Logger.Printf("AOF: no manifest in %s: starting empty", s.aofDir())
	case err != nil:
		return fmt.Errorf("loading the AOF: %w", err)
	default:
		s.cfg.Logger.Printf("AOF: loaded %d commands from %d files (%d bytes) in %v", st.Commands, st.Files, st.Bytes,
			time.Since(start).Round(time.Millisecond))
	}
	w, err := aof.Open(s.aofOptions(false))
	if err != nil {
		return fmt.Errorf("opening the AOF: %w", err)
	}
	a.w, a.policy, a.fsyncSeen = w, w.Policy(), 0
	s.store.OnExpired = s.aofExpired
	return nil
}

// aofStop writes and fsyncs what is buffered and closes the files, now
// (shutdown, after aofDrain, and a failed aofEnable). A file with an fsync
// still in flight is left open rather than closed under the ring.
func (s *Server) aofStop() {
	a := &s.aof
	if a.rw != nil {
		a.rw.Abort()
		a.rw, a.dumper = nil, nil
	}
	if a.gc.retired != nil && !a.gc.inflight {
		s.aofCloseRetired()
	}
	if a.w != nil {
		if a.gc.inflight && a.gc.flightW == a.w {
			s.cfg.Logger.Printf("AOF: closing: an fsync is still in flight; the file is left open")
		} else if err := a.w.Close(); err != nil {
			s.cfg.Logger.Printf("AOF: closing: %v", err)
		}
		a.w = nil
	}
	s.store.OnExpired = nil
}

// aofExpired logs a key that active expiry removed outside any command.
func (s *Server) aofExpired(db int, key []byte) {
	a := &s.aof
	if a.w == nil {
		return
	}
	s.aofSelect(db)
	a.w.AppendCommand(delWord, key)
}

var (
	delWord    = []byte("DEL")
	selectWord = []byte("SELECT")
)

func (s *Server) aofSelect(db int) {
	a := &s.aof
	if db != a.lastDB {
		var n [20]byte
		a.w.AppendCommand(selectWord, appendInt(n[:0], db))
		a.lastDB = db
	}
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// aofDenied says a command must be refused because the AOF cannot be
// written: Redis refuses write commands and PING then.
func (s *Server) aofDenied(cmd *store.Command) bool {
	return s.aof.denyErr != nil && (cmd.Flags&store.FlagWrite != 0 || cmd.Name == "ping")
}

func (s *Server) appendDenied(out []byte) []byte {
	return resp.AppendMisconfAOF(out, strerror(s.aof.denyErr))
}

// strerror is C's text for the error's errno ("No space left on device").
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		if t != "" {
			return strings.ToUpper(t[:1]) + t[1:]
		}
	}
	return err.Error()
}

// aofBefore runs before a write command executes during a rewrite's walk:
// keys it names are dumped first (see store.Dumper).
func (s *Server) aofBefore(c *store.Ctx, cmd *store.Command, argv [][]byte) {
	a := &s.aof
	if a.dumper == nil || cmd.Flags&store.FlagWrite == 0 {
		return
	}
	switch cmd.Name {
	case "swapdb":
		a.rwRestart = true
	case "move", "copy":
		a.rw.Put(a.dumper.TouchAll(a.rw.Buf(), argv, s.nowMs))
	default:
		a.rw.Put(a.dumper.Touch(a.rw.Buf(), c.DB, argv, s.nowMs))
	}
}

// aofLog is called after every command that ran: it adds what the command
// logs (Ctx.Prop, then argv if it changed the keyspace and did not rewrite
// itself) to the batch, with a SELECT first when the database differs from
// the last one logged. outStart is where the command's reply starts in
// c.Out. Any other path that executes commands (blocked clients served
// later, MULTI/EXEC) must call it the same way.
func (s *Server) aofLog(cl *client, cmd *store.Command, argv [][]byte, dirtyBefore int64, outStart int) {
	a := &s.aof
	c := &cl.ctx
	// A rewrite's walk marks the keys a write touched, even with
	// appendonly no (BGREWRITEAOF then, aof_rewrite_off.go).
	if a.dumper != nil && cmd.Flags&store.FlagWrite != 0 {
		switch cmd.Name {
		case "move", "copy":
			a.dumper.MarkAll(argv)
		default:
			a.dumper.Mark(c.DB, argv)
		}
	}
	if a.w == nil {
		return
	}
	changed := s.store.Stats.Dirty != dirtyBefore
	if len(c.Prop) == 0 && !changed {
		return
	}
	s.aofSelect(c.DB)
	a.w.Append(c.Prop)
	if changed && !c.Rewritten {
		a.w.AppendCommand(argv...)
	}
	if a.policy == aof.FsyncAlways {
		g := &a.gc
		g.spans = append(g.spans, aofSpan{cl: cl, start: cl.outSent + outStart, end: cl.outSent + len(c.Out)})
		s.aofHold(cl, outStart, g.gen)
	}
}

// aofAfterBatch is step 4 of the data path: after every command of the
// loop turn ran and before the turn's replies are sent, write the turn's
// batch with one write. Under always its fdatasync goes to the ring, the
// replies that depend on it held until it completes (group commit,
// aof_commit.go). Then a rewrite takes its bounded step.
func (s *Server) aofAfterBatch() {
	a := &s.aof
	g := &a.gc
	s.aofPollFault()
	s.aofHoldStragglers()
	if g.retired != nil && !g.inflight {
		s.aofCloseRetired()
	}
	if a.w == nil {
		s.aofOffRewriteStep() // BGREWRITEAOF with appendonly no (aof_rewrite_off.go)
		return
	}
	s.aofFsyncCheck() // the everysec goroutine's, above all
	s.aofRecover()
	if a.policy == aof.FsyncAlways || g.openHeld || g.inflight {
		// The rewrite's step first: it may start or commit only in a turn
		// with no fsync in flight, and commits the open batch itself then.
		s.aofRewriteStep()
		if !g.inflight && (a.w.Pending() > 0 || a.w.WriteErr() != nil || g.openHeld) &&
			(a.denyErr == nil || s.nowMs >= a.retryAtMs) {
			s.aofSubmit()
		}
		return
	}
	if a.w.Pending() > 0 || a.denyErr != nil {
		if a.denyErr == nil || s.nowMs >= a.retryAtMs {
			s.aofFlush()
		}
	}
	s.aofFsyncCheck()
	s.aofRewriteStep()
}

// aofFlush writes the batch under everysec and no (always commits through
// aofSubmit). A failed background fsync (everysec) is not its business:
// aofFsyncCheck sees it, and a later successful write does not end it.
func (s *Server) aofFlush() {
	a := &s.aof
	err := a.w.Flush()
	if err != nil {
		if a.denyErr == nil {
			s.cfg.Logger.Printf("AOF: writing failed (%v): refusing write commands (MISCONF) until a write succeeds", err)
		}
		a.denyErr, a.lastWriteOK = err, false
		a.retryAtMs = s.nowMs + aofRetryMs
		return
	}
	if a.denyErr != nil && !a.mustRewrite {
		s.cfg.Logger.Printf("AOF: write error looks solved, accepting writes again")
		a.denyErr, a.lastWriteOK = nil, true
	}
}

// aofFsyncCheck notices the fsyncs of the open AOF that failed since the
// last look, on whatever path (the ring's commit, the everysec goroutine,
// a sync on the owner, a rewrite's switch of files), and reports whether
// there were any.
func (s *Server) aofFsyncCheck() bool {
	a := &s.aof
	if a.w == nil {
		return false
	}
	n := a.w.FsyncFailures()
	if n == a.fsyncSeen {
		return false
	}
	a.fsyncSeen = n
	s.aofFsyncFailed(a.w.FsyncErr())
	return true
}

// aofFsyncFailed: an fsync of the incr file failed. The file is not trusted
// any more (see mustRewrite): writes are refused until a rewrite replaces
// it, and a rewrite under way is stopped, since its incr file is the one
// that failed (or its start preceded the failure).
func (s *Server) aofFsyncFailed(err error) {
	a := &s.aof
	if !a.mustRewrite {
		s.cfg.Logger.Printf("AOF: fsync failed (%v): the AOF is rewritten before writes are accepted again (refusing write commands with MISCONF until then)", err)
	}
	if a.rw != nil {
		s.cfg.Logger.Printf("AOF rewrite: stopped: an fsync failed during it")
		a.rw.Abort()
		a.rw, a.dumper, a.rwRestart = nil, nil, false
		a.rwFailures++
		a.lastRewriteOK = false
	}
	a.mustRewrite = true
	a.denyErr, a.lastWriteOK = err, false
	a.retryAtMs = s.nowMs + aofRetryMs
}

// aofRecover schedules the rewrite that ends a failed fsync's refusal, on
// the retry schedule (aofRetryMs), when none is under way.
func (s *Server) aofRecover() {
	a := &s.aof
	if !a.mustRewrite || a.rw != nil || a.rwScheduled || s.nowMs < a.retryAtMs {
		return
	}
	a.rwScheduled = true
	// A full keyspace walk per try: on a disk that stays broken, try once
	// a second, not every aofRetryMs.
	a.retryAtMs = s.nowMs + aofRecoverRetryMs
}

// errFsyncInRewrite stops a rewrite during which an fsync failed.
var errFsyncInRewrite = errors.New("an fsync of the AOF failed during the rewrite")

// aofBusy says the loop should poll rather than sleep: a rewrite's walk
// has work to do.
func (s *Server) aofBusy() bool {
	a := &s.aof
	return a.dumper != nil || a.rwScheduled || a.rwRestart
}

// aofStartRewrite begins a rewrite (BGREWRITEAOF, the automatic one, or
// CONFIG SET appendonly yes). No fsync may be in flight: the open batch is
// committed here, before the writer switches to a new incr file.
func (s *Server) aofStartRewrite() error {
	a := &s.aof
	err := s.aofCommitSync()
	var rw *aof.Rewrite
	if err == nil {
		rw, err = a.w.StartRewrite(func() {
			if r := s.ring; r != nil {
				r.Wake()
			}
		})
	}
	if err != nil {
		a.rwFailures++
		a.lastRewriteOK = false
		s.cfg.Logger.Printf("AOF rewrite: could not start: %v", err)
		s.aofFsyncCheck()
		return err
	}
	a.rw, a.dumper, a.rwStart = rw, s.store.NewDumper(), time.Now()
	a.lastDB = -1 // the new incr file starts without a SELECT
	s.cfg.Logger.Printf("AOF rewrite started (without fork: the keyspace is written in bounded steps)")
	// An fsync that failed before the switch of files, unnoticed so far,
	// stops it at once: it cannot end that failure.
	if s.aofFsyncCheck() {
		return errFsyncInRewrite
	}
	return nil
}

// aofRewriteWalk takes one bounded step of a rewrite's keyspace walk and
// reports whether the walk is still under way (the base is not all
// handed to the rewrite's writer yet).
func (s *Server) aofRewriteWalk() bool {
	a := &s.aof
	if a.dumper == nil {
		return false
	}
	if !a.rw.Room() {
		return true // the base writer is behind: let it catch up
	}
	a.rw.Put(a.dumper.Step(a.rw.Buf(), s.nowMs, rewriteStepBytes, rewriteStepKeys))
	if a.dumper.Done() && a.rw.Room() {
		a.rw.Finish()
		a.dumper = nil
	}
	return true
}

func (s *Server) aofRewriteStep() {
	a := &s.aof
	if a.rwRestart && a.rw != nil {
		s.cfg.Logger.Printf("AOF rewrite: SWAPDB ran during the keyspace walk: starting the rewrite again")
		a.rw.Abort()
		a.rw, a.dumper, a.rwRestart = nil, nil, false
		a.rwScheduled = true
	}
	a.rwRestart = false
	if a.rw == nil {
		// Not while an fsync is in flight: the start switches files.
		if (a.rwScheduled || s.aofAutoRewriteDue()) && !a.gc.inflight {
			a.rwScheduled = false
			s.aofStartRewrite()
		}
		return
	}
	if s.aofRewriteWalk() {
		return
	}
	if !a.rw.Done() || a.gc.inflight {
		return
	}
	// The base is on disk. The incr file since the start must be too
	// before the manifest names the base as complete.
	rw := a.rw
	a.rw = nil
	err := rw.Err()
	if err == nil {
		err = s.aofCommitSync()
	}
	if err == nil && a.mustRewrite {
		// Ending a failed fsync's refusal: the new incr file is made
		// durable whatever the policy.
		err = a.w.Sync()
	}
	if s.aofFsyncCheck() && err == nil {
		err = errFsyncInRewrite // this rewrite cannot end it
	}
	if err == nil {
		err = a.w.CommitRewrite(rw)
	}
	a.lastRewriteSec = int64(time.Since(a.rwStart).Seconds())
	if err != nil {
		rw.Abort()
		a.rwFailures++
		a.lastRewriteOK = false
		if a.mustRewrite {
			a.retryAtMs = s.nowMs + aofRetryMs
		}
		s.cfg.Logger.Printf("AOF rewrite failed: %v", err)
		return
	}
	a.rewrites++
	a.rwFailures = 0
	a.lastRewriteOK = true
	a.enabledByUser = false
	s.cfg.Logger.Printf("AOF rewrite done: base of %d bytes in %v", rw.Bytes(), time.Since(a.rwStart).Round(time.Millisecond))
	if a.mustRewrite {
		// Nothing in the manifest follows the failed fsync's file now.
		a.mustRewrite = false
		if a.w.WriteErr() == nil {
			s.cfg.Logger.Printf("AOF: rewritten after the failed fsync: accepting writes again")
			a.denyErr, a.lastWriteOK = nil, true
		}
	}
}

// aofAutoRewriteDue is Redis's rule: the files grew past
// auto-aof-rewrite-min-size and by auto-aof-rewrite-percentage since the
// last rewrite (or the start).
func (s *Server) aofAutoRewriteDue() bool {
	a := &s.aof
	pct := s.cfg.AOF.RewritePercentage
	if pct <= 0 || a.denyErr != nil || a.rwFailures > 0 && s.nowMs < a.retryAtMs {
		return false
	}
	size, base := a.w.Size(), a.w.BaseSize()
	if size < s.cfg.AOF.RewriteMinSize {
		return false
	}
	if base < 1 {
		base = 1
	}
	return (size-base)*100/base >= int64(pct)
}

// aofEnable is CONFIG SET appendonly yes: open the directory for a fresh
// incr file and rewrite the keyspace into it; the manifest names the new
// files once the rewrite commits.
func (s *Server) aofEnable() error {
	a := &s.aof
	if a.w != nil {
		return nil
	}
	if a.rw != nil {
		// A BGREWRITEAOF of appendonly no is walking: it cannot become
		// the open AOF's rewrite (no incr file holds the writes since its
		// start), so it stops, as Redis kills its child here.
		s.cfg.Logger.Printf("AOF rewrite (appendonly no) stopped: appendonly yes starts its own")
		a.rw.Abort()
		a.rw, a.dumper, a.rwRestart = nil, nil, false
	}
	if err := s.aofReadyToOpen(); err != nil {
		return err
	}
	s.cfg.AOF.fill()
	w, err := aof.Open(s.aofOptions(true))
	if err != nil {
		return err
	}
	a.w, a.policy, a.lastDB, a.enabledByUser = w, w.Policy(), -1, true
	a.fsyncSeen, a.mustRewrite = 0, false
	s.store.OnExpired = s.aofExpired
	s.cfg.AOF.Enabled = true
	if err := s.aofStartRewrite(); err != nil {
		s.aofStop()
		s.cfg.AOF.Enabled = false
		return err
	}
	return nil
}

// aofDisable is CONFIG SET appendonly no. The writer is retired rather
// than closed here: an fsync of its file may be in flight (aof_commit.go).
func (s *Server) aofDisable() {
	a := &s.aof
	if a.rw != nil {
		a.rw.Abort()
		a.rw, a.dumper = nil, nil
	}
	s.store.OnExpired = nil
	s.aofRetire()
	a.denyErr, a.mustRewrite, a.lastWriteOK = nil, false, true
	s.cfg.AOF.Enabled = false
}

var aofCommands = []*store.Command{
	{Name: "bgrewriteaof", Arity: 1, Flags: store.FlagAdmin | store.FlagNoscript | store.FlagNoAsyncLoading, ACL: "@admin @slow @dangerous",
		Group: "server", Since: "1.0.0", Summary: "Asynchronously rewrite the append-only file", Cplx: "O(1)", Handler: bgrewriteaofCmd},
}

func init() { store.Register(aofCommands...) }

func bgrewriteaofCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	a := &s.aof
	switch {
	case a.rw != nil:
		c.Out = append(c.Out, resp.ErrRewriteBusy...)
	case a.w == nil:
		// appendonly no: a one-off base, as Redis writes (aof_rewrite_off.go).
		if s.aofStartOffRewrite() != nil {
			c.Out = append(c.Out, resp.ErrRewriteFailed...)
			return
		}
		c.Out = append(c.Out, resp.RewriteStarted...)
	default:
		a.rwScheduled = true
		c.Out = append(c.Out, resp.RewriteStarted...)
	}
}

// aofInfo is INFO persistence's AOF fields, as Redis 7.0 names them.
func (s *Server) aofInfo() []string {
	a := &s.aof
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	ok := func(v bool) string {
		if v {
			return "ok"
		}
		return "err"
	}
	cur := "-1"
	if a.rw != nil {
		cur = fmt.Sprint(int64(time.Since(a.rwStart).Seconds()))
	}
	last := "-1"
	if a.rewrites > 0 || a.rwFailures > 0 {
		last = fmt.Sprint(a.lastRewriteSec)
	}
	f := []string{
		"aof_enabled", b(a.w != nil),
		"aof_rewrite_in_progress", b(a.rw != nil),
		"aof_rewrite_scheduled", b(a.rwScheduled),
		"aof_last_rewrite_time_sec", last,
		"aof_current_rewrite_time_sec", cur,
		"aof_last_bgrewrite_status", ok(a.lastRewriteOK),
		"aof_rewrites", fmt.Sprint(a.rewrites),
		"aof_rewrites_consecutive_failures", fmt.Sprint(a.rwFailures),
		"aof_last_write_status", ok(a.denyErr == nil),
		"aof_last_cow_size", "0",
	}
	if a.w != nil {
		f = append(f,
			"aof_current_size", fmt.Sprint(a.w.Size()),
			"aof_base_size", fmt.Sprint(a.w.BaseSize()),
			"aof_pending_rewrite", b(a.rwScheduled),
			"aof_buffer_length", fmt.Sprint(a.w.Pending()),
			"aof_pending_bio_fsync", "0",
			"aof_delayed_fsync", "0",
		)
	}
	return f
}
