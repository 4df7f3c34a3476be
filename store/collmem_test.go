package store

import (
	"fmt"
	"strconv"
	"testing"
)

// smallOffheap makes collections move their arrays off the heap from a
// few KiB on, so that tests of a few thousand members take the mapped
// paths (collGrow, mremap growth, release).
func smallOffheap(t *testing.T) {
	old := collOffheapMinBytes
	collOffheapMinBytes = 4096
	t.Cleanup(func() { collOffheapMinBytes = old })
}

// The model tests again, with the collections' arrays mapped.
func TestCollOffheapModels(t *testing.T) {
	smallOffheap(t)
	t.Run("dict", TestDictModel)
	t.Run("zset", TestZsetModel)
	t.Run("list", TestListModel)
	t.Run("list-slabs", TestListSlabModel)
	t.Run("list-queue", TestListQueueFreesSlabs)
	t.Run("list-ring", func(t *testing.T) {
		// Grow a mapped ring while it wraps, from either end.
		var l list
		var model []string
		for i := range 20000 {
			v := strconv.Itoa(i)
			if i%3 == 0 {
				l.PushFront([]byte(v))
				model = append([]string{v}, model...)
			} else {
				l.PushBack([]byte(v))
				model = append(model, v)
			}
			if i%5 == 0 {
				l.PopBack()
				model = model[:len(model)-1]
			}
		}
		if !offheapHolds(l.maps, l.buf) {
			t.Fatal("the ring of 20000 elements is not mapped: the test tests nothing new")
		}
		for i, want := range model {
			if got := string(l.At(i)); got != want {
				t.Fatalf("At(%d) = %q, want %q", i, got, want)
			}
		}
		c := l.clone()
		l.release()
		if c.Len() != len(model) || string(c.At(len(model)-1)) != model[len(model)-1] {
			t.Fatal("the clone lost elements when its source was released")
		}
	})
	t.Run("dict-alloc", func(t *testing.T) {
		d := newDict(0)
		for i := range 5000 {
			d.Add([]byte(strconv.Itoa(i)), []byte("v"))
		}
		if !offheapHolds(d.maps, d.recs) || !offheapHolds(d.maps, d.cur) {
			t.Fatal("recs and slots of 5000 fields are not mapped: the model runs test nothing new")
		}
		c := d.clone()
		if c.maps == d.maps || !offheapHolds(c.maps, c.recs) {
			t.Fatal("a clone shares its source's mappings or has none")
		}
		d.release()
		for i := range 5000 {
			if id, ok := c.Find([]byte(strconv.Itoa(i))); !ok || string(c.Val(id)) != "v" {
				t.Fatalf("clone lost field %d after its source was released", i)
			}
		}
		c.release()
	})
}

// collAccounts checks that every table's collBytes is the sum of what its
// values map, and returns the total.
func collAccounts(t *testing.T, s *Store) int {
	t.Helper()
	total := 0
	for i, tb := range s.dbs {
		sum := 0
		for _, v := range tb.objs {
			if c, ok := v.(collection); ok && c.offheap() != nil {
				sum += c.offheap().bytes
				if c.offheap().acct != &tb.collBytes {
					t.Fatalf("db %d: a value counts its bytes elsewhere", i)
				}
			}
		}
		if sum != tb.collBytes {
			t.Fatalf("db %d: values map %d bytes, collBytes %d", i, sum, tb.collBytes)
		}
		total += sum
	}
	return total
}

