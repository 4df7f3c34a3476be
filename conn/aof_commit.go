package conn

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/ringkv/ringkv/aof"
	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/ring"
)

// The group commit of appendfsync always, without stopping the loop.
//
// The commands of a loop turn append their log to the writer's batch: the
// open commit. After the turn (aofAfterBatch) the batch is written with one
// write(2) on the owner and its fdatasync(2) is handed to the ring
// (IORING_OP_FSYNC on io_uring; on epoll it runs at the start of the next
// Wait). The loop goes on receiving, executing and sending while the disk
// works. At most one fsync is in flight: what runs meanwhile goes into the
// next batch, written and submitted at the end of the turn in which the
// fsync completes, so one fsync covers everything that piled up (the group
// commit). Commits are numbered (gen) and complete in order.
//
// Which replies wait. A reply may depend on a log record that is not on
// disk yet: a write's own reply, but also a GET of a key another client
// just SET, or a MONITOR line. Telling which keys a reply read would mean
// tracking a commit per key; the rule here is blunter and plainly correct:
// a reply produced while any logged byte is not yet durable waits for the
// commit that covers the latest such byte (aofNeed), whoever logged it and
// whatever the command was. Redis behaves the same way: it fsyncs before any
// reply of the turn leaves. A reply produced when everything logged is
// durable (a GET on an idle server, a reply that was produced before the
// write) leaves at once. A client's replies are one byte stream, so a reply
// that needs nothing still leaves after that client's held ones. Replies
// are classified per command (execute calls aofClassify) and, for whatever
// else appends to a client's replies (a served blocked client, a timeout,
// MONITOR), at the end of the turn with the commit then open, which is
// never earlier than the one they needed (aofHoldStragglers).
//
// Positions: holds and spans are absolute offsets in a client's reply
// stream (client.outSent + offset in ctx.Out), so a send that takes the
// front of ctx.Out moves none of them. Only a failed commit changes lengths
// (its replies become MISCONF errors), and aofFailSpans shifts what follows.
//
// Outcome. On success the commit's holds are released and the clients
// queued for the turn's flush. On failure the replies of the commands it
// covered (its spans) become MISCONF errors first: nothing is acknowledged
// that is not on disk. The other replies it held are released as they are
// (a read is not an acknowledgement), and write commands are refused. A
// commit failed while its batch was still unwritten (the write(2) failed,
// ENOSPC say) keeps its bytes in the batch for the next one, and writes are
// accepted again once a commit succeeds, retried every aofRetryMs, as
// aofFlush does for the other policies. A failed fdatasync is not retried
// that way: the kernel may have dropped the pages it could not write and
// report the next fdatasync of the file as successful, so the incr file is
// no longer trusted (mustRewrite). Writes stay refused until a rewrite,
// started every aofRetryMs until one succeeds, has written the keyspace as
// a new base and the manifest names it with a fresh incr file
// (aofFsyncFailed, aofRecover, aofRewriteStep); the same holds for a failed
// fsync under the other policies (aofFsyncCheck).
//
// Files. The fd given to the ring stays open until its OpFsync, and no other
// fsync of that file runs meanwhile (two concurrent fsyncs of one open file
// may not both see an I/O error: the one that does not would acknowledge
// lost data). So whatever would switch, close or sync the file waits for
// the completion: a rewrite starts and commits only in a turn with no fsync
// in flight, and then writes and fsyncs the open commit itself on the owner
// (aofCommitSync), as its manifest updates do; appendonly no retires the
// writer, which is closed (and its last batch committed) at the end of the
// first turn with no fsync in flight; shutdown waits (aofDrain).
//
// Policy changes. A commit that has replies waiting is fsynced whatever
// appendfsync says by then (openHeld): a command run under always is
// acknowledged only from disk. Under everysec and no nothing new is held.

// replyHold says that a client's replies from pos on wait for commit gen.
type replyHold struct {
	pos int
	gen uint64
}

// aofCommit is the group commit's state, in aofState.
type aofCommit struct {
	gen       uint64    // the open commit: the writer's batch belongs to it
	closedGen uint64    // the last commit closed (written or retired)
	doneGen   uint64    // the last commit completed
	spans     []aofSpan // replies of the open commit's commands
	openHeld  bool      // a reply waits for the open commit

	inflight  bool        // flightGen's fdatasync is in flight (on the ring, or in the test fault hook)
	flightGen uint64      // the commit in flight
	flightW   *aof.Writer // whose file it syncs
	flight    []aofSpan

	held []*client // clients with holds

	// retired is the writer appendonly no took away; it is closed at the
	// end of the first turn without an fsync in flight. retiredGen is the
	// commit of its last batch (0: nothing waits for it).
	retired      *aof.Writer
	retiredGen   uint64
	retiredSpans []aofSpan

	// faulting: the test fault hook (AOFConfig.Fault) runs on a goroutine
	// and decides the fsync in flight before it is submitted, so that a
	// test can delay or fail it without blocking the owner.
	faulting  bool
	faultDone chan error
}

