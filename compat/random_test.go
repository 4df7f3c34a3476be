package compat

import (
	"flag"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	seedFlag = flag.Uint64("seed", 0, "seed of TestRandom (0: a fresh one, printed)")
	nFlag    = flag.Int("compat.n", 0, "commands TestRandom sends (0: $RINGKV_COMPAT_N, else randomDefaultN)")
)

const (
	// randomDefaultN is the CI run's length: a few thousand commands, well
	// under a second per backend.
	randomDefaultN = 3000
	// shrinkReplaysMax bounds delta debugging: each replay restarts the
	// sequence from an empty keyspace.
	shrinkReplaysMax = 3000
)

// randomExcluded are the commands of COMMAND that the generator does not
// send, each with the reason. Everything else ringkv lists is generated, so
// a new command is covered the day it is registered.
var randomExcluded = map[string]string{
	"quit":         "closes the connection (protocol torture covers it)",
	"hello":        "its reply carries the connection id; HELLO 2/3 are in testdata/connection.txt and server2.txt",
	"client":       "replies are per-connection facts (ids, addresses); compared by rule in testdata/connection.txt",
	"config":       "CONFIG SET would change Redis's configuration mid-run; CONFIG GET is in testdata/connection.txt",
	"command":      "replies describe the implementations, compared by rule in testdata/connection.txt",
	"debug":        "DEBUG changes or crashes the server",
	"monitor":      "turns the connection into a feed",
	"shutdown":     "stops the server",
	"slowlog":      "entries carry each server's own timings",
	"latency":      "samples and histograms are each server's own timings",
	"memory":       "byte counts are each server's allocator's",
	"bgrewriteaof": "the compared servers run without an AOF and Redis rewrites anyway; the AOF tests (conn/aof_test.go) cover it",
	"bgsave":       "writes an RDB file (ringkv has no RDB yet)", "save": "writes an RDB file",
	"time": "the clock", "lastsave": "each server's start time",
	"subscribe": "turns the connection into a feed", "psubscribe": "turns the connection into a feed",
	"ssubscribe": "turns the connection into a feed",
	"blpop":      "blocks", "brpop": "blocks", "blmove": "blocks", "brpoplpush": "blocks", "blmpop": "blocks",
	"bzpopmin": "blocks", "bzpopmax": "blocks", "bzmpop": "blocks", "xread": "may block", "xreadgroup": "may block",
	"wait": "blocks", "waitaof": "blocks",
	"spop": "removes a random member (testdata/set.txt has its deterministic cases)", "srandmember": "random reply (testdata/set.txt)",
	"hrandfield": "random reply (testdata/hash.txt)", "zrandmember": "random reply (testdata/zset.txt)",
	"sscan": "cursors over a hash table set are each server's own (testdata/set.txt scans intsets)",
}

// ttlArgs are argument positions holding a relative TTL, drawn from
// ttlValues so that no key expires between Redis's and ringkv's copy of the
// same command (the two run microseconds apart, never across a boundary of a
// second or more). A new command taking a relative TTL needs an entry.
var ttlArgs = map[string]int{"setex": 2, "psetex": 2, "expire": 2, "pexpire": 2}

