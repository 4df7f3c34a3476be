package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/ringkv/ringkv/conn/resp"
)

// A rewrite's output replayed into an empty store gives the same keyspace,
// for every kind in both of its encodings, with large values split into
// commands of at most dumpItemsPerCmd items.
func TestDumpRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(uint64(testSeed(t)), 0))
	h := newExpireHarness(t)
	for _, n := range []int{1, 5, 64, 65, 200} {
		s := strconv.Itoa(n)
		for i := range n {
			v := strconv.Itoa(rnd.IntN(1000))
			h.do("RPUSH", "list"+s, "e"+v)
			h.do("HSET", "hash"+s, "f"+strconv.Itoa(i), v)
			h.do("SADD", "set"+s, "m"+v)
			h.do("SADD", "intset"+s, v)
			h.do("ZADD", "zset"+s, strconv.FormatFloat(rnd.NormFloat64()*1e10, 'g', -1, 64), "m"+v)
		}
	}
	h.do("ZADD", "zinf", "-inf", "a", "inf", "b", "0.1", "c")
	h.do("SET", "str", "v")
	h.do("PEXPIREAT", "hash5", strconv.FormatInt(h.now+1e6, 10))
	h.do("SELECT", "7")
	h.do("RPUSH", "in7", "x")
	h.do("SELECT", "0")

	d := h.s.NewDumper()
	var out []byte
	for !d.Done() {
		out = d.Step(out, h.now, 1024, 16)
	}
	h2 := newExpireHarness(t)
	h2.now = h.now
	var p resp.Parser
	maxItems := 0
	for pos := 0; pos < len(out); {
		argv, next, err := p.Next(out, pos)
		if err != nil || next == pos {
			t.Fatalf("dump does not parse at %d: %v", pos, err)
		}
		pos = next
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = string(a)
		}
		switch args[0] {
		case "RPUSH", "SADD":
			maxItems = max(maxItems, len(args)-2)
		case "HSET", "ZADD":
			maxItems = max(maxItems, (len(args)-2)/2)
		}
		if r := h2.do(args...); len(r) > 0 && r[0] == '-' {
			t.Fatalf("%q: %s", args, r)
		}
	}
	if maxItems != dumpItemsPerCmd {
		t.Fatalf("largest command has %d items, want %d", maxItems, dumpItemsPerCmd)
	}
	for _, db := range []int{0, 7} {
		h.do("SELECT", strconv.Itoa(db))
		h2.do("SELECT", strconv.Itoa(db))
		if a, b := h.dbLen(db), h2.dbLen(db); a != b {
			t.Fatalf("db %d: %d keys, %d after replay", db, a, b)
		}
		keys := h.do("KEYS", "*")
		for _, k := range splitBulks(keys) {
			if a, b := dumpView(h, k), dumpView(h2, k); a != b {
				t.Fatalf("key %s:\n%s\nafter replay\n%s", k, b, a)
			}
		}
	}
}

// splitBulks returns the bulk strings of a flat array reply.
func splitBulks(r string) []string {
	var out []string
	for i := 0; i < len(r); {
		if r[i] != '$' {
			for i < len(r) && r[i] != '\n' {
				i++
			}
			i++
			continue
		}
		j := i
		for r[j] != '\r' {
			j++
		}
		n, _ := strconv.Atoi(r[i+1 : j])
		out = append(out, r[j+2:j+2+n])
		i = j + 2 + n + 2
	}
	return out
}

// dumpView is a key's value and TTL as text, with unordered collections
// sorted.
func dumpView(h *expireHarness, k string) string {
	var v []string
	switch h.do("TYPE", k) {
	case "+string\r\n":
		v = []string{h.do("GET", k)}
	case "+list\r\n":
		v = splitBulks(h.do("LRANGE", k, "0", "-1"))
	case "+hash\r\n":
		v = splitBulks(h.do("HGETALL", k))
		var pairs []string
		for i := 0; i+1 < len(v); i += 2 {
			pairs = append(pairs, v[i]+"="+v[i+1])
		}
		v = pairs
		slices.Sort(v)
	case "+set\r\n":
		v = splitBulks(h.do("SMEMBERS", k))
		slices.Sort(v)
	case "+zset\r\n":
		v = splitBulks(h.do("ZRANGE", k, "0", "-1", "WITHSCORES"))
	}
	return fmt.Sprint(v, h.do("PEXPIRETIME", k))
}