// aofNeed is the commit a reply produced now must wait for; 0: none.
func (s *Server) aofNeed() uint64 {
	a := &s.aof
	g := &a.gc
	if a.policy != aof.FsyncAlways {
		return 0
	}
	if a.w != nil && a.w.Pending() > 0 {
		return g.gen
	}
	if g.closedGen > g.doneGen {
		return g.closedGen
	}
	return 0
}

// aofHold makes cl's replies from offset off of ctx.Out on wait for commit
// gen (or a later one they already wait for).
func (s *Server) aofHold(cl *client, off int, gen uint64) {
	if gen == 0 || cl.closing {
		return
	}
	g := &s.aof.gc
	pos := cl.outSent + min(max(off, 0), len(cl.ctx.Out))
	h := cl.holds
	// The holds are a step function: position -> commit, non-decreasing.
	i := len(h)
	for i > 0 && h[i-1].pos >= pos {
		i--
	}
	if i > 0 && h[i-1].gen >= gen {
		return // pos on already waits for gen or later
	}
	j := i
	for j < len(h) && h[j].gen <= gen {
		j++ // at or after pos, waiting for no later commit: subsumed
	}
	if i == j {
		h = slices.Insert(h, i, replyHold{pos, gen})
	} else {
		h[i] = replyHold{pos, gen}
		h = slices.Delete(h, i+1, j)
	}
	cl.holds = h
	if gen == g.gen {
		g.openHeld = true
	}
	if !cl.inHeld {
		cl.inHeld = true
		g.held = append(g.held, cl)
	}
}

// sendable is how much of ctx.Out may be sent now: up to the first hold.
func (cl *client) sendable() int {
	if len(cl.holds) == 0 {
		return len(cl.ctx.Out)
	}
	return min(max(cl.holds[0].pos-cl.outSent, 0), len(cl.ctx.Out))
}

// aofClassify is called after each command execute runs: its reply, from
// offset off of ctx.Out, waits for what aofNeed says, and everything so far
// is classified.
func (s *Server) aofClassify(cl *client, off int) {
	if gen := s.aofNeed(); gen != 0 {
		s.aofHold(cl, off, gen)
	}
	cl.markedTo = cl.outSent + len(cl.ctx.Out)
}

// aofHoldStragglers classifies, at the end of the turn and before the open
// commit closes, what was appended to clients' replies outside execute:
// it waits for what aofNeed says now, which is at least what it needed
// when it was produced.
func (s *Server) aofHoldStragglers() {
	gen := s.aofNeed()
	for _, cl := range s.pending {
		end := cl.outSent + len(cl.ctx.Out)
		if gen != 0 && cl.markedTo < end {
			s.aofHold(cl, cl.markedTo-cl.outSent, gen)
		}
		cl.markedTo = end
	}
}

// aofDropSpans forgets cl's spans past the end of its replies: CLIENT
// REPLY OFF or SKIP dropped the reply, and a failed commit must not put an
// error where the client asked for nothing (nor over a later reply).
func (s *Server) aofDropSpans(cl *client) {
	end := cl.outSent + len(cl.ctx.Out)
	g := &s.aof.gc
	g.spans = slices.DeleteFunc(g.spans, func(sp aofSpan) bool { return sp.cl == cl && sp.end > end })
}

// closeOpen closes the open commit (no byte joins it any more) and returns
// its number.
func (g *aofCommit) closeOpen() uint64 {
	gen := g.gen
	g.gen++
	g.closedGen = gen
	g.openHeld = false
	return gen
}

// aofSubmit writes the open commit's batch and hands its fdatasync to the
// ring. No fsync may be in flight, and no retired writer wait.
func (s *Server) aofSubmit() {
	a := &s.aof
	g := &a.gc
	if g.inflight || g.retired != nil {
		panic("BUG: conn: AOF commit submitted while another is outstanding")
	}
	gen := g.closeOpen()
	g.flight, g.spans = g.spans, g.flight[:0]
	if err := a.w.Write(); err != nil {
		s.aofCommitDone(gen, &g.flight, err, true)
		return
	}
	g.inflight, g.flightGen, g.flightW = true, gen, a.w
	if fault := s.cfg.AOF.Fault; fault != nil {
		s.aofFaultFsync(fault)
		return
	}
	s.ring.Fsync(a.w.FD(), uint32(gen))
}

