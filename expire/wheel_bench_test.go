package expire

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The benchmarks run against a wheel holding benchLive timers, the scale the
// store must handle, so that node accesses miss the caches as they will in
// the server. Run them one at a time; each builds its own wheel:
//
//	go test ./expire -run '^$' -bench . -benchtime 2s
const (
	benchLive  = 10_000_000
	benchStart = 1_700_000_000_000
	benchChunk = 1 << 20 // timers added (or cancelled) between two untimed refills
)

// benchTTLs returns n TTLs, log-uniform between 1 ms and 30 days: key TTLs
// are mostly seconds to hours, with tails on both sides.
func benchTTLs(n int) []int64 {
	rng := rand.New(rand.NewPCG(7, 7))
	ttls := make([]int64, n)
	for i := range ttls {
		ttls[i] = int64(math.Exp(rng.Float64() * math.Log(30*dayMs)))
	}
	return ttls
}

// benchWheel returns a wheel with benchLive timers of benchTTLs and their
// handles, with room for benchChunk more.
func benchWheel(b *testing.B, ttls []int64) (*Wheel, []Handle) {
	b.Helper()
	w := New(benchStart)
	w.Grow(benchLive + benchChunk)
	handles := make([]Handle, benchLive)
	for i := range handles {
		handles[i] = w.Add(benchStart+ttls[i%len(ttls)], uint64(i))
	}
	return w, handles
}

// cancelRandom cancels n random timers of handles (outside the timing), so
// that the free stack hands out nodes scattered over the array, as it does
// in a server whose keys come and go.
func cancelRandom(w *Wheel, handles []Handle, n int) []Handle {
	rng := rand.New(rand.NewPCG(10, 10))
	rng.Shuffle(len(handles), func(x, y int) { handles[x], handles[y] = handles[y], handles[x] })
	for _, h := range handles[len(handles)-n:] {
		w.Cancel(h)
	}
	return handles[:len(handles)-n]
}

// BenchmarkAdd: one Add with 10M timers live, on a node from the free stack
// (scattered, see cancelRandom). Every benchChunk adds, the added timers are
// cancelled outside the timing, so the live count stays between 10M-1M and
// 10M.
func BenchmarkAdd(b *testing.B) {
	ttls := benchTTLs(1 << 20)
	w, handles := benchWheel(b, ttls)
	cancelRandom(w, handles, benchChunk)
	added := make([]Handle, 0, benchChunk)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(added) == benchChunk {
			b.StopTimer()
			for _, h := range added {
				w.Cancel(h)
			}
			added = added[:0]
			b.StartTimer()
		}
		added = append(added, w.Add(benchStart+ttls[i&(len(ttls)-1)], uint64(i)))
		i++
	}
}

// BenchmarkCancel: one Cancel of a random live timer with 10M live. Every
// benchChunk cancels, as many timers are added back outside the timing (on
// the scattered nodes just freed) and shuffled.
func BenchmarkCancel(b *testing.B) {
	ttls := benchTTLs(1 << 20)
	w, handles := benchWheel(b, ttls)
	rng := rand.New(rand.NewPCG(8, 8))
	rng.Shuffle(len(handles), func(x, y int) { handles[x], handles[y] = handles[y], handles[x] })
	pool := append(make([]Handle, 0, benchChunk), handles[:benchChunk]...)
	refill := func() {
		for j := range benchChunk {
			pool = append(pool, w.Add(benchStart+ttls[j], uint64(j)))
		}
		rng.Shuffle(len(pool), func(x, y int) { pool[x], pool[y] = pool[y], pool[x] })
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(pool) == 0 {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		w.Cancel(pool[len(pool)-1])
		pool = pool[:len(pool)-1]
	}
}

// BenchmarkUpdate: one Update of a random live timer to a new deadline
// (a TTL refresh) with 10M live.
func BenchmarkUpdate(b *testing.B) {
	ttls := benchTTLs(1 << 20)
	w, handles := benchWheel(b, ttls)
	b.ReportAllocs()
	x := uint64(1)
	i := 0
	for b.Loop() {
		x = x*6364136223846793005 + 1442695040888963407
		w.Update(handles[(x>>32)%benchLive], benchStart+ttls[i&(len(ttls)-1)])
		i++
	}
}

// BenchmarkAdvance: one loop turn, one millisecond of time, with 10M timers
// live whose TTLs are spread evenly over 1000 s, so about 10,000 fire per
// turn. The callback adds a replacement timer (as a workload that keeps
// setting keys with TTLs does), so the wheel stays at 10M; ns/fire includes
// the cascading and that Add.
func BenchmarkAdvance(b *testing.B) {
	const spreadMs = 1_000_000
	w := New(benchStart)
	w.Grow(benchLive)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range benchLive {
		w.Add(benchStart+1+rng.Int64N(spreadMs), uint64(i))
	}
	ttls := make([]int64, 1<<20)
	for i := range ttls {
		ttls[i] = spreadMs - 1000 + rng.Int64N(2000)
	}
	now := int64(benchStart)
	fires := 0
	fire := func(v uint64) {
		w.Add(now+ttls[fires&(len(ttls)-1)], v)
		fires++
	}
	b.ReportAllocs()
	for b.Loop() {
		now++
		for w.Advance(now, 1000, fire) {
		}
	}
	b.ReportMetric(float64(fires)/float64(b.N), "fires/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(fires), "ns/fire")
}

// BenchmarkAdvanceIdle: a loop turn in which nothing is due, with 10M
// timers live a day or more away: the fixed cost of asking the wheel.
func BenchmarkAdvanceIdle(b *testing.B) {
	ttls := benchTTLs(1 << 20)
	w := New(benchStart)
	w.Grow(benchLive)
	for i := range benchLive {
		w.Add(benchStart+dayMs+ttls[i&(len(ttls)-1)], uint64(i))
	}
	now := int64(benchStart)
	fire := func(uint64) { b.Fatal("fired") }
	b.ReportAllocs()
	for b.Loop() {
		now++
		w.Advance(now, 1000, fire)
		_ = w.NextWakeMs()
	}
}

// BenchmarkAdvanceBurst: one Advance call with maxFire 10,000 while a
// million timers are due in the same millisecond (the stall one loop turn
// can see), beside 9M timers a day or more away, on scattered nodes (see
// cancelRandom); refilled outside the timing when they are gone.
func BenchmarkAdvanceBurst(b *testing.B) {
	const burst, maxFire = 1_000_000, 10_000
	ttls := benchTTLs(1 << 20)
	w := New(benchStart)
	w.Grow(benchLive)
	handles := make([]Handle, benchLive)
	for i := range handles {
		handles[i] = w.Add(benchStart+dayMs+ttls[i&(len(ttls)-1)], uint64(i))
	}
	cancelRandom(w, handles, burst)
	now := int64(benchStart)
	refill := func() {
		for i := range burst {
			w.Add(now+5000, uint64(i))
		}
		now += 5000
	}
	refill()
	fire := func(uint64) {}
	b.ReportAllocs()
	for b.Loop() {
		if !w.Advance(now, maxFire, fire) {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
	}
}
