package ring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kinds of operation, the top byte of user_data. The CQE of each kind is
// routed by dispatch.
const (
	udAccept      = 1 // multishot accept on a listener
	udRecv        = 2 // multishot recv with a provided buffer
	udSend        = 3 // one send (or the remainder of a short one)
	udCancelRecv  = 4 // PauseRecv: cancel the fd's recv by its user_data
	udCancelClose = 5 // Close: cancel everything on the fd
	udWake        = 6 // READ of the wake eventfd
	udShutdown    = 7 // Shutdown: cancel everything on the ring
	udFsync       = 8 // FSYNC of a caller's file; the low half is a slot in fsyncs, not an fd
)

// user_data = kind (8 bits) | generation (24 bits) | fd (32 bits). The
// generation of an fd is bumped when it is closed, so a CQE that names a
// previous incarnation of the same number is recognised and dropped.
const (
	udGenBits = 24
	udGenMask = 1<<udGenBits - 1
)

func packUD(kind uint8, gen uint32, fd int) uint64 {
	return uint64(kind)<<56 | uint64(gen&udGenMask)<<32 | uint64(uint32(int32(fd)))
}

func unpackUD(ud uint64) (kind uint8, gen uint32, fd int) {
	return uint8(ud >> 56), uint32(ud>>32) & udGenMask, int(int32(uint32(ud)))
}

const (
	// setupAttempts are tried in order until io_uring_setup stops saying
	// EINVAL: the preferred flags first, then dropping the newest ones.
	// DEFER_TASKRUN is only valid with SINGLE_ISSUER, so it goes first.
	setupAttemptsCount = 6

	// bufGroupID is the buffer group of the one provided buffer ring.
	bufGroupID = 0

	// shutdownDrainTimeout bounds how long Shutdown waits for the kernel to
	// return every in-flight operation before it releases the memory.
	shutdownDrainTimeout = 2 * time.Second

	// selfTestTimeout bounds the start-up self-test.
	selfTestTimeout = 2 * time.Second

	// wakeBufSize is the eventfd counter read by the wake READ.
	wakeBufSize = 8

	// fdTableMin is the first size of the per-fd table; it doubles as
	// higher numbers appear.
	fdTableMin = 1024
)

var setupAttempts = [setupAttemptsCount]uint32{
	setupFlagsPreferred,
	setupFlagsPreferred &^ setupNoSQArray,
	setupCQSize | setupSubmitAll | setupSingleIssuer,
	setupCQSize | setupSubmitAll,
	setupCQSize,
	0,
}

// uringFD is the ring's state for one file descriptor, indexed by number.
type uringFD struct {
	gen      uint32 // bumped on close; the generation in user_data
	inflight int32  // SQEs queued or in the kernel whose last CQE is not reaped

	known    bool // the ring holds this fd (given to Listen/Recv/Send or accepted)
	closing  bool // Close was called; waiting for inflight to reach 0
	listener bool

	acceptArmed    bool // a multishot accept is queued or in the kernel
	recvWant       bool // the owner wants bytes (Recv, not paused, no EOF/error)
	recvArmed      bool // a multishot recv is queued or in the kernel
	recvCancelling bool // PauseRecv's cancel for that recv is on its way
	sendArmed      bool // a send is queued or in the kernel

	// send is the buffer of the Send in flight, kept referenced and pinned
	// until its final CQE: the kernel reads it by address.
	send    []byte
	sendOff int
	pin     runtime.Pinner
}

// pendingCompletion is a completion the ring makes up itself (OpClose when
// nothing was in flight, OpSend of an empty buffer, OpFsync done without
// the kernel's FSYNC), delivered at the start of the next Wait.
type pendingCompletion struct {
	op    Op
	fd    int32
	res   int32
	gen   uint32 // the fd's generation when queued; another means it is stale
	token uint32 // OpFsync's
}

// fsyncReq is an Fsync in flight. Files are the caller's, not in the fd
// table (Shutdown would close them), so the CQE names a slot of
// uring.fsyncs instead of an fd.
type fsyncReq struct {
	fd    int32
	token uint32
}

