package conn

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringkv/ringkv/aof"
	"github.com/ringkv/ringkv/conn/resp"
)

var aofSeed = flag.Uint64("aof-seed", 0, "seed of the randomised AOF tests (0: a fresh one, printed)")

// aofServer runs an in-process server on dir until stop is called.
func aofServer(t *testing.T, aofCfg AOFConfig) (addr string, stop func()) {
	t.Helper()
	return runServer(t, Config{AOF: aofCfg})
}

type testClient struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialTest(t testing.TB, addr string) *testClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testClient{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends one command and returns its raw reply.
func (tc *testClient) do(args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	if _, err := tc.c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		tc.t.Fatal(err)
	}
	tc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r, err := readReply(tc.br, nil)
	if err != nil {
		tc.t.Fatal(err)
	}
	return string(r)
}

// keyspace is every key of db 0 with its value and whether it has a TTL.
func keyspace(tc *testClient) map[string]string {
	out := map[string]string{}
	keys := parseArray(tc.do("KEYS", "*"))
	for _, k := range keys {
		v := tc.do("GET", k)
		ttl := tc.do("PTTL", k)
		out[k] = v + " ttl>0:" + strconv.FormatBool(!strings.HasPrefix(ttl, ":-"))
	}
	return out
}

func parseArray(r string) []string {
	lines := strings.Split(r, "\r\n")
	var out []string
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, lines[i+1])
	}
	return out
}

func TestAOFRestart(t *testing.T) {
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			cfg := AOFConfig{Enabled: true, Dir: t.TempDir(), Fsync: policy}
			addr, stop := aofServer(t, cfg)
			c := dialTest(t, addr)
			for _, cmd := range [][]string{
				{"SET", "a", "1"}, {"SET", "ex", "v", "EX", "1000"}, {"SETEX", "sx", "1000", "v"},
				{"INCRBYFLOAT", "f", "1.5"}, {"INCRBYFLOAT", "f", "0.25"}, {"SET", "gone", "x"}, {"DEL", "gone"},
				{"SELECT", "3"}, {"SET", "in3", "yes"}, {"SELECT", "0"}, {"APPEND", "a", "23"},
				{"SET", "short", "v", "PX", "1"}, {"GETSET", "gs", "new"}, {"MSET", "m1", "x", "m2", "y"},
			} {
				if r := c.do(cmd...); strings.HasPrefix(r, "-") {
					t.Fatalf("%v: %s", cmd, r)
				}
			}
			time.Sleep(5 * time.Millisecond) // "short" expires
			want := keyspace(c)
			stop()
			addr, _ = aofServer(t, cfg)
			c = dialTest(t, addr)
			if got := keyspace(c); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after restart:\n%v\nwant\n%v", got, want)
			}
			c.do("SELECT", "3")
			if r := c.do("GET", "in3"); r != "$3\r\nyes\r\n" {
				t.Fatalf("db 3: %q", r)
			}
		})
	}
}

// The log holds absolute times and effects, not the commands as sent.
func TestAOFRewriteRules(t *testing.T) {
	dir := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"})
	c := dialTest(t, addr)
	c.do("SET", "k", "v", "EX", "100")
	c.do("INCRBYFLOAT", "f", "0.1")
	c.do("SET", "nx", "1", "NX")
	c.do("SET", "nx", "2", "NX") // changes nothing: not logged
	stop()
	data, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	aof.Scan(strings.NewReader(string(data)), func(argv [][]byte, _ int64) error {
		var parts []string
		for _, a := range argv {
			parts = append(parts, string(a))
		}
		got = append(got, strings.Join(parts, " "))
		return nil
	})
	if len(got) != 4 || got[0] != "SELECT 0" || !strings.HasPrefix(got[1], "SET k v PXAT ") ||
		got[2] != "SET f 0.1 KEEPTTL" || got[3] != "SET nx 1 NX" {
		t.Fatalf("logged %q", got)
	}
}