// aofFaultFsync runs the test fault hook for the fsync in flight on a
// goroutine, which wakes the loop when it has decided (aofPollFault).
func (s *Server) aofFaultFsync(fault func(aof.Op) error) {
	g := &s.aof.gc
	if g.faultDone == nil {
		g.faultDone = make(chan error, 1)
	}
	g.faulting = true
	done, r := g.faultDone, s.ring
	go func() {
		done <- fault(aof.OpFsync)
		r.Wake()
	}()
}

// aofPollFault submits the fsync in flight once the fault hook let it
// through, or fails it with the hook's error.
func (s *Server) aofPollFault() {
	g := &s.aof.gc
	if !g.faulting {
		return
	}
	select {
	case err := <-g.faultDone:
		g.faulting = false
		if err != nil {
			s.aofFsyncDone(err)
			return
		}
		s.ring.Fsync(g.flightW.FD(), uint32(g.flightGen))
	default:
	}
}

// aofSynced is the ring's OpFsync.
func (s *Server) aofSynced(c *ring.Completion) {
	g := &s.aof.gc
	if !g.inflight || g.faulting || c.Token != uint32(g.flightGen) {
		panic(fmt.Sprintf("BUG: conn: OpFsync of fd %d, token %d, with commit %d in flight: %v", c.FD, c.Token, g.flightGen, g.inflight))
	}
	var err error
	if c.Res < 0 {
		err = syscall.Errno(-c.Res)
	}
	s.aofFsyncDone(err)
}

func (s *Server) aofFsyncDone(err error) {
	a := &s.aof
	g := &a.gc
	w := g.flightW
	g.inflight, g.flightW = false, nil
	w.Synced(err)
	s.aofCommitDone(g.flightGen, &g.flight, err, w == a.w)
}

// aofCommitDone completes commit gen. On failure the replies of its
// commands (*spans) become MISCONF errors and, if the commit was on the
// open AOF (live), write commands are refused until a commit succeeds.
// Then the replies that waited for it are released.
func (s *Server) aofCommitDone(gen uint64, spans *[]aofSpan, err error, live bool) {
	a := &s.aof
	g := &a.gc
	if gen != g.doneGen+1 {
		panic(fmt.Sprintf("BUG: conn: AOF commit %d completed after %d", gen, g.doneGen))
	}
	switch {
	case err != nil:
		s.aofFailSpans(*spans, gen, err)
		if !live {
			s.cfg.Logger.Printf("AOF: the last fsync of the file appendonly no closed failed (%v): its writes were answered with errors", err)
			break
		}
		if s.aofFsyncCheck() {
			break // an fsync failed: refused until a rewrite (aofFsyncFailed)
		}
		if a.denyErr == nil {
			s.cfg.Logger.Printf("AOF: writing failed (%v): refusing write commands (MISCONF) until a write succeeds", err)
		}
		a.denyErr, a.lastWriteOK = err, false
		a.retryAtMs = s.nowMs + aofRetryMs
	case live && a.denyErr != nil && !a.mustRewrite:
		s.cfg.Logger.Printf("AOF: write error looks solved, accepting writes again")
		a.denyErr, a.lastWriteOK = nil, true
	}
	clear(*spans)
	*spans = (*spans)[:0]
	g.doneGen = gen
	s.aofRelease()
}

// aofFailSpans turns the replies of a failed commit's commands into MISCONF
// errors, latest first so that a client's earlier spans stay where they
// are, then moves every later position of those clients (holds of later
// commits, spans of other commits) by the change in length.
func (s *Server) aofFailSpans(spans []aofSpan, gen uint64, err error) {
	g := &s.aof.gc
	moved := false
	for i := len(spans) - 1; i >= 0; i-- {
		sp := spans[i]
		cl := sp.cl
		if cl.closing {
			continue
		}
		start, end := sp.start-cl.outSent, sp.end-cl.outSent
		if start < 0 {
			panic(fmt.Sprintf("BUG: conn: client id=%d was sent a reply before its AOF commit %d completed", cl.id, gen))
		}
		if end > len(cl.ctx.Out) {
			continue
		}
		tail := append([]byte(nil), cl.ctx.Out[end:]...)
		out := resp.AppendMisconfAOF(cl.ctx.Out[:start], strerror(err))
		delta := len(out) - end
		cl.ctx.Out = append(out, tail...)
		cl.aofShift += delta
		// Whatever follows is classified again at the end of the turn:
		// holding more is safe, holding less is not.
		cl.markedTo = min(cl.markedTo, sp.start)
		moved = moved || delta != 0
	}
	if !moved {
		return
	}
	for _, list := range [...][]aofSpan{g.spans, g.flight, g.retiredSpans} {
		for i := range list {
			if d := list[i].cl.aofShift; d != 0 {
				list[i].start += d
				list[i].end += d
			}
		}
	}
	for _, cl := range g.held {
		if d := cl.aofShift; d != 0 {
			for i := range cl.holds {
				if cl.holds[i].gen > gen {
					cl.holds[i].pos += d
				}
			}
		}
	}
	for _, sp := range spans {
		sp.cl.aofShift = 0
	}
}

