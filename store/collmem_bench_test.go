package store

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDictInsert fills a dict with 2M fields (the large form of a hash)
// and reports, besides the mean, the longest single Add among those that
// resized the index (resize-add-µs) and among all (longest-add-µs): an Add
// that does a whole resize at once stalls every client of the server. The
// index resizes progressively, so the first stays near the mean; the second
// also sees the arena and the record array growing by append (a memmove of
// the whole array) and GC pauses.
func BenchmarkDictInsert(b *testing.B) {
	const n = 2_000_000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "field:%d", i)
	}
	val := []byte("value:0123")
	var longest, longestResize time.Duration
	b.ReportAllocs()
	for b.Loop() {
		d := newDict(0)
		for _, k := range keys {
			slots := len(d.cur)
			t0 := time.Now()
			d.Add(k, val)
			dt := time.Since(t0)
			longest = max(longest, dt)
			if len(d.cur) != slots {
				longestResize = max(longestResize, dt)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/field")
	b.ReportMetric(float64(longestResize.Microseconds()), "resize-add-µs")
	b.ReportMetric(float64(longest.Microseconds()), "longest-add-µs")
}

// BenchmarkListPush pushes 4M elements onto a list (a job queue's backlog)
// and reports the longest single push: a ring that grows by copying an
// array of pointers stalled a push for hundreds of milliseconds at a few
// million elements.
func BenchmarkListPush(b *testing.B) {
	const n = 4_000_000
	v := []byte("a-job-payload-of-32-bytes-......")
	var longest time.Duration
	b.ReportAllocs()
	for b.Loop() {
		var l list
		for range n {
			t0 := time.Now()
			l.PushBack(v)
			longest = max(longest, time.Since(t0))
		}
		l.release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/push")
	b.ReportMetric(float64(longest.Microseconds()), "longest-push-µs")
}
