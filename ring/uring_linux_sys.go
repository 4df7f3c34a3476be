package ring

// The kernel ABI of io_uring, transcribed from include/uapi/linux/io_uring.h
// (golang.org/x/sys has the syscall numbers but none of the structs). Only
// what this package uses is here. Layouts are checked by TestABISizes.

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Setup flags (io_uring_params.flags).
const (
	setupCQSize         = 1 << 3
	setupSubmitAll      = 1 << 7
	setupSingleIssuer   = 1 << 12
	setupDeferTaskrun   = 1 << 13
	setupNoSQArray      = 1 << 16
	setupFlagsPreferred = setupSingleIssuer | setupDeferTaskrun | setupCQSize | setupSubmitAll | setupNoSQArray
)

// Features (io_uring_params.features) this package needs.
const (
	featSingleMmap = 1 << 0
	featNoDrop     = 1 << 1
	featFastPoll   = 1 << 5
	featExtArg     = 1 << 8
	featNeeded     = featSingleMmap | featNoDrop | featFastPoll | featExtArg
)

// Opcodes (io_uring_sqe.opcode).
const (
	opFsync       = 3
	opAccept      = 13
	opAsyncCancel = 14
	opRead        = 22
	opSend        = 26
	opRecv        = 27
)

// neededOpcodes are probed at start; a kernel without one of them gets epoll.
var neededOpcodes = [...]struct {
	op   uint8
	name string
}{
	{opAccept, "ACCEPT"},
	{opAsyncCancel, "ASYNC_CANCEL"},
	{opRead, "READ"},
	{opSend, "SEND"},
	{opRecv, "RECV"},
}

// fsync_flags for FSYNC. FSYNC is probed but not needed: without it Fsync
// runs fdatasync(2) on the owner.
const fsyncDatasync = 1 << 0

// SQE flags (io_uring_sqe.flags).
const (
	sqeBufferSelect = 1 << 5
)

// ioprio flags for ACCEPT, SEND and RECV.
const (
	acceptMultishot   = 1 << 0
	recvsendPollFirst = 1 << 0
	recvMultishot     = 1 << 1
)

// cancel_flags for ASYNC_CANCEL.
const (
	cancelAll = 1 << 0
	cancelFD  = 1 << 1
	cancelAny = 1 << 2
)

// CQE flags.
const (
	cqeFBuffer     = 1 << 0
	cqeFMore       = 1 << 1
	cqeBufferShift = 16
)

// SQ ring flags (read by us, set by the kernel).
const (
	sqCQOverflow = 1 << 1
)

// io_uring_enter flags.
const (
	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3
)

// io_uring_register opcodes.
const (
	registerProbe    = 8
	registerPbufRing = 22
)

// mmap offsets of the rings.
const (
	offSQRing = 0
	offSQEs   = 0x10000000
)

const probeOpSupported = 1 << 0

type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqRingOffsets
	cqOff                                                                  cqRingOffsets
}

// sqe is struct io_uring_sqe (64 bytes, no SQE128). The unions are reduced to
// the member this package writes: opFlags is msg_flags, accept_flags,
// cancel_flags, rw_flags or fsync_flags depending on the opcode; bufGroup is buf_group.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufGroup    uint16
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	pad2        uint64
}

// cqe is struct io_uring_cqe (16 bytes, no CQE32).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// bufRingEntry is struct io_uring_buf. In entry 0, the field resv is the
// ring's tail (struct io_uring_buf_ring overlays it).
type bufRingEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	pad         uint16
	resv        [3]uint64
}

type getEventsArg struct {
	sigmask     uint64
	sigmaskSz   uint32
	minWaitUsec uint32
	ts          uint64
}

type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// probeOpsMax is the size of the probe's ops array: opcodes are a u8.
const probeOpsMax = 256

type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [probeOpsMax]probeOp
}

func ioUringSetup(entries uint32, p *uringParams) (int, error) {
	fd, _, errno := unix.RawSyscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// ioUringEnter goes through Syscall6, not RawSyscall: it may block, and the
// scheduler must know this thread is in the kernel.
func ioUringEnter(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete),
		uintptr(flags), uintptr(arg), argSize)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}

func ioUringRegister(fd int, opcode uint32, arg unsafe.Pointer, nrArgs uint32) error {
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(opcode), uintptr(arg),
		uintptr(nrArgs), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
