package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisCLI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		// cli runs redis-cli against the server and returns its stdout.
		// With stdout not a terminal redis-cli prints replies raw unless
		// --no-raw is given.
		cli := func(args ...string) string {
			t.Helper()
			full := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port)}, args...)
			cmd := exec.CommandContext(ctx, "redis-cli", full...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("redis-cli %s: %v\nstdout: %q\nstderr: %q", strings.Join(quoteArgs(full), " "), err, out, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("redis-cli %s wrote to stderr: %q", strings.Join(quoteArgs(full), " "), stderr.String())
			}
			return string(out)
		}
		expect := func(got, want string, args ...string) {
			t.Helper()
			if got != want {
				t.Errorf("redis-cli %s: got %q, want %q", strings.Join(quoteArgs(args), " "), got, want)
			}
		}

		expect(cli("PING"), "PONG\n", "PING")
		const value = "a value  with spaces, and a trailing one "
		expect(cli("SET", "greeting", value), "OK\n", "SET", "greeting", value)
		expect(cli("GET", "greeting"), value+"\n", "GET", "greeting")
		expect(cli("--no-raw", "GET", "greeting"), strconv.Quote(value)+"\n", "--no-raw", "GET", "greeting")
		expect(cli("--no-raw", "GET", "missing"), "(nil)\n", "--no-raw", "GET", "missing")
	})
}

func TestRedisBenchmark(t *testing.T) {
	const requests = 100000
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()

		args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-c", "50", "-n", strconv.Itoa(requests),
			"-t", "ping,set,get,incr,mset", "-q"}
		cmd := exec.CommandContext(ctx, "redis-benchmark", args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		t.Logf("redis-benchmark %s:\n%s", strings.Join(args, " "), finalLines(stdout.String()))
		if err != nil {
			t.Fatalf("redis-benchmark %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}

		// -q prints progress lines ending in \r and, per test, a final
		// "NAME: N requests per second, p50=..." line.
		lines := strings.FieldsFunc(stdout.String(), func(r rune) bool { return r == '\r' || r == '\n' })
		for _, name := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"} {
			found := slices.ContainsFunc(lines, func(l string) bool {
				l = strings.TrimSpace(l)
				return strings.HasPrefix(l, name+": ") && strings.Contains(l, "requests per second")
			})
			if !found {
				t.Errorf("redis-benchmark printed no %q line with \"requests per second\"", name)
			}
		}
		for _, out := range []struct{ name, text string }{{"stdout", stdout.String()}, {"stderr", stderr.String()}} {
			if strings.Contains(out.text, "ERR") || strings.Contains(strings.ToLower(out.text), "error") {
				t.Errorf("redis-benchmark's %s reports an error:\n%s", out.name, finalLines(out.text))
			}
		}

		// Every INCR of the benchmark hit the one key "counter:__rand_int__"
		// (no -r), so it must now hold exactly the number of requests.
		rdb := s.client(t, nil)
		got, err := rdb.Get(ctx, "counter:__rand_int__").Result()
		if err != nil || got != strconv.Itoa(requests) {
			t.Errorf("GET counter:__rand_int__ after %d INCRs = %q, %v; want %q", requests, got, err, strconv.Itoa(requests))
		}
	})
}