// aofRelease lets go of the replies that waited for commits up to doneGen.
func (s *Server) aofRelease() {
	g := &s.aof.gc
	kept := g.held[:0]
	for _, cl := range g.held {
		i := 0
		for i < len(cl.holds) && cl.holds[i].gen <= g.doneGen {
			i++
		}
		if i > 0 {
			cl.holds = cl.holds[:copy(cl.holds, cl.holds[i:])]
			if !cl.closing {
				s.queue(cl)
			}
		}
		if len(cl.holds) == 0 || cl.closing {
			cl.inHeld, cl.holds = false, cl.holds[:0]
			continue
		}
		kept = append(kept, cl)
	}
	clear(g.held[len(kept):])
	g.held = kept
}

// aofCommitSync is the group commit done on the owner, waiting for the
// disk, for the moments that need the incr file quiet: a rewrite switching
// to a new incr file or committing its base. Never while an fsync is in
// flight. Under everysec and no it is a Flush, unless replies wait for the
// open commit.
func (s *Server) aofCommitSync() error {
	a := &s.aof
	g := &a.gc
	if g.inflight || g.retired != nil {
		panic("BUG: conn: AOF commit on the owner while another is outstanding")
	}
	if a.policy != aof.FsyncAlways && !g.openHeld {
		return a.w.Flush()
	}
	if a.w.Pending() == 0 && a.w.WriteErr() == nil && !g.openHeld {
		return nil
	}
	gen := g.closeOpen()
	g.flight, g.spans = g.spans, g.flight[:0]
	err := a.w.Write()
	if err == nil {
		err = a.w.Sync()
	}
	s.aofCommitDone(gen, &g.flight, err, true)
	return err
}

// aofRetire takes the writer away (appendonly no): nothing is logged from
// now on; what its batch holds is committed when it is closed, at the end
// of the first turn without an fsync in flight, since the ring may still
// be syncing its file.
func (s *Server) aofRetire() {
	a := &s.aof
	g := &a.gc
	if g.retired != nil {
		panic("BUG: conn: a second AOF writer retired before the first was closed")
	}
	w := a.w
	a.w = nil
	if g.openHeld || len(g.spans) > 0 || a.policy == aof.FsyncAlways && w.Pending() > 0 {
		g.retiredGen = g.closeOpen()
		g.retiredSpans, g.spans = g.spans, g.retiredSpans[:0]
	}
	g.retired = w
}

// aofCloseRetired closes the retired writer (Close writes and fsyncs its
// batch) and completes its last commit. No fsync may be in flight.
func (s *Server) aofCloseRetired() {
	g := &s.aof.gc
	w, gen := g.retired, g.retiredGen
	g.retired, g.retiredGen = nil, 0
	err := w.Close()
	if err != nil {
		s.cfg.Logger.Printf("AOF: closing: %v", err)
	}
	if gen != 0 {
		s.aofCommitDone(gen, &g.retiredSpans, err, false)
	}
}

// errRetiredBusy: appendonly yes while the file appendonly no closed still
// has its fsync in flight.
var errRetiredBusy = errors.New("the AOF file closed by appendonly no still has an fsync in flight; try again")

// aofReadyToOpen closes a retired writer before a new one opens, so that
// at most one is ever waiting; it fails if that writer's fsync is still in
// flight (for the time of one fsync).
func (s *Server) aofReadyToOpen() error {
	g := &s.aof.gc
	if g.retired == nil {
		return nil
	}
	if g.inflight {
		return errRetiredBusy
	}
	s.aofCloseRetired()
	return nil
}

const (
	// aofDrainMax bounds how long shutdown waits for an fsync in flight.
	aofDrainMax = 30 * time.Second
	// aofDrainPoll is one wait of that drain.
	aofDrainPoll = 10 * time.Millisecond
)

// aofDrain waits for the fsync in flight before the files are closed
// (shutdown). Only OpFsync is handled: the server is going away, and
// Shutdown closes whatever the other completions concern.
func (s *Server) aofDrain() {
	g := &s.aof.gc
	h := func(c *ring.Completion) {
		if c.Op == ring.OpFsync {
			s.aofSynced(c)
		}
	}
	deadline := time.Now().Add(aofDrainMax)
	for g.inflight && time.Now().Before(deadline) {
		if s.aofPollFault(); !g.inflight {
			break
		}
		if err := s.ring.Wait(aofDrainPoll, h); err != nil {
			s.cfg.Logger.Printf("AOF: waiting for the fsync in flight: %v", err)
			return
		}
	}
	if g.inflight {
		s.cfg.Logger.Printf("AOF: an fsync still in flight after %v: its file is left open", aofDrainMax)
	}
}