// Argument pools. Numbers stop at 100000 so that SETRANGE and friends never
// build strings of hundreds of megabytes.
var (
	randomKeys = []string{"k0", "k1", "k2", "k3", "k0"}
	edgeValues = []string{
		"0", "1", "2", "15", "16", "-1", "-2", "100", "-100", "100000", "3", "10",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"1.5", "-0.5", "1e3", "0x10", " 1", "1 ", "+1", "00", "-0", "inf", "-inf", "nan", "1e308", "-1e308",
		"", "a", "abc", "hello world", "\x00", "\xff\xfe\x00\r\n", "*", "k?", "k[0-1]", "[", "\\",
		"k0", "k1", "string", "none",
	}
	// optionTokens are option words of the implemented commands; after a
	// token listed in optionValues the next argument comes from its pool.
	optionTokens = []string{"NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT", "MATCH", "COUNT", "TYPE",
		"ASYNC", "SYNC", "nx", "ex", "WITHSCORES", "LIMIT",
		"GT", "LT", "PERSIST", "REPLACE", "DB", "IDX", "LEN", "WITHMATCHLEN", "MINMATCHLEN"}
	ttlValues    = []string{"100000", "0", "-1", "abc", "9223372036854775807", "922337203685477", "1.5", ""}
	optionValues = map[string][]string{
		"EX": ttlValues, "PX": ttlValues, "ex": ttlValues,
		"EXAT":  {"1", "0", "-1", "99999999999", "9223372036854775807", "x"},
		"PXAT":  {"1", "0", "-1", "99999999999999", "9223372036854775807", "x"},
		"MATCH": {"*", "k?", "k[0-1]", "", "k0", "\\"},
		"COUNT": {"1", "2", "0", "-1", "100", "x"},
		"TYPE":  {"string", "list", "STRING", "none", "x"},
		// COPY's DB; MOVE's db is a plain argument, drawn from edgeValues.
		"DB":          {"0", "1", "15", "16", "-1", "x"},
		"MINMATCHLEN": {"0", "1", "3", "-1", "x"},
	}
)

// cmdSpec is what the generator knows of a command, from COMMAND.
type cmdSpec struct {
	name                     string
	arity, first, last, step int
}

