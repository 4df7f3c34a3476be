package conn

// The group commit of appendfsync always with its fsync on the ring
// (aof_commit.go), on both backends: replies wait for the fsync that covers
// what they depend on, a failed fsync turns exactly its commands' replies
// into MISCONF errors, and the loop keeps serving meanwhile.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

var commitBackends = []string{"uring", "epoll"}

// fsyncGate is an AOFConfig.Fault that holds a group commit's fsync: once
// armed, the next fsync signals entered and waits for release's verdict.
// conn runs the hook off the owner for the fsyncs it hands to the ring, so
// the loop goes on while a test holds one.
type fsyncGate struct {
	armed   atomic.Bool
	entered chan struct{}
	verdict chan error
}

func newFsyncGate() *fsyncGate {
	return &fsyncGate{entered: make(chan struct{}, 1), verdict: make(chan error, 1)}
}

func (g *fsyncGate) fault(op aof.Op) error {
	if op != aof.OpFsync || !g.armed.CompareAndSwap(true, false) {
		return nil
	}
	g.entered <- struct{}{}
	return <-g.verdict
}

func (g *fsyncGate) arm() { g.armed.Store(true) }

func (g *fsyncGate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no fsync reached the gate in 20s")
	}
}

func (g *fsyncGate) release(err error) { g.verdict <- err }

// commitServer runs an in-process server on backend, its fsyncs going
// through gate if not nil; stop waits for Run.
func commitServer(t *testing.T, backend string, aofCfg AOFConfig, softLimit int, gate *fsyncGate) (addr string, stop func()) {
	t.Helper()
	if gate != nil {
		aofCfg.Fault = gate.fault
	}
	addr, stop = runServer(t, Config{IO: backend, AOF: aofCfg, ReplySoftLimit: softLimit})
	if gate != nil {
		// Cleanups run last-registered first: a test that failed while
		// holding an fsync releases it before the server is stopped.
		t.Cleanup(func() {
			gate.armed.Store(false)
			select {
			case gate.verdict <- nil:
			default:
			}
		})
	}
	return addr, stop
}

func (tc *testClient) send(args ...string) {
	tc.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	if _, err := tc.c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		tc.t.Fatal(err)
	}
}

// pipeline encodes commands to be sent with one write.
func pipeline(cmds ...[]string) []byte {
	var b []byte
	for _, cmd := range cmds {
		argv := make([][]byte, len(cmd))
		for i, a := range cmd {
			argv[i] = []byte(a)
		}
		b = resp.AppendCommand(b, argv...)
	}
	return b
}

func (tc *testClient) read() string {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r, err := readReply(tc.br, nil)
	if err != nil {
		tc.t.Fatal(err)
	}
	return string(r)
}

// quiet fails if any byte arrives within d: the reply is held.
func (tc *testClient) quiet(what string, d time.Duration) {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(d))
	b, err := tc.br.Peek(1)
	if err == nil {
		tc.t.Fatalf("%s: a reply arrived while the fsync was held (%q...)", what, b)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		tc.t.Fatalf("%s: %v", what, err)
	}
}

const holdQuiet = 150 * time.Millisecond

