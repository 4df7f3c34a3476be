package ring

import "time"

// Op says which operation a Completion finishes.
type Op uint8

const (
	// OpAccept: a new connection. FD is the accepted socket (non-blocking,
	// close-on-exec). Res < 0 (-errno) reports an accept error; the listener
	// stays armed.
	OpAccept Op = iota + 1
	// OpRecv: bytes arrived on FD. Data is borrowed from the ring and valid
	// only until the Handler returns. Res = len(Data) > 0; Res == 0 is EOF,
	// Res < 0 is -errno. After Res <= 0 the receive is no longer armed.
	OpRecv
	// OpSend: the whole buffer given to Send was written (Res = its length),
	// or the send failed (Res = -errno). Only now may the buffer be reused.
	OpSend
	// OpClose: FD is closed; every operation that was in flight on it has
	// been cancelled and reaped. No completion for this FD follows, and the
	// number may be reused by a later OpAccept.
	OpClose
	// OpWake: another goroutine called Wake.
	OpWake
	// OpFsync: the fdatasync asked for by Fsync finished. FD is the file and
	// Token the caller's token given to Fsync; Res is 0 or -errno.
	OpFsync
)

// Completion is one finished operation, handed to the Handler during Wait.
type Completion struct {
	Op   Op
	FD   int32
	Res  int32
	Data []byte
	// Token is the caller's token of an OpFsync, 0 for every other Op.
	Token uint32
}

// Handler is called on the owner goroutine once per completion. c and
// c.Data must not be retained after it returns.
type Handler func(c *Completion)

// Ring is a completion-queue driver. It is not goroutine-safe: one goroutine,
// locked to its OS thread, creates it and makes every call except Wake.
type Ring interface {
	// Backend names the implementation: "uring" or "epoll".
	Backend() string
	// Listen arms accepting on a bound, listening socket.
	Listen(fd int) error
	// Recv arms receiving on fd until EOF, an error, PauseRecv or Close.
	Recv(fd int)
	// PauseRecv stops receiving on fd; unread bytes stay in the socket until
	// Recv is called again. OpRecv completions already under way may still be
	// delivered after PauseRecv.
	PauseRecv(fd int)
	// Send writes all of b to fd. At most one Send per fd may be in flight:
	// the next Send waits for OpSend. A short write is resubmitted by the ring.
	// b must stay unmodified and referenced until OpSend.
	Send(fd int, b []byte)
	// Close cancels whatever is in flight on fd, waits for it, closes fd and
	// then delivers OpClose.
	Close(fd int)
	// Fsync makes the data written to fd durable, as fdatasync(2) does, and
	// delivers one OpFsync carrying fd, token and the result. fd is the
	// caller's (a regular file, typically): the ring neither takes it over
	// nor closes it, and the caller must keep it open until OpFsync. Any
	// number may be in flight, on one fd or several; they may complete in
	// any order. On io_uring the owner does not wait for the disk; on epoll
	// (and on a kernel without IORING_OP_FSYNC) the fdatasync runs on the
	// owner during the next Wait, after that Wait has started its sends.
	Fsync(fd int, token uint32)
	// Wait submits everything queued since the last Wait, waits until at least
	// one completion is ready or timeout passes (timeout < 0: no limit;
	// 0: do not block), and calls h for every ready completion.
	Wait(timeout time.Duration, h Handler) error
	// Wake makes a Wait in progress (or the next one) return with OpWake.
	// Safe to call from any goroutine.
	Wake()
	// Shutdown releases the ring and closes the sockets it still holds.
	Shutdown() error
}
