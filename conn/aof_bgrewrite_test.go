package conn

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringkv/ringkv/aof"
	"github.com/ringkv/ringkv/conn/resp"
)

// BGREWRITEAOF with appendonly no (aof_rewrite_off.go), against what
// redis-server 7.0 does in the same steps.

// startRedisArgs starts redis-server 7 with args on a free port of
// 127.0.0.1; stop shuts it down (SHUTDOWN NOSAVE) and waits for it.
func startRedisArgs(t *testing.T, args ...string) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", ""}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	wait := func() error {
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
	stop = func() {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Write(resp.AppendCommand(nil, []byte("SHUTDOWN"), []byte("NOSAVE")))
			c.Close()
		}
		if err := wait(); err != nil {
			t.Errorf("redis-server after SHUTDOWN: %v", err)
		}
	}
	for range 250 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Write([]byte("PING\r\n"))
			r, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if r == "+PONG\r\n" {
				return addr, stop
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return "", nil
}

// aofInfoFields are the INFO persistence fields the scenarios compare.
var aofInfoFields = []string{"aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_bgrewrite_status",
	"aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_write_status"}

func infoFields(c *testClient, names ...string) string {
	var out []string
	for _, ln := range strings.Split(c.do("INFO", "persistence"), "\r\n") {
		if k, _, ok := strings.Cut(ln, ":"); ok && slices.Contains(names, k) {
			out = append(out, ln)
		}
	}
	return strings.Join(out, " ")
}

// aofDirState is the AOF directory's file names and manifest.
func aofDirState(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "no directory"
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	m, _ := os.ReadFile(filepath.Join(dir, "appendonly.aof.manifest"))
	return strings.Join(names, " ") + " | " + strings.ReplaceAll(string(m), "\n", "; ")
}

// bgrewriteOffScenario runs the steps on a server started with appendonly
// no on root (its AOF directory root/appendonlydir) and returns what a
// client and the directory show after each, with the keyspace of a restart
// with appendonly yes. restart stops the server and starts one with
// appendonly yes on root.
func bgrewriteOffScenario(t *testing.T, c *testClient, root string, restart func() *testClient) []string {
	t.Helper()
	dir := filepath.Join(root, "appendonlydir")
	var out []string
	step := func(what string) {
		out = append(out, what+": "+infoFields(c, aofInfoFields...)+" | "+aofDirState(t, dir))
	}
	c.do("SET", "a", "1")
	c.do("SELECT", "2")
	c.do("SET", "b", "2")
	c.do("SELECT", "0")
	step("before")
	out = append(out, "BGREWRITEAOF: "+c.do("BGREWRITEAOF"))
	waitRewrites(t, c, 1)
	step("after the first")
	c.do("SET", "c", "3")
	out = append(out, "BGREWRITEAOF: "+c.do("BGREWRITEAOF"))
	waitRewrites(t, c, 2)
	step("after the second")
	c.do("SET", "off", "written while the AOF is off: appendonly yes rewrites it in")
	out = append(out, "CONFIG SET appendonly yes: "+c.do("CONFIG", "SET", "appendonly", "yes"))
	waitRewrites(t, c, 3)
	c.do("SET", "d", "4")
	step("after appendonly yes")
	c = restart()
	keys := parseArray(c.do("KEYS", "*"))
	slices.Sort(keys)
	out = append(out, "restart: db0 "+strings.Join(keys, ",")+" "+c.do("MGET", "a", "c", "d", "off"))
	c.do("SELECT", "2")
	out = append(out, "restart: db2 "+c.do("GET", "b"))
	return out
}

// The same steps against ringkv and redis-server 7.0 give the same
// replies, INFO fields, files and manifests: the first BGREWRITEAOF with
// appendonly no writes appendonlydir with a base alone (seq 1), the second
// replaces it (seq 2), CONFIG SET appendonly yes then rewrites it again
// (seq 3) with incr file seq 1, and a restart loads everything.
func TestAOFBgrewriteOffLikeRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	root := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Dir: root})
	got := bgrewriteOffScenario(t, dialTest(t, addr), root, func() *testClient {
		stop()
		addr, _ := aofServer(t, AOFConfig{Enabled: true, Dir: root})
		return dialTest(t, addr)
	})

	rroot := t.TempDir()
	redisArgs := []string{"--dir", rroot, "--aof-use-rdb-preamble", "no"}
	raddr, rstop := startRedisArgs(t, append(redisArgs, "--appendonly", "no")...)
	want := bgrewriteOffScenario(t, dialTest(t, raddr), rroot, func() *testClient {
		rstop()
		raddr, _ := startRedisArgs(t, append(redisArgs, "--appendonly", "yes")...)
		return dialTest(t, raddr)
	})
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("step %d:\nringkv %q\nredis  %q", i, g, w)
		}
	}
	if !strings.Contains(got[2], "appendonly.aof.1.base.aof appendonly.aof.manifest | file appendonly.aof.1.base.aof seq 1 type b;") {
		t.Errorf("after the first BGREWRITEAOF: %s", got[2])
	}
}

