package store

import (
	"strconv"
	"strings"
	"testing"
)

// benchExec runs argv through Lookup and Exec as the event loop does,
// reusing one Ctx, and fails the benchmark on an error reply.
func benchExec(b *testing.B, s *Store, c *Ctx, argv [][]byte) {
	cmd := Lookup(argv[0])
	c.Out, c.Prop, c.Rewritten = c.Out[:0], c.Prop[:0], false
	s.Exec(c, cmd, argv)
	if len(c.Out) > 0 && c.Out[0] == '-' {
		b.Fatalf("%q: %s", argv, c.Out)
	}
}

// BenchmarkPopLarge pops from a collection as large as redis-benchmark's
// prefilled pop tests (scripts/bench-collections.sh): every op removes the
// end element of a key that holds b.N of them.
func BenchmarkPopLarge(b *testing.B) {
	for _, tc := range []struct{ name, fill, pop string }{
		{"ZPOPMIN", "ZADD", "ZPOPMIN"},
		{"LPOP", "RPUSH", "LPOP"},
		{"SPOP", "SADD", "SPOP"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, c := New(), &Ctx{}
			key := []byte("k")
			const batch = 100
			for i := 0; i < b.N; i += batch {
				argv := [][]byte{[]byte(tc.fill), key}
				for j := i; j < min(i+batch, b.N); j++ {
					if tc.fill == "ZADD" {
						argv = append(argv, []byte(strconv.Itoa(j)))
					}
					argv = append(argv, []byte("element:"+strconv.Itoa(j)))
				}
				benchExec(b, s, c, argv)
			}
			pop := [][]byte{[]byte(tc.pop), key}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				benchExec(b, s, c, pop)
			}
		})
	}
}

func argvOf(line string) [][]byte {
	var argv [][]byte
	for _, f := range strings.Fields(line) {
		argv = append(argv, []byte(f))
	}
	return argv
}

// The collection commands redis-benchmark measures, and the common reads
// and updates beside them, allocate nothing once their keys exist (the
// request path's rule, DESIGN.md), on small and large encodings. Each runs
// 50 times in a row: pushes before pops, so no key runs out; AllocsPerRun
// rounds down, so an encoding conversion or a buffer growing once among the
// runs does not count, an allocation in every run does.
func TestCollectionCommandsNoAlloc(t *testing.T) {
	for _, size := range []int{60, 1000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			s, c := New(), &Ctx{}
			exec := func(argv [][]byte) {
				c.Out, c.Prop, c.Rewritten = c.Out[:0], c.Prop[:0], false
				s.Exec(c, Lookup(argv[0]), argv)
				if len(c.Out) > 0 && c.Out[0] == '-' {
					t.Fatalf("%q: %s", argv, c.Out)
				}
			}
			for i := range size {
				n := strconv.Itoa(i)
				exec(argvOf("RPUSH mylist v" + n))
				exec(argvOf("SADD myset element:" + n))
				exec(argvOf("HSET myhash element:" + n + " v"))
				exec(argvOf("ZADD myzset " + n + " element:" + n))
			}
			for _, line := range []string{
				"LPUSH mylist xxx", "RPUSH mylist xxx", "LPOP mylist", "RPOP mylist",
				"SADD myset element:1", "HSET myhash element:1 yyy", "SPOP myset",
				"ZADD myzset 2.5 element:1", "ZADD myzset 1 element:1", "ZINCRBY myzset 1000.5 element:2",
				"ZINCRBY myzset 0.001 element:3", "ZPOPMIN myzset", "ZPOPMAX myzset",
				"LRANGE mylist 0 99", "LINDEX mylist 5", "HGET myhash element:1", "HGETALL myhash",
				"SMEMBERS myset", "SISMEMBER myset element:3", "ZSCORE myzset element:30", "ZRANK myzset element:30",
				"ZRANGE myzset 0 9 WITHSCORES", "ZRANGEBYSCORE myzset 1 50 WITHSCORES LIMIT 0 10",
			} {
				argv := argvOf(line)
				exec(argv) // the first use may grow the reply and scratch buffers
				if n := testing.AllocsPerRun(50, func() { exec(argv) }); n != 0 {
					t.Errorf("%s: %v allocations per run", line, n)
				}
			}
		})
	}
}

// BenchmarkLrange is redis-benchmark's LRANGE_100 and LRANGE_600: the
// first elements of a list of 3-byte values.
func BenchmarkLrange(b *testing.B) {
	for _, n := range []string{"99", "599"} {
		b.Run("0.."+n, func(b *testing.B) {
			s, c := New(), &Ctx{}
			for range 10 {
				benchExec(b, s, c, argvOf("LPUSH mylist "+strings.Repeat("xxx ", 100)))
			}
			argv := argvOf("LRANGE mylist 0 " + n)
			b.ReportAllocs()
			for b.Loop() {
				benchExec(b, s, c, argv)
			}
		})
	}
}
