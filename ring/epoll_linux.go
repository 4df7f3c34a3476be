package ring

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The epoll backend emulates completions: readiness is turned into the
// matching read, write or accept at Wait, and the result is delivered as if
// the kernel had completed it. Level-triggered, so nothing is lost when a
// per-fd bound stops the work for this turn.
const (
	// epollEventsMax is how many ready fds one epoll_wait returns.
	epollEventsMax = 256
	// recvReadsPerWaitMax bounds the reads of one connection per Wait, so
	// that one busy client does not starve the others.
	recvReadsPerWaitMax = 4
	// acceptsPerWaitMax bounds the accepts of one listener per Wait.
	acceptsPerWaitMax = 64
)

type epollFD struct {
	known    bool
	closing  bool
	listener bool
	recvWant bool
	interest uint32 // events registered with epoll; 0: not in the set

	sendArmed   bool // a Send is not yet delivered
	sendQueued  bool // in sendQueue: to be tried at the next Wait
	sendBlocked bool // the socket said EAGAIN; waiting for EPOLLOUT
	send        []byte
	sendOff     int
	gen         uint32 // bumped on close, to recognise stale pending entries
}

type epoll struct {
	epfd   int
	events []unix.EpollEvent
	fds    []epollFD

	pending   []pendingCompletion
	spare     []pendingCompletion
	sendQueue []int32 // fds whose Send is to be tried at the next Wait
	sendSpare []int32
	// fsyncQueue are the Fsyncs to run at the next Wait, after its sends.
	fsyncQueue []fsyncReq
	fsyncSpare []fsyncReq

	readBuf []byte
	c       Completion

	wakeFD   int
	wakeBuf  [8]byte
	wakeMu   sync.Mutex
	wakeShut bool
	woken    atomic.Bool

	shut  bool
	stats stats
}

func newEpoll(cfg Config) (_ *epoll, err error) {
	e := &epoll{epfd: -1, wakeFD: -1}
	defer func() {
		if err != nil {
			e.release()
		}
	}()
	e.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	e.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(e.wakeFD)}
	if err := unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, e.wakeFD, &ev); err != nil {
		return nil, fmt.Errorf("epoll_ctl(eventfd): %w", err)
	}
	e.events = make([]unix.EpollEvent, epollEventsMax)
	e.readBuf = make([]byte, cfg.BufSize)
	return e, nil
}

func (e *epoll) release() {
	if e.epfd >= 0 {
		unix.Close(e.epfd)
		e.epfd = -1
	}
	if e.wakeFD >= 0 {
		unix.Close(e.wakeFD)
		e.wakeFD = -1
	}
}

func (e *epoll) Backend() string { return "epoll" }

func (e *epoll) state(fd int) *epollFD {
	if fd < 0 {
		panic(fmt.Sprintf("BUG: ring: negative fd %d", fd))
	}
	if fd >= len(e.fds) {
		grown := make([]epollFD, max(fd+1, 2*len(e.fds), fdTableMin))
		copy(grown, e.fds)
		e.fds = grown
	}
	st := &e.fds[fd]
	st.known = true
	return st
}

// setInterest brings the epoll registration in line with what fd waits for.
// An fd that waits for nothing leaves the set: EPOLLHUP is reported even
// without interest, and would spin the loop for a paused, hung-up client.
// If epoll refuses (ENOMEM, ENOSPC from max_user_watches, a file epoll cannot
// watch), the operations that needed it fail with that errno at the next
// Wait, as a kernel completion would.
func (e *epoll) setInterest(fd int) error {
	st := &e.fds[fd]
	var want uint32
	switch {
	case st.closing:
	case st.listener:
		want = unix.EPOLLIN
	default:
		if st.recvWant {
			want |= unix.EPOLLIN
		}
		if st.sendBlocked {
			want |= unix.EPOLLOUT
		}
	}
	if want == st.interest {
		return nil
	}
	op := unix.EPOLL_CTL_MOD
	switch {
	case want == 0:
		op = unix.EPOLL_CTL_DEL
	case st.interest == 0:
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: want, Fd: int32(fd)}
	err := unix.EpollCtl(e.epfd, op, fd, &ev)
	if err == nil || want == 0 {
		st.interest = want // a failed DEL: the fd is not in the set anyway
		return nil
	}
	errno, _ := err.(unix.Errno)
	if st.listener {
		return err
	}
	if st.recvWant {
		st.recvWant = false
		e.pending = append(e.pending, pendingCompletion{op: OpRecv, fd: int32(fd), res: -int32(errno), gen: st.gen})
	}
	if st.sendBlocked {
		st.send, st.sendOff, st.sendArmed, st.sendBlocked = nil, 0, false, false
		e.pending = append(e.pending, pendingCompletion{op: OpSend, fd: int32(fd), res: -int32(errno), gen: st.gen})
	}
	return e.setInterest(fd)
}

