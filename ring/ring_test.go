package ring_test

// One conformance suite, run against every backend. Each test drives the
// ring from its own goroutine, locked to its thread as the contract asks,
// with real TCP clients on 127.0.0.1 in other goroutines.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/ring"
)

// backends are the variants the suite runs on: io_uring as set up on this
// kernel, io_uring set up as an older kernel allows, and epoll.
var backends = []string{"uring", "uring-compat", "epoll"}

var ringConfigDefault = ring.Config{}

// testTimeout bounds every wait for an event that must happen.
const testTimeout = 20 * time.Second

// harness is one ring with one listener, driven by the test goroutine.
type harness struct {
	t    testing.TB
	r    ring.Ring
	lfd  int
	addr string
}

// forEachBackend runs f as a subtest per backend. io_uring is skipped only
// when the machine genuinely cannot run it, and the reason is printed.
func forEachBackend(t *testing.T, cfg ring.Config, f func(t *testing.T, h *harness)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			h := newHarness(t, b, cfg)
			defer h.shutdown()
			f(t, h)
		})
	}
}

// newHarness makes a ring of the given backend with a listener. The caller
// has locked its thread.
func newHarness(t testing.TB, backend string, cfg ring.Config) *harness {
	t.Helper()
	cfg.Backend = backend
	if backend == "uring-compat" {
		cfg.Backend = "uring"
		defer ring.ForceSetupFlags(ring.CompatSetupFlags)()
	}
	r, reason, err := ring.New(cfg)
	if err != nil {
		if cfg.Backend == "uring" && uringUnavailable(err) {
			t.Skipf("io_uring unavailable on this machine: %s", reason)
		}
		t.Fatalf("New(%+v): %v (%s)", cfg, err, reason)
	}
	if r.Backend() != cfg.Backend {
		t.Fatalf("Backend() = %q, want %q", r.Backend(), cfg.Backend)
	}
	if backend == "uring-compat" && ring.SetupFlags(r) != ring.CompatSetupFlags {
		t.Fatalf("setup flags %#x, want %#x", ring.SetupFlags(r), ring.CompatSetupFlags)
	}
	h := &harness{t: t, r: r}
	h.listen()
	return h
}

func (h *harness) shutdown() {
	if err := h.r.Shutdown(); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
}

func uringUnavailable(err error) bool {
	if b, e := os.ReadFile("/proc/sys/kernel/io_uring_disabled"); e == nil && strings.TrimSpace(string(b)) == "2" {
		return true
	}
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS)
}

func (h *harness) listen() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		h.t.Fatal(err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		h.t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		h.t.Fatal(err)
	}
	h.lfd = fd
	h.addr = fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	if err := h.r.Listen(fd); err != nil {
		h.t.Fatal(err)
	}
}

// run calls Wait until done() holds, failing the test after testTimeout.
func (h *harness) run(done func() bool, handler ring.Handler) {
	h.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !done() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %v", testTimeout)
		}
		if err := h.r.Wait(10*time.Millisecond, handler); err != nil {
			h.t.Fatalf("Wait: %v", err)
		}
	}
}

// runFor calls Wait for d, whatever happens.
func (h *harness) runFor(d time.Duration, handler ring.Handler) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := h.r.Wait(5*time.Millisecond, handler); err != nil {
			h.t.Fatalf("Wait: %v", err)
		}
	}
}

// acceptOne runs until one connection is accepted, and returns its fd.
func (h *harness) acceptOne() int {
	h.t.Helper()
	fd := -1
	h.run(func() bool { return fd >= 0 }, func(c *ring.Completion) {
		if c.Op != ring.OpAccept {
			h.t.Errorf("unexpected %+v while accepting", *c)
			return
		}
		if c.Res < 0 {
			h.t.Fatalf("accept error %d", c.Res)
		}
		fd = int(c.FD)
	})
	return fd
}

// dial connects a client and returns it with the server side's fd.
func (h *harness) dial() (net.Conn, int) {
	h.t.Helper()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c, h.acceptOne()
}

// pattern is n bytes that reveal loss, duplication and reordering.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// echoServer echoes every connection; one send in flight per fd, the next
// reply accumulating meanwhile.
type echoServer struct {
	t     *testing.T
	r     ring.Ring
	conns map[int]*echoConn
}

type echoConn struct {
	next, inflight []byte
	eof, closed    bool
	recvs          int
}