// An AOF directory that appendonly yes wrote, then appendonly no, then
// BGREWRITEAOF: as in Redis, the new base follows the old one's seq and
// the old base and incr files are deleted.
func TestAOFBgrewriteOffOverAnAOFLikeRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	scenario := func(c *testClient, dir string) []string {
		var out []string
		c.do("SET", "x", "1")
		out = append(out, "CONFIG SET appendonly no: "+c.do("CONFIG", "SET", "appendonly", "no"))
		c.do("SET", "y", "2")
		out = append(out, "off: "+aofDirState(t, dir))
		out = append(out, "BGREWRITEAOF: "+c.do("BGREWRITEAOF"))
		waitRewrites(t, c, 1)
		out = append(out, "after: "+infoFields(c, aofInfoFields...)+" | "+aofDirState(t, dir))
		return out
	}
	root := t.TempDir()
	addr, _ := aofServer(t, AOFConfig{Enabled: true, Dir: root})
	got := scenario(dialTest(t, addr), filepath.Join(root, "appendonlydir"))
	rroot := t.TempDir()
	raddr, _ := startRedisArgs(t, "--dir", rroot, "--aof-use-rdb-preamble", "no", "--appendonly", "yes")
	want := scenario(dialTest(t, raddr), filepath.Join(rroot, "appendonlydir"))
	if !slices.Equal(got, want) {
		t.Errorf("ringkv:\n%s\nredis:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m, err := aof.ReadManifest(filepath.Join(root, "appendonlydir"), "appendonly.aof"); err != nil || m.Base.Seq != 2 || len(m.Incrs) != 0 {
		t.Errorf("manifest %+v %v: want base seq 2 alone", m, err)
	}
}

// When appendonlydir cannot be made, BGREWRITEAOF answers Redis's error and
// INFO says the last rewrite failed, as Redis's does.
func TestAOFBgrewriteOffFailsLikeRedis(t *testing.T) {
	scenario := func(c *testClient) string {
		return c.do("BGREWRITEAOF") + infoFields(c, aofInfoFields...)
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "appendonlydir"), nil, 0o644)
	addr, _ := aofServer(t, AOFConfig{Dir: root})
	got := scenario(dialTest(t, addr))
	if !strings.HasPrefix(got, string(resp.ErrRewriteFailed)) || !strings.Contains(got, "aof_last_bgrewrite_status:err") {
		t.Fatalf("ringkv: %q", got)
	}
	rroot := t.TempDir()
	os.WriteFile(filepath.Join(rroot, "appendonlydir"), nil, 0o644)
	raddr, _ := startRedisArgs(t, "--dir", rroot, "--appendonly", "no")
	if want := scenario(dialTest(t, raddr)); got != want {
		t.Fatalf("ringkv %q\nredis  %q", got, want)
	}
}

// pipeline sends every command in one write and returns the replies.
func (tc *testClient) pipeline(cmds ...[]string) []string {
	var b []byte
	for _, args := range cmds {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		b = resp.AppendCommand(b, argv...)
	}
	if _, err := tc.c.Write(b); err != nil {
		tc.t.Fatal(err)
	}
	tc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	out := make([]string, len(cmds))
	for i := range cmds {
		r, err := readReply(tc.br, nil)
		if err != nil {
			tc.t.Fatal(err)
		}
		out[i] = string(r)
	}
	return out
}

// offSnapshotKeys is large enough that the walk takes many loop turns
// (rewriteStepKeys per turn), so writes land while it is under way; a
// multiple of the 500 keys of fillKeys's MSETs.
const offSnapshotKeys = 20000

func fillKeys(t *testing.T, c *testClient) {
	t.Helper()
	for i := 0; i < offSnapshotKeys; i += 500 {
		mset := []string{"MSET"}
		for j := i; j < i+500; j++ {
			mset = append(mset, "k"+strconv.Itoa(j), "v"+strconv.Itoa(j))
		}
		if r := c.do(mset...); r != "+OK\r\n" {
			t.Fatalf("MSET: %q", r)
		}
	}
}