func loadSpecs(t testing.TB, c *client) []cmdSpec {
	r := c.mustDo(t, "COMMAND")
	var specs []cmdSpec
	for _, e := range r.elems {
		if len(e.elems) < 6 {
			t.Fatalf("COMMAND entry too short: %s", e)
		}
		s := cmdSpec{name: e.elems[0].str, arity: int(e.elems[1].n), first: int(e.elems[3].n), last: int(e.elems[4].n), step: int(e.elems[5].n)}
		if _, ok := randomExcluded[s.name]; !ok {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		t.Fatal("no commands to generate")
	}
	return specs
}

func pick(rng *rand.Rand, pool []string) []byte { return []byte(pool[rng.IntN(len(pool))]) }

// generate draws one command: a well-formed arity most of the time, keys
// where COMMAND says keys go, edge values and option words elsewhere.
func generate(rng *rand.Rand, specs []cmdSpec) [][]byte {
	s := specs[rng.IntN(len(specs))]
	argc := s.arity
	if argc < 0 {
		argc = -argc + rng.IntN(5)
	}
	if rng.IntN(20) == 0 {
		argc += rng.IntN(3) - 1 // the wrong arity, now and then
	}
	argc = max(argc, 1)
	name := s.name
	switch rng.IntN(8) {
	case 0:
		name = strings.ToUpper(name)
	case 1:
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	argv := [][]byte{[]byte(name)}
	last := s.last
	if last < 0 {
		last = argc + last
	}
	for i := 1; i < argc; i++ {
		switch {
		case s.first > 0 && i >= s.first && i <= last && (i-s.first)%max(s.step, 1) == 0:
			if rng.IntN(50) == 0 {
				argv = append(argv, []byte(""))
			} else {
				argv = append(argv, pick(rng, randomKeys))
			}
		case ttlArgs[s.name] == i:
			argv = append(argv, pick(rng, ttlValues))
		case rng.IntN(3) == 0:
			tok := optionTokens[rng.IntN(len(optionTokens))]
			argv = append(argv, []byte(tok))
			if vals, ok := optionValues[tok]; ok && i+1 < argc && rng.IntN(10) != 0 {
				i++
				argv = append(argv, pick(rng, vals))
			}
		default:
			argv = append(argv, pick(rng, edgeValues))
		}
	}
	return argv
}

func randomN() int {
	if *nFlag > 0 {
		return *nFlag
	}
	if v, err := strconv.Atoi(os.Getenv("RINGKV_COMPAT_N")); err == nil && v > 0 {
		return v
	}
	return randomDefaultN
}

// TestRandom sends the same random command sequence to redis-server and to
// ringkv on each backend. On a difference it shrinks the sequence to a short
// reproducer and prints it in testdata syntax, with the seed.
func TestRandom(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	n := randomN()
	t.Logf("seed %d, %d commands (replay: go test ./compat -run TestRandom -seed %d -compat.n %d)", seed, n, seed, n)
	redis, ringkvs := startAll(t)
	p := dialPeers(t, redis, ringkvs)
	learnCommands(t, p.redis, p.ringkv[0])
	specs := loadSpecs(t, p.ringkv[0])
	p.reset(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	var seq [][][]byte
	for i := range n {
		argv := generate(rng, specs)
		seq = append(seq, argv)
		diffs, err := p.step(argv)
		record(family(string(argv[0])), len(diffs) == 0 && err == nil)
		if len(diffs) == 0 && err == nil {
			continue
		}
		for _, d := range diffs {
			t.Errorf("seed %d, command %d: %s\n%s", seed, i, quote(argv), d)
		}
		if err != nil {
			t.Errorf("seed %d, command %d: %v", seed, i, err)
		}
		// Shrink against the first backend that differed (or Redis
		// itself, if it was Redis that failed to answer).
		target := ringkvs[0]
		if len(diffs) > 0 {
			for _, s := range ringkvs {
				if s.name == diffs[0].server {
					target = s
				}
			}
		}
		small := shrink(t, redis, target, seq)
		var b strings.Builder
		for _, argv := range small {
			b.WriteString(quote(argv))
			b.WriteByte('\n')
		}
		t.Fatalf("seed %d: shrunk from %d to %d commands (against %s, from an empty keyspace; paste into a testdata file):\n%s",
			seed, len(seq), len(small), target.name, b.String())
	}
}

// replay runs seq from an empty keyspace on new connections to redis and one
// ringkv, and reports whether any command's replies differ.
func replay(t testing.TB, redis, ringkv *server, seq [][][]byte) bool {
	p := &peers{redis: dialQuiet(redis), ringkv: []*client{dialQuiet(ringkv)}}
	if p.redis == nil || p.ringkv[0] == nil {
		t.Fatalf("replay: cannot connect")
	}
	defer p.redis.c.Close()
	defer p.ringkv[0].c.Close()
	for _, c := range p.all() {
		if _, err := c.doStrings("FLUSHALL"); err != nil {
			return true
		}
	}
	for _, argv := range seq {
		diffs, err := p.step(argv)
		if len(diffs) > 0 || err != nil {
			return true
		}
	}
	return false
}

// dialQuiet is dial without a test's cleanup (replays open many
// connections and close each at once).
func dialQuiet(s *server) *client {
	c, err := dialRaw(s.addr)
	if err != nil {
		return nil
	}
	return &client{srv: s, c: c, r: newReader(c)}
}

// shrink is delta debugging (Zeller's ddmin) over the commands of seq: it
// removes ever smaller chunks while the difference still reproduces.
func shrink(t testing.TB, redis, ringkv *server, seq [][][]byte) [][][]byte {
	replays := 0
	fails := func(s [][][]byte) bool {
		replays++
		return replay(t, redis, ringkv, s)
	}
	if !fails(seq) {
		t.Logf("the difference does not reproduce from an empty keyspace on new connections; not shrunk")
		return seq
	}
	n := 2
	for len(seq) >= 2 && replays < shrinkReplaysMax {
		chunk := (len(seq) + n - 1) / n
		reduced := false
		for start := 0; start < len(seq) && replays < shrinkReplaysMax; start += chunk {
			end := min(start+chunk, len(seq))
			// Try the complement of this chunk.
			cand := append(append([][][]byte{}, seq[:start]...), seq[end:]...)
			if len(cand) > 0 && fails(cand) {
				seq = cand
				n = max(n-1, 2)
				reduced = true
				break
			}
		}
		if !reduced {
			if n >= len(seq) {
				break
			}
			n = min(2*n, len(seq))
		}
	}
	t.Logf("shrinking took %d replays", replays)
	return seq
}