func TestAOFWriteFailureMisconf(t *testing.T) {
	var fail atomic.Pointer[error]
	fault := func(op aof.Op) error {
		if p := fail.Load(); p != nil && (op == aof.OpWrite || op == aof.OpFsync) {
			return *p
		}
		return nil
	}
	for _, policy := range []string{"always", "everysec"} {
		t.Run(policy, func(t *testing.T) {
			fail.Store(nil)
			dir := t.TempDir()
			cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: policy, Fault: fault}
			addr, stop := aofServer(t, cfg)
			c := dialTest(t, addr)
			c.do("SET", "before", "1")
			enospc := error(syscall.ENOSPC)
			fail.Store(&enospc)
			const misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n"
			r := c.do("SET", "during", "1")
			if policy == "always" && r != misconf {
				t.Fatalf("the write whose fsync failed was answered %q", r)
			}
			if r := c.do("SET", "refused", "1"); r != misconf {
				t.Fatalf("a write after the failure: %q", r)
			}
			if r := c.do("PING"); r != misconf {
				t.Fatalf("PING: %q (Redis refuses it too)", r)
			}
			if r := c.do("GET", "before"); r != "$1\r\n1\r\n" {
				t.Fatalf("a read: %q", r)
			}
			if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:err") {
				t.Fatalf("INFO: %q", r)
			}
			fail.Store(nil)
			deadline := time.Now().Add(5 * time.Second)
			for c.do("SET", "after", "1") != "+OK\r\n" {
				if time.Now().After(deadline) {
					t.Fatal("writes still refused after the disk recovered")
				}
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			addr, _ = aofServer(t, AOFConfig{Enabled: true, Dir: dir, Fsync: policy})
			c = dialTest(t, addr)
			if c.do("GET", "before") != "$1\r\n1\r\n" || c.do("GET", "after") != "$1\r\n1\r\n" || c.do("EXISTS", "refused") != ":0\r\n" {
				t.Fatal("the keyspace after restart lost an acknowledged write or kept a refused one")
			}
		})
	}
}

