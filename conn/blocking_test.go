package conn

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

// bconn is a raw RESP connection for the blocking tests.
type bconn struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

func bdial(t *testing.T, addr string) *bconn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &bconn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (b *bconn) send(args ...string) {
	b.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	if _, err := b.c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		b.t.Fatal(err)
	}
}

// reply reads one reply within d; "" on timeout.
func (b *bconn) reply(d time.Duration) string {
	b.t.Helper()
	b.c.SetReadDeadline(time.Now().Add(d))
	got, err := readReply(b.rd, nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return ""
		}
		b.t.Fatal(err)
	}
	return string(got)
}

func (b *bconn) do(args ...string) string {
	b.t.Helper()
	b.send(args...)
	return b.reply(5 * time.Second)
}

func (b *bconn) expect(want string, d time.Duration) {
	b.t.Helper()
	if got := b.reply(d); got != want {
		b.t.Fatalf("got %q, want %q", got, want)
	}
}

const quiet = 100 * time.Millisecond

func TestBlockingFIFOAndPipeline(t *testing.T) {
	addr := startServer(t, Config{})
	c1, c2, p := bdial(t, addr), bdial(t, addr), bdial(t, addr)
	c1.send("BLPOP", "a", "b", "0")
	c1.send("PING") // pipelined after the blocking command
	time.Sleep(50 * time.Millisecond)
	c2.send("BRPOP", "b", "0")
	c1.expect("", quiet) // still blocked: nothing, not even PONG
	c2.expect("", quiet)
	if got := p.do("RPUSH", "b", "x", "y"); got != ":2\r\n" {
		t.Fatalf("RPUSH: %q", got)
	}
	// First come, first served: c1 gets the head, c2 the tail.
	c1.expect("*2\r\n$1\r\nb\r\n$1\r\nx\r\n", time.Second)
	c1.expect("+PONG\r\n", time.Second)
	c2.expect("*2\r\n$1\r\nb\r\n$1\r\ny\r\n", time.Second)
	if got := p.do("EXISTS", "b"); got != ":0\r\n" {
		t.Fatalf("EXISTS: %q", got)
	}
}

func TestBlockingTimeout(t *testing.T) {
	addr := startServer(t, Config{})
	c := bdial(t, addr)
	start := time.Now()
	c.send("BLPOP", "nokey", "0.2")
	c.expect("*-1\r\n", 3*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("timed out after %v, before its 200ms", d)
	}
	c.send("BZPOPMIN", "z", "0.05")
	c.send("PING")
	c.expect("*-1\r\n", 3*time.Second)
	c.expect("+PONG\r\n", time.Second)
	if got := c.do("BLMOVE", "a", "b", "LEFT", "RIGHT", "0.05"); got != "*-1\r\n" {
		t.Fatalf("BLMOVE timeout: %q", got)
	}
}

func TestBlockingDisconnect(t *testing.T) {
	addr := startServer(t, Config{})
	gone := bdial(t, addr)
	gone.send("BLPOP", "q", "0")
	time.Sleep(50 * time.Millisecond)
	gone.c.Close()
	time.Sleep(50 * time.Millisecond)
	w := bdial(t, addr)
	w.send("BLPOP", "q", "0")
	time.Sleep(50 * time.Millisecond)
	p := bdial(t, addr)
	p.do("LPUSH", "q", "v")
	w.expect("*2\r\n$1\r\nq\r\n$1\r\nv\r\n", time.Second)
}

func TestBlockingZsetAndMove(t *testing.T) {
	addr := startServer(t, Config{})
	z, m, p := bdial(t, addr), bdial(t, addr), bdial(t, addr)
	z.send("BZPOPMAX", "zs", "0")
	m.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
	time.Sleep(50 * time.Millisecond)
	p.do("ZADD", "zs", "1", "a", "2", "b")
	z.expect("*3\r\n$2\r\nzs\r\n$1\r\nb\r\n$1\r\n2\r\n", time.Second)
	// A client blocked on dst is served by the BLMOVE that fills it.
	d := bdial(t, addr)
	d.send("BLPOP", "dst", "0")
	time.Sleep(50 * time.Millisecond)
	p.do("RPUSH", "src", "v")
	m.expect("$1\r\nv\r\n", time.Second)
	d.expect("*2\r\n$3\r\ndst\r\n$1\r\nv\r\n", time.Second)
	if got := p.do("BZMPOP", "0", "1", "zs", "MIN", "COUNT", "5"); got != "*2\r\n$2\r\nzs\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n" {
		t.Fatalf("BZMPOP: %q", got)
	}
}