// No reply that depends on the held fsync leaves before it completes, not
// even a read of the written key by another client, while the loop goes on:
// a large reply produced before the write keeps streaming, and another
// client's write runs and waits for the next commit.
func TestAOFAlwaysHoldsReplies(t *testing.T) {
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			gate := newFsyncGate()
			dir := t.TempDir()
			addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, gate)
			a, b, c, r := dialTest(t, addr), dialTest(t, addr), dialTest(t, addr), dialTest(t, addr)
			big := strings.Repeat("b", 32<<20) // far more than the socket buffers hold
			if got := a.do("SET", "big", big); got != "+OK\r\n" {
				t.Fatalf("SET big: %q", got)
			}
			r.send("GET", "big")
			r.c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := r.br.Peek(1); err != nil { // its reply is on its way
				t.Fatal(err)
			}

			gate.arm()
			a.send("SET", "k", "v")
			gate.waitEntered(t)
			b.send("GET", "k")
			c.send("SET", "c", "1")
			a.quiet("the write", holdQuiet)
			b.quiet("a read of the written key", holdQuiet)
			c.quiet("a write run during the fsync", holdQuiet)
			if got := r.read(); got != "$"+strconv.Itoa(len(big))+"\r\n"+big+"\r\n" {
				t.Fatalf("GET big while the fsync was held: %d bytes, not the value", len(got))
			}
			gate.release(nil)
			if got := a.read(); got != "+OK\r\n" {
				t.Fatalf("the write after its fsync: %q", got)
			}
			if got := b.read(); got != "$1\r\nv\r\n" {
				t.Fatalf("the read after the fsync: %q", got)
			}
			if got := c.read(); got != "+OK\r\n" {
				t.Fatalf("the write of the next commit: %q", got)
			}
			// Nothing unsynced: a read is answered at once again.
			if got := r.do("GET", "c"); got != "$1\r\n1\r\n" {
				t.Fatalf("GET c: %q", got)
			}

			// A client that disconnects while held: its write still
			// commits; the server carries on.
			d := dialTest(t, addr)
			gate.arm()
			d.send("SET", "d", "1")
			gate.waitEntered(t)
			d.c.Close()
			time.Sleep(20 * time.Millisecond) // let the close reach the loop first (either order must work)
			gate.release(nil)
			if got := a.do("GET", "d"); got != "$1\r\n1\r\n" {
				t.Fatalf("GET d after its client left: %q", got)
			}
			stop()
			addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
			a = dialTest(t, addr)
			for k, want := range map[string]string{"k": "v", "c": "1", "d": "1"} {
				if got := a.do("GET", k); got != "$1\r\n"+want+"\r\n" {
					t.Fatalf("GET %s after restart: %q", k, got)
				}
			}
		})
	}
}