type uring struct {
	fd       int
	flags    uint32 // setup flags in effect
	features uint32

	ringMem []byte // SQ and CQ rings, one mapping (FEAT_SINGLE_MMAP)
	sqeMem  []byte

	sqHead    *uint32 // written by the kernel
	sqTail    *uint32 // written by us, published before each enter
	sqFlags   *uint32
	sqMask    uint32
	sqEntries uint32
	sqes      []sqe
	sqLocal   uint32 // our tail: next free SQE

	cqHead *uint32 // written by us after a batch
	cqTail *uint32 // written by the kernel
	cqMask uint32
	cqes   []cqe

	// backlog holds SQEs that found the SQ full when an early submit failed
	// too (EBUSY); they go to the SQ, in order, at the next Wait. It is
	// bounded by the fds: each has at most an accept or a recv, a send and
	// a cancel queued.
	backlog []sqe

	// The provided buffer ring and its buffers, both anonymous mappings.
	bufRingMem  []byte
	bufRing     []bufRingEntry
	bufTailWord *uint32 // bufs[0].bid (low half) and the ring tail (high half)
	bufTail     uint16  // tail as last published
	bufBid0     uint16  // bid now in entry 0, to rebuild bufTailWord
	bufMask     uint16
	bufMem      []byte // bufCount*bufSize, then one page for the wake counter
	bufSize     int
	bufCount    int

	fds []uringFD
	// fsyncs are the Fsyncs in the kernel, by slot; fsyncFree lists the
	// free slots. fsyncOp is false when the kernel lacks IORING_OP_FSYNC.
	fsyncs    []fsyncReq
	fsyncFree []uint32
	fsyncOp   bool
	pending   []pendingCompletion
	spare     []pendingCompletion // swapped with pending while delivering
	ops       int                 // SQEs queued or in the kernel, all fds

	c Completion // handed to the Handler; reused, never retained

	wakeFD   int
	wakeBuf  []byte      // 8 bytes in bufMem, the target of the wake READ
	wakeMu   sync.Mutex  // orders Wake's write against Shutdown's close
	wakeShut bool        // under wakeMu
	woken    atomic.Bool // a Wake is on its way and not yet delivered

	shuttingDown bool

	ts  unix.Timespec
	arg getEventsArg

	stats stats
}

// newUring sets up a ring, checks every feature and opcode the package needs,
// registers the buffer ring, and runs the self-test. Any error leaves nothing
// open.
func newUring(cfg Config) (_ *uring, err error) {
	var p uringParams
	fd := -1
	for _, flags := range setupAttempts {
		p = uringParams{flags: flags}
		if flags&setupCQSize != 0 {
			p.cqEntries = cfg.Entries * cqPerSQ
		}
		fd, err = ioUringSetup(cfg.Entries, &p)
		if err != unix.EINVAL {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("io_uring_setup: %w", err)
	}
	r := &uring{fd: fd, flags: p.flags, features: p.features, wakeFD: -1}
	defer func() {
		if err != nil {
			r.release()
		}
	}()
	if missing := featNeeded &^ p.features; missing != 0 {
		return nil, fmt.Errorf("missing io_uring features %#x", missing)
	}
	if err := r.probeOpcodes(); err != nil {
		return nil, err
	}
	if err := r.mapRings(&p); err != nil {
		return nil, err
	}
	if err := r.setupBuffers(cfg); err != nil {
		return nil, err
	}
	r.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := r.selfTest(); err != nil {
		return nil, fmt.Errorf("self-test: %w", err)
	}
	r.armWake()
	return r, nil
}

func (r *uring) probeOpcodes() error {
	pr := new(probe)
	if err := ioUringRegister(r.fd, registerProbe, unsafe.Pointer(pr), probeOpsMax); err != nil {
		return fmt.Errorf("io_uring_register(PROBE): %w", err)
	}
	supported := func(op uint8) bool { return op <= pr.lastOp && pr.ops[op].flags&probeOpSupported != 0 }
	for _, n := range neededOpcodes {
		if !supported(n.op) {
			return fmt.Errorf("io_uring opcode %s not supported", n.name)
		}
	}
	r.fsyncOp = supported(opFsync)
	return nil
}

func (r *uring) mapRings(p *uringParams) error {
	sqSize := int(p.sqOff.array) + int(p.sqEntries)*4
	cqSize := int(p.cqOff.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(cqe{}))
	size := max(sqSize, cqSize)
	var err error
	r.ringMem, err = unix.Mmap(r.fd, offSQRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mmap rings: %w", err)
	}
	r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("mmap sqes: %w", err)
	}
	m := r.ringMem
	r.sqHead = (*uint32)(unsafe.Pointer(&m[p.sqOff.head]))
	r.sqTail = (*uint32)(unsafe.Pointer(&m[p.sqOff.tail]))
	r.sqFlags = (*uint32)(unsafe.Pointer(&m[p.sqOff.flags]))
	r.sqMask = *(*uint32)(unsafe.Pointer(&m[p.sqOff.ringMask]))
	r.sqEntries = p.sqEntries
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.sqLocal = atomic.LoadUint32(r.sqTail)
	if p.flags&setupNoSQArray == 0 {
		// SQEs are always filled in ring order, so the indirection array is
		// the identity, written once.
		array := unsafe.Slice((*uint32)(unsafe.Pointer(&m[p.sqOff.array])), p.sqEntries)
		for i := range array {
			array[i] = uint32(i)
		}
	}
	r.cqHead = (*uint32)(unsafe.Pointer(&m[p.cqOff.head]))
	r.cqTail = (*uint32)(unsafe.Pointer(&m[p.cqOff.tail]))
	r.cqMask = *(*uint32)(unsafe.Pointer(&m[p.cqOff.ringMask]))
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&m[p.cqOff.cqes])), p.cqEntries)
	return nil
}

