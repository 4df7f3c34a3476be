package conn

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// exchange writes req, then reads until the server closes the connection or
// the read goes quiet for quiet, and reports what came back and whether the
// server closed.
func exchange(t *testing.T, addr string, req []byte, quiet time.Duration) (got []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return got, true
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return got, false
		}
		if err != nil {
			// A reset also means closed: the server closed the socket with
			// request bytes still unread, which the kernel answers with RST
			// (Redis behaves the same).
			return got, true
		}
	}
}

// Protocol errors reply Redis's text after the replies of the commands
// before them, then close; replies verified against redis-server 7.0.
func TestProtocolErrorsClose(t *testing.T) {
	cases := []struct {
		name, in, want string
		closed         bool
	}{
		{"bad count after a command", "*1\r\n$4\r\nPING\r\n*x\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", true},
		{"unbalanced quotes", "PING\r\n\"abc\r\n", "+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n", true},
		{"negative bulk", "*2\r\n$3\r\nGET\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
		{"bulk too long", "*2\r\n$3\r\nGET\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
		{"expected dollar", "*2\r\n$3\r\nGET\r\n+3\r\n", "-ERR Protocol error: expected '$', got '+'\r\n", true},
		{"huge count", "*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
		{"too big inline", strings.Repeat("a", 70000), "-ERR Protocol error: too big inline request\r\n", true},
		{"empty frames skipped", "*-1\r\n*0\r\n\r\nPING\r\n", "+PONG\r\n", false},
		{"quit", "PING\r\nQUIT\r\nPING\r\n", "+PONG\r\n+OK\r\n", true},
		{"incomplete waits", "*2\r\n$3\r\nGET\r\n$1\r\n", "", false},
		{"NUL in inline waits", "echo a\x00b\r\n", "", false},
	}
	for _, backend := range []string{"uring", "epoll"} {
		t.Run(backend, func(t *testing.T) {
			addr := startServer(t, Config{IO: backend})
			for _, tc := range cases {
				got, closed := exchange(t, addr, []byte(tc.in), 300*time.Millisecond)
				if string(got) != tc.want || closed != tc.closed {
					t.Errorf("%s: got %q closed=%v, want %q closed=%v", tc.name, got, closed, tc.want, tc.closed)
				}
			}
		})
	}
}

// A client whose unparsed input passes client-query-buffer-limit is
// disconnected without a reply, as Redis does.
func TestQueryBufferLimit(t *testing.T) {
	for _, backend := range []string{"uring", "epoll"} {
		t.Run(backend, func(t *testing.T) {
			addr := startServer(t, Config{IO: backend, QueryBufLimit: 1 << 20})
			req := append([]byte("*2\r\n$4\r\nECHO\r\n$2000000\r\n"), bytes.Repeat([]byte("x"), 1500000)...)
			got, closed := exchange(t, addr, req, 2*time.Second)
			if len(got) != 0 || !closed {
				t.Fatalf("got %q closed=%v, want no reply and a close", got, closed)
			}
			// A bulk under the limit is fine.
			req = append([]byte("*2\r\n$4\r\nECHO\r\n$500000\r\n"), bytes.Repeat([]byte("y"), 500000)...)
			req = append(req, "\r\n"...)
			got, closed = exchange(t, addr, req, 500*time.Millisecond)
			if len(got) != len("$500000\r\n")+500002 || closed {
				t.Fatalf("under the limit: got %d bytes closed=%v", len(got), closed)
			}
		})
	}
}

// Past maxclients a new connection gets Redis's error and is closed; the
// others keep working.
func TestMaxClients(t *testing.T) {
	for _, backend := range []string{"uring", "epoll"} {
		t.Run(backend, func(t *testing.T) {
			addr := startServer(t, Config{IO: backend, MaxClients: 2})
			var conns []net.Conn
			for range 2 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns = append(conns, c)
			}
			got, closed := exchange(t, addr, []byte("PING\r\n"), time.Second)
			if string(got) != "-ERR max number of clients reached\r\n" || !closed {
				t.Fatalf("third client: got %q closed=%v", got, closed)
			}
			for _, c := range conns {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.Write([]byte("PING\r\n"))
				buf := make([]byte, 16)
				n, err := c.Read(buf)
				if string(buf[:n]) != "+PONG\r\n" {
					t.Fatalf("existing client: %q %v", buf[:n], err)
				}
			}
		})
	}
}