// A failed fsync turns the replies of the commands it covered into MISCONF
// errors and nothing else: the reads among them, and another client's
// read held by it, are answered as they are; then writes are refused until
// a commit succeeds.
func TestAOFAlwaysFailedFsync(t *testing.T) {
	const misconf = "-MISCONF Errors writing to the AOF file: Input/output error\r\n"
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			gate := newFsyncGate()
			addr, _ := commitServer(t, backend, AOFConfig{Enabled: true, Dir: t.TempDir(), Fsync: "always"}, 0, gate)
			p, b, w := dialTest(t, addr), dialTest(t, addr), dialTest(t, addr)
			if got := w.do("SET", "before", "1"); got != "+OK\r\n" {
				t.Fatalf("SET before: %q", got)
			}
			// One write: one read of it by the server, one loop turn, one
			// commit.
			gate.arm()
			if _, err := p.c.Write(pipeline([]string{"SET", "p1", "1"}, []string{"GET", "p1"}, []string{"INCR", "n"},
				[]string{"ECHO", "hi"}, []string{"SET", "p2", "2"}, []string{"GET", "before"})); err != nil {
				t.Fatal(err)
			}
			gate.waitEntered(t)
			b.send("GET", "p1")
			// More from the same client while the fsync is held: these go
			// into the next commit (which fails too), behind replies whose
			// length the first failure changes. Had the loop not reached
			// them before the failure, the writes are refused instead: the
			// replies are the same.
			if _, err := p.c.Write(pipeline([]string{"SET", "q1", "1"}, []string{"GET", "before"}, []string{"SET", "q2", "1"})); err != nil {
				t.Fatal(err)
			}
			p.quiet("the pipeline", holdQuiet)
			b.quiet("a read of a write in the failing commit", holdQuiet)
			gate.arm() // the next commit's fsync (the retry) fails as well
			gate.release(syscall.EIO)
			gate.waitEntered(t)
			gate.release(syscall.EIO)
			want := []string{misconf, "$1\r\n1\r\n", misconf, "$2\r\nhi\r\n", misconf, "$1\r\n1\r\n", misconf, "$1\r\n1\r\n", misconf}
			for i, w := range want {
				if got := p.read(); got != w {
					t.Fatalf("reply %d after the failed fsyncs: %q, want %q", i, got, w)
				}
			}
			if got := b.read(); got != "$1\r\n1\r\n" {
				t.Fatalf("the other client's read after the failed fsync: %q", got)
			}
			// The retry (every aofRetryMs) succeeds: writes are accepted again.
			deadline := time.Now().Add(5 * time.Second)
			for {
				got := w.do("SET", "after", "1")
				if got == "+OK\r\n" {
					break
				}
				if got != misconf || time.Now().After(deadline) {
					t.Fatalf("SET after the failure: %q", got)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A held client that also passes the soft limit of its replies stops being
// read, and gets every reply, in order, once the fsync completes.
func TestAOFAlwaysHeldBackpressure(t *testing.T) {
	const gets, softLimit = 200, 64 << 10
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			gate := newFsyncGate()
			addr, _ := commitServer(t, backend, AOFConfig{Enabled: true, Dir: t.TempDir(), Fsync: "always"}, softLimit, gate)
			a, h := dialTest(t, addr), dialTest(t, addr)
			val := strings.Repeat("x", 4096)
			if got := a.do("SET", "v", val); got != "+OK\r\n" {
				t.Fatalf("SET: %q", got)
			}
			gate.arm()
			a.send("SET", "k", "1")
			gate.waitEntered(t)
			var pipe []byte
			for range gets {
				pipe = resp.AppendCommand(pipe, []byte("GET"), []byte("v"))
			}
			go h.c.Write(pipe) // may block: the server stops reading
			h.quiet("GETs held past the soft limit", holdQuiet)
			gate.release(nil)
			if got := a.read(); got != "+OK\r\n" {
				t.Fatalf("SET k: %q", got)
			}
			for i := range gets {
				if got := h.read(); got != "$4096\r\n"+val+"\r\n" {
					t.Fatalf("GET %d: %.40q", i, got)
				}
			}
		})
	}
}

