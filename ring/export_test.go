package ring

// TestStats exposes the backend's counters to the black-box tests, so a test
// can check that the path it names was taken (a short send, ENOBUFS).
type TestStats struct {
	Enters, ShortSends, SendRetries, RecvNoBufs, RecvRearms, StaleCQEs int
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
		Enters: s.enters, ShortSends: s.shortSends, SendRetries: s.sendRetries,
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
