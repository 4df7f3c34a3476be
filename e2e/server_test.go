package e2e

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

	"github.com/redis/go-redis/v9"
)

const (
	// readyTimeout bounds how long a started server may take to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM.
	stopTimeout = 5 * time.Second
	// startAttempts: a free port found by binding :0 can be taken by someone
	// else before the server binds it; then the start is retried on another.
	startAttempts = 3
	// logTailBytes is how much of a server's stderr a failing test prints.
	logTailBytes = 64 << 10
)

// harness is fixed by TestMain: which server the tests start and from where.
var harness struct {
	// kind is "ringkv" (the binary built by TestMain) or "redis"
	// (redis-server from PATH, RINGKV_E2E_SERVER=redis).
	kind string
	// bin is the server executable.
	bin string
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	switch kind := os.Getenv("RINGKV_E2E_SERVER"); kind {
	case "", "ringkv":
		dir, err := os.MkdirTemp("", "ringkv-e2e-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "ringkv-server")
		// The package path, not a relative directory, so that the build
		// works whatever the working directory of the test binary is
		// (go test runs it in ./e2e).
		build := exec.Command("go", "build", "-o", bin, "github.com/ringkv/ringkv/cmd/ringkv-server")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building ringkv-server failed: %v\n%s", err, out)
			return 1
		}
		harness.kind, harness.bin = "ringkv", bin
	case "redis":
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: RINGKV_E2E_SERVER=redis but redis-server is not installed: %v\n", err)
			return 1
		}
		harness.kind, harness.bin = "redis", bin
	default:
		fmt.Fprintf(os.Stderr, "e2e: RINGKV_E2E_SERVER=%q: want ringkv (the default) or redis\n", kind)
		return 1
	}
	return m.Run()
}

// backends lists the --io values every test runs under, one subtest each.
func backends() []string {
	if v := os.Getenv("RINGKV_E2E_BACKENDS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"uring", "epoll"}
}

// forEachBackend runs fn as a subtest named after each backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			if backend == "uring" && harness.kind == "ringkv" && ioUringDisabled() {
				t.Skip("io_uring is disabled on this machine (/proc/sys/kernel/io_uring_disabled = 2)")
			}
			fn(t, backend)
		})
	}
}

func ioUringDisabled() bool {
	b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	return err == nil && strings.TrimSpace(string(b)) == "2"
}

// skipUnlessRingkv skips a test that checks ringkv's own behaviour, which
// redis-server does not share.
func skipUnlessRingkv(t *testing.T, why string) {
	t.Helper()
	if harness.kind != "ringkv" {
		t.Skipf("ringkv-specific, skipped under RINGKV_E2E_SERVER=%s: %s", harness.kind, why)
	}
}

// server is one running server process, owned by one test.
type server struct {
	backend string
	addr    string // 127.0.0.1:port
	port    int
	pid     int
	logPath string

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	waitErr error         // cmd.Wait's result, valid after done

	stopped   bool
	stopState string // how the process ended, set by stop
	stopErr   error
}

// startServer starts a server on a free port of 127.0.0.1, waits until it
// answers PING and registers a cleanup that stops it with SIGTERM and fails
// the test unless it exits with status 0 within stopTimeout.
func startServer(t *testing.T, backend string) *server {
	t.Helper()
	return startServerArgs(t, backend)
}

// startServerArgs is startServer with further directives (--name value),
// which come after the defaults and so override them (--appendonly yes
// --dir D persists into D).
func startServerArgs(t *testing.T, backend string, extra ...string) *server {
	t.Helper()
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := tryStartServer(t, backend, extra)
		if err == nil {
			t.Cleanup(func() { s.cleanup(t) })
			return s
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("attempt %d: %v; retrying on another port", attempt, err)
	}
	t.Fatalf("starting %s server (backend %s): %v", harness.kind, backend, lastErr)
	return nil
}

var errPortTaken = errors.New("port already in use")

func tryStartServer(t *testing.T, backend string, extra []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		backend: backend,
		port:    port,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		done:    make(chan struct{}),
	}
	dir := t.TempDir()
	s.logPath = filepath.Join(dir, "server.log")
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor

	// Persistence is off for both servers: the tests must leave nothing
	// behind, and ringkv accepts these directives whatever it implements.
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if harness.kind == "ringkv" {
		args = append(args, "--io", backend)
	} else {
		args = append(args, "--dir", dir)
	}
	args = append(args, extra...)
	s.cmd = exec.Command(harness.bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	// If the test binary dies (a panic, go test -timeout), take the server
	// with it rather than leaving it holding its port.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(); err != nil {
		s.kill()
		log := s.logTail()
		if strings.Contains(strings.ToLower(log), "address already in use") {
			return nil, fmt.Errorf("%w: %d", errPortTaken, port)
		}
		return nil, fmt.Errorf("%v\n%s %s\n--- server log ---\n%s", err, harness.bin, strings.Join(quoteArgs(args), " "), log)
	}
	if harness.kind == "ringkv" {
		// The subtest is named after the backend: make sure it is the one
		// running (CONFIG GET io reports the backend chosen at start).
		want := "*2\r\n$2\r\nio\r\n" + bulk(backend)
		if got, err := configGetIO(s.addr); err != nil || got != want {
			s.kill()
			return nil, fmt.Errorf("started with --io %s, but CONFIG GET io = %q, %v; want %q\n--- server log ---\n%s",
				backend, got, err, want, s.logTail())
		}
	}
	t.Logf("%s server pid %d on %s (backend %s)", harness.kind, s.pid, s.addr, backend)
	return s, nil
}

