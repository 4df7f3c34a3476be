package ring

// TestStats exposes the backend's counters to the black-box tests, so a test
// can check that the path it names was taken (a short send, ENOBUFS).
type TestStats struct {
	Enters, EarlySubmits, CQOverflows, ShortSends, SendRetries, RecvNoBufs, RecvRearms, StaleCQEs int
}

func StatsOf(r Ring) TestStats {
	var s stats
	switch x := r.(type) {
	case *uring:
		s = x.stats
	case *epoll:
		s = x.stats
	}
	return TestStats{
		Enters: s.enters, EarlySubmits: s.earlySubmits, CQOverflows: s.cqOverflows, ShortSends: s.shortSends, SendRetries: s.sendRetries,
		RecvNoBufs: s.recvNoBufs, RecvRearms: s.recvRearms, StaleCQEs: s.staleCQEs,
	}
}

// InFlight reports how many operations the io_uring backend has in the
// kernel (always 0 for epoll).
func InFlight(r Ring) int {
	if u, ok := r.(*uring); ok {
		return u.ops
	}
	return 0
}

// CompatSetupFlags is the io_uring setup of an older kernel: no
// SINGLE_ISSUER, no DEFER_TASKRUN (completions are posted asynchronously),
// and an SQ indirection array.
const CompatSetupFlags = setupCQSize | setupSubmitAll

// ForceSetupFlags makes newUring try only flags, until restore is called.
func ForceSetupFlags(flags uint32) (restore func()) {
	saved := setupAttempts
	for i := range setupAttempts {
		setupAttempts[i] = flags
	}
	return func() { setupAttempts = saved }
}

// SetupFlags reports the io_uring setup flags in effect (0 for epoll).
func SetupFlags(r Ring) uint32 {
	if u, ok := r.(*uring); ok {
		return u.flags
	}
	return 0
}

// UringFsyncOp reports whether the io_uring backend submits FSYNC (false
// for epoll, and for a kernel without the opcode).
func UringFsyncOp(r Ring) bool {
	u, ok := r.(*uring)
	return ok && u.fsyncOp
}

// DisableFsyncOp makes the io_uring backend behave as on a kernel without
// IORING_OP_FSYNC, so the fallback is tested too.
func DisableFsyncOp(r Ring) {
	if u, ok := r.(*uring); ok {
		u.fsyncOp = false
	}
}