// setupBuffers maps the provided buffer ring and its buffers, registers the
// ring with the kernel and hands it every buffer.
func (r *uring) setupBuffers(cfg Config) error {
	page := os.Getpagesize()
	ringBytes := roundUp(cfg.BufCount*int(unsafe.Sizeof(bufRingEntry{})), page)
	var err error
	r.bufRingMem, err = unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("mmap buffer ring: %w", err)
	}
	// One extra page after the buffers holds the wake counter: memory the
	// kernel writes must not be Go memory.
	r.bufMem, err = unix.Mmap(-1, 0, cfg.BufCount*cfg.BufSize+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("mmap buffers: %w", err)
	}
	r.bufSize, r.bufCount = cfg.BufSize, cfg.BufCount
	r.wakeBuf = r.bufMem[cfg.BufCount*cfg.BufSize:][:wakeBufSize:wakeBufSize]
	r.bufRing = unsafe.Slice((*bufRingEntry)(unsafe.Pointer(&r.bufRingMem[0])), cfg.BufCount)
	// struct io_uring_buf_ring overlays the tail on bufs[0].resv, bytes
	// 14-15. Go has no 16-bit atomic store, so the tail is published with a
	// 32-bit store on bytes 12-15, which also rewrites bufs[0].bid with the
	// value we keep in bufBid0.
	r.bufTailWord = (*uint32)(unsafe.Pointer(&r.bufRingMem[12]))
	r.bufMask = uint16(cfg.BufCount - 1)
	reg := bufReg{
		ringAddr:    uint64(uintptr(unsafe.Pointer(&r.bufRingMem[0]))),
		ringEntries: uint32(cfg.BufCount),
		bgid:        bufGroupID,
	}
	if err := ioUringRegister(r.fd, registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		return fmt.Errorf("io_uring_register(PBUF_RING): %w", err)
	}
	for bid := 0; bid < cfg.BufCount; bid++ {
		r.putBuffer(uint16(bid))
	}
	r.publishBuffers()
	return nil
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// putBuffer adds buffer bid at the tail; the kernel sees it after
// publishBuffers.
func (r *uring) putBuffer(bid uint16) {
	slot := r.bufTail & r.bufMask
	e := &r.bufRing[slot]
	e.addr = uint64(uintptr(unsafe.Pointer(&r.bufMem[int(bid)*r.bufSize])))
	e.len = uint32(r.bufSize)
	if slot == 0 {
		// bid of entry 0 shares a 32-bit word with the published tail.
		r.bufBid0 = bid
		atomic.StoreUint32(r.bufTailWord, uint32(bid)|uint32(r.bufTail)<<16)
	} else {
		e.bid = bid
	}
	r.bufTail++
}

// publishBuffers makes every buffer put so far visible to the kernel. The
// atomic store orders the entries' writes before the tail.
func (r *uring) publishBuffers() {
	atomic.StoreUint32(r.bufTailWord, uint32(r.bufBid0)|uint32(r.bufTail)<<16)
}

// recycle gives a buffer back to the kernel as soon as its bytes have been
// handed over: the fewer buffers out, the rarer ENOBUFS.
func (r *uring) recycle(bid uint16) {
	r.putBuffer(bid)
	r.publishBuffers()
}

func (r *uring) buffer(bid uint16) []byte {
	off := int(bid) * r.bufSize
	return r.bufMem[off : off+r.bufSize : off+r.bufSize]
}

// selfTest runs the real path once: a multishot recv with a provided buffer
// over a socketpair must deliver the bytes and stay armed, and Close must
// cancel it and deliver OpClose. It catches kernels (or sandboxes such as
// gVisor) that accept the setup but implement part of it.
func (r *uring) selfTest() error {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	defer unix.Close(sp[1])
	msg := []byte("ringkv self-test")
	var got []byte
	var closed, armedAfterData bool
	r.Recv(sp[0])
	if _, err := unix.Write(sp[1], msg); err != nil {
		unix.Close(sp[0])
		return fmt.Errorf("write: %w", err)
	}
	h := func(c *Completion) {
		switch {
		case c.Op == OpRecv && c.Res > 0:
			got = append(got, c.Data...)
			armedAfterData = r.fds[sp[0]].recvArmed
		case c.Op == OpClose:
			closed = true
		}
	}
	deadline := time.Now().Add(selfTestTimeout)
	for len(got) < len(msg) && time.Now().Before(deadline) {
		if err := r.Wait(selfTestTimeout/10, h); err != nil {
			unix.Close(sp[0])
			return err
		}
	}
	r.Close(sp[0])
	for !closed && time.Now().Before(deadline) {
		if err := r.Wait(selfTestTimeout/10, h); err != nil {
			return err
		}
	}
	if !closed {
		unix.Close(sp[0]) // the ring is torn down next; do not leak the fd
	}
	switch {
	case !bytes.Equal(got, msg):
		return fmt.Errorf("multishot recv delivered %q, want %q", got, msg)
	case !armedAfterData:
		return errors.New("multishot recv ended after one completion")
	case !closed:
		return errors.New("cancel by fd did not complete")
	}
	return nil
}