func (e *epoll) Listen(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return fmt.Errorf("ring: listen fd %d: %w", fd, err)
	}
	if v == 0 {
		return fmt.Errorf("ring: fd %d is not a listening socket", fd)
	}
	// The accept loop stops at EAGAIN; a blocking listener would hang it.
	if err := unix.SetNonblock(fd, true); err != nil {
		return fmt.Errorf("ring: listen fd %d: %w", fd, err)
	}
	st := e.state(fd)
	if st.closing || st.listener {
		return fmt.Errorf("ring: fd %d is closing or already listening", fd)
	}
	st.listener = true
	if err := e.setInterest(fd); err != nil {
		st.listener = false
		return fmt.Errorf("ring: listen fd %d: epoll_ctl: %w", fd, err)
	}
	return nil
}

func (e *epoll) Recv(fd int) {
	st := e.state(fd)
	if st.closing {
		return
	}
	st.recvWant = true
	e.setInterest(fd)
}

func (e *epoll) PauseRecv(fd int) {
	st := e.state(fd)
	if st.closing {
		return
	}
	st.recvWant = false
	e.setInterest(fd)
}

func (e *epoll) Send(fd int, b []byte) {
	st := e.state(fd)
	if st.closing {
		return
	}
	if st.sendArmed {
		panic(fmt.Sprintf("BUG: ring: Send on fd %d while a send is in flight", fd))
	}
	if len(b) == 0 {
		e.pending = append(e.pending, pendingCompletion{op: OpSend, fd: int32(fd), gen: st.gen})
		return
	}
	st.send, st.sendOff, st.sendArmed, st.sendQueued = b, 0, true, true
	e.sendQueue = append(e.sendQueue, int32(fd))
}

func (e *epoll) Close(fd int) {
	st := e.state(fd)
	if st.closing {
		return
	}
	// The fd stays open (its events ignored) until the next Wait, so its
	// number cannot be reused by an accept before OpClose is delivered.
	st.closing = true
	e.pending = append(e.pending, pendingCompletion{op: OpClose, fd: int32(fd), gen: st.gen})
}

// Fsync queues the fdatasync for the next Wait: epoll has no way to wait
// for a disk, so it runs there, on the owner, once the sends queued before
// it are started (a client whose reply waits for nothing is not delayed by
// the disk).
func (e *epoll) Fsync(fd int, token uint32) {
	e.fsyncQueue = append(e.fsyncQueue, fsyncReq{fd: int32(fd), token: token})
}

// runFsyncs runs the fsyncs queued before this Wait. Those queued by the
// handlers here wait for the next Wait.
func (e *epoll) runFsyncs(h Handler) int {
	batch := e.fsyncQueue
	e.fsyncQueue = e.fsyncSpare[:0]
	for _, f := range batch {
		e.c = Completion{Op: OpFsync, FD: f.fd, Res: fdatasync(int(f.fd)), Token: f.token}
		h(&e.c)
	}
	e.fsyncSpare = batch[:0]
	return len(batch)
}

func (e *epoll) Wake() {
	if e.woken.Swap(true) {
		return
	}
	e.wakeMu.Lock()
	if !e.wakeShut {
		unix.Write(e.wakeFD, wakeOne[:])
	}
	e.wakeMu.Unlock()
}

func (e *epoll) deliver(h Handler, op Op, fd int, res int32, data []byte) int {
	e.c = Completion{Op: op, FD: int32(fd), Res: res, Data: data}
	h(&e.c)
	e.c.Data = nil
	return 1
}

func (e *epoll) deliverPending(h Handler) int {
	n := 0
	for len(e.pending) > 0 {
		batch := e.pending
		e.pending = e.spare[:0]
		for _, p := range batch {
			fd := int(p.fd)
			st := &e.fds[fd]
			if st.gen != p.gen {
				continue
			}
			switch p.op {
			case OpClose:
				// close(2) also takes the fd out of the epoll set.
				unix.Close(fd)
				*st = epollFD{gen: st.gen + 1}
				n += e.deliver(h, OpClose, fd, 0, nil)
			case OpSend, OpRecv:
				if !st.closing {
					n += e.deliver(h, p.op, fd, p.res, nil)
				}
			}
		}
		e.spare = batch[:0]
	}
	return n
}

// flushSends tries the sends queued since the last Wait, as io_uring would
// submit them. Sends queued by handlers here wait for the next Wait.
func (e *epoll) flushSends(h Handler) int {
	n := 0
	batch := e.sendQueue
	e.sendQueue = e.sendSpare[:0]
	for _, fd := range batch {
		st := &e.fds[fd]
		st.sendQueued = false
		if st.closing || !st.sendArmed {
			continue
		}
		n += e.trySend(int(fd), h)
	}
	e.sendSpare = batch[:0]
	return n
}

