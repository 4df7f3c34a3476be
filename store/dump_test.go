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