func newEchoServer(t *testing.T, r ring.Ring) *echoServer {
	return &echoServer{t: t, r: r, conns: map[int]*echoConn{}}
}

func (s *echoServer) handle(c *ring.Completion) {
	fd := int(c.FD)
	switch c.Op {
	case ring.OpAccept:
		if c.Res < 0 {
			s.t.Errorf("accept error %d", c.Res)
			return
		}
		if c.Res != c.FD {
			s.t.Errorf("OpAccept Res = %d, want the fd %d", c.Res, c.FD)
		}
		if _, dup := s.conns[fd]; dup {
			s.t.Errorf("fd %d accepted twice without OpClose", fd)
		}
		s.conns[fd] = &echoConn{}
		s.r.Recv(fd)
	case ring.OpRecv:
		cn := s.conns[fd]
		switch {
		case c.Res > 0:
			if int(c.Res) != len(c.Data) {
				s.t.Errorf("OpRecv Res = %d, len(Data) = %d", c.Res, len(c.Data))
			}
			cn.recvs++
			cn.next = append(cn.next, c.Data...)
			s.flush(fd, cn)
		case c.Res == 0:
			cn.eof = true
			s.flush(fd, cn)
		default:
			s.t.Errorf("recv error %d on fd %d", c.Res, fd)
		}
	case ring.OpSend:
		cn := s.conns[fd]
		if int(c.Res) != len(cn.inflight) {
			s.t.Errorf("OpSend Res = %d, want %d", c.Res, len(cn.inflight))
		}
		cn.inflight = nil
		s.flush(fd, cn)
	case ring.OpClose:
		cn := s.conns[fd]
		if cn == nil || cn.closed {
			s.t.Errorf("OpClose for fd %d not open", fd)
			return
		}
		cn.closed = true
		delete(s.conns, fd)
	}
}

func (s *echoServer) flush(fd int, cn *echoConn) {
	if cn.inflight != nil {
		return
	}
	if len(cn.next) > 0 {
		cn.inflight, cn.next = cn.next, nil
		s.r.Send(fd, cn.inflight)
		return
	}
	if cn.eof {
		s.r.Close(fd)
		cn.eof = false
	}
}

func TestAcceptEcho(t *testing.T) {
	const clients, rounds = 8, 50
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		srv := newEchoServer(t, h.r)
		var done atomic.Int32
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			go func() {
				defer done.Add(1)
				errs <- echoClient(h.addr, i, rounds)
			}()
		}
		h.run(func() bool { return done.Load() == clients && len(srv.conns) == 0 }, srv.handle)
		for i := 0; i < clients; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}

// echoClient sends rounds messages of varying size and checks each echo.
func echoClient(addr string, id, rounds int) error { return echoClientReady(addr, id, rounds, nil) }

// echoClientReady is echoClient that calls ready.Done once its first
// message is written (or it failed before), for a test that wants every
// client's first request waiting before the server runs.
func echoClientReady(addr string, id, rounds int, ready *sync.WaitGroup) error {
	signal := func() {
		if ready != nil {
			ready.Done()
			ready = nil
		}
	}
	defer signal()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	for i := 0; i < rounds; i++ {
		msg := pattern(id*1000+i, 1+(i*997)%5000)
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("client %d round %d: write: %w", id, i, err)
		}
		signal()
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("client %d round %d: read: %w", id, i, err)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("client %d round %d: echo differs", id, i)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		return fmt.Errorf("client %d: after CloseWrite read %d, %v; want EOF from the server's close", id, n, err)
	}
	return nil
}

// Bytes written one at a time arrive in many OpRecv, whole and in order.
func TestSplitReads(t *testing.T) {
	const n = 300
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		client, fd := h.dial()
		h.r.Recv(fd)
		want := pattern(7, n)
		go func() {
			for i := range want {
				client.Write(want[i : i+1])
				time.Sleep(100 * time.Microsecond)
			}
			client.(*net.TCPConn).CloseWrite()
		}()
		var got []byte
		recvs, eofs := 0, 0
		h.run(func() bool { return eofs > 0 }, func(c *ring.Completion) {
			switch {
			case c.Op == ring.OpRecv && c.Res > 0:
				recvs++
				got = append(got, c.Data...)
			case c.Op == ring.OpRecv && c.Res == 0:
				eofs++
			default:
				t.Errorf("unexpected %+v", *c)
			}
		})
		if !bytes.Equal(got, want) {
			t.Fatalf("received %d bytes, differing from the %d sent", len(got), len(want))
		}
		if recvs < 2 {
			t.Errorf("%d bytes written one by one arrived in %d OpRecv; want many", n, recvs)
		}
		t.Logf("%d bytes in %d OpRecv", n, recvs)
	})
}