// release undoes newUring, for errors during setup and for Shutdown.
func (r *uring) release() {
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
	for _, m := range [][]byte{r.ringMem, r.sqeMem, r.bufRingMem, r.bufMem} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	r.ringMem, r.sqeMem, r.bufRingMem, r.bufMem = nil, nil, nil, nil
	if r.wakeFD >= 0 {
		unix.Close(r.wakeFD)
		r.wakeFD = -1
	}
}

func (r *uring) Backend() string { return "uring" }

// state returns the fd's entry, growing the table on demand. The pointer is
// valid until the table grows: never hold it across a Handler call.
func (r *uring) state(fd int) *uringFD {
	if fd < 0 {
		panic(fmt.Sprintf("BUG: ring: negative fd %d", fd))
	}
	if fd >= len(r.fds) {
		grown := make([]uringFD, max(fd+1, 2*len(r.fds), fdTableMin))
		copy(grown, r.fds)
		r.fds = grown
	}
	st := &r.fds[fd]
	st.known = true
	return st
}

// getSQE returns a zeroed SQE to fill. When the SQ is full it submits what
// is queued; if even that fails it spills into the backlog, so callers never
// see a full queue.
func (r *uring) getSQE() *sqe {
	if len(r.backlog) == 0 && r.sqLocal-atomic.LoadUint32(r.sqHead) == r.sqEntries {
		r.submitEarly()
	}
	if len(r.backlog) > 0 || r.sqLocal-atomic.LoadUint32(r.sqHead) == r.sqEntries {
		r.backlog = append(r.backlog, sqe{})
		return &r.backlog[len(r.backlog)-1]
	}
	s := &r.sqes[r.sqLocal&r.sqMask]
	*s = sqe{}
	r.sqLocal++
	return s
}

// submitEarly hands the queued SQEs to the kernel without waiting (no
// GETEVENTS, so no task work and no CQEs to reap here).
func (r *uring) submitEarly() {
	for {
		atomic.StoreUint32(r.sqTail, r.sqLocal)
		n := r.sqLocal - atomic.LoadUint32(r.sqHead)
		if n == 0 {
			return
		}
		_, err := ioUringEnter(r.fd, n, 0, 0, nil, 0)
		r.stats.enters++
		r.stats.earlySubmits++
		if err != unix.EINTR {
			return
		}
	}
}

// flushBacklog moves spilled SQEs into the SQ, in order, submitting early
// whenever the SQ fills.
func (r *uring) flushBacklog() {
	for len(r.backlog) > 0 {
		free := r.sqEntries - (r.sqLocal - atomic.LoadUint32(r.sqHead))
		if free == 0 {
			r.submitEarly()
			if r.sqEntries == r.sqLocal-atomic.LoadUint32(r.sqHead) {
				return // the kernel will not take more now; next Wait
			}
			continue
		}
		k := min(int(free), len(r.backlog))
		for i := 0; i < k; i++ {
			r.sqes[r.sqLocal&r.sqMask] = r.backlog[i]
			r.sqLocal++
		}
		r.backlog = r.backlog[:copy(r.backlog, r.backlog[k:])]
	}
}

// queued accounts for one more SQE on st's fd.
func (r *uring) queued(st *uringFD) {
	st.inflight++
	r.ops++
}

func (r *uring) Listen(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return fmt.Errorf("ring: listen fd %d: %w", fd, err)
	}
	if v == 0 {
		return fmt.Errorf("ring: fd %d is not a listening socket", fd)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fmt.Errorf("ring: listen fd %d: %w", fd, err)
	}
	st := r.state(fd)
	if st.closing || st.acceptArmed {
		return fmt.Errorf("ring: fd %d is closing or already listening", fd)
	}
	st.listener = true
	r.armAccept(fd)
	return nil
}

func (r *uring) armAccept(fd int) {
	st := &r.fds[fd]
	s := r.getSQE()
	s.opcode = opAccept
	s.fd = int32(fd)
	s.ioprio = acceptMultishot
	s.opFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	s.userData = packUD(udAccept, st.gen, fd)
	st.acceptArmed = true
	r.queued(st)
}