func configGetIO(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(respCmd("CONFIG", "GET", "io")); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func quoteArgs(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return q
}

// freePort asks the kernel for an unused port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls with PING until the server answers +PONG, it exits, or
// readyTimeout passes.
func (s *server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("server exited before answering PING: %s", describeExit(s.waitErr))
		default:
		}
		reply, err := pingOnce(s.addr)
		if err == nil && reply == "+PONG\r\n" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("PING answered %q", reply)
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: last attempt: %v", readyTimeout, lastErr)
}

func pingOnce(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

// stop sends SIGTERM and waits up to timeout for the process to exit. It
// returns an error unless the process exited with status 0 in time; a
// process still running at the deadline is killed. Calling it again
// returns the first result.
func (s *server) stop(timeout time.Duration) error {
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	select {
	case <-s.done:
		s.stopState = describeExit(s.waitErr)
		s.stopErr = fmt.Errorf("server had already exited before SIGTERM: %s", s.stopState)
		return s.stopErr
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.stopErr = fmt.Errorf("sending SIGTERM: %v", err)
		s.kill()
		return s.stopErr
	}
	select {
	case <-s.done:
		s.stopState = describeExit(s.waitErr)
		if s.waitErr != nil {
			s.stopErr = fmt.Errorf("after SIGTERM the server %s, want exit status 0", s.stopState)
		}
	case <-time.After(timeout):
		s.kill()
		s.stopState = "killed"
		s.stopErr = fmt.Errorf("server did not exit within %v of SIGTERM; killed it", timeout)
	}
	return s.stopErr
}

// crash is kill -9 on purpose: the process ends with SIGKILL, and the
// cleanup does not count that as a failure to stop.
func (s *server) crash() {
	s.stopped, s.stopState = true, "killed by the test"
	s.kill()
}

// kill ends the process with SIGKILL and reaps it.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

func (s *server) cleanup(t *testing.T) {
	if err := s.stop(stopTimeout); err != nil {
		t.Errorf("stopping the %s server (pid %d, backend %s): %v", harness.kind, s.pid, s.backend, err)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("--- %s server log (pid %d, backend %s) ---\n%s", harness.kind, s.pid, s.backend, s.logTail())
	}
}

func describeExit(err error) string {
	if err == nil {
		return "exited with status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("was killed by signal %v", ws.Signal())
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

// logTail returns the end of the server's stdout and stderr.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > logTailBytes {
		b = append([]byte("...\n"), b[len(b)-logTailBytes:]...)
	}
	return string(b)
}

// vmRSSBytes reads the server's resident set size from /proc/PID/status.
func (s *server) vmRSSBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS line in /proc/PID/status")
}

// client returns a go-redis client for the server, closed on cleanup.
// RESP2 and no CLIENT SETINFO keep the handshake to HELLO 2 (which go-redis
// tolerates being refused); retries are off so that every error surfaces.
func (s *server) client(t *testing.T, tweak func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{
		Addr:            s.addr,
		Protocol:        2,
		DisableIdentity: true,
		MaxRetries:      -1,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
	}
	if tweak != nil {
		tweak(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// respCmd encodes argv as a RESP multibulk command.
func respCmd(argv ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(argv))
	for _, a := range argv {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// readReply reads one complete RESP2 reply and returns its raw bytes, so
// that tests can compare replies byte for byte and print exactly what came
// back.
func readReply(r *bufio.Reader) (string, error) {
	var out strings.Builder
	if err := readReplyInto(r, &out); err != nil {
		return out.String(), err
	}
	return out.String(), nil
}

func readReplyInto(r *bufio.Reader, out *strings.Builder) error {
	line, err := r.ReadString('\n')
	out.WriteString(line)
	if err != nil {
		return err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("malformed reply line %q", line)
	}
	switch line[0] {
	case '+', '-', ':':
		return nil
	case '$':
		n, err := strconv.Atoi(line[1 : len(line)-2])
		if err != nil {
			return fmt.Errorf("bad bulk length in %q", line)
		}
		if n < 0 {
			return nil
		}
		body := make([]byte, n+2)
		k, err := io.ReadFull(r, body)
		out.Write(body[:k])
		return err
	case '*':
		n, err := strconv.Atoi(line[1 : len(line)-2])
		if err != nil {
			return fmt.Errorf("bad array length in %q", line)
		}
		for i := 0; i < n; i++ {
			if err := readReplyInto(r, out); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type in %q", line)
}