// finalLines drops redis-benchmark's \r-separated progress updates.
func finalLines(out string) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		if i := strings.LastIndexByte(strings.TrimRight(line, "\r"), '\r'); i >= 0 {
			line = line[i+1:]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

func TestGoRedis(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rdb := s.client(t, nil)

		if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
			t.Errorf("PING = %q, %v; want PONG", got, err)
		}

		if got, err := rdb.Set(ctx, "k", "v1", 0).Result(); err != nil || got != "OK" {
			t.Errorf("SET k v1 = %q, %v; want OK", got, err)
		}
		if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v1" {
			t.Errorf("GET k = %q, %v; want v1", got, err)
		}
		if got, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET missing = %q, %v; want a nil reply (redis.Nil)", got, err)
		}

		// A value that would break any text-based framing: CR LF, NUL and
		// every other byte value.
		var bin bytes.Buffer
		bin.WriteString("\x00\r\n$5\r\n*1\r\n\x00")
		for i := 0; i < 256; i++ {
			bin.WriteByte(byte(i))
		}
		bin.WriteString("\r\n")
		binValue := bin.String()
		binKey := "bin\x00key\r\n"
		if err := rdb.Set(ctx, binKey, binValue, 0).Err(); err != nil {
			t.Errorf("SET %q <%d binary bytes>: %v", binKey, len(binValue), err)
		}
		if got, err := rdb.Get(ctx, binKey).Result(); err != nil || got != binValue {
			t.Errorf("GET %q = %q, %v; want %q", binKey, got, err, binValue)
		}

		for want := int64(1); want <= 3; want++ {
			if got, err := rdb.Incr(ctx, "counter").Result(); err != nil || got != want {
				t.Errorf("INCR counter (call %d) = %d, %v; want %d", want, got, err, want)
			}
		}
		if got, err := rdb.IncrBy(ctx, "counter", -10).Result(); err != nil || got != -7 {
			t.Errorf("INCRBY counter -10 = %d, %v; want -7", got, err)
		}
		const notInteger = "ERR value is not an integer or out of range"
		if got, err := rdb.Incr(ctx, "k").Result(); err == nil || err.Error() != notInteger {
			t.Errorf("INCR k (holding \"v1\") = %d, %v; want error %q", got, err, notInteger)
		}

		if got, err := rdb.MSet(ctx, "m1", "one", "m2", "", "m3", "three").Result(); err != nil || got != "OK" {
			t.Errorf("MSET m1 one m2 \"\" m3 three = %q, %v; want OK", got, err)
		}
		wantMGet := []any{"one", "", nil, "three"}
		if got, err := rdb.MGet(ctx, "m1", "m2", "missing", "m3").Result(); err != nil || !slices.Equal(got, wantMGet) {
			t.Errorf("MGET m1 m2 missing m3 = %q, %v; want %q", got, err, wantMGet)
		}

		if got, err := rdb.Exists(ctx, "m1", "m2", "missing", "m1").Result(); err != nil || got != 3 {
			t.Errorf("EXISTS m1 m2 missing m1 = %d, %v; want 3 (a key named twice counts twice)", got, err)
		}
		if got, err := rdb.Del(ctx, "m1", "missing", "m2").Result(); err != nil || got != 2 {
			t.Errorf("DEL m1 missing m2 = %d, %v; want 2", got, err)
		}
		if got, err := rdb.Exists(ctx, "m1", "m2", "m3").Result(); err != nil || got != 1 {
			t.Errorf("EXISTS m1 m2 m3 after DEL = %d, %v; want 1", got, err)
		}
		if got, err := rdb.Get(ctx, "m1").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET m1 after DEL = %q, %v; want a nil reply", got, err)
		}

		// A pipeline of 1000 commands in one write: 400 SETs, then 400 GETs
		// of the same keys, then 200 INCRs of one counter.
		pipe := rdb.Pipeline()
		var sets []*redis.StatusCmd
		var gets []*redis.StringCmd
		var incrs []*redis.IntCmd
		for i := 0; i < 400; i++ {
			sets = append(sets, pipe.Set(ctx, fmt.Sprintf("pipe:%d", i), fmt.Sprintf("value %d", i), 0))
		}
		for i := 0; i < 400; i++ {
			gets = append(gets, pipe.Get(ctx, fmt.Sprintf("pipe:%d", i)))
		}
		for i := 0; i < 200; i++ {
			incrs = append(incrs, pipe.Incr(ctx, "pipe:counter"))
		}
		if n := pipe.Len(); n != 1000 {
			t.Fatalf("pipeline holds %d commands, want 1000", n)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Errorf("pipeline of 1000 commands: %v", err)
		}
		bad := 0
		for i, c := range sets {
			if got, err := c.Result(); (err != nil || got != "OK") && bad < 10 {
				bad++
				t.Errorf("pipelined SET pipe:%d = %q, %v; want OK", i, got, err)
			}
		}
		for i, c := range gets {
			if got, err := c.Result(); (err != nil || got != fmt.Sprintf("value %d", i)) && bad < 10 {
				bad++
				t.Errorf("pipelined GET pipe:%d = %q, %v; want %q", i, got, err, fmt.Sprintf("value %d", i))
			}
		}
		for i, c := range incrs {
			if got, err := c.Result(); (err != nil || got != int64(i+1)) && bad < 10 {
				bad++
				t.Errorf("pipelined INCR pipe:counter (#%d) = %d, %v; want %d", i+1, got, err, i+1)
			}
		}
	})
}