func (r *uring) Recv(fd int) {
	st := r.state(fd)
	if st.closing {
		return
	}
	st.recvWant = true
	if !st.recvArmed {
		r.armRecv(fd)
	}
	// If a PauseRecv cancel is on its way, the old recv's last CQE re-arms.
}

func (r *uring) armRecv(fd int) {
	st := &r.fds[fd]
	s := r.getSQE()
	s.opcode = opRecv
	s.fd = int32(fd)
	s.ioprio = recvMultishot
	s.flags = sqeBufferSelect
	s.bufGroup = bufGroupID
	s.userData = packUD(udRecv, st.gen, fd)
	st.recvArmed = true
	r.queued(st)
}

func (r *uring) PauseRecv(fd int) {
	st := r.state(fd)
	st.recvWant = false
	if !st.recvArmed || st.recvCancelling || st.closing {
		return
	}
	s := r.getSQE()
	s.opcode = opAsyncCancel
	s.fd = -1
	s.addr = packUD(udRecv, st.gen, fd)
	s.userData = packUD(udCancelRecv, st.gen, fd)
	st.recvCancelling = true
	r.queued(st)
}

func (r *uring) Send(fd int, b []byte) {
	st := r.state(fd)
	if st.closing {
		return
	}
	if st.sendArmed {
		panic(fmt.Sprintf("BUG: ring: Send on fd %d while a send is in flight", fd))
	}
	if len(b) == 0 {
		r.pending = append(r.pending, pendingCompletion{op: OpSend, fd: int32(fd), gen: st.gen})
		return
	}
	st.send, st.sendOff, st.sendArmed = b, 0, true
	// The heap does not move today; the pin keeps that promise explicit
	// for the kernel's sake until the final CQE.
	st.pin.Pin(unsafe.Pointer(unsafe.SliceData(b)))
	r.armSend(fd, 0)
}

func (r *uring) armSend(fd int, ioprio uint16) {
	st := &r.fds[fd]
	rest := st.send[st.sendOff:]
	s := r.getSQE()
	s.opcode = opSend
	s.fd = int32(fd)
	s.ioprio = ioprio
	s.addr = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(rest))))
	s.len = uint32(len(rest))
	s.opFlags = unix.MSG_NOSIGNAL
	s.userData = packUD(udSend, st.gen, fd)
	r.queued(st)
}

// releaseSend drops the ring's hold on the send buffer: its final CQE is in.
func (st *uringFD) releaseSend() (n int) {
	n = len(st.send)
	st.send, st.sendOff, st.sendArmed = nil, 0, false
	st.pin.Unpin()
	return n
}

func (r *uring) Close(fd int) {
	st := r.state(fd)
	if st.closing {
		return
	}
	st.closing, st.recvWant = true, false
	if st.inflight == 0 {
		r.pending = append(r.pending, pendingCompletion{op: OpClose, fd: int32(fd), gen: st.gen})
		return
	}
	// close(2) does not cancel an armed recv; cancel everything on the fd
	// and close once the last CQE is reaped (finishClose).
	s := r.getSQE()
	s.opcode = opAsyncCancel
	s.fd = int32(fd)
	s.opFlags = cancelFD | cancelAll
	s.userData = packUD(udCancelClose, st.gen, fd)
	r.queued(st)
}

// finishClose closes fd once Close was called and nothing is in flight,
// bumps its generation and delivers OpClose. It returns the number of
// completions delivered.
func (r *uring) finishClose(fd int, h Handler) int {
	st := &r.fds[fd]
	if !st.closing || st.inflight > 0 {
		return 0
	}
	unix.Close(fd)
	st.pin.Unpin()
	*st = uringFD{gen: st.gen + 1, pin: st.pin}
	return r.deliver(h, OpClose, fd, 0, nil)
}

func (r *uring) Fsync(fd int, token uint32) {
	if !r.fsyncOp {
		// The contract holds without the opcode: the result comes as a
		// completion at the next Wait, only the owner waited for the disk.
		r.pending = append(r.pending, pendingCompletion{op: OpFsync, fd: int32(fd), res: fdatasync(fd), token: token})
		return
	}
	var slot uint32
	if n := len(r.fsyncFree); n > 0 {
		slot = r.fsyncFree[n-1]
		r.fsyncFree = r.fsyncFree[:n-1]
	} else {
		slot = uint32(len(r.fsyncs))
		r.fsyncs = append(r.fsyncs, fsyncReq{})
	}
	r.fsyncs[slot] = fsyncReq{fd: int32(fd), token: token}
	s := r.getSQE()
	s.opcode = opFsync
	s.fd = int32(fd)
	s.opFlags = fsyncDatasync // off and len 0: the whole file
	s.userData = packUD(udFsync, 0, int(slot))
	r.ops++
}

