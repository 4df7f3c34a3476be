package ring_test

import (
	"runtime"
	"testing"
)

// BenchmarkEchoRoundTrip measures one small request and its reply through
// the ring: client write, OpRecv, Send, OpSend, client read. The client's
// syscalls are included; compare the backends with each other, not with
// a server benchmark.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			h := newHarness(b, backend, ringConfigDefault)
			defer h.shutdown()
			e := newRawEcho(b, h)
			for i := 0; i < 100; i++ {
				e.roundTrip()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.roundTrip()
			}
		})
	}
}