// A rewrite under concurrent writes ends with the keyspace the writes made.
func TestAOFRewriteUnderWrites(t *testing.T) {
	seed := *aofSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -aof-seed %d)", seed, seed)
	dir := t.TempDir()
	cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: "everysec"}
	addr, stop := aofServer(t, cfg)
	c := dialTest(t, addr)
	// Preload enough keys that the walk takes many turns.
	var batch []byte
	for i := range 30000 {
		batch = resp.AppendCommand(batch, []byte("SET"), []byte("k"+strconv.Itoa(i)), []byte(strconv.Itoa(i)))
	}
	c.c.Write(batch)
	for range 30000 {
		readReply(c.br, nil)
	}
	var wg sync.WaitGroup
	var stopW atomic.Bool
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := dialTest(t, addr)
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for !stopW.Load() {
				k := "k" + strconv.Itoa(rnd.IntN(40000))
				switch rnd.IntN(6) {
				case 0:
					wc.do("INCR", k)
				case 1:
					wc.do("APPEND", k, "x")
				case 2:
					wc.do("DEL", k)
				case 3:
					wc.do("SET", k, "s"+strconv.Itoa(rnd.IntN(1000)), "PX", "100000")
				case 4:
					wc.do("RENAME", k, "k"+strconv.Itoa(rnd.IntN(40000)))
				case 5:
					wc.do("FLUSHDB")
					wc.do("SET", k, "after-flush")
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if r := c.do("BGREWRITEAOF"); r != "+Background append only file rewriting started\r\n" {
		t.Fatalf("BGREWRITEAOF: %q", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := c.do("INFO", "persistence")
		if strings.Contains(info, "aof_rewrites:1") && strings.Contains(info, "aof_rewrite_in_progress:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rewrite did not finish: %s", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	stopW.Store(true)
	wg.Wait()
	want := keyspace(c)
	stop()
	m, err := aof.ReadManifest(filepath.Join(dir, "appendonlydir"), "appendonly.aof")
	if err != nil || m.Base.Seq != 2 {
		t.Fatalf("manifest after rewrite: %+v %v", m, err)
	}
	addr, _ = aofServer(t, cfg)
	got := keyspace(dialTest(t, addr))
	if len(got) != len(want) {
		t.Fatalf("after restart %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("key %s: %q after restart, %q before", k, got[k], v)
		}
	}
}

// Interop: a directory ringkv wrote loads in redis-server 7 with the same
// keys, values and TTLs, and one redis-server wrote loads in ringkv; each
// side rewrites once in the middle, so base files cross over too.
func TestAOFInteropRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	before := [][]string{
		{"SET", "a", "1"}, {"SET", "ttl", "v", "EX", "1000"}, {"INCRBYFLOAT", "f", "2.5"},
		{"SELECT", "2"}, {"SET", "b", "in db 2"}, {"RPUSH", "l2", "x", "y"}, {"SELECT", "0"}, {"APPEND", "a", "bc"},
		{"SET", "bin", "\x00\r\n\xff"}, {"PSETEX", "p", "500000", "x"}, {"DEL", "nothing"},
		{"SADD", "ints", "3", "1", "2"}, {"ZADD", "z", "-inf", "ninf", "1e-300", "tiny", "3.141592653589793", "pi", "-0.5", "neg"},
		{"HSET", "h", "f1", "v1", "f2", "\x00"}, {"EXPIRE", "h", "2000"},
	}
	// Large values, so a rewrite splits them into commands of 64 items.
	big := [][]string{{"RPUSH", "biglist"}, {"HSET", "bighash"}, {"SADD", "bigset"}, {"ZADD", "bigzset"}}
	for i := range 150 {
		n := strconv.Itoa(i)
		big[0] = append(big[0], "item"+n)
		big[1] = append(big[1], "field"+n, "value"+n)
		big[2] = append(big[2], "member"+n)
		big[3] = append(big[3], strconv.FormatFloat(float64(i)/7, 'g', -1, 64), "m"+n)
	}
	before = append(before, big...)
	after := [][]string{
		{"GETDEL", "f"}, {"LPOP", "biglist"}, {"HDEL", "bighash", "field7"}, {"SREM", "bigset", "member9"},
		{"ZINCRBY", "bigzset", "0.1", "m3"}, {"INCR", "counter"}, {"INCR", "counter"}, {"LPUSH", "newlist", "n"},
		{"SELECT", "2"}, {"RPOP", "l2"}, {"SELECT", "0"},
	}
	snapshot := func(c *testClient) string {
		var b strings.Builder
		for _, db := range []string{"0", "2"} {
			c.do("SELECT", db)
			keys := parseArray(c.do("KEYS", "*"))
			slices.Sort(keys)
			for _, k := range keys {
				var val string
				switch typ := c.do("TYPE", k); typ {
				case "+string\r\n":
					val = c.do("GET", k)
				case "+list\r\n":
					val = c.do("LRANGE", k, "0", "-1")
				case "+zset\r\n":
					val = c.do("ZRANGE", k, "0", "-1", "WITHSCORES")
				case "+set\r\n":
					m := parseArray(c.do("SMEMBERS", k))
					slices.Sort(m)
					val = fmt.Sprint(m)
				case "+hash\r\n":
					fv := parseArray(c.do("HGETALL", k))
					var pairs []string
					for i := 0; i+1 < len(fv); i += 2 {
						pairs = append(pairs, fv[i]+"="+fv[i+1])
					}
					slices.Sort(pairs)
					val = fmt.Sprint(pairs)
				default:
					val = typ
				}
				pttl, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(c.do("PTTL", k), ":")))
				fmt.Fprintf(&b, "%s/%s=%q ttl~%d\n", db, k, val, (pttl+50000)/100000)
			}
		}
		c.do("SELECT", "0")
		return b.String()
	}
	run := func(c *testClient, cmds [][]string) {
		t.Helper()
		for _, cmd := range cmds {
			if r := c.do(cmd...); strings.HasPrefix(r, "-") {
				t.Fatalf("%q: %s", cmd, r)
			}
		}
	}
	rewrite := func(c *testClient) {
		t.Helper()
		if r := c.do("BGREWRITEAOF"); !strings.HasPrefix(r, "+Background append only file rewriting") {
			t.Fatalf("BGREWRITEAOF: %q", r)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			info := c.do("INFO", "persistence")
			if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
				if !strings.Contains(info, "aof_last_bgrewrite_status:ok") {
					t.Fatalf("rewrite failed: %s", info)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("rewrite did not finish: %s", info)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// ringkv -> redis
	dir := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Enabled: true, Dir: dir, Dirname: "x", Fsync: "always"})
	c := dialTest(t, addr)
	run(c, before)
	rewrite(c)
	run(c, after)
	want := snapshot(c)
	if !strings.Contains(want, "bigzset") || !strings.Contains(want, "2/b=") {
		t.Fatalf("snapshot misses keys:\n%s", want)
	}
	stop()
	raddr, _ := startRedisAOF(t, dir, "x")
	if got := snapshot(dialTest(t, raddr)); got != want {
		t.Fatalf("redis-server loaded ringkv's directory as\n%s\nringkv had\n%s", got, want)
	}
	// redis -> ringkv
	dir2 := t.TempDir()
	raddr, wait := startRedisAOF(t, dir2, "y")
	rc := dialTest(t, raddr)
	run(rc, before)
	rewrite(rc)
	run(rc, after)
	want = snapshot(rc)
	// SHUTDOWN closes the connection without a reply; the AOF is
	// fsynced once the process has exited.
	rc.c.Write(resp.AppendCommand(nil, []byte("SHUTDOWN"), []byte("NOSAVE")))
	if err := wait(); err != nil {
		t.Fatalf("redis-server after SHUTDOWN: %v", err)
	}
	if m, err := aof.ReadManifest(filepath.Join(dir2, "y"), "appendonly.aof"); err != nil || m.Base.Seq != 2 {
		t.Fatalf("redis-server's manifest after its rewrite: %+v %v", m, err)
	}
	addr, _ = aofServer(t, AOFConfig{Enabled: true, Dir: dir2, Dirname: "y", Fsync: "always"})
	if got := snapshot(dialTest(t, addr)); got != want {
		t.Fatalf("ringkv loaded redis-server's directory as\n%s\nredis-server had\n%s", got, want)
	}
}

// startRedisAOF starts redis-server 7 with its AOF in dir/dirname; wait
// waits for it to exit.
func startRedisAOF(t *testing.T, dir, dirname string) (addr string, wait func() error) {
	t.Helper()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appenddirname", dirname, "--dir", dir, "--aof-use-rdb-preamble", "no", "--appendfsync", "always")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	wait = func() error {
		select {
		case err := <-done:
			done <- err
			return err
		case <-time.After(10 * time.Second):
			return errors.New("did not exit in 10s")
		}
	}
	t.Cleanup(func() { cmd.Process.Kill(); wait() })
	addr = "127.0.0.1:" + strconv.Itoa(port)
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			br := bufio.NewReader(c)
			c.Write([]byte("PING\r\n"))
			r, _ := br.ReadString('\n')
			c.Close()
			if r == "+PONG\r\n" {
				return addr, wait
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return "", nil
}

// waitRewrites polls INFO until aof_rewrites reaches n and no rewrite runs.
func waitRewrites(t *testing.T, c *testClient, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := c.do("INFO", "persistence")
		var got int
		for _, ln := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(ln, "aof_rewrites:"); ok {
				got, _ = strconv.Atoi(v)
			}
		}
		if got >= n && strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d rewrites: %s", n, info)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CONFIG GET/SET of the AOF's parameters, with Redis 7.0's texts, and
// appendonly switched on and off at run time.
func TestAOFConfig(t *testing.T) {
	dir := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Dir: dir})
	c := dialTest(t, addr)
	for _, tc := range []struct{ cmd, want string }{
		{"CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"},
		{"CONFIG GET dir", "*2\r\n$3\r\ndir\r\n$" + strconv.Itoa(len(dir)) + "\r\n" + dir + "\r\n"},
		{"CONFIG GET appendfsync", "*2\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n"},
		{"CONFIG GET appenddirname", "*2\r\n$13\r\nappenddirname\r\n$13\r\nappendonlydir\r\n"},
		{"CONFIG GET auto-aof-rewrite-min-size", "*2\r\n$25\r\nauto-aof-rewrite-min-size\r\n$1\r\n0\r\n"},
		{"CONFIG SET dir /tmp", "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"},
		{"CONFIG SET appendfilename x.aof", "-ERR CONFIG SET failed (possibly related to argument 'appendfilename') - can't set immutable config\r\n"},
		{"CONFIG SET appenddirname y", "-ERR CONFIG SET failed (possibly related to argument 'appenddirname') - can't set immutable config\r\n"},
		{"CONFIG SET appendfsync sometimes", "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no\r\n"},
		{"CONFIG SET appendonly maybe", "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n"},
		{"CONFIG SET auto-aof-rewrite-percentage -1", "-ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-percentage') - argument must be between 0 and 2147483647 inclusive\r\n"},
		{"CONFIG SET aof-load-truncated no", "+OK\r\n"},
		{"CONFIG GET aof-load-truncated", "*2\r\n$18\r\naof-load-truncated\r\n$2\r\nno\r\n"},
		{"CONFIG SET auto-aof-rewrite-min-size 1kb", "+OK\r\n"},
		{"CONFIG GET auto-aof-rewrite-min-size", "*2\r\n$25\r\nauto-aof-rewrite-min-size\r\n$4\r\n1024\r\n"},
		{"CONFIG SET auto-aof-rewrite-percentage 0", "+OK\r\n"},
	} {
		if got := c.do(strings.Fields(tc.cmd)...); got != tc.want {
			t.Fatalf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	c.do("SET", "before-on", "1")
	c.do("RPUSH", "list", "a", "b")
	if r := c.do("CONFIG", "SET", "appendonly", "yes"); r != "+OK\r\n" {
		t.Fatalf("appendonly yes: %q", r)
	}
	c.do("SET", "during-on", "1")
	waitRewrites(t, c, 1)
	if r := c.do("CONFIG", "SET", "appendfsync", "always"); r != "+OK\r\n" {
		t.Fatalf("appendfsync always: %q", r)
	}
	c.do("SET", "always", "1")
	c.do("CONFIG", "SET", "appendfsync", "no")
	c.do("SET", "no", "1")
	if r := c.do("CONFIG", "SET", "appendonly", "no"); r != "+OK\r\n" {
		t.Fatalf("appendonly no: %q", r)
	}
	c.do("SET", "after-off", "1")
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_enabled:0") {
		t.Fatalf("INFO after appendonly no: %q", r)
	}
	stop()
	addr, _ = aofServer(t, AOFConfig{Enabled: true, Dir: dir})
	c = dialTest(t, addr)
	for _, k := range []string{"before-on", "during-on", "always", "no"} {
		if r := c.do("GET", k); r != "$1\r\n1\r\n" {
			t.Fatalf("%s after restart: %q", k, r)
		}
	}
	if r := c.do("LRANGE", "list", "0", "-1"); r != "*2\r\n$1\r\na\r\n$1\r\nb\r\n" {
		t.Fatalf("list after restart: %q", r)
	}
	if r := c.do("EXISTS", "after-off"); r != ":0\r\n" {
		t.Fatalf("a write after appendonly no was logged")
	}
}

// The automatic rewrite: past auto-aof-rewrite-min-size, once the files
// have grown by auto-aof-rewrite-percentage since the last rewrite.
func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	cfg := AOFConfig{Enabled: true, Dir: dir, RewritePercentage: 100, RewriteMinSize: 16 << 10}
	addr, stop := aofServer(t, cfg)
	c := dialTest(t, addr)
	val := strings.Repeat("v", 100)
	for i := range 100 { // ~13 KB: below the minimum
		c.do("SET", "k"+strconv.Itoa(i%10), val)
	}
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_rewrites:0") {
		t.Fatalf("rewrote below auto-aof-rewrite-min-size: %s", r)
	}
	for i := range 100 { // past 16 KB, and grown by more than 100%
		c.do("SET", "k"+strconv.Itoa(i%10), val)
	}
	waitRewrites(t, c, 1)
	// After the rewrite the base is ~1.2 KB: the next one needs the files
	// past the minimum again.
	info := c.do("INFO", "persistence")
	if !strings.Contains(info, "aof_rewrites:1\r\n") {
		t.Fatalf("after one rewrite: %s", info)
	}
	want := keyspace(c)
	stop()
	m, err := aof.ReadManifest(filepath.Join(dir, "appendonlydir"), "appendonly.aof")
	if err != nil || m.Base.Seq != 2 {
		t.Fatalf("manifest after the automatic rewrite: %+v %v", m, err)
	}
	addr, _ = aofServer(t, cfg)
	if got := keyspace(dialTest(t, addr)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart %v, want %v", got, want)
	}
}