// An 8 MiB send to a slow reader completes once, whole and in order, after
// short sends were resubmitted.
func TestLargeSendSlowReader(t *testing.T) {
	const size = 8 << 20
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		client, fd := h.dial()
		want := pattern(11, size)
		h.r.Send(fd, want)
		readErr := make(chan error, 1)
		go func() {
			client.SetDeadline(time.Now().Add(testTimeout))
			got := make([]byte, 0, size)
			buf := make([]byte, 64<<10)
			for len(got) < size {
				n, err := client.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					readErr <- fmt.Errorf("after %d bytes: %w", len(got), err)
					return
				}
				time.Sleep(500 * time.Microsecond) // a slow reader
			}
			if !bytes.Equal(got, want) {
				readErr <- errors.New("bytes differ from those sent")
				return
			}
			readErr <- nil
		}()
		sends := 0
		h.run(func() bool { return sends > 0 }, func(c *ring.Completion) {
			if c.Op != ring.OpSend || int(c.FD) != fd {
				t.Errorf("unexpected %+v", *c)
				return
			}
			sends++
			if c.Res != size {
				t.Errorf("OpSend Res = %d, want %d", c.Res, size)
			}
		})
		if err := <-readErr; err != nil {
			t.Fatal(err)
		}
		h.runFor(20*time.Millisecond, func(c *ring.Completion) { t.Errorf("unexpected %+v after OpSend", *c) })
		st := ring.StatsOf(h.r)
		if st.ShortSends == 0 {
			t.Errorf("no short send happened; the test did not exercise resubmission")
		}
		t.Logf("short sends resubmitted: %d", st.ShortSends)
	})
}

// PauseRecv stops delivery; Recv resumes it; no byte is lost, even when the
// two alternate on every completion while the client streams.
func TestPauseResume(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		client, fd := h.dial()
		h.r.Recv(fd)
		first, second := pattern(1, 1000), pattern(2, 5000)
		client.Write(first)
		var got []byte
		collect := func(c *ring.Completion) {
			if c.Op != ring.OpRecv || int(c.FD) != fd || c.Res <= 0 {
				t.Errorf("unexpected %+v", *c)
				return
			}
			got = append(got, c.Data...)
		}
		h.run(func() bool { return len(got) >= len(first) }, collect)

		h.r.PauseRecv(fd)
		// Completions already under way may still come; let them.
		h.runFor(50*time.Millisecond, collect)
		client.Write(second)
		h.runFor(300*time.Millisecond, func(c *ring.Completion) {
			t.Errorf("completion while paused: %+v", *c)
		})
		h.r.Recv(fd)
		total := len(first) + len(second)
		h.run(func() bool { return len(got) >= total }, collect)
		if !bytes.Equal(got, append(first, second...)) {
			t.Fatalf("after pause and resume: %d bytes, not those sent", len(got))
		}

		// Toggle on every completion while 2 MiB streams in.
		stream := pattern(3, 2<<20)
		go client.Write(stream)
		got = got[:0]
		paused := false
		h.run(func() bool { return len(got) >= len(stream) }, func(c *ring.Completion) {
			collect(c)
			if paused {
				h.r.Recv(fd)
			} else {
				h.r.PauseRecv(fd)
				h.r.Recv(fd) // resume within the same turn: the cancel must not lose the re-arm
			}
			paused = !paused
		})
		if !bytes.Equal(got, stream) {
			t.Fatalf("toggling pause: %d bytes, not those sent", len(got))
		}
		// After all that toggling, a pause still stops delivery.
		h.r.PauseRecv(fd)
		got = got[:0]
		h.runFor(50*time.Millisecond, collect)
		third := pattern(4, 3000)
		client.Write(third)
		h.runFor(200*time.Millisecond, func(c *ring.Completion) {
			t.Errorf("completion while paused after toggling: %+v", *c)
		})
		h.r.Recv(fd)
		h.run(func() bool { return len(got) >= len(third) }, collect)
		if !bytes.Equal(got, third) {
			t.Fatalf("after toggling, pause and resume: %d bytes, not those sent", len(got))
		}
	})
}

