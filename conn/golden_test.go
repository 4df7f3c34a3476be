package conn

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

// -update rewrites the expected replies of testdata/golden/*.txt from a real
// redis-server (which must be on PATH): the fixtures are Redis's own answers,
// never written by hand.
var update = flag.Bool("update", false, "rewrite golden replies from a real redis-server")

// A golden file is a sequence of request lines ("> arg arg ...", each arg
// bare or Go-quoted) each followed by its reply line ("< " and the Go-quoted
// reply bytes). Lines starting with # are comments. Each file starts on an
// empty keyspace.
type goldenCase struct {
	argv  [][]byte
	reply []byte
	line  int
}

func parseGolden(t *testing.T, path string) []goldenCase {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for i, ln := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(ln, "> "):
			argv, err := splitGoldenArgs(ln[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			cases = append(cases, goldenCase{argv: argv, line: i + 1})
		case strings.HasPrefix(ln, "< "):
			r, err := strconv.Unquote(ln[2:])
			if err != nil || len(cases) == 0 {
				t.Fatalf("%s:%d: bad reply line: %v", path, i+1, err)
			}
			cases[len(cases)-1].reply = []byte(r)
		}
	}
	return cases
}

func splitGoldenArgs(s string) ([][]byte, error) {
	var argv [][]byte
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, err
			}
			u, _ := strconv.Unquote(q)
			argv = append(argv, []byte(u))
			s = s[len(q):]
			continue
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		argv = append(argv, []byte(s[:end]))
		s = s[end:]
	}
	return argv, nil
}

func writeGolden(path string, cases []goldenCase) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	k := 0
	for _, ln := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(ln, "< ") {
			continue
		}
		out.WriteString(ln + "\n")
		if strings.HasPrefix(ln, "> ") {
			out.WriteString("< " + strconv.Quote(string(cases[k].reply)) + "\n")
			k++
		}
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// readReply reads exactly one RESP reply (any type, nested) from r.
func readReply(r *bufio.Reader, dst []byte) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return dst, err
	}
	dst = append(dst, line...)
	n, _ := strconv.Atoi(string(bytes.TrimRight(line[1:], "\r\n")))
	switch line[0] {
	case '$':
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return dst, err
			}
			dst = append(dst, buf...)
		}
	case '*':
		for i := 0; i < n; i++ {
			if dst, err = readReply(r, dst); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

func startRedisServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("-update needs redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

func goldenFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	return files
}

var flushAll = resp.AppendCommand(nil, []byte("FLUSHALL"))

// roundTrip sends each command and reads its reply before the next.
func roundTrip(t *testing.T, addr string, cases []goldenCase) [][]byte {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if _, err := c.Write(flushAll); err != nil {
		t.Fatal(err)
	}
	if _, err := readReply(r, nil); err != nil {
		t.Fatal(err)
	}
	replies := make([][]byte, len(cases))
	for i, gc := range cases {
		if _, err := c.Write(resp.AppendCommand(nil, gc.argv...)); err != nil {
			t.Fatal(err)
		}
		if replies[i], err = readReply(r, nil); err != nil {
			t.Fatalf("line %d: %v", gc.line, err)
		}
	}
	return replies
}

func TestGoldenUpdate(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the fixtures from redis-server")
	}
	addr := startRedisServer(t)
	for _, f := range goldenFiles(t) {
		cases := parseGolden(t, f)
		for i, r := range roundTrip(t, addr, cases) {
			cases[i].reply = r
		}
		if err := writeGolden(f, cases); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden sends every fixture to ringkv on both backends three ways: one
// command per round trip, all commands in one write, and all of them one
// byte per write. The replies must equal Redis's byte for byte.
func TestGolden(t *testing.T) {
	for _, backend := range []string{"uring", "epoll"} {
		t.Run(backend, func(t *testing.T) {
			addr := startServer(t, Config{IO: backend})
			for _, f := range goldenFiles(t) {
				cases := parseGolden(t, f)
				t.Run(filepath.Base(f), func(t *testing.T) {
					got := roundTrip(t, addr, cases)
					for i, gc := range cases {
						if !bytes.Equal(got[i], gc.reply) {
							t.Errorf("%s:%d %q\n got %q\nwant %q", f, gc.line, gc.argv, got[i], gc.reply)
						}
					}
					var req, want []byte
					req = append(req, flushAll...)
					want = append(want, resp.OK...)
					for _, gc := range cases {
						req = resp.AppendCommand(req, gc.argv...)
						want = append(want, gc.reply...)
					}
					for _, chunk := range []int{len(req), 1} {
						if got := sendChunked(t, addr, req, chunk, len(want)); !bytes.Equal(got, want) {
							t.Errorf("pipelined in chunks of %d:\n got %q\nwant %q", chunk, firstDiff(got, want), firstDiff(want, got))
						}
					}
				})
			}
		})
	}
}

// firstDiff shows a from a little before the first byte where it differs
// from b.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("...@%d %q", from, a[from:min(len(a), i+80)])
}

func sendChunked(t *testing.T, addr string, req []byte, chunk, wantLen int) []byte {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetNoDelay(true)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	done := make(chan []byte)
	go func() {
		buf := make([]byte, 0, wantLen)
		tmp := make([]byte, 64<<10)
		for len(buf) < wantLen {
			n, err := c.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				break
			}
		}
		done <- buf
	}()
	for off := 0; off < len(req); off += chunk {
		if _, err := c.Write(req[off:min(off+chunk, len(req))]); err != nil {
			t.Fatal(err)
		}
	}
	return <-done
}

// startServer runs a ringkv server in this process on a free port and stops
// it when the test ends.
func startServer(t *testing.T, cfg Config) string {
	t.Helper()
	addr, _ := runServer(t, cfg)
	return addr
}

// runServer runs a ringkv server in this process on a free port, logging to
// the test. stop shuts it down and waits for Run (once; later calls do
// nothing); it also runs when the test ends.
func runServer(t *testing.T, cfg Config) (addr string, stop func()) {
	t.Helper()
	cfg.Port = 0
	cfg.Logger = newTestLogger(t)
	s := NewServer(cfg)
	errc := make(chan error, 1)
	go func() { errc <- s.Run() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start in 10s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			s.Shutdown()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("server: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("server did not stop in 10s")
			}
		})
	}
	t.Cleanup(stop)
	return "127.0.0.1:" + strconv.Itoa(s.Port()), stop
}