// trySend writes until the buffer is done or the socket is full.
func (e *epoll) trySend(fd int, h Handler) int {
	st := &e.fds[fd]
	for st.sendOff < len(st.send) {
		n, err := sendNoSignal(fd, st.send[st.sendOff:])
		switch err {
		case nil:
			st.sendOff += n
			if st.sendOff < len(st.send) {
				e.stats.shortSends++
			}
			continue
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if !st.sendBlocked {
				st.sendBlocked = true
				e.setInterest(fd)
			}
			return 0
		}
		errno, _ := err.(unix.Errno)
		st.send, st.sendOff, st.sendArmed, st.sendBlocked = nil, 0, false, false
		e.setInterest(fd)
		return e.deliver(h, OpSend, fd, -int32(errno), nil)
	}
	total := len(st.send)
	st.send, st.sendOff, st.sendArmed = nil, 0, false
	if st.sendBlocked {
		st.sendBlocked = false
		e.setInterest(fd)
	}
	return e.deliver(h, OpSend, fd, int32(total), nil)
}

// readSome reads what fd has, a bounded number of times, and delivers it.
func (e *epoll) readSome(fd int, h Handler) int {
	n := 0
	for i := 0; i < recvReadsPerWaitMax; i++ {
		k, err := unix.Read(fd, e.readBuf)
		switch {
		case err == unix.EAGAIN:
			return n
		case err == unix.EINTR:
			continue
		case err != nil:
			errno, _ := err.(unix.Errno)
			e.fds[fd].recvWant = false
			e.setInterest(fd)
			return n + e.deliver(h, OpRecv, fd, -int32(errno), nil)
		case k == 0:
			e.fds[fd].recvWant = false
			e.setInterest(fd)
			return n + e.deliver(h, OpRecv, fd, 0, nil)
		}
		n += e.deliver(h, OpRecv, fd, int32(k), e.readBuf[:k])
		st := &e.fds[fd]
		if st.closing || !st.recvWant || k < len(e.readBuf) {
			return n // a short read: the socket is most likely drained
		}
	}
	return n
}

func (e *epoll) acceptSome(lfd int, h Handler) int {
	n := 0
	for i := 0; i < acceptsPerWaitMax; i++ {
		// Raw accept4 with no address: unix.Accept4 allocates a Sockaddr.
		r, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), 0, 0,
			unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch errno {
		case 0:
		case unix.EAGAIN:
			return n
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default:
			return n + e.deliver(h, OpAccept, lfd, -int32(errno), nil)
		}
		fd := int(r)
		setNoDelay(fd)
		st := e.state(fd)
		*st = epollFD{known: true, gen: st.gen}
		n += e.deliver(h, OpAccept, fd, int32(fd), nil)
		if e.fds[lfd].closing {
			return n
		}
	}
	return n
}

func (e *epoll) Wait(timeout time.Duration, h Handler) error {
	if e.shut {
		return errors.New("ring: Wait after Shutdown")
	}
	n := e.deliverPending(h)
	n += e.flushSends(h)
	n += e.runFsyncs(h)
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	var ready int
	for {
		msec := 0
		if n == 0 && len(e.pending) == 0 && len(e.sendQueue) == 0 && len(e.fsyncQueue) == 0 {
			switch {
			case timeout < 0:
				msec = -1
			case timeout > 0:
				left := time.Until(deadline)
				if left <= 0 {
					return nil
				}
				msec = int((left + time.Millisecond - 1) / time.Millisecond)
			}
		}
		var err error
		ready, err = unix.EpollWait(e.epfd, e.events, msec)
		e.stats.enters++
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("ring: epoll_wait: %w", err)
		}
		break
	}
	for i := 0; i < ready; i++ {
		ev := e.events[i]
		fd := int(ev.Fd)
		if fd == e.wakeFD {
			unix.Read(e.wakeFD, e.wakeBuf[:])
			e.woken.Swap(false) // see uring.onWake
			n += e.deliver(h, OpWake, -1, 0, nil)
			continue
		}
		if fd >= len(e.fds) {
			continue
		}
		st := &e.fds[fd]
		if !st.known || st.closing {
			continue
		}
		if st.listener {
			n += e.acceptSome(fd, h)
			continue
		}
		if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 && st.sendBlocked && !st.sendQueued {
			n += e.trySend(fd, h)
		}
		st = &e.fds[fd]
		if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 && st.recvWant && !st.closing {
			n += e.readSome(fd, h)
		}
	}
	return nil
}

func (e *epoll) Shutdown() error {
	if e.shut {
		return nil
	}
	e.shut = true
	for fd := range e.fds {
		if e.fds[fd].known {
			unix.Close(fd)
		}
	}
	e.fds = nil
	e.wakeMu.Lock()
	e.wakeShut = true
	e.release()
	e.wakeMu.Unlock()
	return nil
}

// fdatasync runs fdatasync(2) on fd and returns 0 or -errno, as a CQE
// would; shared by epoll and io_uring without IORING_OP_FSYNC.
func fdatasync(fd int) int32 {
	for {
		err := unix.Fdatasync(fd)
		switch err {
		case nil:
			return 0
		case unix.EINTR:
			continue
		}
		errno, _ := err.(unix.Errno)
		return -int32(errno)
	}
}

// sendNoSignal is send(2) with MSG_NOSIGNAL: a peer that went away gives
// EPIPE, not a signal. Raw, because unix.Sendto does not return the count.
func sendNoSignal(fd int, b []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))),
		uintptr(len(b)), unix.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
