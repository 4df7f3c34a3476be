package store

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// expireHarness drives a Store with a fake clock: every command runs at
// now, and advance moves now and runs active expiry the way the event loop
// does (ActiveExpire until it reports nothing more).
type expireHarness struct {
	t   *testing.T
	s   *Store
	c   *Ctx
	now int64
}

func newExpireHarness(t *testing.T) *expireHarness {
	// The wheel starts at the real clock (New); start the fake one there.
	now := time.Now().UnixMilli()
	return &expireHarness{t: t, s: New(), c: &Ctx{}, now: now}
}

// do runs one command and returns its reply as text with CRLFs.
func (h *expireHarness) do(args ...string) string {
	h.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	cmd := Lookup(argv[0])
	if cmd == nil || !cmd.CheckArity(len(argv)) {
		h.t.Fatalf("%q: unknown command or wrong arity", args)
	}
	h.c.Out, h.c.Prop, h.c.Rewritten = h.c.Out[:0], h.c.Prop[:0], false
	h.c.NowMs = h.now
	h.s.Exec(h.c, cmd, argv)
	return string(h.c.Out)
}

func (h *expireHarness) want(want string, args ...string) {
	h.t.Helper()
	if got := h.do(args...); got != want {
		h.t.Fatalf("%q at +%d: got %q, want %q", args, h.now, got, want)
	}
}

// advance moves the clock by ms and runs active expiry to completion.
func (h *expireHarness) advance(ms int64) {
	h.now += ms
	for h.s.ActiveExpire(h.now) {
	}
}

// dbLen is the number of keys in database db, without any lookup (so
// without lazy expiry).
func (h *expireHarness) dbLen(db int) int { return h.s.DB(db).Len() }

// checkTimers asserts the wheel holds exactly one timer per key with a TTL.
func (h *expireHarness) checkTimers() {
	h.t.Helper()
	n := 0
	for i := range NumDBs {
		n += h.s.DB(i).Expires()
	}
	if got := h.s.wheel.Len(); got != n {
		h.t.Fatalf("wheel holds %d timers, keys with a TTL: %d", got, n)
	}
}

func TestExpireActive(t *testing.T) {
	h := newExpireHarness(t)
	h.want("+OK\r\n", "SET", "a", "1")
	h.want(":1\r\n", "PEXPIRE", "a", "100")
	h.checkTimers()
	h.advance(99)
	if h.dbLen(0) != 1 {
		t.Fatal("key expired early")
	}
	h.advance(1)
	if h.dbLen(0) != 0 {
		t.Fatal("key not removed by active expiry at its time")
	}
	h.checkTimers()
	if h.s.Stats.ExpiredKeys != 1 {
		t.Fatalf("expired_keys %d", h.s.Stats.ExpiredKeys)
	}
}

func TestExpireUpdateBeforeExpiry(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	h.want(":1\r\n", "PEXPIRE", "a", "100")
	h.advance(50)
	h.want(":1\r\n", "PEXPIRE", "a", "1000") // later
	h.checkTimers()
	h.advance(100)
	if h.dbLen(0) != 1 {
		t.Fatal("the old TTL fired after an update")
	}
	h.want(":900\r\n", "PTTL", "a")
	h.want(":1\r\n", "PEXPIRE", "a", "10") // earlier
	h.checkTimers()
	h.advance(10)
	if h.dbLen(0) != 0 {
		t.Fatal("the shortened TTL did not fire")
	}
	h.checkTimers()
}

func TestExpireDeleteBeforeExpiry(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	h.do("PEXPIRE", "a", "100")
	h.want(":1\r\n", "DEL", "a")
	h.checkTimers()
	h.do("SET", "a", "2") // a new key of the same name, likely the same id
	h.advance(200)
	h.want("$1\r\n2\r\n", "GET", "a")
	h.checkTimers()
}

func TestExpireRenameBeforeExpiry(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	h.do("PEXPIRE", "a", "100")
	h.want("+OK\r\n", "RENAME", "a", "b")
	h.checkTimers()
	h.want(":100\r\n", "PTTL", "b")
	h.advance(99)
	h.want(":1\r\n", "EXISTS", "b")
	h.advance(1)
	if h.dbLen(0) != 0 {
		t.Fatal("renamed key did not expire at the source's time")
	}
	h.checkTimers()
}