// Large values are dumped over several steps (Dumper.cur). Between the
// steps the test writes as the event loop does (Touch before a write, the
// command's log after, Mark), to the key being dumped and to others, in two
// databases, and lets a key expire in the middle of its dump: the base and
// the commands logged since it began replay to the live keyspace.
func TestDumpResumesAcrossWrites(t *testing.T) {
	seed := testSeed(t)
	rnd := rand.New(rand.NewPCG(uint64(seed), 3))
	h := newExpireHarness(t)
	const n = 3000
	fill := func(db int, cmd, key string, pairs bool) {
		h.c.DB = db
		for i := 0; i < n; i += 100 {
			args := []string{cmd, key}
			for j := i; j < i+100; j++ {
				if pairs {
					args = append(args, strconv.Itoa(j), "m"+strconv.Itoa(j))
				} else {
					args = append(args, "m"+strconv.Itoa(j))
				}
			}
			h.do(args...)
		}
	}
	fill(0, "HSET", "h", true)
	fill(0, "ZADD", "z", true)
	fill(0, "SADD", "s", false)
	fill(0, "RPUSH", "l", false)
	fill(0, "HSET", "e", true)
	fill(3, "HSET", "h3", true)
	h.c.DB = 0
	h.do("SET", "str", "v")
	h.do("PEXPIREAT", "e", strconv.FormatInt(h.now+50, 10))

	d := h.s.NewDumper()
	var base, incr []byte
	logCmd := func(db int, cmds []byte) {
		incr = resp.AppendCommand(incr, []byte("SELECT"), []byte(strconv.Itoa(db)))
		incr = append(incr, cmds...)
	}
	h.s.OnExpired = func(db int, key []byte) { logCmd(db, resp.AppendCommand(nil, []byte("DEL"), key)) }
	write := func(db int, args ...string) {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		base = d.Touch(base, db, argv, h.now)
		h.c.DB = db
		dirty := h.s.Stats.Dirty
		h.do(args...)
		prop := h.c.Prop
		if !h.c.Rewritten && h.s.Stats.Dirty != dirty {
			prop = resp.AppendCommand(slices.Clone(prop), argv...)
		}
		if len(prop) > 0 {
			logCmd(db, prop)
		}
		d.Mark(db, argv)
		h.c.DB = 0
	}
	unfinished := 0
	for step := 0; !d.Done(); step++ {
		base = d.Step(base, h.now, 512, 16)
		if d.cur.active {
			unfinished++
		}
		if step == 30 {
			h.advance(100) // e expires, whether or not its dump has begun
		}
		for range rnd.IntN(3) {
			i := strconv.Itoa(rnd.IntN(2 * n))
			switch rnd.IntN(8) {
			case 0:
				write(0, "HSET", "h", i, "new"+i)
			case 1:
				write(0, "ZADD", "z", i, "m"+i)
			case 2:
				write(0, "SREM", "s", "m"+i)
			case 3:
				write(0, "RPUSH", "l", "new"+i)
			case 4:
				write(0, "LPOP", "l")
			case 5:
				write(3, "HDEL", "h3", i)
			case 6:
				write(0, "APPEND", "str", "x")
			default:
				write(3, "SET", "k3"+i, i)
			}
		}
	}
	if unfinished == 0 {
		t.Fatal("no step left a key unfinished: the test does not test resuming")
	}
	h2 := newExpireHarness(t)
	h2.now = h.now
	var p resp.Parser
	all := append(slices.Clone(base), incr...)
	for pos := 0; pos < len(all); {
		argv, next, err := p.Next(all, pos)
		if err != nil || next == pos {
			t.Fatalf("seed %d: base+incr does not parse at %d (base is %d bytes): %v", seed, pos, len(base), err)
		}
		pos = next
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = string(a)
		}
		if args[0] == "SELECT" {
			h2.c.DB, _ = strconv.Atoi(args[1])
			continue
		}
		if r := h2.do(args...); len(r) > 0 && r[0] == '-' {
			t.Fatalf("seed %d: %q: %s", seed, args, r)
		}
	}
	for _, db := range []int{0, 3} {
		h.c.DB, h2.c.DB = db, db
		if a, b := h.dbLen(db), h2.dbLen(db); a != b {
			t.Fatalf("seed %d: db %d: %d keys, %d after replay", seed, db, a, b)
		}
		for _, k := range splitBulks(h.do("KEYS", "*")) {
			if a, b := dumpView(h, k), dumpView(h2, k); a != b {
				t.Fatalf("seed %d: db %d key %s differs after replay:\n%.600s\n%.600s", seed, db, k, a, b)
			}
		}
	}
}
