package compat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

const (
	// readyTimeout bounds how long a started server may take to answer PING.
	readyTimeout = 10 * time.Second
	// replyTimeout bounds the wait for one reply; a server that takes longer
	// is reported as hung, never waited on forever.
	replyTimeout = 10 * time.Second
	// startAttempts: a free port found by binding :0 may be taken before the
	// server binds it; the start is then retried on another port.
	startAttempts = 3
	// replyLenMax bounds one bulk or aggregate read by the reply reader, so a
	// corrupt length cannot make the test allocate without bound.
	replyLenMax = 64 << 20
)

// backends are ringkv's I/O backends; each runs the same cases.
var backends = []string{"uring", "epoll"}

// ringkvBin is the ringkv-server binary built by TestMain.
var ringkvBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if _, err := exec.LookPath("redis-server"); err != nil {
		// Failing, not skipping: a compat suite that silently does nothing
		// proves nothing. scripts/test.sh installs redis-server.
		fmt.Fprintln(os.Stderr, "compat: redis-server (Redis 7) is not on PATH; install the redis-server package (scripts/test.sh does)")
		return 1
	}
	dir, err := os.MkdirTemp("", "ringkv-compat-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "compat: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ringkvBin = filepath.Join(dir, "ringkv-server")
	build := exec.Command("go", "build", "-o", ringkvBin, "github.com/ringkv/ringkv/cmd/ringkv-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "compat: building ringkv-server: %v\n", err)
		return 1
	}
	rc := m.Run()
	if err := writeReport(); err != nil {
		fmt.Fprintf(os.Stderr, "compat: report: %v\n", err)
		return 1
	}
	return rc
}

// server is one started server process.
type server struct {
	name string // "redis", "ringkv-uring", "ringkv-epoll"
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts redis-server without persistence on a free port. DEBUG
// is enabled because ringkv always allows it (README, known differences) and
// the scripts use DEBUG SET-ACTIVE-EXPIRE and DEBUG SLEEP.
func startRedis(t testing.TB) *server {
	return start(t, "redis", func(port int) *exec.Cmd {
		return exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--enable-debug-command", "yes")
	})
}

// startRingkv starts the ringkv binary on the given I/O backend. The epoll
// server maps its collections' arrays from 1 KiB on (store/collmem.go), so
// that the differential runs, whose collections are small, compare those
// paths with Redis too; the io_uring one keeps the default.
func startRingkv(t testing.TB, backend string) *server {
	return start(t, "ringkv-"+backend, func(port int) *exec.Cmd {
		cmd := exec.Command(ringkvBin, "--port", strconv.Itoa(port), "--io", backend, "--appendonly", "no")
		if backend == "epoll" {
			cmd.Env = append(os.Environ(), "RINGKV_COLL_OFFHEAP_MIN_BYTES=1024")
		}
		return cmd
	})
}

func start(t testing.TB, name string, command func(port int) *exec.Cmd) *server {
	t.Helper()
	var lastErr error
	for range startAttempts {
		port := freePort(t)
		s := &server{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), cmd: command(port), log: new(bytes.Buffer)}
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() { s.cmd.Wait(); close(exited) }()
		if lastErr = waitReady(s.addr, exited); lastErr == nil {
			t.Cleanup(func() {
				s.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					s.cmd.Process.Kill()
					<-exited
				}
			})
			return s
		}
		s.cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%v; output:\n%s", lastErr, s.log.String())
	}
	t.Fatalf("%s did not start: %v", name, lastErr)
	return nil
}

func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			c.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			_, err = io.ReadFull(c, buf)
			c.Close()
			if err == nil && string(buf) == "+PONG\r\n" {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no PONG within " + readyTimeout.String())
}

// client is one RESP connection to a server.
type client struct {
	srv *server
	c   net.Conn
	r   *bufio.Reader
	out []byte
}

func dial(t testing.TB, s *server) *client {
	t.Helper()
	c, err := dialRaw(s.addr)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{srv: s, c: c, r: newReader(c)}
}

func dialRaw(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }

// do sends one command and reads its reply.
func (c *client) do(argv ...[]byte) (*reply, error) {
	c.out = resp.AppendCommand(c.out[:0], argv...)
	c.c.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := c.c.Write(c.out); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

// doStrings is do with string arguments.
func (c *client) doStrings(args ...string) (*reply, error) {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return c.do(argv...)
}

// mustDo is doStrings for set-up commands that must not fail.
func (c *client) mustDo(t testing.TB, args ...string) *reply {
	t.Helper()
	r, err := c.doStrings(args...)
	if err != nil {
		t.Fatalf("%s: %q: %v", c.srv.name, args, err)
	}
	return r
}

// reply is one parsed reply together with its exact bytes.
type reply struct {
	raw   []byte
	typ   byte // the RESP type byte: + - : $ * (RESP3 types are read too)
	str   string
	n     int64
	null  bool
	elems []*reply
}

func (r *reply) isErr() bool { return r.typ == '-' }

func (r *reply) String() string { return strconv.Quote(string(r.raw)) }

// readReply reads one RESP2 or RESP3 reply. It is the test's own, small
// reader: the parser under test is never used to check itself.
func readReply(br *bufio.Reader) (*reply, error) {
	var raw []byte
	return readInto(br, &raw)
}

func readInto(br *bufio.Reader, raw *[]byte) (*reply, error) {
	start := len(*raw)
	line, err := br.ReadBytes('\n')
	*raw = append(*raw, line...)
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	r := &reply{typ: line[0]}
	body := string(line[1 : len(line)-2])
	finish := func() (*reply, error) {
		r.raw = (*raw)[start:len(*raw):len(*raw)]
		return r, nil
	}
	switch r.typ {
	case '+', '-', ',', '#', '(':
		r.str = body
		return finish()
	case '_':
		r.null = true
		return finish()
	case ':':
		r.n, err = strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer reply %q", line)
		}
		return finish()
	case '$', '!', '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > replyLenMax {
			return nil, fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			r.null = true
			return finish()
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		*raw = append(*raw, buf...)
		r.str = string(buf[:n])
		return finish()
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > replyLenMax {
			return nil, fmt.Errorf("bad aggregate length %q", line)
		}
		if n == -1 {
			r.null = true
			return finish()
		}
		if r.typ == '%' || r.typ == '|' {
			n *= 2
		}
		for range n {
			e, err := readInto(br, raw)
			if err != nil {
				return nil, err
			}
			r.elems = append(r.elems, e)
		}
		// Each element's raw is a full slice expression of the buffer as it
		// was: later appends never write inside it, so it stays correct.
		return finish()
	}
	return nil, fmt.Errorf("unknown reply type %q", line)
}

// quote renders argv one argument per field, bare when safe, else Go-quoted,
// in the syntax of the testdata files.
func quote(argv [][]byte) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

func quoteArg(a []byte) string {
	if len(a) == 0 || bytes.ContainsAny(a, " \"#") {
		return strconv.Quote(string(a))
	}
	for _, ch := range a {
		if ch < '!' || ch > '~' {
			return strconv.Quote(string(a))
		}
	}
	return string(a)
}