func (r *uring) onFsync(slot int, res int32, h Handler) int {
	r.ops--
	req := r.fsyncs[slot]
	r.fsyncs[slot] = fsyncReq{}
	r.fsyncFree = append(r.fsyncFree, uint32(slot))
	if h == nil {
		return 0 // Shutdown's drain
	}
	r.c = Completion{Op: OpFsync, FD: req.fd, Res: res, Token: req.token}
	h(&r.c)
	return 1
}

func (r *uring) armWake() {
	if r.shuttingDown {
		return
	}
	s := r.getSQE()
	s.opcode = opRead
	s.fd = int32(r.wakeFD)
	s.addr = uint64(uintptr(unsafe.Pointer(&r.wakeBuf[0])))
	s.len = wakeBufSize
	s.userData = packUD(udWake, 0, r.wakeFD)
	r.ops++
}

var wakeOne = [8]byte{1}

func (r *uring) Wake() {
	// One eventfd write per undelivered wake is enough.
	if r.woken.Swap(true) {
		return
	}
	r.wakeMu.Lock()
	if !r.wakeShut {
		unix.Write(r.wakeFD, wakeOne[:])
	}
	r.wakeMu.Unlock()
}

func (r *uring) deliver(h Handler, op Op, fd int, res int32, data []byte) int {
	if h == nil {
		return 0
	}
	r.c = Completion{Op: op, FD: int32(fd), Res: res, Data: data}
	h(&r.c)
	r.c.Data = nil // the buffer goes back to the kernel now
	return 1
}

// deliverPending delivers the completions the ring made up since the last
// Wait. They go first: an OpClose must precede any OpAccept that reuses its
// number.
func (r *uring) deliverPending(h Handler) int {
	n := 0
	for len(r.pending) > 0 {
		batch := r.pending
		r.pending = r.spare[:0]
		for _, p := range batch {
			fd := int(p.fd)
			if p.op == OpFsync {
				if h != nil {
					r.c = Completion{Op: OpFsync, FD: p.fd, Res: p.res, Token: p.token}
					h(&r.c)
					n++
				}
				continue
			}
			if r.fds[fd].gen != p.gen {
				continue
			}
			switch p.op {
			case OpClose:
				n += r.finishClose(fd, h)
			case OpSend:
				if !r.fds[fd].closing {
					n += r.deliver(h, OpSend, fd, p.res, nil)
				}
			}
		}
		r.spare = batch[:0]
	}
	return n
}

func (r *uring) Wait(timeout time.Duration, h Handler) error {
	if r.shuttingDown {
		return errors.New("ring: Wait after Shutdown")
	}
	n := r.deliverPending(h)
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		r.flushBacklog()
		block := timeout != 0 && n == 0
		wait := timeout
		if block && timeout > 0 {
			if wait = time.Until(deadline); wait <= 0 {
				return nil
			}
		}
		target := r.sqLocal
		err := r.enter(block, wait)
		got := r.reap(h)
		n += got
		switch err {
		case nil:
		case unix.ETIME:
			return nil
		case unix.EINTR:
			// A signal (the Go runtime preempts with SIGURG): go again.
		case unix.EBUSY, unix.EAGAIN:
			// The CQ overflowed or the kernel is short of memory. Reaping
			// made room, so enter again; if there was nothing to reap, return
			// and let the caller's next Wait retry rather than spin here.
			r.stats.busyEnters++
			if got == 0 {
				return nil
			}
		case unix.EEXIST:
			return fmt.Errorf("ring: io_uring_enter from a thread other than New's (runtime.LockOSThread before New): %w", err)
		default:
			return fmt.Errorf("ring: io_uring_enter: %w", err)
		}
		overflow := atomic.LoadUint32(r.sqFlags)&sqCQOverflow != 0
		if overflow {
			r.stats.cqOverflows++
		}
		unsubmitted := int32(target-atomic.LoadUint32(r.sqHead)) > 0
		if overflow || unsubmitted || len(r.backlog) > 0 || err != nil {
			r.stats.extraEnters++
			continue
		}
		if n > 0 || !block {
			return nil
		}
		// Only internal completions (a re-arm, a cancel): keep waiting.
	}
}

// enter submits every queued SQE and, if block, waits for one completion or
// the timeout (timeout < 0: none). GETEVENTS always: under DEFER_TASKRUN
// nothing completes unless we ask.
func (r *uring) enter(block bool, timeout time.Duration) error {
	atomic.StoreUint32(r.sqTail, r.sqLocal)
	toSubmit := r.sqLocal - atomic.LoadUint32(r.sqHead)
	var minComplete uint32
	flags := uint32(enterGetEvents)
	var arg unsafe.Pointer
	var argSize uintptr
	if block {
		minComplete = 1
		if timeout > 0 {
			// r.ts and r.arg live in the ring (heap), so the address in
			// r.arg.ts stays valid while the kernel reads it.
			r.ts = unix.NsecToTimespec(int64(timeout))
			r.arg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
			flags |= enterExtArg
			arg, argSize = unsafe.Pointer(&r.arg), unsafe.Sizeof(r.arg)
		}
	}
	_, err := ioUringEnter(r.fd, toSubmit, minComplete, flags, arg, argSize)
	r.stats.enters++
	return err
}