// raiseOpenFileLimit lifts this process's soft RLIMIT_NOFILE to at least
// want (up to the hard limit), restoring it on cleanup.
func raiseOpenFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur >= want {
		return
	}
	old := lim
	lim.Cur = min(want, lim.Max)
	if lim.Cur < want {
		t.Fatalf("need %d open files but the hard limit is %d", want, lim.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit(RLIMIT_NOFILE, %d): %v", want, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// rawConn is a plain TCP connection speaking RESP2, for tests that need to
// see the exact bytes sent and received.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func (rc *rawConn) do(argv ...string) (string, error) {
	if _, err := rc.c.Write(respCmd(argv...)); err != nil {
		return "", err
	}
	return readReply(rc.r)
}

// expectReply sends argv and checks that the reply is exactly want.
func (rc *rawConn) expectReply(want string, argv ...string) error {
	got, err := rc.do(argv...)
	if err != nil {
		return fmt.Errorf("sent %q: got %q then error %v; want %q", respCmd(argv...), got, err, want)
	}
	if got != want {
		return fmt.Errorf("sent %q: got %q, want %q", respCmd(argv...), got, want)
	}
	return nil
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func TestThousandConnections(t *testing.T) {
	const (
		conns  = 1000
		rounds = 3
		// dialers bounds how many dials are in flight at once, so that the
		// test measures the server, not the listen backlog.
		dialers = 64
	)
	raiseOpenFileLimit(t, conns+256)
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		deadline, _ := ctx.Deadline()

		// Phase 1: open every connection and have each answer a PING; none
		// is closed until all have been served, so the server holds all
		// 1000 at once.
		clients := make([]*rawConn, conns)
		defer func() {
			for _, rc := range clients {
				if rc != nil {
					rc.c.Close()
				}
			}
		}()
		errs := make(chan error, conns)
		sem := make(chan struct{}, dialers)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", s.addr)
				if err != nil {
					errs <- fmt.Errorf("connection %d: dial: %v", i, err)
					return
				}
				c.SetDeadline(deadline)
				rc := &rawConn{c: c, r: bufio.NewReader(c)}
				clients[i] = rc
				if err := rc.expectReply("+PONG\r\n", "PING"); err != nil {
					errs <- fmt.Errorf("connection %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if reportErrors(t, errs, "while opening connections") {
			return
		}
		t.Logf("%d connections open and answered PING", conns)

		// Phase 2: all connections at once, each with its own key.
		for i, rc := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("conn:%d", i)
				for r := 0; r < rounds; r++ {
					value := fmt.Sprintf("value of connection %d, round %d", i, r)
					if err := rc.expectReply("+OK\r\n", "SET", key, value); err != nil {
						errs <- fmt.Errorf("connection %d: %v", i, err)
						return
					}
					if err := rc.expectReply(bulk(value), "GET", key); err != nil {
						errs <- fmt.Errorf("connection %d: %v", i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if reportErrors(t, errs, "while all connections ran SET/GET") {
			return
		}

		// The keys outlive their connections.
		for _, rc := range clients {
			rc.c.Close()
		}
		rdb := s.client(t, nil)
		for _, i := range []int{0, conns / 2, conns - 1} {
			want := fmt.Sprintf("value of connection %d, round %d", i, rounds-1)
			if got, err := rdb.Get(ctx, fmt.Sprintf("conn:%d", i)).Result(); err != nil || got != want {
				t.Errorf("GET conn:%d after the connections closed = %q, %v; want %q", i, got, err, want)
			}
		}
	})
}

// reportErrors drains errs, reports the first few and how many there were,
// and says whether there were any.
func reportErrors(t *testing.T, errs chan error, when string) bool {
	t.Helper()
	n := 0
	for {
		select {
		case err := <-errs:
			if n < 10 {
				t.Errorf("%s: %v", when, err)
			}
			n++
		default:
			if n > 10 {
				t.Errorf("%s: ... %d errors in all", when, n)
			}
			return n > 0
		}
	}
}

func TestSlowReaderBackpressure(t *testing.T) {
	skipUnlessRingkv(t, "redis-server's normal clients have no output buffer limit by default "+
		"(client-output-buffer-limit normal 0 0 0), so it buffers a slow reader's replies without bound")

	const (
		valueBytes = 100
		// getCmd is one pipelined GET of the key holding the value; its reply
		// is "$100\r\n" + 100 bytes + "\r\n" = 108 bytes, 4.7 times its 23.
		getCmd = "*2\r\n$3\r\nGET\r\n$4\r\nslow\r\n"
		// slowWriteBytes of GETs (4.56 million) ask for 492 MB (469 MiB) of
		// replies.
		slowWriteBytes = 100 << 20
		// rssBoundBytes: a server that keeps reading a client that never
		// reads must hold those replies (or the unparsed commands) itself:
		// the kernel absorbs at most the client's receive buffer
		// (net.ipv4.tcp_rmem max, 32 MiB here) plus the server's send
		// buffer (tcp_wmem max, 4 MiB), so its RSS would pass 400 MiB;
		// redis-server, which has no such limit by default, peaks at 576 MiB
		// in this test. A server that stops reading at its reply soft limit
		// (1 MiB) holds at most its baseline (the Go runtime and the ring's
		// buffers, tens of MiB), the soft limit plus the replies of one
		// read's worth of commands, and the commands it had received but not
		// yet run (bounded by one socket receive buffer): under 100 MiB.
		// 256 MiB is far from both.
		rssBoundBytes = 256 << 20
		// stallQuiet: the slow writer counts as stuck once it has made no
		// progress for this long.
		stallQuiet = time.Second
		probes     = 20
	)
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// Other clients must be answered within 2 s while the slow one is
		// stuck; retries are off, so a timeout is an error.
		fast := func(o *redis.Options) { o.ReadTimeout, o.WriteTimeout = 2*time.Second, 2*time.Second }
		rdb := s.client(t, fast)
		value := strings.Repeat("v", valueBytes)
		if err := rdb.Set(ctx, "slow", value, 0).Err(); err != nil {
			t.Fatalf("SET slow <100 bytes>: %v", err)
		}
		baseRSS, err := s.vmRSSBytes()
		if err != nil {
			t.Fatalf("reading the server's VmRSS: %v", err)
		}

		// Sample the server's RSS throughout, keeping the peak.
		var peakRSS atomic.Int64
		peakRSS.Store(baseRSS)
		samplerStop := make(chan struct{})
		samplerDone := make(chan struct{})
		go func() {
			defer close(samplerDone)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				if rss, err := s.vmRSSBytes(); err == nil && rss > peakRSS.Load() {
					peakRSS.Store(rss)
				}
				select {
				case <-samplerStop:
					return
				case <-tick.C:
				}
			}
		}()
		stopSampler := sync.OnceFunc(func() { close(samplerStop); <-samplerDone })
		defer stopSampler()

		slow, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatalf("dialing the slow client: %v", err)
		}
		defer slow.Close()
		chunk := bytes.Repeat([]byte(getCmd), (64<<10)/len(getCmd))
		// The writer blocks once the server stops reading; the deadline
		// bounds it in case nothing else does. It is never the expected way
		// out: the test closes the connection first.
		slow.SetWriteDeadline(time.Now().Add(2 * time.Minute))
		var written atomic.Int64
		writerDone := make(chan error, 1)
		go func() {
			for written.Load() < slowWriteBytes {
				n, err := slow.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					writerDone <- err
					return
				}
			}
			writerDone <- nil
		}()

		// Wait until the writer is stuck: no progress for stallQuiet.
		var writerErr error
		writerExited := false
		last, quietSince := int64(-1), time.Now()
	waitStall:
		for {
			select {
			case writerErr = <-writerDone:
				writerExited = true
				break waitStall
			case <-ctx.Done():
				t.Fatalf("the slow client was still writing after the test's timeout: %d bytes written", written.Load())
			case <-time.After(50 * time.Millisecond):
			}
			if w := written.Load(); w != last {
				last, quietSince = w, time.Now()
			} else if time.Since(quietSince) >= stallQuiet {
				break waitStall
			}
		}
		switch {
		case writerExited && writerErr == nil:
			t.Errorf("the server read all %d bytes of pipelined GETs (%d replies) from a client that reads nothing: "+
				"it never stopped reading it (peak RSS %d MiB)", slowWriteBytes, slowWriteBytes/len(getCmd), peakRSS.Load()>>20)
		case writerExited:
			// A hard output limit may disconnect the client: allowed, but
			// then nothing below tests "while it is stuck".
			t.Logf("the server disconnected the slow client after %d bytes: %v", written.Load(), writerErr)
		default:
			t.Logf("slow client stuck after writing %d bytes (%d GETs) without reading a reply; server RSS %d MiB at start",
				written.Load(), written.Load()/int64(len(getCmd)), baseRSS>>20)
		}

		// While it is stuck, other clients, old and new, are answered.
		for i := 0; i < probes; i++ {
			if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
				t.Errorf("probe %d while a client is stuck: PING = %q, %v; want PONG within 2 s", i, got, err)
			}
			if got, err := rdb.Get(ctx, "slow").Result(); err != nil || got != value {
				t.Errorf("probe %d while a client is stuck: GET slow = %q, %v; want the 100-byte value within 2 s", i, got, err)
			}
			key := fmt.Sprintf("probe:%d", i)
			if err := rdb.Set(ctx, key, "x", 0).Err(); err != nil {
				t.Errorf("probe %d while a client is stuck: SET %s x: %v", i, key, err)
			}
			if i%5 == 0 {
				fresh := s.client(t, fast)
				if got, err := fresh.Ping(ctx).Result(); err != nil || got != "PONG" {
					t.Errorf("probe %d while a client is stuck: PING on a new connection = %q, %v; want PONG within 2 s", i, got, err)
				}
				fresh.Close()
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !writerExited {
			select {
			case err := <-writerDone:
				t.Logf("the slow writer ended during the probes after %d bytes: %v", written.Load(), err)
				writerExited = true
			default:
			}
		}
		stopSampler()
		if peak := peakRSS.Load(); peak >= rssBoundBytes {
			t.Errorf("server VmRSS peaked at %d MiB (%d MiB at start) with one client that never reads: want < %d MiB",
				peak>>20, baseRSS>>20, rssBoundBytes>>20)
		} else {
			t.Logf("server VmRSS: %d MiB at start, %d MiB peak (bound %d MiB)", baseRSS>>20, peak>>20, rssBoundBytes>>20)
		}

		// Close the slow client; the server drops it and stays healthy.
		slow.Close()
		if !writerExited {
			select {
			case <-writerDone:
			case <-ctx.Done():
				t.Fatalf("the slow writer did not return after its connection was closed")
			}
		}
		if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
			t.Errorf("after closing the slow client: PING = %q, %v; want PONG", got, err)
		}
		if got, err := rdb.Get(ctx, "probe:19").Result(); err != nil || got != "x" {
			t.Errorf("after closing the slow client: GET probe:19 = %q, %v; want \"x\"", got, err)
		}
		fresh := s.client(t, fast)
		if got, err := fresh.Get(ctx, "slow").Result(); err != nil || got != value {
			t.Errorf("after closing the slow client: GET slow on a new connection = %q, %v; want the 100-byte value", got, err)
		}
		if rss, err := s.vmRSSBytes(); err == nil {
			t.Logf("server VmRSS after the slow client closed: %d MiB", rss>>20)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		// An idle connection, still open when SIGTERM arrives, must not
		// keep the server from exiting.
		idle, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer idle.Close()
		rc := &rawConn{c: idle, r: bufio.NewReader(idle)}
		idle.SetDeadline(time.Now().Add(10 * time.Second))
		if err := rc.expectReply("+OK\r\n", "SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
		rdb := s.client(t, nil)
		if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
			t.Fatalf("GET k = %q, %v; want v", got, err)
		}

		if err := s.stop(stopTimeout); err != nil {
			t.Fatalf("SIGTERM: %v", err)
		}
		t.Logf("after SIGTERM the server %s", s.stopState)

		// Gone: the port refuses connections and the idle client sees EOF.
		if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the server exited", s.addr)
		}
		idle.SetDeadline(time.Now().Add(5 * time.Second))
		if n, err := idle.Read(make([]byte, 1)); err == nil {
			t.Errorf("the idle connection read %d bytes after the server exited, want EOF or a reset", n)
		}
	})
}