func TestClientUnblock(t *testing.T) {
	addr := startServer(t, Config{})
	b, p := bdial(t, addr), bdial(t, addr)
	id := strings.TrimSuffix(strings.TrimPrefix(b.do("CLIENT", "ID"), ":"), "\r\n")
	b.send("BRPOP", "k", "0")
	time.Sleep(50 * time.Millisecond)
	if got := p.do("CLIENT", "UNBLOCK", id); got != ":1\r\n" {
		t.Fatalf("CLIENT UNBLOCK: %q", got)
	}
	b.expect("*-1\r\n", time.Second)
	b.send("BRPOP", "k", "0")
	time.Sleep(50 * time.Millisecond)
	if got := p.do("CLIENT", "UNBLOCK", id, "ERROR"); got != ":1\r\n" {
		t.Fatalf("CLIENT UNBLOCK ERROR: %q", got)
	}
	b.expect("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", time.Second)
	if got := p.do("CLIENT", "UNBLOCK", id); got != ":0\r\n" {
		t.Fatalf("CLIENT UNBLOCK of a client not blocked: %q", got)
	}
}

// infoField is field's value in c's INFO section reply ("" if absent).
func infoField(c *bconn, section, field string) string {
	c.t.Helper()
	info := c.do("INFO", section)
	i := strings.Index(info, "\r\n"+field+":")
	if i < 0 {
		return ""
	}
	v := info[i+len("\r\n"+field+":"):]
	return v[:strings.Index(v, "\r\n")]
}

// waitBlocked waits until INFO reports n blocked clients (the commands
// sent by other connections have reached the server and parked them).
func waitBlocked(c *bconn, n int) {
	c.t.Helper()
	want := strconv.Itoa(n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := infoField(c, "clients", "blocked_clients")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("blocked_clients stays %s, want %s", got, want)
		}
	}
}

func clientID(c *bconn) string {
	c.t.Helper()
	return strings.TrimSuffix(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"), "\r\n")
}

// clientListField is a field of CLIENT LIST's line for client id.
func clientListField(c *bconn, id, field string) string {
	c.t.Helper()
	line := c.do("CLIENT", "LIST", "ID", id)
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, field+"="); ok {
			return v
		}
	}
	c.t.Fatalf("CLIENT LIST ID %s has no %s: %q", id, field, line)
	return ""
}