func TestExpireOverwriteBeforeExpiry(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1", "PX", "100")
	h.do("SET", "a", "2") // no KEEPTTL: the TTL goes
	h.want(":-1\r\n", "TTL", "a")
	h.checkTimers()
	h.do("SET", "a", "3", "PX", "100")
	h.do("SET", "a", "4", "KEEPTTL")
	h.want(":100\r\n", "PTTL", "a")
	h.do("GETSET", "a", "5")
	h.want(":-1\r\n", "PTTL", "a")
	h.do("SETEX", "a", "10", "6")
	h.want(":10000\r\n", "PTTL", "a")
	h.do("PSETEX", "a", "100", "7")
	h.want(":100\r\n", "PTTL", "a")
	h.do("APPEND", "a", "x") // modifications keep the TTL
	h.do("SETRANGE", "a", "0", "y")
	h.want(":100\r\n", "PTTL", "a")
	h.checkTimers()
	h.advance(100)
	if h.dbLen(0) != 0 {
		t.Fatal("key not expired")
	}
	h.do("SET", "a", "1", "PX", "100")
	h.do("MSET", "a", "2")
	h.want(":-1\r\n", "PTTL", "a")
	h.advance(200)
	h.want(":1\r\n", "EXISTS", "a")
	h.checkTimers()
}

func TestExpirePersist(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	h.want(":0\r\n", "PERSIST", "a")
	h.want(":0\r\n", "PERSIST", "nokey")
	h.do("PEXPIRE", "a", "100")
	h.want(":1\r\n", "PERSIST", "a")
	h.want(":-1\r\n", "TTL", "a")
	h.checkTimers()
	h.advance(1000)
	h.want(":1\r\n", "EXISTS", "a")
	h.do("PEXPIRE", "a", "100")
	h.want("$1\r\n1\r\n", "GETEX", "a", "PERSIST")
	h.want(":-1\r\n", "TTL", "a")
	h.checkTimers()
}

func TestExpireMoveCopyWithTTL(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1", "PX", "100")
	h.want(":1\r\n", "MOVE", "a", "1")
	h.want(":0\r\n", "EXISTS", "a")
	h.checkTimers()
	h.do("SELECT", "1")
	h.want(":100\r\n", "PTTL", "a")
	h.want(":1\r\n", "COPY", "a", "b", "DB", "2")
	h.want(":1\r\n", "COPY", "a", "c")
	h.want(":100\r\n", "PTTL", "c")
	h.checkTimers()
	h.do("SELECT", "2")
	h.want(":100\r\n", "PTTL", "b")
	h.advance(100)
	for _, db := range []int{0, 1, 2} {
		if n := h.dbLen(db); n != 0 {
			t.Fatalf("db %d holds %d keys after the TTL", db, n)
		}
	}
	h.checkTimers()
	// MOVE onto an expired key of the target database replaces it.
	h.do("SELECT", "0")
	h.do("SET", "k", "src")
	h.do("SELECT", "3")
	h.do("SET", "k", "old", "PX", "10")
	h.s.activeExpireOff = true
	h.advance(20)
	h.do("SELECT", "0")
	h.want(":1\r\n", "MOVE", "k", "3")
	h.do("SELECT", "3")
	h.want("$3\r\nsrc\r\n", "GET", "k")
	h.want(":-1\r\n", "PTTL", "k")
	h.checkTimers()
}