// EOF is delivered once as OpRecv with Res 0, and nothing follows it.
func TestEOF(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		client, fd := h.dial()
		h.r.Recv(fd)
		client.Write([]byte("bye"))
		client.(*net.TCPConn).CloseWrite()
		var got []byte
		eofs := 0
		handler := func(c *ring.Completion) {
			switch {
			case c.Op == ring.OpRecv && c.Res > 0 && eofs == 0:
				got = append(got, c.Data...)
			case c.Op == ring.OpRecv && c.Res == 0:
				eofs++
			default:
				t.Errorf("unexpected %+v (after %d EOF)", *c, eofs)
			}
		}
		h.run(func() bool { return eofs > 0 }, handler)
		h.runFor(100*time.Millisecond, handler)
		if string(got) != "bye" || eofs != 1 {
			t.Fatalf("got %q and %d EOF, want \"bye\" and 1", got, eofs)
		}
	})
}

// Close while a recv is armed and bytes stream in, and while a send is
// blocked on a client that does not read: exactly one OpClose each, nothing
// for the fd after Close, and the client sees the connection go.
func TestCloseInFlight(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		base := ring.InFlight(h.r) // the listener's accept, the wake
		// Recv armed, client streaming.
		client, fd := h.dial()
		h.r.Recv(fd)
		go func() {
			b := pattern(5, 4096)
			for {
				if _, err := client.Write(b); err != nil {
					return
				}
			}
		}()
		recvs := 0
		h.run(func() bool { return recvs > 0 }, func(c *ring.Completion) {
			if c.Op == ring.OpRecv && int(c.FD) == fd {
				recvs++
			}
		})
		h.r.Close(fd)
		h.r.Close(fd) // twice: still one OpClose
		expectOnlyClose(t, h, fd)
		expectPeerGone(t, client)

		// Send blocked on a client that does not read.
		client2, fd2 := h.dial()
		h.r.Recv(fd2)
		h.r.Send(fd2, pattern(6, 16<<20))
		h.runFor(50*time.Millisecond, func(c *ring.Completion) {
			t.Errorf("unexpected %+v before Close", *c)
		})
		h.r.Close(fd2)
		expectOnlyClose(t, h, fd2)
		expectPeerGone(t, client2)
		if n := ring.InFlight(h.r); n != base {
			t.Errorf("%d operations in flight after every close, want %d", n, base)
		}
	})
}

func expectOnlyClose(t *testing.T, h *harness, fd int) {
	t.Helper()
	closes := 0
	handler := func(c *ring.Completion) {
		if int(c.FD) != fd {
			return
		}
		if c.Op != ring.OpClose || closes > 0 {
			t.Errorf("completion for fd %d after Close: %+v (after %d OpClose)", fd, *c, closes)
			return
		}
		closes++
	}
	h.run(func() bool { return closes > 0 }, handler)
	h.runFor(200*time.Millisecond, handler)
	if closes != 1 {
		t.Errorf("%d OpClose for fd %d, want 1", closes, fd)
	}
}

func expectPeerGone(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 64<<10)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // what the server sent before closing
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("client still connected %v after OpClose", testTimeout)
		}
		return
	}
}