// What changes the AOF while an fsync is in flight: appendfsync, appendonly
// no (and yes right after), BGREWRITEAOF, and shutdown. Each waits as it
// must, and what was acknowledged survives a restart.
func TestAOFAlwaysChangesDuringFsync(t *testing.T) {
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			t.Run("appendfsync", func(t *testing.T) {
				gate := newFsyncGate()
				dir := t.TempDir()
				addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, gate)
				a, b := dialTest(t, addr), dialTest(t, addr)
				gate.arm()
				a.send("SET", "k", "1")
				gate.waitEntered(t)
				// From now on nothing new waits for an fsync (everysec): not
				// even this reply. The write run under always still does.
				if got := b.do("CONFIG", "SET", "appendfsync", "everysec"); got != "+OK\r\n" {
					t.Fatalf("CONFIG SET: %q", got)
				}
				a.quiet("the write run under always", holdQuiet)
				gate.release(nil)
				if got := a.read(); got != "+OK\r\n" {
					t.Fatalf("SET: %q", got)
				}
				if got := a.do("SET", "every", "1"); got != "+OK\r\n" { // no fsync waited for
					t.Fatalf("SET under everysec: %q", got)
				}
				b.do("CONFIG", "SET", "appendfsync", "always")
				if got := a.do("SET", "always", "1"); got != "+OK\r\n" {
					t.Fatalf("SET under always again: %q", got)
				}
				stop()
				addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
				a = dialTest(t, addr)
				for _, k := range []string{"k", "every", "always"} {
					if got := a.do("GET", k); got != "$1\r\n1\r\n" {
						t.Fatalf("GET %s after restart: %q", k, got)
					}
				}
			})
			t.Run("appendonly", func(t *testing.T) {
				gate := newFsyncGate()
				dir := t.TempDir()
				addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, gate)
				a, b, c := dialTest(t, addr), dialTest(t, addr), dialTest(t, addr)
				gate.arm()
				a.send("SET", "k", "1")
				gate.waitEntered(t)
				b.send("SET", "during", "1") // into the batch appendonly no commits on closing
				b.send("CONFIG", "SET", "appendonly", "no")
				b.quiet("appendonly no during the fsync", holdQuiet)
				// The closed file's fsync is still in flight: not yet.
				c.send("CONFIG", "SET", "appendonly", "yes")
				c.quiet("appendonly yes during the fsync", holdQuiet)
				gate.release(nil)
				if got := a.read(); got != "+OK\r\n" {
					t.Fatalf("SET k: %q", got)
				}
				if got := b.read(); got != "+OK\r\n" {
					t.Fatalf("SET during: %q", got)
				}
				if got := b.read(); got != "+OK\r\n" {
					t.Fatalf("appendonly no: %q", got)
				}
				if got := c.read(); !strings.Contains(got, "Unable to turn on AOF") {
					t.Fatalf("appendonly yes with the old file's fsync in flight: %q", got)
				}
				if got := a.do("SET", "off", "1"); got != "+OK\r\n" {
					t.Fatalf("SET with the AOF off: %q", got)
				}
				stop()
				addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
				a = dialTest(t, addr)
				if a.do("GET", "k") != "$1\r\n1\r\n" || a.do("GET", "during") != "$1\r\n1\r\n" || a.do("EXISTS", "off") != ":0\r\n" {
					t.Fatal("after restart: a write acknowledged before appendonly no is missing, or one after it was logged")
				}
				if got := a.do("CONFIG", "SET", "appendonly", "no"); got != "+OK\r\n" {
					t.Fatalf("appendonly no: %q", got)
				}
				if got := a.do("CONFIG", "SET", "appendonly", "yes"); got != "+OK\r\n" { // nothing in flight: at once
					t.Fatalf("appendonly yes: %q", got)
				}
			})
			t.Run("bgrewriteaof", func(t *testing.T) {
				gate := newFsyncGate()
				dir := t.TempDir()
				addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, gate)
				a, b := dialTest(t, addr), dialTest(t, addr)
				for i := range 100 {
					a.do("SET", "pre"+strconv.Itoa(i), "1")
				}
				gate.arm()
				a.send("SET", "k", "1")
				gate.waitEntered(t)
				b.send("BGREWRITEAOF")
				b.quiet("BGREWRITEAOF during the fsync", holdQuiet)
				gate.release(nil)
				if got := a.read(); got != "+OK\r\n" {
					t.Fatalf("SET: %q", got)
				}
				if got := b.read(); got != "+Background append only file rewriting started\r\n" {
					t.Fatalf("BGREWRITEAOF: %q", got)
				}
				waitRewrites(t, b, 1)
				if got := a.do("SET", "after", "1"); got != "+OK\r\n" {
					t.Fatalf("SET after the rewrite: %q", got)
				}
				want := keyspace(a)
				stop()
				m, err := aof.ReadManifest(filepath.Join(dir, "appendonlydir"), "appendonly.aof")
				if err != nil || m.Base.Seq != 2 {
					t.Fatalf("manifest after the rewrite: %+v %v", m, err)
				}
				addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
				if got := keyspace(dialTest(t, addr)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("after restart %d keys, want %d", len(got), len(want))
				}
			})
			t.Run("shutdown", func(t *testing.T) {
				gate := newFsyncGate()
				dir := t.TempDir()
				addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, gate)
				a := dialTest(t, addr)
				gate.arm()
				a.send("SET", "k", "1")
				gate.waitEntered(t)
				stopped := make(chan struct{})
				go func() { stop(); close(stopped) }()
				select {
				case <-stopped:
					t.Fatal("the server stopped with an fsync in flight")
				case <-time.After(holdQuiet):
				}
				gate.release(nil)
				<-stopped
				addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
				if got := dialTest(t, addr).do("GET", "k"); got != "$1\r\n1\r\n" {
					t.Fatalf("after restart: %q", got)
				}
			})
		})
	}
}