// INFO clients counts the clients blocked on keys and those CLIENT PAUSE
// holds, as Redis 7.0 does (both are blocked there); clients_in_timeout_table
// counts those blocked with a timeout. CLIENT LIST shows all of them with
// flag b and the command they wait in.
func TestBlockedClientsInfoAndFlags(t *testing.T) {
	addr := startServer(t, Config{})
	admin, l, z, w := bdial(t, addr), bdial(t, addr), bdial(t, addr), bdial(t, addr)
	lid, zid, wid := clientID(l), clientID(z), clientID(w)
	if got := infoField(admin, "clients", "clients_in_timeout_table"); got != "0" {
		t.Fatalf("clients_in_timeout_table with nobody blocked: %q", got)
	}
	l.send("BLPOP", "q", "1000")
	waitBlocked(admin, 1)
	if got := z.do("SELECT", "1"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	z.send("BZPOPMIN", "zq", "0")
	waitBlocked(admin, 2)
	if got := infoField(admin, "clients", "clients_in_timeout_table"); got != "1" {
		t.Errorf("clients_in_timeout_table: %q, want 1 (only BLPOP has a timeout)", got)
	}
	for _, c := range []struct{ id, flags, db, cmd string }{{lid, "b", "0", "blpop"}, {zid, "b", "1", "bzpopmin"}, {wid, "N", "0", "client|id"}} {
		if f, db, cmd := clientListField(admin, c.id, "flags"), clientListField(admin, c.id, "db"), clientListField(admin, c.id, "cmd"); f != c.flags || db != c.db || cmd != c.cmd {
			t.Errorf("client %s: flags=%s db=%s cmd=%s, want flags=%s db=%s cmd=%s", c.id, f, db, cmd, c.flags, c.db, c.cmd)
		}
	}

	if got := admin.do("CLIENT", "PAUSE", "60000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE: %q", got)
	}
	w.send("SET", "x", "1")
	waitBlocked(admin, 3)
	if got := infoField(admin, "clients", "clients_in_timeout_table"); got != "1" {
		t.Errorf("clients_in_timeout_table with a paused client: %q, want 1", got)
	}
	if f, cmd := clientListField(admin, wid, "flags"), clientListField(admin, wid, "cmd"); f != "b" || cmd != "set" {
		t.Errorf("client held by CLIENT PAUSE: flags=%s cmd=%s, want flags=b cmd=set", f, cmd)
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE: %q", got)
	}
	w.expect("+OK\r\n", 5*time.Second)
	waitBlocked(admin, 2)

	admin.do("RPUSH", "q", "v")
	l.expect("*2\r\n$1\r\nq\r\n$1\r\nv\r\n", 5*time.Second)
	admin.do("SELECT", "1")
	admin.do("ZADD", "zq", "1", "m")
	z.expect("*3\r\n$2\r\nzq\r\n$1\r\nm\r\n$1\r\n1\r\n", 5*time.Second)
	waitBlocked(admin, 0)
	if got := infoField(admin, "clients", "clients_in_timeout_table"); got != "0" {
		t.Errorf("clients_in_timeout_table once served: %q", got)
	}
	if f, cmd := clientListField(admin, lid, "flags"), clientListField(admin, lid, "cmd"); f != "N" || cmd != "blpop" {
		t.Errorf("served client: flags=%s cmd=%s, want flags=N cmd=blpop", f, cmd)
	}
}