// After a close, a new connection that gets the same fd number sees none of
// the old connection's bytes or completions.
func TestFDReuse(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		clientA, fd := h.dial()
		h.r.Recv(fd)
		go func() {
			a := bytes.Repeat([]byte{'A'}, 4096)
			for {
				if _, err := clientA.Write(a); err != nil {
					return
				}
			}
		}()
		recvs := 0
		h.run(func() bool { return recvs > 0 }, func(c *ring.Completion) {
			if c.Op == ring.OpRecv && int(c.FD) == fd {
				recvs++
			}
		})
		// The client socket is made now, so that the number fd frees goes
		// to the server's next accept, not to the client.
		cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(cfd)
		h.r.Close(fd)
		closed := false
		h.run(func() bool { return closed }, func(c *ring.Completion) {
			if int(c.FD) == fd && c.Op == ring.OpClose {
				closed = true
			}
		})
		sa, _ := unix.Getsockname(h.lfd)
		if err := unix.Connect(cfd, sa); err != nil {
			t.Fatal(err)
		}
		fd2 := h.acceptOne()
		if fd2 != fd {
			t.Fatalf("new connection got fd %d, not the freed %d: cannot test reuse", fd2, fd)
		}
		h.r.Recv(fd2)
		want := bytes.Repeat([]byte{'B'}, 10000)
		if _, err := unix.Write(cfd, want); err != nil {
			t.Fatal(err)
		}
		unix.Shutdown(cfd, unix.SHUT_WR)
		var got []byte
		eof := false
		h.run(func() bool { return eof }, func(c *ring.Completion) {
			switch {
			case int(c.FD) != fd2:
				t.Errorf("unexpected %+v", *c)
			case c.Op == ring.OpRecv && c.Res > 0:
				got = append(got, c.Data...)
			case c.Op == ring.OpRecv && c.Res == 0:
				eof = true
			default:
				t.Errorf("stale or unexpected completion on reused fd: %+v", *c)
			}
		})
		if !bytes.Equal(got, want) {
			t.Fatalf("reused fd received %d bytes (%q...), want %d of 'B'", len(got), got[:min(len(got), 8)], len(want))
		}
	})
}

func TestWake(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		wakes := 0
		count := func(c *ring.Completion) {
			if c.Op != ring.OpWake {
				t.Errorf("unexpected %+v", *c)
				return
			}
			wakes++
		}
		// A Wait with no limit returns when another goroutine wakes it.
		go func() {
			time.Sleep(20 * time.Millisecond)
			h.r.Wake()
		}()
		if err := h.r.Wait(-1, count); err != nil {
			t.Fatal(err)
		}
		if wakes != 1 {
			t.Fatalf("Wait(-1) returned with %d OpWake, want 1", wakes)
		}
		// A Wake before the Wait is not lost.
		wakes = 0
		h.r.Wake()
		h.run(func() bool { return wakes > 0 }, count)

		// Many concurrent Wakes: at least one OpWake, at most one each,
		// and none left over once they are all delivered.
		wakes = 0
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 100; j++ {
					h.r.Wake()
				}
			}()
		}
		wg.Wait()
		h.run(func() bool { return wakes > 0 }, count)
		h.runFor(50*time.Millisecond, count)
		if wakes > 800 {
			t.Errorf("%d OpWake for 800 Wake calls", wakes)
		}
		before := wakes
		h.runFor(50*time.Millisecond, count)
		if wakes != before {
			t.Errorf("OpWake kept coming with no Wake: %d more", wakes-before)
		}
	})
}

func TestWaitTimeout(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		calls := 0
		handler := func(c *ring.Completion) { calls++ }
		start := time.Now()
		if err := h.r.Wait(30*time.Millisecond, handler); err != nil {
			t.Fatal(err)
		}
		t.Logf("Wait(30ms) returned after %v", time.Since(start))
		if err := h.r.Wait(0, handler); err != nil {
			t.Fatal(err)
		}
		if calls != 0 {
			t.Fatalf("%d completions with nothing in flight", calls)
		}
	})
}