// Many clients write and read at once under always, with fsyncs slowed
// down so that commands pile up behind each: every acknowledged write, and
// every write a read saw, is in the file within what had been fsynced (the
// fault hook records the file's size before each fsync) by the time its
// client got the reply.
func TestAOFAlwaysConcurrentAcked(t *testing.T) {
	const writers, readers, writes = 32, 4, 150
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
			var covered, fsyncs atomic.Int64
			fault := func(op aof.Op) error {
				if op != aof.OpFsync {
					return nil
				}
				st, err := os.Stat(incr)
				if err != nil {
					return err
				}
				for {
					c := covered.Load()
					if st.Size() <= c || covered.CompareAndSwap(c, st.Size()) {
						break
					}
				}
				time.Sleep(time.Duration(fsyncs.Add(1)%3) * time.Millisecond)
				return nil
			}
			addr, _ := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always", Fault: fault}, 0, nil)
			var (
				mu   sync.Mutex
				seen = map[string]int64{} // "key=value" -> covered when a reply showed it
				wg   sync.WaitGroup
				done atomic.Bool
			)
			note := func(kv string, cov int64) {
				mu.Lock()
				if old, ok := seen[kv]; !ok || cov < old {
					seen[kv] = cov
				}
				mu.Unlock()
			}
			errs := make(chan error, writers+readers)
			for w := range writers {
				wc := dialTest(t, addr)
				wg.Go(func() {
					for i := range writes {
						k, v := "w"+strconv.Itoa(w)+":"+strconv.Itoa(i%20), strconv.Itoa(i)
						if got := wc.do("SET", k, v); got != "+OK\r\n" {
							errs <- fmt.Errorf("SET %s: %q", k, got)
							return
						}
						note(k+"="+v, covered.Load())
					}
				})
			}
			var rg sync.WaitGroup
			for r := range readers {
				rc := dialTest(t, addr)
				rg.Go(func() {
					for i := 0; !done.Load(); i++ {
						k := "w" + strconv.Itoa((r*7+i)%writers) + ":" + strconv.Itoa(i%20)
						got := rc.do("GET", k)
						cov := covered.Load()
						if got == "$-1\r\n" {
							continue
						}
						lines := strings.Split(got, "\r\n")
						if len(lines) < 2 {
							errs <- fmt.Errorf("GET %s: %q", k, got)
							return
						}
						note(k+"="+lines[1], cov)
					}
				})
			}
			wg.Wait()
			done.Store(true)
			rg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// The server still runs: its shutdown's final flush plays no part.
			f, err := os.Open(incr)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			at := map[string]int64{} // "key=value" -> end of its first SET record
			if _, _, err := aof.Scan(bufio.NewReader(f), func(argv [][]byte, off int64) error {
				if len(argv) == 3 && strings.EqualFold(string(argv[0]), "SET") {
					kv := string(argv[1]) + "=" + string(argv[2])
					if _, ok := at[kv]; !ok {
						at[kv] = off + int64(len(resp.AppendCommand(nil, argv...)))
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for kv, cov := range seen {
				end, ok := at[kv]
				switch {
				case !ok:
					t.Fatalf("%s was acknowledged or read but is not in the file", kv)
				case end > cov:
					t.Fatalf("%s was acknowledged or read when %d bytes had gone to fsync; its record ends at %d", kv, cov, end)
				}
			}
			t.Logf("%d writes and reads checked against the file; %d fsyncs", len(seen), fsyncs.Load())
		})
	}
}

// The same load with no fault hook (the production path: the fsync goes
// straight to the ring), checked after a restart.
func TestAOFAlwaysConcurrentRestart(t *testing.T) {
	const writers, writes = 32, 100
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}
			addr, stop := commitServer(t, backend, cfg, 0, nil)
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wc := dialTest(t, addr)
				wg.Go(func() {
					for i := range writes {
						if got := wc.do("RPUSH", "l"+strconv.Itoa(w), strconv.Itoa(i)); got != ":"+strconv.Itoa(i+1)+"\r\n" {
							errs <- fmt.Errorf("RPUSH: %q", got)
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
			stop()
			addr, _ = commitServer(t, backend, cfg, 0, nil)
			c := dialTest(t, addr)
			for w := range writers {
				if got := c.do("LLEN", "l"+strconv.Itoa(w)); got != ":"+strconv.Itoa(writes)+"\r\n" {
					t.Fatalf("LLEN l%d after restart: %q", w, got)
				}
			}
		})
	}
}

// aofBaseSeq is the seq of the base the manifest in dir names.
func aofBaseSeq(t *testing.T, dir string) int64 {
	t.Helper()
	m, err := aof.ReadManifest(filepath.Join(dir, "appendonlydir"), "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	if m.Base == nil {
		t.Fatal("the manifest names no base")
	}
	return m.Base.Seq
}

// After a failed fsync the incr file is not trusted (a later fsync of it
// may succeed over dropped pages): writes stay refused, even once fsyncs
// succeed again, until a rewrite has put the keyspace in a new base; then
// they are accepted, and a restart loads what the server held, the writes
// answered MISCONF but applied in memory included.
func TestAOFFsyncFailureRewrites(t *testing.T) {
	const misconf = "-MISCONF Errors writing to the AOF file: Input/output error\r\n"
	for _, policy := range []string{"always", "everysec"} {
		for _, backend := range commitBackends {
			t.Run(policy+"/"+backend, func(t *testing.T) {
				var (
					failFsync   atomic.Int32 // fsyncs still to fail
					holdRewrite atomic.Bool  // the base writes wait for release
					rewriting   = make(chan struct{}, 1)
					release     = make(chan struct{})
				)
				fault := func(op aof.Op) error {
					switch op {
					case aof.OpFsync:
						for {
							n := failFsync.Load()
							if n <= 0 {
								return nil
							}
							if failFsync.CompareAndSwap(n, n-1) {
								return syscall.EIO
							}
						}
					case aof.OpRewrite:
						if holdRewrite.Load() {
							select {
							case rewriting <- struct{}{}:
							default:
							}
							<-release
						}
					}
					return nil
				}
				dir := t.TempDir()
				cfg := AOFConfig{Enabled: true, Dir: dir, Fsync: policy, Fault: fault}
				addr, stop := commitServer(t, backend, cfg, 0, nil)
				t.Cleanup(func() {
					if holdRewrite.CompareAndSwap(true, false) {
						close(release)
					}
				})
				c := dialTest(t, addr)
				if r := c.do("SET", "before", "1"); r != "+OK\r\n" {
					t.Fatalf("SET before: %q", r)
				}
				seq0 := aofBaseSeq(t, dir)
				holdRewrite.Store(true)
				failFsync.Store(1)
				r := c.do("SET", "failed", "1")
				switch {
				case policy == "always" && r != misconf:
					t.Fatalf("the write whose fsync failed: %q", r)
				case policy == "everysec" && r != "+OK\r\n":
					t.Fatalf("SET under everysec: %q", r)
				}
				// Under everysec the background fsync fails within a second.
				deadline := time.Now().Add(5 * time.Second)
				for i := 0; ; i++ {
					r := c.do("SET", "k"+strconv.Itoa(i), "1")
					if r == misconf {
						break
					}
					if r != "+OK\r\n" || policy == "always" || time.Now().After(deadline) {
						t.Fatalf("SET after the failed fsync: %q", r)
					}
					time.Sleep(20 * time.Millisecond)
				}
				// Fsyncs succeed from now on, but the rewrite is held: the
				// retries (every aofRetryMs) fsync the old file and must
				// not end the refusal.
				select {
				case <-rewriting:
				case <-time.After(10 * time.Second):
					t.Fatal("no rewrite started after the failed fsync")
				}
				time.Sleep(3 * aofRetryMs * time.Millisecond)
				if r := c.do("SET", "refused", "1"); r != misconf {
					t.Fatalf("a write after fsyncs succeed again, before the rewrite: %q", r)
				}
				if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:err") {
					t.Fatalf("INFO before the rewrite: %q", r)
				}
				if got := aofBaseSeq(t, dir); got != seq0 {
					t.Fatalf("the manifest names base %d before the rewrite finished (was %d)", got, seq0)
				}
				holdRewrite.Store(false)
				close(release)
				deadline = time.Now().Add(10 * time.Second)
				for c.do("SET", "after", "1") != "+OK\r\n" {
					if time.Now().After(deadline) {
						t.Fatal("writes still refused after the rewrite could run")
					}
					time.Sleep(10 * time.Millisecond)
				}
				if got := aofBaseSeq(t, dir); got <= seq0 {
					t.Fatalf("writes accepted again with base %d, as before the failure", got)
				}
				if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:ok") {
					t.Fatalf("INFO after the rewrite: %q", r)
				}
				if r := c.do("GET", "failed"); r != "$1\r\n1\r\n" {
					t.Fatalf("the write whose fsync failed, in memory: %q", r)
				}
				if r := c.do("EXISTS", "refused"); r != ":0\r\n" {
					t.Fatalf("a refused write: %q", r)
				}
				want := keyspace(c)
				stop()
				addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: policy}, 0, nil)
				if got := keyspace(dialTest(t, addr)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("after restart:\n%v\nthe server held:\n%v", got, want)
				}
			})
		}
	}
}

