// Package ring is ringkv's completion-queue driver: it accepts connections,
// receives and sends bytes, closes sockets, makes files durable (fdatasync)
// and wakes its owner, and reports each finished operation as a Completion
// handed to a Handler during Wait.
// It imports no package of ours.
//
// # What it owns
//
// Two backends behind the Ring interface (ring.go), one per file:
// uring_linux.go drives io_uring directly over raw syscalls (no cgo, no
// library; the kernel ABI is in uring_linux_sys.go), and epoll_linux.go
// emulates the same completions with level-triggered epoll. Both own every
// socket they are given or accept until OpClose, the receive buffers, and a
// reference to each in-flight send buffer. A file given to Fsync stays the
// caller's. select.go chooses between them.
//
// # Invariants
//
//   - One ring per locked OS thread. The goroutine that calls New must have
//     called runtime.LockOSThread, and it alone calls the methods, except
//     Wake, which any goroutine may call: it only writes an eventfd, never
//     touches the queues. The io_uring backend is created SINGLE_ISSUER and
//     DEFER_TASKRUN, so the kernel refuses io_uring_enter from any other
//     thread (EEXIST). Wait must not be called from inside a Handler.
//   - Memory the kernel touches is mmap'ed or referenced until its
//     completion. The SQ/CQ rings, the provided buffer ring, the receive
//     buffers and the wake counter are mappings, never Go memory. A send
//     buffer stays referenced from the fd's state, and pinned, until the
//     send's final CQE.
//   - user_data is kind (8 bits) | generation (24 bits) | fd (32 bits),
//     never a Go pointer. The fd's generation is bumped when it is closed;
//     a CQE naming an old generation is dropped (its buffer recycled).
//   - One send in flight per socket. A short send is resubmitted from where
//     it stopped, still the only one in flight, so bytes stay in order; the
//     Handler sees one OpSend when the whole buffer is written or failed.
//   - A multishot (accept, recv) that ends without F_MORE is never
//     forgotten: ENOBUFS, a cancel followed by Recv, or data without F_MORE
//     re-arm it; EOF and errors are reported (OpRecv with Res <= 0) and leave
//     it disarmed; an accept error is reported and the accept re-armed,
//     unless the listener itself is broken (EINVAL, EBADF, ENOTSOCK).
//   - Close only after cancel and reap. Close cancels everything on the fd
//     (ASYNC_CANCEL by fd, all; shutdown(2) if the kernel refuses that),
//     waits until every operation on it has completed, then calls close(2)
//     and delivers OpClose. After Close is called, the only completion for
//     that fd is one OpClose; after OpClose the number may come back from
//     an accept as a new connection.
//   - Fsync delivers exactly one OpFsync (FD, the caller's Token, Res = 0
//     or -errno, as fdatasync(2) would return: -EINVAL for a pipe or a
//     socket, -EBADF for a closed fd). The fd is not entered in the fd
//     table: the CQE names a slot of the Fsyncs in flight, and Shutdown
//     never closes the file. The caller keeps the fd open until OpFsync
//     (io_uring takes its reference to the file only when the SQE is
//     submitted, at the next Wait; a number closed and reused before then
//     would be synced in its place). On io_uring, FSYNC with
//     IORING_FSYNC_DATASYNC runs in the kernel's workers and the owner goes
//     on; epoll has no such operation, so the fdatasync runs on the owner
//     at the start of the next Wait, after the sends queued before it are
//     started (as Redis's beforeSleep fsyncs). On a kernel without FSYNC
//     the io_uring backend does the same in Fsync itself and delivers the
//     completion at the next Wait. Shutdown waits for the Fsyncs in the
//     kernel; on epoll one not yet run is dropped.
//   - Received bytes are borrowed: Completion.Data points into a provided
//     buffer that goes back to the kernel as soon as the Handler returns.
//   - Steady-state operation allocates nothing: per-fd state lives in slices
//     indexed by fd (grown on demand), completions are made up in reused
//     slices, and the Completion handed to the Handler is reused.
//
// # What the caller gets
//
// Accepted sockets are non-blocking, close-on-exec and have TCP_NODELAY set
// (as Redis does). Listen makes the listener non-blocking too. OpAccept
// carries the new fd in FD and Res; an accept error carries the listener in
// FD and -errno in Res. OpWake has FD -1. OpFsync has the file in FD and the
// caller's token in Token. Shutdown closes every socket the ring still holds,
// listeners included.
//
// # Choosing the backend
//
// New picks the backend once, and returns a reason to log:
//
//  1. An explicit choice wins: Config.Backend, or when that is empty the
//     RINGKV_IO environment variable ("auto", "uring", "epoll"). An explicit
//     "uring" that cannot run is an error, not a fallback.
//  2. Under auto, kernel.io_uring_disabled = 2 means epoll.
//  3. io_uring_setup is tried with SINGLE_ISSUER | DEFER_TASKRUN | CQSIZE
//     (CQ = 4 x SQ) | SUBMIT_ALL | NO_SQARRAY, dropping flags on EINVAL. Any
//     other failure (EPERM from a seccomp profile, ENOSYS, ENOMEM) means
//     epoll.
//  4. The features (SINGLE_MMAP, NODROP, FAST_POLL, EXT_ARG) and opcodes
//     (ACCEPT, RECV, SEND, ASYNC_CANCEL, READ) the backend uses are probed;
//     the provided buffer ring must register. FSYNC is probed too, but a
//     kernel without it keeps io_uring (Fsync falls back to fdatasync(2)).
//  5. A self-test runs the real path on a socketpair: a multishot recv with a
//     provided buffer must deliver the bytes and stay armed, and Close must
//     cancel it and deliver OpClose. A failure means epoll.
package ring