// With two provided buffers and many clients sending at once, the buffer
// ring runs dry (ENOBUFS); the recvs are re-armed and every byte arrives.
func TestBufferExhaustion(t *testing.T) {
	const clients, size = 32, 64 << 10
	forEachBackend(t, ring.Config{BufCount: 2, BufSize: 4096}, func(t *testing.T, h *harness) {
		start := make(chan struct{})
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			go func() {
				c, err := net.Dial("tcp", h.addr)
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				<-start
				if _, err := c.Write(pattern(100+i, size)); err != nil {
					errs <- err
					return
				}
				c.(*net.TCPConn).CloseWrite()
				c.SetReadDeadline(time.Now().Add(testTimeout))
				c.Read(make([]byte, 1)) // until the server closes
				errs <- nil
			}()
		}
		got := map[int][]byte{}
		var order []int
		eofs := 0
		h.run(func() bool { return len(got) == clients }, func(c *ring.Completion) {
			if c.Op != ring.OpAccept {
				t.Errorf("unexpected %+v", *c)
				return
			}
			got[int(c.FD)] = nil
			order = append(order, int(c.FD))
		})
		// Arm every recv, then let all clients send at once.
		for _, fd := range order {
			h.r.Recv(fd)
		}
		close(start)
		h.run(func() bool { return eofs == clients }, func(c *ring.Completion) {
			fd := int(c.FD)
			switch {
			case c.Op == ring.OpRecv && c.Res > 0:
				got[fd] = append(got[fd], c.Data...)
			case c.Op == ring.OpRecv && c.Res == 0:
				eofs++
				h.r.Close(fd)
			case c.Op == ring.OpClose:
			default:
				t.Errorf("unexpected %+v", *c)
			}
		})
		// Every connection's bytes are one client's pattern, complete.
		wants := map[string]bool{}
		for i := 0; i < clients; i++ {
			wants[string(pattern(100+i, size))] = true
		}
		for fd, b := range got {
			if !wants[string(b)] {
				t.Errorf("fd %d: %d bytes that are no client's pattern", fd, len(b))
			}
			delete(wants, string(b))
		}
		h.run(func() bool { return len(errs) == clients }, func(*ring.Completion) {})
		for i := 0; i < clients; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		st := ring.StatsOf(h.r)
		t.Logf("ENOBUFS: %d, recv re-arms: %d", st.RecvNoBufs, st.RecvRearms)
		if h.r.Backend() == "uring" && st.RecvNoBufs == 0 {
			t.Errorf("the buffer ring never ran dry; the test did not exercise ENOBUFS")
		}
	})
}

// An echo round trip in steady state allocates nothing: client write,
// OpRecv, Send, OpSend, client read.
func TestEchoZeroAllocs(t *testing.T) {
	forEachBackend(t, ring.Config{}, func(t *testing.T, h *harness) {
		e := newRawEcho(t, h)
		for i := 0; i < 100; i++ {
			e.roundTrip()
		}
		before := ring.StatsOf(h.r).Enters
		if allocs := testing.AllocsPerRun(1000, e.roundTrip); allocs != 0 {
			t.Errorf("%v allocations per echo round trip, want 0", allocs)
		}
		t.Logf("%.2f io_uring_enter/epoll_wait per round trip", float64(ring.StatsOf(h.r).Enters-before)/1001)
	})
}

// rawEcho is a client on a raw fd and a server handler, both built once, so
// that a round trip involves no allocation outside the ring.
type rawEcho struct {
	t       testing.TB
	h       *harness
	cfd, fd int
	msg     []byte
	reply   []byte
	out     []byte
	sent    bool
	handler ring.Handler
}