// A large collection's mappings live exactly as long as it is a value of
// the keyspace: counted in its table while there, moved with it by RENAME
// and MOVE, copied by COPY, released at the end of the turn (ReleaseDead)
// once deleted, overwritten or flushed, and still readable until then by
// the command that dropped it.
func TestCollLifecycle(t *testing.T) {
	smallOffheap(t)
	s, c := New(), &Ctx{}
	do := func(line string) string {
		t.Helper()
		cmd := Lookup(argvOf(line)[0])
		c.Out, c.Prop, c.Rewritten = c.Out[:0], c.Prop[:0], false
		s.Exec(c, cmd, argvOf(line))
		return string(c.Out)
	}
	fill := func(cmd, key string, n int, member func(i int) string) {
		t.Helper()
		for i := 0; i < n; i += 100 {
			line := cmd + " " + key
			for j := i; j < min(i+100, n); j++ {
				line += " " + member(j)
			}
			if r := do(line); r[0] != ':' {
				t.Fatalf("%s %s: %q", cmd, key, r)
			}
		}
	}
	mapsOf := func(db int, key string) *offheapSet {
		t.Helper()
		tb := s.dbs[db]
		id, ok := tb.Find([]byte(key))
		if !ok {
			t.Fatalf("db %d: %s missing", db, key)
		}
		m := tb.Obj(id).(collection).offheap()
		if m == nil || m.bytes == 0 {
			t.Fatalf("db %d: %s maps nothing", db, key)
		}
		return m
	}
	expect := func(line, want string) {
		t.Helper()
		if got := do(line); got != want {
			t.Fatalf("%s: %q, want %q", line, got, want)
		}
	}
	field := func(i int) string { return fmt.Sprintf("f%d v%d", i, i) }

	// A hash that converts from its small form while in the table counts
	// its mappings there from then on.
	fill("HSET", "h", 10, field)
	if collAccounts(t, s) != 0 {
		t.Fatal("a small hash maps memory")
	}
	fill("HSET", "h", 5000, field)
	hm := mapsOf(0, "h")
	if collAccounts(t, s) != hm.bytes || s.dbs[0].MemoryBytes() < hm.bytes {
		t.Fatal("the table does not count the hash's mappings")
	}

	// RENAME and MOVE move the value; nothing is released.
	expect("RENAME h h2", "+OK\r\n")
	expect("MOVE h2 1", ":1\r\n")
	s.ReleaseDead()
	if hm.bytes == 0 || mapsOf(1, "h2") != hm || s.dbs[0].collBytes != 0 {
		t.Fatal("RENAME or MOVE released or lost the value")
	}
	collAccounts(t, s)
	c.DB = 1
	expect("HGET h2 f4999", "$5\r\nv4999\r\n")

	// COPY makes a value of its own; deleting the source releases only the
	// source, at the end of the turn.
	expect("COPY h2 h3", ":1\r\n")
	if mapsOf(1, "h3") == hm {
		t.Fatal("COPY shares the mappings")
	}
	expect("DEL h2", ":1\r\n")
	if hm.bytes == 0 {
		t.Fatal("DEL released the hash at once: the turn may still read it")
	}
	collAccounts(t, s)
	s.ReleaseDead()
	if hm.bytes != 0 {
		t.Fatal("the deleted hash's mappings outlived the turn")
	}
	expect("HLEN h3", ":5000\r\n")
	expect("HGET h3 f123", "$4\r\nv123\r\n")

	// An overwrite by another type drops the value.
	h3 := mapsOf(1, "h3")
	expect("SET h3 x", "+OK\r\n")
	s.ReleaseDead()
	if h3.bytes != 0 || collAccounts(t, s) != 0 {
		t.Fatal("SET over a hash kept its mappings")
	}

	// ZRANGESTORE z z reads the set it replaces.
	c.DB = 0
	fill("ZADD", "z", 5000, func(i int) string { return fmt.Sprintf("%d m%d", i, i) })
	zm := mapsOf(0, "z")
	expect("ZRANGESTORE z z 10 2009", ":2000\r\n")
	collAccounts(t, s)
	s.ReleaseDead()
	if zm.bytes != 0 {
		t.Fatal("the replaced sorted set was not released")
	}
	expect("ZRANGE z 0 0 WITHSCORES", "*2\r\n$3\r\nm10\r\n$2\r\n10\r\n")
	expect("ZCARD z", ":2000\r\n")

	// Set results that are not stored go at once; stored ones replace dst.
	fill("SADD", "a", 3000, func(i int) string { return "a" + strconv.Itoa(i) })
	fill("SADD", "b", 3000, func(i int) string { return "b" + strconv.Itoa(i) })
	if r := do("SUNION a b"); len(r) < 4 || r[:5] != "*6000" {
		t.Fatalf("SUNION: %.20q", r)
	}
	if len(s.dead) != 0 {
		t.Fatal("SUNION queued its keyspace values for release")
	}
	am := mapsOf(0, "a")
	expect("SUNIONSTORE a a b", ":6000\r\n")
	s.ReleaseDead()
	if am.bytes != 0 {
		t.Fatal("the overwritten set was not released")
	}
	expect("SCARD a", ":6000\r\n")
	collAccounts(t, s)

	// A list: its ring is mapped once long; LMOVE within it and RENAME keep
	// it, DEL releases it.
	fill("RPUSH", "l", 3000, func(i int) string { return "e" + strconv.Itoa(i) })
	lm := mapsOf(0, "l")
	expect("LMOVE l l LEFT RIGHT", "$2\r\ne0\r\n")
	expect("RENAME l l2", "+OK\r\n")
	s.ReleaseDead()
	if lm.bytes == 0 || mapsOf(0, "l2") != lm {
		t.Fatal("LMOVE or RENAME released the list")
	}
	expect("LINDEX l2 -1", "$2\r\ne0\r\n")
	expect("LINDEX l2 0", "$2\r\ne1\r\n")
	collAccounts(t, s)
	expect("DEL l2", ":1\r\n")
	s.ReleaseDead()
	if lm.bytes != 0 {
		t.Fatal("the deleted list's ring is still mapped")
	}
	collAccounts(t, s)

	// FLUSHALL drops everything.
	left := []*offheapSet{mapsOf(0, "a"), mapsOf(0, "b"), mapsOf(0, "z")}
	expect("FLUSHALL", "+OK\r\n")
	if collAccounts(t, s) != 0 {
		t.Fatal("FLUSHALL left collection bytes counted")
	}
	s.ReleaseDead()
	for _, m := range left {
		if m.bytes != 0 {
			t.Fatal("FLUSHALL did not release a collection")
		}
	}
}
