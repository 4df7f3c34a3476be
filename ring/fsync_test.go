package ring_test

// Conformance of Fsync: every backend, and io_uring once more as on a
// kernel without IORING_OP_FSYNC (the synchronous fallback).

import (
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/ring"
)

// forEachFsyncVariant runs f on every backend of the suite and on io_uring
// with FSYNC disabled. Each variant gets its own ring on its own locked
// thread (a subtest runs on a goroutine of its own).
func forEachFsyncVariant(t *testing.T, f func(t *testing.T, h *harness)) {
	for _, v := range append(append([]string(nil), backends...), "uring-nofsyncop") {
		t.Run(v, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			backend := v
			if v == "uring-nofsyncop" {
				backend = "uring"
			}
			h := newHarness(t, backend, ring.Config{})
			defer h.shutdown()
			switch {
			case v == "uring-nofsyncop":
				ring.DisableFsyncOp(h.r)
			case h.r.Backend() == "uring" && !ring.UringFsyncOp(h.r):
				t.Logf("this kernel has no IORING_OP_FSYNC: the fallback runs here too")
			}
			f(t, h)
		})
	}
}

// openFile creates a file with some bytes in it; the fd is raw (no
// os.File, whose finalizer could close it under the ring).
func openFile(t *testing.T, dir string, i int) int {
	t.Helper()
	fd, err := unix.Open(filepath.Join(dir, "f"+strconv.Itoa(i)), unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.Write(fd, pattern(i, 4096+i)); err != nil {
		t.Fatal(err)
	}
	return fd
}

func stillOpen(t *testing.T, what string, fd int) {
	t.Helper()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		t.Errorf("%s (fd %d) was closed by the ring: %v", what, fd, err)
	}
}

// Several Fsyncs in flight at once, two of them on one file: one OpFsync
// each, with its fd and token and Res 0, and nothing else; the files stay
// open, and nothing stays in flight.
func TestFsync(t *testing.T) {
	forEachFsyncVariant(t, func(t *testing.T, h *harness) {
		base := ring.InFlight(h.r)
		dir := t.TempDir()
		want := map[uint32]int{}
		var fds []int
		for i := range 4 {
			fd := openFile(t, dir, i)
			fds = append(fds, fd)
			want[uint32(100+i)] = fd
			h.r.Fsync(fd, uint32(100+i))
		}
		want[1<<31+7] = fds[0]
		h.r.Fsync(fds[0], 1<<31+7)
		if ring.UringFsyncOp(h.r) && ring.InFlight(h.r) != base+len(want) {
			t.Errorf("%d operations in flight after %d Fsyncs, want %d: FSYNC was not submitted", ring.InFlight(h.r), len(want), base+len(want))
		}
		got := map[uint32]int{}
		handler := func(c *ring.Completion) {
			switch {
			case c.Op != ring.OpFsync:
				t.Errorf("unexpected %+v", *c)
			case c.Res != 0:
				t.Errorf("fsync of fd %d (token %d): Res %d", c.FD, c.Token, c.Res)
			case c.Data != nil:
				t.Errorf("OpFsync with Data")
			}
			if _, dup := got[c.Token]; dup {
				t.Errorf("token %d delivered twice", c.Token)
			}
			if fd, ok := want[c.Token]; !ok || fd != int(c.FD) {
				t.Errorf("OpFsync FD %d token %d; want the fd given with that token (%d, known %v)", c.FD, c.Token, fd, ok)
			}
			got[c.Token] = int(c.FD)
		}
		h.run(func() bool { return len(got) == len(want) }, handler)
		h.runFor(50*time.Millisecond, handler)
		for _, fd := range fds {
			stillOpen(t, "a synced file", fd)
		}
		if n := ring.InFlight(h.r); n != base {
			t.Errorf("%d operations in flight after every OpFsync, want %d", n, base)
		}
	})
}

// What fdatasync(2) would say comes back as -errno, on every backend: a
// pipe or a socket cannot be synced (EINVAL), a closed or negative number
// is not a file (EBADF). The fds stay open.
func TestFsyncErrors(t *testing.T) {
	forEachFsyncVariant(t, func(t *testing.T, h *harness) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(sp[0])
		defer unix.Close(sp[1])
		// A number no file has: past the table of any process here.
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		closed := int(min(lim.Max, 1<<30)) - 1
		file := openFile(t, t.TempDir(), 0)
		cases := []struct {
			name string
			fd   int
			want int32
		}{
			{"regular file", file, 0},
			{"pipe, read end", p[0], -int32(unix.EINVAL)},
			{"pipe, write end", p[1], -int32(unix.EINVAL)},
			{"socket", sp[0], -int32(unix.EINVAL)},
			{"closed number", closed, -int32(unix.EBADF)},
			{"negative", -1, -int32(unix.EBADF)},
		}
		for i, c := range cases {
			h.r.Fsync(c.fd, uint32(i))
		}
		got := map[uint32]int32{}
		handler := func(c *ring.Completion) {
			if c.Op != ring.OpFsync {
				t.Errorf("unexpected %+v", *c)
				return
			}
			if int(c.Token) >= len(cases) || int(c.FD) != cases[c.Token].fd {
				t.Errorf("OpFsync FD %d token %d matches no Fsync", c.FD, c.Token)
				return
			}
			got[c.Token] = c.Res
		}
		h.run(func() bool { return len(got) == len(cases) }, handler)
		for i, c := range cases {
			if got[uint32(i)] != c.want {
				t.Errorf("Fsync(%s): Res %d (%v), want %d (%v)", c.name, got[uint32(i)], unix.Errno(-got[uint32(i)]), c.want, unix.Errno(-c.want))
			}
		}
		for _, fd := range []int{p[0], p[1], sp[0], file} {
			stillOpen(t, "an fd given to Fsync", fd)
		}
	})
}

// Shutdown with an Fsync given and not yet reaped returns without error and
// leaves the file open: it is the caller's.
func TestFsyncShutdown(t *testing.T) {
	forEachFsyncVariant(t, func(t *testing.T, h *harness) {
		fd := openFile(t, t.TempDir(), 1)
		h.r.Fsync(fd, 1)
		if err := h.r.Shutdown(); err != nil {
			t.Fatalf("Shutdown with an Fsync in flight: %v", err)
		}
		stillOpen(t, "the file of an Fsync in flight at Shutdown", fd)
	})
}

// An Fsync round trip in steady state allocates nothing.
func TestFsyncZeroAllocs(t *testing.T) {
	forEachFsyncVariant(t, func(t *testing.T, h *harness) {
		fd := openFile(t, t.TempDir(), 2)
		done := false
		handler := func(c *ring.Completion) {
			if c.Op != ring.OpFsync || c.Res != 0 {
				t.Errorf("unexpected %+v", *c)
			}
			done = true
		}
		roundTrip := func() {
			done = false
			h.r.Fsync(fd, 9)
			for !done {
				if err := h.r.Wait(time.Second, handler); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 10 {
			roundTrip()
		}
		if allocs := testing.AllocsPerRun(100, roundTrip); allocs != 0 {
			t.Errorf("%v allocations per Fsync round trip, want 0", allocs)
		}
	})
}