// SWAPDB serves the clients blocked on keys that exist after the swap, in
// both databases, as Redis's scanDatabaseForReadyKeys: first come first
// served; a client waiting for another type stays blocked and keeps its
// place; a client waiting on several keys pops from the one that is ready.
func TestSwapdbWakesBlocked(t *testing.T) {
	addr := startServer(t, Config{})
	p := bdial(t, addr)
	zk, l1, l2, z0, ab := bdial(t, addr), bdial(t, addr), bdial(t, addr), bdial(t, addr), bdial(t, addr)
	for _, c := range []*bconn{zk, l1, l2, ab} {
		if got := c.do("SELECT", "1"); got != "+OK\r\n" {
			t.Fatal(got)
		}
	}
	zk.send("BZPOPMIN", "k", "0") // first in line on db 1's k, but for a sorted set
	waitBlocked(p, 1)
	l1.send("BLPOP", "k", "0")
	waitBlocked(p, 2)
	l2.send("BRPOP", "k", "0")
	waitBlocked(p, 3)
	z0.send("BZPOPMAX", "z", "0") // db 0
	waitBlocked(p, 4)
	ab.send("BLPOP", "a", "b", "0")
	waitBlocked(p, 5)

	for _, cmd := range [][]string{{"RPUSH", "k", "x", "m", "y"}, {"ZADD", "a", "1", "m"}, {"RPUSH", "b", "v"}, {"SELECT", "1"}, {"ZADD", "z", "1", "m"}, {"SELECT", "0"}} {
		if got := p.do(cmd...); strings.HasPrefix(got, "-") {
			t.Fatalf("%v: %q", cmd, got)
		}
	}
	if got := p.do("SWAPDB", "0", "1"); got != "+OK\r\n" {
		t.Fatalf("SWAPDB: %q", got)
	}
	l1.expect("*2\r\n$1\r\nk\r\n$1\r\nx\r\n", 5*time.Second)
	l2.expect("*2\r\n$1\r\nk\r\n$1\r\ny\r\n", 5*time.Second)
	z0.expect("*3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n", 5*time.Second)
	ab.expect("*2\r\n$1\r\nb\r\n$1\r\nv\r\n", 5*time.Second)
	// zk is still blocked: k holds a list.
	if got := infoField(p, "clients", "blocked_clients"); got != "1" {
		t.Fatalf("blocked_clients after SWAPDB: %q, want 1 (BZPOPMIN on a list key)", got)
	}
	if got := p.do("SELECT", "1"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := p.do("LRANGE", "k", "0", "-1"); got != "*1\r\n$1\r\nm\r\n" {
		t.Fatalf("LRANGE k in db 1: %q", got)
	}
	p.do("DEL", "k")
	p.do("ZADD", "k", "2", "n")
	zk.expect("*3\r\n$1\r\nk\r\n$1\r\nn\r\n$1\r\n2\r\n", 5*time.Second)
	waitBlocked(p, 0)
}

// MOVE and COPY (to another database or the same one) add a key, and serve
// the clients blocked on it there, as Redis's dbAdd signals the key.
func TestMoveCopyWakeBlocked(t *testing.T) {
	addr := startServer(t, Config{})
	p := bdial(t, addr)
	ml, mz, cl, same := bdial(t, addr), bdial(t, addr), bdial(t, addr), bdial(t, addr)
	for _, s := range []struct {
		c   *bconn
		db  string
		cmd []string
	}{
		{ml, "2", []string{"BLPOP", "m", "0"}},
		{mz, "2", []string{"BZPOPMAX", "mz", "0"}},
		{cl, "3", []string{"BLPOP", "c", "0"}},
		{same, "0", []string{"BRPOP", "c2", "0"}},
	} {
		if got := s.c.do("SELECT", s.db); got != "+OK\r\n" {
			t.Fatal(got)
		}
		s.c.send(s.cmd...)
	}
	waitBlocked(p, 4)

	steps := []struct{ cmd, want string }{
		{"RPUSH m x", ":1\r\n"}, {"MOVE m 2", ":1\r\n"},
		{"ZADD mz 1 a", ":1\r\n"}, {"MOVE mz 2", ":1\r\n"},
		{"RPUSH c y", ":1\r\n"}, {"COPY c c DB 3", ":1\r\n"},
		{"COPY c c2", ":1\r\n"},
	}
	for _, st := range steps {
		if got := p.do(strings.Fields(st.cmd)...); got != st.want {
			t.Fatalf("%s: %q, want %q", st.cmd, got, st.want)
		}
	}
	ml.expect("*2\r\n$1\r\nm\r\n$1\r\nx\r\n", 5*time.Second)
	mz.expect("*3\r\n$2\r\nmz\r\n$1\r\na\r\n$1\r\n1\r\n", 5*time.Second)
	cl.expect("*2\r\n$1\r\nc\r\n$1\r\ny\r\n", 5*time.Second)
	same.expect("*2\r\n$2\r\nc2\r\n$1\r\ny\r\n", 5*time.Second)
	waitBlocked(p, 0)
	// The source of the copies is untouched; the served keys are gone.
	if got := p.do("LRANGE", "c", "0", "-1"); got != "*1\r\n$1\r\ny\r\n" {
		t.Fatalf("LRANGE c: %q", got)
	}
	p.do("SELECT", "2")
	if got := p.do("EXISTS", "m", "mz"); got != ":0\r\n" {
		t.Fatalf("EXISTS m mz in db 2: %q", got)
	}
}

// A key that becomes a sorted set (RENAME) does not serve BLPOP: the client
// stays blocked, as in Redis, and a list pushed later serves it.
func TestBlockedWrongTypeStaysBlocked(t *testing.T) {
	addr := startServer(t, Config{})
	p, b := bdial(t, addr), bdial(t, addr)
	b.send("BLPOP", "r", "0")
	waitBlocked(p, 1)
	p.do("ZADD", "z", "1", "a")
	if got := p.do("RENAME", "z", "r"); got != "+OK\r\n" {
		t.Fatalf("RENAME: %q", got)
	}
	if got := infoField(p, "clients", "blocked_clients"); got != "1" {
		t.Fatalf("blocked_clients after RENAME of a sorted set: %q, want 1", got)
	}
	p.do("DEL", "r")
	p.do("RPUSH", "r", "v")
	b.expect("*2\r\n$1\r\nr\r\n$1\r\nv\r\n", 5*time.Second)
}
