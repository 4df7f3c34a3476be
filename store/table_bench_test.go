package store

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchTable returns a table of n keys "key:<i>" with 16-byte values, the
// rehash finished, and the keys.
func benchTable(n int) (*Table, [][]byte) {
	t := NewTable()
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%d", i)
		id := t.Add(keys[i])
		t.SetStr(id, []byte("0123456789abcdef"))
	}
	for t.RehashStep(1 << 20) {
	}
	return t, keys
}

func benchSizes(b *testing.B, fn func(b *testing.B, n int)) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) { fn(b, n) })
	}
}

func BenchmarkTableFindHit(b *testing.B) {
	benchSizes(b, func(b *testing.B, n int) {
		t, keys := benchTable(n)
		// Visit keys in a random order so large tables pay their cache misses.
		order := rand.Perm(n)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := t.Find(keys[order[i]]); !ok {
				b.Fatal("miss")
			}
			if i++; i == n {
				i = 0
			}
		}
	})
}

func BenchmarkTableFindMiss(b *testing.B) {
	benchSizes(b, func(b *testing.B, n int) {
		t, _ := benchTable(n)
		misses := make([][]byte, 4096)
		for i := range misses {
			misses[i] = fmt.Appendf(nil, "absent:%d", i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := t.Find(misses[i&4095]); ok {
				b.Fatal("hit")
			}
			i++
		}
	})
}

func BenchmarkTableAddRemove(b *testing.B) {
	benchSizes(b, func(b *testing.B, n int) {
		t, _ := benchTable(n)
		key := []byte("transient:key")
		b.ReportAllocs()
		for b.Loop() {
			id := t.Add(key)
			t.Remove(id)
		}
	})
}

// BenchmarkTableInsert measures inserting n fresh keys into an empty table,
// including every grow and its progressive rehash.
func BenchmarkTableInsert(b *testing.B) {
	const n = 1_000_000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		t := NewTable()
		for _, k := range keys {
			t.SetStr(t.Add(k), k)
		}
		// Unmap now: the GC, which sees none of the mapped bytes, may not
		// run for a while and free it through the cleanup.
		t.Clear()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}

func BenchmarkTableSetStr(b *testing.B) {
	for _, size := range []int{16, 200, 100 << 10} {
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			t, keys := benchTable(1000)
			val := make([]byte, size)
			for _, k := range keys { // warm up: every value has its final size
				id, _ := t.Find(k)
				t.SetStr(id, val)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				id, _ := t.Find(keys[i%len(keys)])
				t.SetStr(id, val)
				i++
			}
		})
	}
}

// BenchmarkTableGC reports the duration of a full GC with a million keys in
// the table: with entries, slots and arena chunks mapped off the heap it
// stays small whatever the key count (compare with a map[string][]byte of the
// same keys).
func BenchmarkTableGC(b *testing.B) {
	const n = 1_000_000
	b.Run("table", func(b *testing.B) {
		t, _ := benchTable(n)
		for b.Loop() {
			runtime.GC()
		}
		runtime.KeepAlive(t)
	})
	b.Run("map", func(b *testing.B) {
		m := make(map[string][]byte, n)
		for i := range n {
			m[fmt.Sprintf("key:%d", i)] = []byte("0123456789abcdef")
		}
		for b.Loop() {
			runtime.GC()
		}
		runtime.KeepAlive(m)
	})
}