func TestExpireOptionsAndErrors(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	for _, tc := range []struct{ want, cmd string }{
		{"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", "EXPIRE a 10 NX XX"},
		{"-ERR GT and LT options at the same time are not compatible\r\n", "EXPIRE a 10 GT LT"},
		{"-ERR Unsupported option foo\r\n", "EXPIRE a 10 foo"},
		{"-ERR value is not an integer or out of range\r\n", "EXPIRE a x"},
		{"-ERR invalid expire time in 'expire' command\r\n", "EXPIRE a 9223372036854775807"},
		{"-ERR invalid expire time in 'pexpire' command\r\n", "PEXPIRE a 9223372036854775807"},
		{"-ERR invalid expire time in 'expireat' command\r\n", "EXPIREAT a 9223372036854775807"},
		{":0\r\n", "EXPIRE a 10 GT"}, // no TTL counts as infinite
		{":0\r\n", "EXPIRE a 10 XX"},
		{":1\r\n", "EXPIRE a 10 NX"},
		{":0\r\n", "EXPIRE a 20 NX"},
		{":0\r\n", "EXPIRE a 5 GT"},
		{":1\r\n", "EXPIRE a 20 GT"},
		{":0\r\n", "EXPIRE a 30 LT"},
		{":1\r\n", "EXPIRE a 5 LT XX"},
		{":5\r\n", "TTL a"},
		{":-2\r\n", "TTL nokey"},
		{":0\r\n", "EXPIRE nokey 10"},
		{":1\r\n", "PEXPIREAT a 9223372036854775807"},
		{":9223372036854776\r\n", "EXPIRETIME a"},
		{":9223372036854775807\r\n", "PEXPIRETIME a"},
		{":1\r\n", "EXPIRE a -1"},
		{":0\r\n", "EXISTS a"},
	} {
		if got := h.do(strings.Fields(tc.cmd)...); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
	h.checkTimers()
}

func TestExpirePropagation(t *testing.T) {
	h := newExpireHarness(t)
	h.do("SET", "a", "1")
	h.do("EXPIRE", "a", "10", "NX")
	at := h.now + 10000
	want := "*4\r\n$9\r\nPEXPIREAT\r\n$1\r\na\r\n$" + itoaLen(at) + "\r\n" + itoa(at) + "\r\n$2\r\nNX\r\n"
	if got := string(h.c.Prop); got != want || !h.c.Rewritten {
		t.Fatalf("EXPIRE logged %q, want %q", got, want)
	}
	h.do("EXPIRE", "a", "-5")
	if got := string(h.c.Prop); got != "*2\r\n$3\r\nDEL\r\n$1\r\na\r\n" {
		t.Fatalf("past EXPIRE logged %q", got)
	}
	h.do("SET", "a", "1")
	h.do("GETEX", "a", "PX", "500")
	at = h.now + 500
	if got := string(h.c.Prop); got != "*3\r\n$9\r\nPEXPIREAT\r\n$1\r\na\r\n$"+itoaLen(at)+"\r\n"+itoa(at)+"\r\n" {
		t.Fatalf("GETEX PX logged %q", got)
	}
	h.do("GETEX", "a", "PERSIST")
	if got := string(h.c.Prop); got != "*2\r\n$7\r\nPERSIST\r\n$1\r\na\r\n" {
		t.Fatalf("GETEX PERSIST logged %q", got)
	}
	h.do("GETEX", "a", "PXAT", "1")
	if got := string(h.c.Prop); got != "*2\r\n$3\r\nDEL\r\n$1\r\na\r\n" {
		t.Fatalf("GETEX PXAT in the past logged %q", got)
	}
}

func itoa(n int64) string    { return strconv.FormatInt(n, 10) }
func itoaLen(n int64) string { return itoa(int64(len(itoa(n)))) }

// TestExpireOneTimerPerKey churns TTLs on a few keys with every command
// that sets, moves or clears one, and checks after each that the wheel
// holds exactly one timer per key with a TTL.
func TestExpireOneTimerPerKey(t *testing.T) {
	h := newExpireHarness(t)
	cmds := [][]string{
		{"SET", "a", "1", "PX", "50"}, {"SET", "b", "1", "EX", "1"}, {"PEXPIRE", "a", "70"},
		{"EXPIRE", "b", "2", "GT"}, {"RENAME", "a", "c"}, {"COPY", "c", "d"}, {"MOVE", "d", "1"},
		{"PERSIST", "b"}, {"SET", "c", "2", "KEEPTTL"}, {"GETEX", "c", "PX", "5"}, {"SET", "b", "x"},
		{"PEXPIRE", "b", "-1"}, {"COPY", "c", "b", "REPLACE"}, {"DEL", "c"}, {"FLUSHDB"},
		{"SETEX", "e", "1", "v"}, {"SWAPDB", "0", "1"}, {"SET", "e", "v", "PX", "30"}, {"FLUSHALL"},
	}
	for i := 0; i < 3; i++ {
		for _, cmd := range cmds {
			h.do(cmd...)
			h.checkTimers()
			h.advance(7)
			h.checkTimers()
		}
	}
}

func TestDebugSetActiveExpire(t *testing.T) {
	h := newExpireHarness(t)
	h.want("+OK\r\n", "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	h.do("SET", "a", "1", "PX", "10")
	h.advance(100)
	if h.dbLen(0) != 1 {
		t.Fatal("active expiry ran while disabled")
	}
	if h.s.NextExpiryMs() != 1<<63-1 {
		t.Fatal("the loop is asked to wake for a disabled expiry")
	}
	h.want("+OK\r\n", "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	h.advance(1)
	if h.dbLen(0) != 0 {
		t.Fatal("active expiry did not resume")
	}
}

func TestObjectEncoding(t *testing.T) {
	h := newExpireHarness(t)
	long := strings.Repeat("x", 45)
	for _, tc := range []struct {
		cmds     [][]string
		enc      string
		refcount string
	}{
		{[][]string{{"SET", "k", "1"}}, "int", "2147483647"},
		{[][]string{{"SET", "k", "10000"}}, "int", "1"},
		{[][]string{{"SET", "k", "-1"}}, "int", "1"},
		{[][]string{{"SET", "k", "01"}}, "embstr", "1"},
		{[][]string{{"SET", "k", "12345678901234567890"}}, "embstr", "1"},
		{[][]string{{"SET", "k", strings.Repeat("x", 44)}}, "embstr", "1"},
		{[][]string{{"SET", "k", long}}, "raw", "1"},
		{[][]string{{"SET", "k", "1"}, {"APPEND", "k", ""}}, "raw", "1"},
		{[][]string{{"SET", "k", "ab"}, {"SETRANGE", "k", "0", "c"}}, "raw", "1"},
		{[][]string{{"DEL", "k"}, {"SETRANGE", "k", "0", "1"}}, "raw", "1"},
		{[][]string{{"DEL", "k"}, {"APPEND", "k", "1"}}, "int", "2147483647"},
		{[][]string{{"SET", "k", "ab"}, {"INCR", "nk"}, {"RENAME", "nk", "k"}}, "int", "2147483647"},
		{[][]string{{"SET", "k", "1"}, {"INCRBYFLOAT", "k", "1"}}, "embstr", "1"},
		{[][]string{{"SET", "k", "1"}, {"APPEND", "k", "1"}, {"MOVE", "k", "1"}, {"SELECT", "1"}}, "raw", "1"},
		{[][]string{{"SET", "j", "5"}, {"COPY", "j", "k"}}, "int", "1"},
	} {
		h.do("FLUSHALL")
		h.do("SELECT", "0")
		for _, cmd := range tc.cmds {
			h.do(cmd...)
		}
		if got := h.do("OBJECT", "ENCODING", "k"); got != "$"+itoa(int64(len(tc.enc)))+"\r\n"+tc.enc+"\r\n" {
			t.Errorf("%q: encoding %q, want %s", tc.cmds, got, tc.enc)
		}
		if got := h.do("OBJECT", "REFCOUNT", "k"); got != ":"+tc.refcount+"\r\n" {
			t.Errorf("%q: refcount %q, want %s", tc.cmds, got, tc.refcount)
		}
	}
	h.do("SELECT", "0")
	h.want("$-1\r\n", "OBJECT", "ENCODING", "nokey")
	h.want("-ERR wrong number of arguments for 'object|encoding' command\r\n", "OBJECT", "ENCODING")
	h.want("-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n", "OBJECT", "foo")
	h.do("SET", "k", "v")
	h.want(":0\r\n", "OBJECT", "IDLETIME", "k")
	h.advance(5000)
	h.want(":5\r\n", "OBJECT", "IDLETIME", "k")
	h.do("GET", "k")
	h.want(":0\r\n", "OBJECT", "IDLETIME", "k")
	if got := h.do("DEBUG", "OBJECT", "k"); !strings.Contains(got, " refcount:1 encoding:embstr serializedlength:2 lru:") || !strings.HasSuffix(got, " lru_seconds_idle:0\r\n") {
		t.Errorf("DEBUG OBJECT: %q", got)
	}
	h.want("-ERR no such key\r\n", "DEBUG", "OBJECT", "nokey")
}

func TestLCS(t *testing.T) {
	h := newExpireHarness(t)
	h.do("MSET", "a", "ohmytext", "b", "mynewtext")
	h.want("$6\r\nmytext\r\n", "LCS", "a", "b")
	h.want(":6\r\n", "LCS", "a", "b", "LEN")
	h.want("*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n", "LCS", "a", "b", "IDX")
	h.want("*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n", "LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
	h.want("-ERR If you want both the length and indexes, please just use IDX.\r\n", "LCS", "a", "b", "LEN", "IDX")
	h.want("$0\r\n\r\n", "LCS", "x", "y")
}

// When every key of a table has expired, its memory goes back: the next
// loop turn's RehashStep resets a table that is empty but still maps more
// than emptyTableKeepBytes.
func TestExpiredMemoryReleased(t *testing.T) {
	s := New()
	tb := s.DB(0)
	val := make([]byte, 100)
	for i := range 50000 {
		id := tb.Add([]byte("key:" + strconv.Itoa(i)))
		tb.SetStr(id, val)
		tb.SetExpireAt(id, 2000+int64(i%100))
	}
	full := tb.MemoryBytes()
	if full < 4*emptyTableKeepBytes {
		t.Fatalf("50000 keys map only %d bytes", full)
	}
	for more := true; more; more = s.ActiveExpire(3000) {
	}
	if tb.Len() != 0 {
		t.Fatalf("%d keys left after their TTL", tb.Len())
	}
	s.ReleaseIdle()
	if got := tb.MemoryBytes(); got > emptyTableKeepBytes {
		t.Fatalf("empty table still maps %d bytes (had %d)", got, full)
	}
	// The table works as before.
	id := tb.Add([]byte("again"))
	tb.SetStr(id, []byte("v"))
	if got, ok := tb.Find([]byte("again")); !ok || got != id || string(tb.Str(id)) != "v" {
		t.Fatalf("table unusable after release")
	}
}