// reap handles every CQE ready now, returning how many completions went to
// h. The CQE is copied out before dispatch; the head is released after the
// batch.
func (r *uring) reap(h Handler) int {
	n := 0
	for {
		head := atomic.LoadUint32(r.cqHead)
		tail := atomic.LoadUint32(r.cqTail)
		if head == tail {
			return n
		}
		for ; head != tail; head++ {
			c := r.cqes[head&r.cqMask]
			n += r.dispatch(c.userData, c.res, c.flags, h)
		}
		atomic.StoreUint32(r.cqHead, head)
	}
}

func (r *uring) dispatch(ud uint64, res int32, flags uint32, h Handler) int {
	kind, gen, fd := unpackUD(ud)
	if kind == udWake {
		return r.onWake(res, h)
	}
	if kind == udShutdown {
		r.ops--
		return 0
	}
	if kind == udFsync {
		return r.onFsync(fd, res, h)
	}
	if fd < 0 || fd >= len(r.fds) || !r.fds[fd].known || r.fds[fd].gen&udGenMask != gen {
		// A previous incarnation of this number; nothing may reach the
		// owner, but a buffer it carries must go back.
		r.stats.staleCQEs++
		if flags&cqeFBuffer != 0 {
			r.recycle(uint16(flags >> cqeBufferShift))
		}
		return 0
	}
	final := flags&cqeFMore == 0
	st := &r.fds[fd]
	if final {
		st.inflight--
		r.ops--
	}
	switch kind {
	case udAccept:
		return r.onAccept(fd, res, final, h)
	case udRecv:
		return r.onRecv(fd, res, flags, final, h)
	case udSend:
		return r.onSend(fd, res, h)
	case udCancelRecv:
		return r.finishClose(fd, h)
	case udCancelClose:
		if res < 0 && res != -int32(unix.ENOENT) && res != -int32(unix.EALREADY) {
			// Cancel by fd refused (an old kernel says EINVAL): shutdown
			// makes whatever is armed on the socket complete.
			unix.Shutdown(fd, unix.SHUT_RDWR)
		}
		return r.finishClose(fd, h)
	}
	panic(fmt.Sprintf("BUG: ring: unknown user_data kind %d", kind))
}

// acceptFatal lists accept errors after which re-arming would only fail
// again: the listener itself is unusable.
func acceptFatal(res int32) bool {
	switch -res {
	case int32(unix.EINVAL), int32(unix.EBADF), int32(unix.ENOTSOCK), int32(unix.EOPNOTSUPP):
		return true
	}
	return false
}

func (r *uring) onAccept(lfd int, res int32, final bool, h Handler) int {
	if final {
		r.fds[lfd].acceptArmed = false
	}
	n := 0
	if r.fds[lfd].closing || r.shuttingDown {
		if res >= 0 {
			unix.Close(int(res))
		}
		return n + r.finishClose(lfd, h)
	}
	switch {
	case res >= 0:
		fd := int(res)
		setNoDelay(fd)
		st := r.state(fd)
		if st.inflight > 0 || st.closing {
			panic(fmt.Sprintf("BUG: ring: accepted fd %d still has operations in flight", fd))
		}
		*st = uringFD{gen: st.gen, known: true, pin: st.pin}
		n += r.deliver(h, OpAccept, fd, res, nil)
	case res == -int32(unix.ECANCELED):
	default:
		n += r.deliver(h, OpAccept, lfd, res, nil)
	}
	// The handler may have closed the listener or grown the table.
	st := &r.fds[lfd]
	if final && !st.closing && !st.acceptArmed && !acceptFatal(res) {
		r.stats.acceptRearms++
		r.armAccept(lfd)
	}
	return n
}