// A failed write(2) (ENOSPC) without a failed fsync reported nothing
// durable that was not: a later successful commit ends the refusal, with
// no rewrite.
func TestAOFAlwaysWriteFailureNoRewrite(t *testing.T) {
	const misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n"
	for _, backend := range commitBackends {
		t.Run(backend, func(t *testing.T) {
			var failWrite, sawRewrite atomic.Bool
			fault := func(op aof.Op) error {
				switch {
				case op == aof.OpWrite && failWrite.Load():
					return syscall.ENOSPC
				case op == aof.OpRewrite:
					sawRewrite.Store(true)
				}
				return nil
			}
			dir := t.TempDir()
			addr, stop := commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always", Fault: fault}, 0, nil)
			c := dialTest(t, addr)
			if r := c.do("SET", "before", "1"); r != "+OK\r\n" {
				t.Fatalf("SET before: %q", r)
			}
			seq0 := aofBaseSeq(t, dir)
			failWrite.Store(true)
			if r := c.do("SET", "failed", "1"); r != misconf {
				t.Fatalf("the write whose write(2) failed: %q", r)
			}
			if r := c.do("SET", "refused", "1"); r != misconf {
				t.Fatalf("a write after the failure: %q", r)
			}
			failWrite.Store(false)
			deadline := time.Now().Add(5 * time.Second)
			for c.do("SET", "after", "1") != "+OK\r\n" {
				if time.Now().After(deadline) {
					t.Fatal("writes still refused after the disk recovered")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if got := aofBaseSeq(t, dir); got != seq0 || sawRewrite.Load() {
				t.Fatalf("a rewrite ran (base %d, was %d)", got, seq0)
			}
			if r := c.do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:ok") || !strings.Contains(r, "aof_rewrites:0") {
				t.Fatalf("INFO after recovery: %q", r)
			}
			want := keyspace(c)
			stop()
			addr, _ = commitServer(t, backend, AOFConfig{Enabled: true, Dir: dir, Fsync: "always"}, 0, nil)
			if got := keyspace(dialTest(t, addr)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after restart:\n%v\nthe server held:\n%v", got, want)
			}
		})
	}
}
