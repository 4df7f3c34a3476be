package conn

import (
	"testing"

	"github.com/ringkv/ringkv/conn/resp"
)

// TestRequestPathZeroAlloc pins the design rule that the request path does
// not allocate: parse, execute and reply for PING, GET and SET, once the
// client's buffers and the key exist.
func TestRequestPathZeroAlloc(t *testing.T) {
	s := NewServer(Config{Logger: newTestLogger(t)})
	cl := &client{srv: s, fd: -1, id: 1}
	cl.ctx.Client = cl
	cl.ctx.Out = make([]byte, 0, 4096)
	cl.parser.Reset()
	cases := []struct {
		name string
		req  []byte
	}{
		{"PING", resp.AppendCommand(nil, []byte("PING"))},
		{"PING inline", []byte("PING\r\n")},
		{"SET", resp.AppendCommand(nil, []byte("SET"), []byte("key:000001"), []byte("value-value-value"))},
		{"GET", resp.AppendCommand(nil, []byte("GET"), []byte("key:000001"))},
		{"GET miss", resp.AppendCommand(nil, []byte("GET"), []byte("nokey"))},
		{"INCR", resp.AppendCommand(nil, []byte("INCR"), []byte("counter"))},
	}
	for _, tc := range cases {
		run := func() {
			cl.qbuf = append(cl.qbuf[:0], tc.req...)
			cl.qpos = 0
			s.process(cl)
			if len(cl.ctx.Out) == 0 || cl.ctx.Out[0] == '-' {
				t.Fatalf("%s: reply %q", tc.name, cl.ctx.Out)
			}
			cl.ctx.Out = cl.ctx.Out[:0]
			s.pending = s.pending[:0]
			cl.queued = false
		}
		run() // create the key and size the buffers
		if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
			t.Errorf("%s: %.2f allocations per request, want 0", tc.name, allocs)
		}
	}
}