func (r *uring) onRecv(fd int, res int32, flags uint32, final bool, h Handler) int {
	st := &r.fds[fd]
	if final {
		// A cancel still on its way targeted this recv, which is gone; a
		// PauseRecv after a re-arm must send a cancel of its own.
		st.recvArmed, st.recvCancelling = false, false
	}
	hasBuf := flags&cqeFBuffer != 0
	bid := uint16(flags >> cqeBufferShift)
	if st.closing || r.shuttingDown {
		if hasBuf {
			r.recycle(bid)
		}
		return r.finishClose(fd, h)
	}
	n := 0
	rearm := false
	switch {
	case res > 0:
		if !hasBuf {
			panic("BUG: ring: recv completed without a provided buffer")
		}
		n = r.deliver(h, OpRecv, fd, res, r.buffer(bid)[:res])
		r.recycle(bid)
		rearm = final // a multishot may stop after data; the rest stays in the socket
	case res == 0:
		st.recvWant = false
		n = r.deliver(h, OpRecv, fd, 0, nil)
	case res == -int32(unix.ENOBUFS):
		// The buffer ring ran dry; the bytes wait in the socket. The re-arm
		// goes out with the next enter, after this batch recycled its buffers.
		r.stats.recvNoBufs++
		rearm = true
	case res == -int32(unix.ECANCELED), res == -int32(unix.EAGAIN), res == -int32(unix.EINTR):
		rearm = true // PauseRecv's cancel (re-armed only if Recv came since)
	default:
		st.recvWant = false
		n = r.deliver(h, OpRecv, fd, res, nil)
	}
	if hasBuf && res <= 0 {
		r.recycle(bid)
	}
	st = &r.fds[fd]
	if final && rearm && st.recvWant && !st.recvArmed && !st.closing {
		r.stats.recvRearms++
		r.armRecv(fd)
	}
	// A cancel may have been the last thing outstanding for a Close made
	// from the handler.
	return n + r.finishClose(fd, h)
}

func (r *uring) onSend(fd int, res int32, h Handler) int {
	st := &r.fds[fd]
	if st.closing || r.shuttingDown {
		st.releaseSend()
		return r.finishClose(fd, h)
	}
	switch {
	case res >= 0:
		st.sendOff += int(res)
		if st.sendOff < len(st.send) {
			// A short send: the rest goes out as the next SEND, still the
			// only one in flight on this socket, so bytes stay in order.
			r.stats.shortSends++
			r.armSend(fd, 0)
			return 0
		}
		total := st.releaseSend()
		return r.deliver(h, OpSend, fd, int32(total), nil)
	case res == -int32(unix.EAGAIN), res == -int32(unix.EINTR):
		r.stats.sendRetries++
		r.armSend(fd, recvsendPollFirst)
		return 0
	default:
		st.releaseSend()
		return r.deliver(h, OpSend, fd, res, nil)
	}
}

func (r *uring) onWake(res int32, h Handler) int {
	r.ops--
	if r.shuttingDown {
		return 0
	}
	r.armWake()
	if res < 0 {
		return 0
	}
	// Swap, not Store: it reads the flag a concurrent Wake set, so what
	// that goroutine did before Wake is visible to the handler.
	r.woken.Swap(false)
	return r.deliver(h, OpWake, -1, 0, nil)
}

func (r *uring) Shutdown() error {
	if r.shuttingDown {
		return nil
	}
	r.wakeMu.Lock()
	r.wakeShut = true
	r.wakeMu.Unlock()

	// Cancel everything and reap until the kernel has let go of every
	// buffer: only then may send buffers be dropped and mappings unmapped.
	s := r.getSQE()
	s.opcode = opAsyncCancel
	s.fd = -1
	s.opFlags = cancelAny | cancelAll
	s.userData = packUD(udShutdown, 0, 0)
	r.ops++
	r.shuttingDown = true
	r.flushBacklog()
	deadline := time.Now().Add(shutdownDrainTimeout)
	var err error
	for r.ops > 0 && time.Now().Before(deadline) {
		if e := r.enter(true, shutdownDrainTimeout/20); e != nil && e != unix.ETIME && e != unix.EINTR {
			err = fmt.Errorf("ring: shutdown: io_uring_enter: %w", e)
			break
		}
		r.reap(nil)
	}
	drained := r.ops == 0
	for fd := range r.fds {
		st := &r.fds[fd]
		if st.known && fd != r.wakeFD {
			unix.Close(fd)
		}
		if drained {
			st.releaseSend()
		}
	}
	if !drained {
		// The kernel still holds buffers: leak the mappings and the send
		// buffers (still pinned) rather than let it use reused memory.
		leakedMu.Lock()
		leaked = append(leaked, r.fds)
		leakedMu.Unlock()
		unix.Close(r.fd)
		r.fd = -1
		r.ringMem, r.sqeMem, r.bufRingMem, r.bufMem = nil, nil, nil, nil
		if err == nil {
			err = fmt.Errorf("ring: shutdown: %d operations still in flight after %v", r.ops, shutdownDrainTimeout)
		}
	}
	r.wakeMu.Lock()
	r.release()
	r.wakeMu.Unlock()
	return err
}

// leaked keeps the fd tables of rings whose Shutdown timed out reachable
// forever: their send buffers may still be read by the kernel, and a pinned
// buffer must not be collected.
var (
	leakedMu sync.Mutex
	leaked   [][]uringFD
)

// setNoDelay turns Nagle off, as Redis does on every client: replies are
// written whole and must leave at once.
func setNoDelay(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}