// A full filesystem under appendfsync always: a tmpfs of 1 MiB fills up;
// writes get MISCONF replies, none that was acknowledged is lost, and once
// space is freed writes are accepted again and everything in memory is on
// disk.
func TestAOFDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	// Something to delete later, to free space.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}
	addr, stop := aofServer(t, cfg)
	c := dialTest(t, addr)
	const misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n"
	val := strings.Repeat("x", 4096)
	// Four clients at once, so that a failed group commit covers several.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	for w := range 4 {
		wc := dialTest(t, addr)
		wg.Go(func() {
			refused := 0
			for i := 0; refused < 3; i++ {
				if i > 1000 {
					errs <- errors.New("1000 writes of 4 KiB fit on a 1 MiB filesystem")
					return
				}
				k := "k" + strconv.Itoa(w) + ":" + strconv.Itoa(i)
				switch r := wc.do("SET", k, val); r {
				case "+OK\r\n":
					if refused > 0 {
						errs <- fmt.Errorf("%s acknowledged after a MISCONF", k)
						return
					}
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				case misconf:
					refused++
				default:
					errs <- fmt.Errorf("SET %s: %q", k, r)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(acked) < 10 {
		t.Fatalf("only %d writes before the disk was full", len(acked))
	}
	if r := c.do("PING"); r != misconf {
		t.Fatalf("PING on a full disk: %q", r)
	}
	if r := c.do("GET", acked[0]); r != "$4096\r\n"+val+"\r\n" {
		t.Fatalf("a read on a full disk: %.40q", r)
	}
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:err") {
		t.Fatalf("INFO on a full disk: %q", r)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.do("SET", "after", "1") != "+OK\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("writes still refused after space was freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:ok") {
		t.Fatalf("INFO after recovery: %q", r)
	}
	want := keyspace(c)
	stop()
	addr, _ = aofServer(t, cfg)
	c = dialTest(t, addr)
	got := keyspace(c)
	for _, k := range acked {
		if got[k] == "" {
			t.Fatalf("acknowledged %s lost (%d acknowledged)", k, len(acked))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart %d keys, before %d", len(got), len(want))
	}
}

// A blocked client served later (blocking.go) logs its effect like any
// command: the pop replays.
func TestAOFBlockedClientLogged(t *testing.T) {
	dir := t.TempDir()
	cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}
	addr, stop := aofServer(t, cfg)
	waiter, pusher := dialTest(t, addr), dialTest(t, addr)
	waiter.c.Write(resp.AppendCommand(nil, []byte("BLPOP"), []byte("q"), []byte("0")))
	// Give BLPOP time to block (if it has not, it pops at once: the test
	// then covers less, but still passes rightly).
	time.Sleep(50 * time.Millisecond)
	if r := pusher.do("RPUSH", "q", "a", "b"); r != ":2\r\n" {
		t.Fatalf("RPUSH: %q", r)
	}
	waiter.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if r, err := readReply(waiter.br, nil); err != nil || string(r) != "*2\r\n$1\r\nq\r\n$1\r\na\r\n" {
		t.Fatalf("BLPOP: %q %v", r, err)
	}
	stop()
	addr, _ = aofServer(t, cfg)
	if r := dialTest(t, addr).do("LRANGE", "q", "0", "-1"); r != "*1\r\n$1\r\nb\r\n" {
		t.Fatalf("after restart: %q", r)
	}
}

// appendonly no then yes on a directory that already has an AOF: the
// rewrite that yes starts replaces it with the whole keyspace, including
// what was written while the AOF was off.
func TestAOFReenable(t *testing.T) {
	dir := t.TempDir()
	cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: "everysec"}
	addr, stop := aofServer(t, cfg)
	c := dialTest(t, addr)
	c.do("SET", "a", "1")
	c.do("CONFIG", "SET", "appendonly", "no")
	c.do("SET", "b", "2")
	c.do("DEL", "a")
	if r := c.do("CONFIG", "SET", "appendonly", "yes"); r != "+OK\r\n" {
		t.Fatalf("appendonly yes: %q", r)
	}
	c.do("SET", "c", "3")
	waitRewrites(t, c, 1)
	c.do("SET", "d", "4")
	want := keyspace(c)
	stop()
	addr, _ = aofServer(t, cfg)
	if got := keyspace(dialTest(t, addr)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart %v, want %v", got, want)
	}
}