func newRawEcho(t testing.TB, h *harness) *rawEcho {
	cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(cfd) })
	unix.SetsockoptInt(cfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	sa, _ := unix.Getsockname(h.lfd)
	if err := unix.Connect(cfd, sa); err != nil {
		t.Fatal(err)
	}
	e := &rawEcho{t: t, h: h, cfd: cfd, msg: []byte("*1\r\n$4\r\nPING\r\n"), reply: make([]byte, 64), out: make([]byte, 0, 64)}
	e.fd = h.acceptOne()
	if v, err := unix.GetsockoptInt(e.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || v == 0 {
		t.Errorf("accepted socket: TCP_NODELAY = %d, %v; want set", v, err)
	}
	if fl, err := unix.FcntlInt(uintptr(e.fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("accepted socket is not non-blocking (flags %#x, %v)", fl, err)
	}
	h.r.Recv(e.fd)
	e.handler = func(c *ring.Completion) {
		switch c.Op {
		case ring.OpRecv:
			e.out = append(e.out[:0], c.Data...)
			h.r.Send(e.fd, e.out)
		case ring.OpSend:
			e.sent = true
		}
	}
	return e
}

func (e *rawEcho) roundTrip() {
	if _, err := unix.Write(e.cfd, e.msg); err != nil {
		e.t.Fatal(err)
	}
	e.sent = false
	for !e.sent {
		if err := e.h.r.Wait(time.Second, e.handler); err != nil {
			e.t.Fatal(err)
		}
	}
	for n := 0; n < len(e.msg); {
		k, err := unix.Read(e.cfd, e.reply[n:])
		if err != nil || k == 0 {
			e.t.Fatalf("client read: %d, %v", k, err)
		}
		n += k
	}
}

// Queues far smaller than the load: the SQ fills (early submits) and the CQ
// overflows (the kernel keeps the CQEs, Wait reaps and enters again). Every
// client's connection and first request are waiting before the loop first
// runs, so its first turns see them all at once however the machine
// schedules the clients (with the clients racing the loop, a busy machine
// could serve them one by one and fill neither queue).
func TestSmallQueues(t *testing.T) {
	const clients, rounds = 32, 20
	forEachBackend(t, ring.Config{Entries: 4, BufCount: 8}, func(t *testing.T, h *harness) {
		srv := newEchoServer(t, h.r)
		var done atomic.Int32
		var ready sync.WaitGroup
		ready.Add(clients)
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			go func() {
				defer done.Add(1)
				errs <- echoClientReady(h.addr, i, rounds, &ready)
			}()
		}
		ready.Wait()
		h.run(func() bool { return done.Load() == clients && len(srv.conns) == 0 }, srv.handle)
		for i := 0; i < clients; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		st := ring.StatsOf(h.r)
		t.Logf("early submits: %d, CQ overflows: %d", st.EarlySubmits, st.CQOverflows)
		if h.r.Backend() == "uring" && st.EarlySubmits == 0 {
			t.Errorf("the SQ never filled; the test did not exercise early submission")
		}
		if h.r.Backend() == "uring" && st.CQOverflows == 0 {
			t.Errorf("the CQ never overflowed; the test did not exercise overflow recovery")
		}
	})
}

// Shutdown with a recv armed, a send blocked and a close under way returns
// without error, and every client sees its connection go.
func TestShutdownInFlight(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			h := newHarness(t, b, ring.Config{})
			c1, fd1 := h.dial()
			c2, fd2 := h.dial()
			c3, fd3 := h.dial()
			h.r.Recv(fd1)
			h.r.Send(fd2, pattern(9, 16<<20))
			h.r.Recv(fd3)
			h.runFor(20*time.Millisecond, func(c *ring.Completion) { t.Errorf("unexpected %+v", *c) })
			h.r.Close(fd3)
			if err := h.r.Shutdown(); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			for _, c := range []net.Conn{c1, c2, c3} {
				expectPeerGone(t, c)
			}
			if err := h.r.Wait(0, func(*ring.Completion) {}); err == nil {
				t.Errorf("Wait after Shutdown: no error")
			}
			h.r.Wake() // harmless after Shutdown
		})
	}
}

// Backend selection: names, the environment variable, and errors.
func TestNew(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, c := range []struct {
		cfg     ring.Config
		env     string
		backend string // "" means an error is expected
		reason  string
	}{
		{cfg: ring.Config{Backend: "epoll"}, backend: "epoll", reason: "epoll: requested by configuration"},
		{cfg: ring.Config{}, env: "epoll", backend: "epoll", reason: "epoll: requested by RINGKV_IO"},
		{cfg: ring.Config{Backend: "uring"}, env: "epoll", backend: "uring", reason: "io_uring: requested by configuration"},
		{cfg: ring.Config{Backend: "auto"}, backend: "uring", reason: "io_uring: self-test passed"},
		{cfg: ring.Config{}, backend: "uring", reason: "io_uring: self-test passed"},
		{cfg: ring.Config{Backend: "kqueue"}},
		{cfg: ring.Config{}, env: "select"},
		{cfg: ring.Config{BufCount: 3}},
		{cfg: ring.Config{Entries: ring.EntriesMax + 1}},
		{cfg: ring.Config{BufSize: ring.BufSizeMax + 1}},
	} {
		t.Setenv(ring.EnvBackend, c.env)
		r, reason, err := ring.New(c.cfg)
		if c.backend == "" {
			if err == nil {
				r.Shutdown()
				t.Errorf("New(%+v) with %s=%q: no error", c.cfg, ring.EnvBackend, c.env)
			}
			continue
		}
		if err != nil {
			if c.backend == "uring" && uringUnavailable(err) {
				t.Logf("skipping %+v: io_uring unavailable: %s", c.cfg, reason)
				continue
			}
			t.Errorf("New(%+v) with %s=%q: %v", c.cfg, ring.EnvBackend, c.env, err)
			continue
		}
		if r.Backend() != c.backend || !strings.HasPrefix(reason, c.reason) {
			t.Errorf("New(%+v) with %s=%q = %s, %q; want %s, %q", c.cfg, ring.EnvBackend, c.env, r.Backend(), reason, c.backend, c.reason)
		}
		if err := r.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
}