// The base that BGREWRITEAOF writes with appendonly no is the keyspace as
// it was when the command ran, although writes go on during the walk: a
// key changed or deleted afterwards is there with its old value, a key
// created afterwards is not (the walk marks it).
func TestAOFBgrewriteOffSnapshot(t *testing.T) {
	root := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Dir: root})
	c := dialTest(t, addr)
	fillKeys(t, c)
	last := "k" + strconv.Itoa(offSnapshotKeys-1)
	r := c.pipeline(
		[]string{"BGREWRITEAOF"},
		[]string{"INFO", "persistence"},
		[]string{"BGREWRITEAOF"},
		[]string{"SET", "k0", "changed"}, []string{"SET", last, "changed"},
		[]string{"DEL", "k1", "k2"}, []string{"APPEND", "k3", "+more"},
		[]string{"SET", "new1", "x"}, []string{"RPUSH", "newlist", "a", "b"}, []string{"INCR", "newcounter"},
		[]string{"SET", "k0", "changed twice"}, []string{"DEL", "new1"}, []string{"SET", "new1", "again"},
	)
	if r[0] != string(resp.RewriteStarted) {
		t.Fatalf("BGREWRITEAOF: %q", r[0])
	}
	if !strings.Contains(r[1], "aof_rewrite_in_progress:1\r\n") || !strings.Contains(r[1], "aof_enabled:0\r\n") {
		t.Fatalf("INFO during the walk: %q", r[1])
	}
	if r[2] != string(resp.ErrRewriteBusy) {
		t.Fatalf("BGREWRITEAOF during the walk: %q", r[2])
	}
	waitRewrites(t, c, 1)
	if got := c.do("GET", "k0"); got != "$13\r\nchanged twice\r\n" {
		t.Fatalf("the live keyspace: GET k0 = %q", got)
	}
	stop()
	addr, _ = aofServer(t, AOFConfig{Enabled: true, Dir: root})
	c = dialTest(t, addr)
	if r := c.do("DBSIZE"); r != ":"+strconv.Itoa(offSnapshotKeys)+"\r\n" {
		t.Errorf("DBSIZE of the base: %q, want %d", r, offSnapshotKeys)
	}
	for k, want := range map[string]string{"k0": "v0", last: "v" + strconv.Itoa(offSnapshotKeys-1), "k1": "v1", "k2": "v2", "k3": "v3"} {
		if got := c.do("GET", k); got != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
			t.Errorf("GET %s from the base: %q, want %q", k, got, want)
		}
	}
	if got := c.do("EXISTS", "new1", "newlist", "newcounter"); got != ":0\r\n" {
		t.Errorf("keys created after BGREWRITEAOF are in its base: EXISTS = %q", got)
	}
}

// CONFIG SET appendonly yes while a BGREWRITEAOF of appendonly no walks:
// that rewrite stops and the open AOF's own starts, as Redis kills its
// child; the directory then holds the whole live keyspace and no temp file.
func TestAOFBgrewriteOffThenAppendonlyYes(t *testing.T) {
	root := t.TempDir()
	addr, stop := aofServer(t, AOFConfig{Dir: root})
	c := dialTest(t, addr)
	fillKeys(t, c)
	r := c.pipeline(
		[]string{"BGREWRITEAOF"},
		[]string{"SET", "k0", "changed"}, []string{"SET", "new", "x"},
		[]string{"CONFIG", "SET", "appendonly", "yes"},
		[]string{"SET", "after", "y"}, []string{"DEL", "k1"},
	)
	if r[0] != string(resp.RewriteStarted) || r[3] != "+OK\r\n" {
		t.Fatalf("replies %q", r)
	}
	waitRewrites(t, c, 1)
	if info := infoFields(c, aofInfoFields...); !strings.Contains(info, "aof_enabled:1") || !strings.Contains(info, "aof_last_bgrewrite_status:ok") {
		t.Fatalf("INFO: %s", info)
	}
	want := c.do("MGET", "k0", "k1", "new", "after", "k5")
	wantSize := c.do("DBSIZE")
	stop()
	dir := filepath.Join(root, "appendonlydir")
	for _, name := range strings.Fields(strings.Split(aofDirState(t, dir), "|")[0]) {
		if strings.HasPrefix(name, "temp-") {
			t.Errorf("%s left in %s", name, dir)
		}
	}
	addr, _ = aofServer(t, AOFConfig{Enabled: true, Dir: root})
	c = dialTest(t, addr)
	if got := c.do("MGET", "k0", "k1", "new", "after", "k5"); got != want {
		t.Errorf("after restart %q, want %q", got, want)
	}
	if got := c.do("DBSIZE"); got != wantSize {
		t.Errorf("DBSIZE after restart %q, want %q", got, wantSize)
	}
}
