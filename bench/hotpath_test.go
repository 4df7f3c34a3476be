package bench

import (
	"math/rand/v2"
	"testing"

	"github.com/ringkv/ringkv/conn/resp"
)

// hotPath is one closed-loop batch without the sockets: pick, encode,
// parse the replies, record.
type hotPath struct {
	cl      *client
	cw      *compiled
	ops     []int
	wbuf    []byte
	replies []byte
	rb      readBuf
	t       int64
}

func newHotPath(tb testing.TB, w Workload, pipeline int) *hotPath {
	cw, err := compileWorkload(w)
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := newKeyShared(Zipfian, 100000, 0.99)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	r := &run{cw: cw, cfg: &Config{}}
	sh := &shard{errors: make([]int64, len(cw.templates))}
	for range cw.templates {
		sh.hist = append(sh.hist, newHist())
	}
	cl := &client{r: r, rng: rng, sh: sh, enc: newEncoder(rng, ks.newKeyGen(rng, 0, 1), valueSize{16, 256}, cw.maxArgs)}
	h := &hotPath{cl: cl, cw: cw, ops: make([]int, pipeline), wbuf: make([]byte, 0, 64<<10), rb: readBuf{buf: make([]byte, 64<<10)}}
	// Replies as a server sends them: a bulk for GET, +OK for SET.
	for range pipeline {
		h.replies = resp.AppendBulkString(h.replies, "some value of a key")
	}
	return h
}

func (h *hotPath) batch() {
	h.wbuf = h.wbuf[:0]
	for i := range h.ops {
		h.ops[i] = h.cl.pickOp()
		h.wbuf = h.cl.enc.appendRequest(h.wbuf, h.cw.templates[h.ops[i]])
	}
	h.rb.start, h.rb.end = 0, copy(h.rb.buf, h.replies)
	h.cl.sh.mu.Lock()
	for got := 0; got < len(h.ops); got++ {
		reply, isErr, err := h.rb.next()
		if err != nil || reply == nil {
			panic("BUG: reply not parsed")
		}
		h.t += 1000
		h.cl.sh.record(h.ops[got], 1000+h.t%50000, h.t, isErr)
	}
	h.cl.sh.mu.Unlock()
}

func mixedWorkload(tb testing.TB) Workload {
	w, err := WorkloadByName("mixed")
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// TestHotPathAllocs pins the client's request path at zero allocations:
// encode (with placeholders and a value-size range), parse, record.
func TestHotPathAllocs(t *testing.T) {
	for _, name := range []string{"ping", "mixed", "ttl", "zset"} {
		w, err := WorkloadByName(name)
		if err != nil {
			t.Fatal(err)
		}
		h := newHotPath(t, w, 16)
		h.batch() // grow the argument buffers to their steady size
		if n := testing.AllocsPerRun(200, h.batch); n != 0 {
			t.Errorf("%s: %v allocations per batch of 16, want 0", name, n)
		}
	}
}

func BenchmarkHotPath(b *testing.B) {
	for _, p := range []int{1, 16} {
		b.Run("P"+itoa(p), func(b *testing.B) {
			h := newHotPath(b, mixedWorkload(b), p)
			h.batch()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.batch()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*p), "ns/request")
		})
	}
}

func itoa(n int) string { return string(appendPadded(nil, uint64(n), 0)) }
