package conn

import (
	"bufio"
	"net"
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
