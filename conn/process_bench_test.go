package conn

import (
	"testing"

	"github.com/ringkv/ringkv/conn/resp"
)

// BenchmarkProcess measures ringkv's own work per request, without the
// kernel: parse, execute and reply for a pipeline of 16 commands.
func BenchmarkProcess(b *testing.B) {
	for _, bc := range []struct {
		name string
		argv [][]byte
	}{
		{"PING", [][]byte{[]byte("PING")}},
		{"GET", [][]byte{[]byte("GET"), []byte("key:000000000001")}},
		{"SET", [][]byte{[]byte("SET"), []byte("key:000000000001"), []byte("xxx")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewServer(Config{})
			cl := &client{srv: s, fd: -1, id: 1}
			cl.ctx.Client = cl
			cl.parser.Reset()
			var req []byte
			for range 16 {
				req = resp.AppendCommand(req, bc.argv...)
			}
			s.store.Exec(&cl.ctx, lookupCmd("set"), [][]byte{[]byte("set"), []byte("key:000000000001"), []byte("xxx")})
			b.ReportAllocs()
			b.SetBytes(int64(len(req)))
			b.ResetTimer()
			for i := 0; i < b.N; i += 16 {
				cl.qbuf = append(cl.qbuf[:0], req...)
				cl.qpos = 0
				s.process(cl)
				cl.ctx.Out = cl.ctx.Out[:0]
				s.pending = s.pending[:0]
				cl.queued = false
			}
		})
	}
}
