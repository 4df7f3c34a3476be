package main

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

	"github.com/ringkv/ringkv/aof"
	"github.com/ringkv/ringkv/conn/resp"
)

// The directories these tests check are written by real servers: the
// ringkv-server binary (built once by TestMain) and redis-server 7 (tests
// that need it skip without it). The tests cut and damage bytes of copies,
// run the checker's run function on them, and compare its verdict and its
// fix with redis-check-aof 7.0's on another copy.

var ringkvBin string // built by TestMain

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ringkv-check-aof-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ringkvBin = filepath.Join(dir, "ringkv-server")
	build := exec.Command("go", "build", "-o", ringkvBin, "github.com/ringkv/ringkv/cmd/ringkv-server")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ringkv-server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// serverTimeout bounds a server's start, a command's reply and the exit.
const serverTimeout = 10 * time.Second

// srv is a server process on 127.0.0.1.
type srv struct {
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

// startServer runs bin with args plus a free port and waits for PONG.
func startServer(t *testing.T, bin string, args ...string) *srv {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &srv{addr: "127.0.0.1:" + port, log: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill(); s.wait() })
	deadline := time.Now().Add(serverTimeout)
	for {
		if r, err := s.tryDo("PING"); err == nil && r == "+PONG\r\n" {
			return s
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("%s %q exited before answering PING: %v\n%s", bin, s.cmd.Args, err, s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer PING in %v\n%s", bin, serverTimeout, s.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *srv) wait() error {
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(serverTimeout):
		return errors.New("did not exit")
	}
}

// stop ends the server with SIGTERM (both servers flush and fsync the AOF
// on the way out) and waits for it.
func (s *srv) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, s.log)
	}
}

func (s *srv) tryDo(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(serverTimeout))
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	if _, err := c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func (s *srv) do(t *testing.T, args ...string) string {
	t.Helper()
	r, err := s.tryDo(args...)
	if err != nil {
		t.Fatalf("%q: %v\n%s", args, err, s.log)
	}
	return r
}

// readReply reads one RESP2 reply, raw.
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		if n < 0 {
			return line, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		return line + string(b), nil
	case '*':
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		out := line
		for range max(n, 0) {
			r, err := readReply(br)
			if err != nil {
				return "", err
			}
			out += r
		}
		return out, nil
	}
	return line, nil
}

// The commands every source directory holds: three before a rewrite (in
// the base), four after (in the incr file). The last incr record is INCR n.
var (
	beforeRewrite = [][]string{{"SET", "a", "1"}, {"SET", "b", "2"}, {"RPUSH", "l", "x", "y", "z"}}
	afterRewrite  = [][]string{{"SET", "c", "3"}, {"INCR", "n"}, {"SET", "d", "4"}, {"INCR", "n"}}
)

// writeAOF runs the commands against s with a BGREWRITEAOF between the two
// groups, waiting for the rewrite to finish.
func writeAOF(t *testing.T, s *srv) {
	t.Helper()
	for _, c := range beforeRewrite {
		if r := s.do(t, c...); r[0] == '-' {
			t.Fatalf("%q: %s", c, r)
		}
	}
	if r := s.do(t, "BGREWRITEAOF"); !strings.HasPrefix(r, "+Background append only file rewriting started") {
		t.Fatalf("BGREWRITEAOF: %q", r)
	}
	deadline := time.Now().Add(serverTimeout)
	for {
		info := s.do(t, "INFO", "persistence")
		if strings.Contains(info, "aof_rewrites:1\r\n") && strings.Contains(info, "aof_rewrite_in_progress:0") &&
			strings.Contains(info, "aof_rewrite_scheduled:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rewrite did not finish: %s", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range afterRewrite {
		if r := s.do(t, c...); r[0] == '-' {
			t.Fatalf("%q: %s", c, r)
		}
	}
}

// source is a server that writes an AOF directory.
type source struct {
	name string
	// make writes root/appendonlydir and returns that path.
	make func(t *testing.T, root string) string
}

func ringkvSource(t *testing.T, root string) string {
	s := startServer(t, ringkvBin, "--dir", root, "--appendonly", "yes", "--appendfsync", "always")
	writeAOF(t, s)
	s.stop(t)
	return filepath.Join(root, "appendonlydir")
}

func redisSource(preamble string) func(t *testing.T, root string) string {
	return func(t *testing.T, root string) string {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			t.Skip("redis-server is not installed")
		}
		s := startServer(t, bin, "--save", "", "--dir", root, "--appendonly", "yes", "--appendfsync", "always",
			"--aof-use-rdb-preamble", preamble)
		writeAOF(t, s)
		s.stop(t)
		return filepath.Join(root, "appendonlydir")
	}
}

var sources = []source{
	{"ringkv", ringkvSource},
	{"redis", redisSource("no")},
}

// copyDir copies the files of an AOF directory to a fresh root and returns
// root/appendonlydir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	root := t.TempDir()
	dst := filepath.Join(root, "appendonlydir")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// layout is what the manifest of dir lists.
type layout struct {
	manifest, base, incr string // paths
	// incrOffsets are the offsets of the incr file's records.
	incrOffsets []int64
	incrSize    int64
}

func readLayout(t *testing.T, dir string) layout {
	t.Helper()
	m, err := aof.ReadManifest(dir, "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	if m.Base == nil || len(m.Incrs) != 1 {
		t.Fatalf("manifest of %s: %+v; want a base and one incr file", dir, m)
	}
	l := layout{manifest: filepath.Join(dir, "appendonly.aof.manifest"),
		base: filepath.Join(dir, m.Base.Name), incr: filepath.Join(dir, m.Incrs[0].Name)}
	f, err := os.Open(l.incr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, l.incrSize, err = aof.Scan(f, func(_ [][]byte, off int64) error {
		l.incrOffsets = append(l.incrOffsets, off)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// SELECT 0 then the four commands.
	if len(l.incrOffsets) != 1+len(afterRewrite) {
		t.Fatalf("%s holds %d records, want %d", l.incr, len(l.incrOffsets), 1+len(afterRewrite))
	}
	return l
}

// check runs the checker as the command line would.
func checkAOF(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Logf("stderr of ringkv-check-aof %q:\n%s", args, stderr.String())
	}
	return code, stdout.String() + stderr.String()
}

// redisCheck runs redis-check-aof 7.0 on path, answering y to --fix's
// question; it skips the test when redis-check-aof is not installed.
func redisCheck(t *testing.T, fix bool, path string) (int, string) {
	t.Helper()
	bin, err := exec.LookPath("redis-check-aof")
	if err != nil {
		t.Skip("redis-check-aof is not installed")
	}
	args := []string{path}
	if fix {
		args = []string{"--fix", path}
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader("y\n")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatal(err)
	}
	return 0, string(out)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// loadsInRingkv starts ringkv-server on the directory and compares its
// keys with want (key -> GET reply; "" for a list key, checked by LLEN 3).
func loadsInRingkv(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	s := startServer(t, ringkvBin, "--dir", filepath.Dir(dir), "--appendonly", "yes", "--aof-load-truncated", "no")
	for k, v := range want {
		if v == "" {
			if r := s.do(t, "LLEN", k); r != ":3\r\n" {
				t.Errorf("LLEN %s after load: %q", k, r)
			}
			continue
		}
		if r := s.do(t, "GET", k); r != v {
			t.Errorf("GET %s after load: %q, want %q", k, r, v)
		}
	}
	if r := s.do(t, "DBSIZE"); r != ":"+strconv.Itoa(len(want))+"\r\n" {
		t.Errorf("DBSIZE after load: %q, want %d keys", r, len(want))
	}
	s.stop(t)
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// keysUpTo is the keyspace after the base and the first n commands of
// afterRewrite.
func keysUpTo(n int) map[string]string {
	m := map[string]string{"a": bulk("1"), "b": bulk("2"), "l": ""}
	incrs := 0
	for _, c := range afterRewrite[:n] {
		switch c[0] {
		case "SET":
			m[c[1]] = bulk(c[2])
		case "INCR":
			incrs++
			m[c[1]] = bulk(strconv.Itoa(incrs))
		}
	}
	return m
}

func TestCheckClean(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			dir := src.make(t, t.TempDir())
			l := readLayout(t, dir)
			for _, arg := range []string{dir, l.manifest} {
				code, out := checkAOF(t, arg)
				if code != 0 {
					t.Fatalf("check %s: exit %d\n%s", arg, code, out)
				}
				mustContain(t, "clean "+arg, out,
					l.base+" (base): ok: "+strconv.Itoa(len(beforeRewrite)+1), // + SELECT
					l.incr+" (incr): ok: 5 commands, "+strconv.FormatInt(l.incrSize, 10)+" bytes",
					"the AOF is valid: 2 files")
			}
			// --fix on a valid directory changes nothing.
			before := fileSize(t, l.incr)
			if code, out := checkAOF(t, "--fix", dir); code != 0 || fileSize(t, l.incr) != before {
				t.Fatalf("--fix on a valid directory: exit %d, size %d -> %d\n%s", code, before, fileSize(t, l.incr), out)
			}
			// A file on its own, as redis-check-aof checks an old-style AOF.
			if code, out := checkAOF(t, l.incr); code != 0 || !strings.Contains(out, l.incr+" (file): ok: 5 commands") {
				t.Fatalf("check of the incr file alone: exit %d\n%s", code, out)
			}
			if code, out := redisCheck(t, false, l.manifest); code != 0 {
				t.Fatalf("redis-check-aof: exit %d\n%s", code, out)
			}
			loadsInRingkv(t, dir, keysUpTo(len(afterRewrite)))
		})
	}
}

// A torn tail in the last incr file, at every byte of its last record: the
// check names the file and the offset where the record starts and exits 1;
// --fix cuts the file there, as redis-check-aof --fix does on a copy, and the
// directory then checks clean and loads in ringkv without the last INCR.
func TestCheckTornTail(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			orig := src.make(t, t.TempDir())
			ol := readLayout(t, orig)
			lastRec := ol.incrOffsets[len(ol.incrOffsets)-1]
			for cut := lastRec + 1; cut < ol.incrSize; cut++ {
				dir := copyDir(t, orig)
				l := readLayout(t, dir)
				if err := os.Truncate(l.incr, cut); err != nil {
					t.Fatal(err)
				}
				code, out := checkAOF(t, dir)
				if code != 1 {
					t.Fatalf("cut at %d: exit %d\n%s", cut, code, out)
				}
				mustContain(t, "torn tail", out,
					fmt.Sprintf("%s (incr): torn tail at offset %d: 4 commands load, then %d bytes", l.incr, lastRec, cut-lastRec),
					"run with --fix")
				code, out = checkAOF(t, "--fix", l.manifest)
				if code != 0 || fileSize(t, l.incr) != lastRec {
					t.Fatalf("--fix after a cut at %d: exit %d, size %d, want %d\n%s", cut, code, fileSize(t, l.incr), lastRec, out)
				}
				mustContain(t, "--fix", out, fmt.Sprintf("%s: cut at offset %d (%d bytes dropped)", l.incr, lastRec, cut-lastRec))
				if code, out := checkAOF(t, dir); code != 0 {
					t.Fatalf("check after --fix: exit %d\n%s", code, out)
				}
				// redis-check-aof: the same verdict, the same cut.
				rdir := copyDir(t, orig)
				rl := readLayout(t, rdir)
				os.Truncate(rl.incr, cut)
				if code, out := redisCheck(t, false, rl.manifest); code != 1 {
					t.Fatalf("redis-check-aof on a cut at %d: exit %d\n%s", cut, code, out)
				}
				if code, out := redisCheck(t, true, rl.manifest); code != 0 || fileSize(t, rl.incr) != lastRec {
					t.Fatalf("redis-check-aof --fix on a cut at %d: exit %d, size %d\n%s", cut, code, fileSize(t, rl.incr), out)
				}
				if cut == lastRec+1 || cut == ol.incrSize-1 {
					loadsInRingkv(t, dir, keysUpTo(len(afterRewrite)-1))
				}
			}
		})
	}
}

// A MULTI without its EXEC at the end of the last file is a torn tail too:
// the cut goes before the MULTI, as redis-check-aof's.
func TestCheckMultiWithoutExec(t *testing.T) {
	orig := ringkvSource(t, t.TempDir())
	dir := copyDir(t, orig)
	l := readLayout(t, dir)
	f, err := os.OpenFile(l.incr, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(resp.AppendCommand(nil, []byte("MULTI")))
	f.Write(resp.AppendCommand(nil, []byte("SET"), []byte("x"), []byte("1")))
	f.Close()
	code, out := checkAOF(t, dir)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	mustContain(t, "MULTI", out, fmt.Sprintf("%s (incr): torn tail at offset %d", l.incr, l.incrSize))
	if code, out := checkAOF(t, "--fix", dir); code != 0 || fileSize(t, l.incr) != l.incrSize {
		t.Fatalf("--fix: exit %d, size %d, want %d\n%s", code, fileSize(t, l.incr), l.incrSize, out)
	}
	rdir := copyDir(t, orig)
	rl := readLayout(t, rdir)
	f, _ = os.OpenFile(rl.incr, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(resp.AppendCommand(nil, []byte("MULTI")))
	f.Write(resp.AppendCommand(nil, []byte("SET"), []byte("x"), []byte("1")))
	f.Close()
	if code, out := redisCheck(t, true, rl.manifest); code != 0 || fileSize(t, rl.incr) != l.incrSize {
		t.Fatalf("redis-check-aof --fix: exit %d, size %d, want %d\n%s", code, fileSize(t, rl.incr), l.incrSize, out)
	}
}

// Damage in the middle of the last incr file (the '*' of its second record
// overwritten): reported with the file and the offset; --fix refuses to cut
// commands that are whole (redis-check-aof --fix cuts them after its y/N
// question: ringkv wants --force for that), --fix --force cuts at the same
// offset redis-check-aof --fix does.
func TestCheckDamageInLastFile(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			orig := src.make(t, t.TempDir())
			ol := readLayout(t, orig)
			at := ol.incrOffsets[2] // SELECT, SET c, then INCR n is damaged
			damage := func(dir string) layout {
				l := readLayout(t, dir)
				f, err := os.OpenFile(l.incr, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt([]byte("X"), at)
				f.Close()
				return l
			}
			dir := copyDir(t, orig)
			l := damage(dir)
			code, out := checkAOF(t, dir)
			if code != 1 {
				t.Fatalf("exit %d\n%s", code, out)
			}
			mustContain(t, "damage", out,
				fmt.Sprintf("%s (incr): damaged at offset %d: a record does not start with '*'; 2 commands load before offset %d, %d bytes after it do not",
					l.incr, at, at, ol.incrSize-at),
				"--fix --force cuts "+l.incr+" at offset "+strconv.FormatInt(at, 10))
			before, _ := os.ReadFile(l.incr)
			code, out = checkAOF(t, "--fix", dir)
			after, _ := os.ReadFile(l.incr)
			if code != 1 || !bytes.Equal(before, after) {
				t.Fatalf("--fix on damage in the middle: exit %d, file changed: %v\n%s", code, !bytes.Equal(before, after), out)
			}
			mustContain(t, "--fix", out, "nothing was changed")
			code, out = checkAOF(t, "--fix", "--force", dir)
			if code != 0 || fileSize(t, l.incr) != at {
				t.Fatalf("--fix --force: exit %d, size %d, want %d\n%s", code, fileSize(t, l.incr), at, out)
			}
			if code, out := checkAOF(t, dir); code != 0 {
				t.Fatalf("check after --fix --force: exit %d\n%s", code, out)
			}
			loadsInRingkv(t, dir, keysUpTo(1))

			rl := damage(copyDir(t, orig))
			if code, out := redisCheck(t, false, rl.manifest); code != 1 {
				t.Fatalf("redis-check-aof: exit %d\n%s", code, out)
			}
			if code, out := redisCheck(t, true, rl.manifest); code != 0 || fileSize(t, rl.incr) != at {
				t.Fatalf("redis-check-aof --fix: exit %d, size %d, want %d\n%s", code, fileSize(t, rl.incr), at, out)
			}
		})
	}
}

// Damage or a cut in the base (not the last file): reported, never fixed,
// by either checker.
func TestCheckDamageInBase(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			orig := src.make(t, t.TempDir())
			for _, tc := range []struct {
				name string
				harm func(path string)
				want string
			}{
				{"damaged", func(p string) {
					f, _ := os.OpenFile(p, os.O_WRONLY, 0)
					f.WriteAt([]byte("$"), 0)
					f.Close()
				}, "(base): damaged at offset 0: a record does not start with '*'"},
				{"torn", func(p string) { os.Truncate(p, fileSize(t, p)-3) }, "(base): torn tail at offset "},
			} {
				t.Run(tc.name, func(t *testing.T) {
					dir := copyDir(t, orig)
					l := readLayout(t, dir)
					tc.harm(l.base)
					before, _ := os.ReadFile(l.base)
					for _, args := range [][]string{{dir}, {"--fix", dir}, {"--fix", "--force", dir}} {
						code, out := checkAOF(t, args...)
						if code != 1 {
							t.Fatalf("%q: exit %d\n%s", args, code, out)
						}
						mustContain(t, fmt.Sprint(args), out, l.base+" "+tc.want,
							l.base+": not the last file, so it cannot be cut: restore the directory from a backup",
							l.incr+" (incr): ok", "the AOF is not valid")
					}
					if after, _ := os.ReadFile(l.base); !bytes.Equal(before, after) {
						t.Fatal("--fix changed a damaged base")
					}
					for _, fix := range []bool{false, true} {
						if code, out := redisCheck(t, fix, l.manifest); code != 1 {
							t.Fatalf("redis-check-aof fix=%v: exit %d\n%s", fix, code, out)
						}
					}
				})
			}
		})
	}
}

// Missing pieces: the manifest, the base it names, the last incr file it
// names. redis-check-aof fails on each; ringkv-check-aof too, except that
// --fix creates a missing last incr file empty (what ringkv-server loads it
// as), after which redis-check-aof and redis-server accept the directory.
func TestCheckMissing(t *testing.T) {
	orig := ringkvSource(t, t.TempDir())

	dir := copyDir(t, orig)
	l := readLayout(t, dir)
	os.Remove(l.manifest)
	if code, out := checkAOF(t, dir); code != 1 || !strings.Contains(out, dir+" holds 0 manifests") {
		t.Errorf("no manifest, directory given: exit %d\n%s", code, out)
	}
	if code, out := checkAOF(t, l.manifest); code != 1 || !strings.Contains(out, "cannot open "+l.manifest+": no such file or directory") {
		t.Errorf("no manifest, manifest given: exit %d\n%s", code, out)
	}
	if code, out := redisCheck(t, false, l.manifest); code != 1 {
		t.Errorf("redis-check-aof without a manifest: exit %d\n%s", code, out)
	}

	dir = copyDir(t, orig)
	l = readLayout(t, dir)
	os.Remove(l.base)
	for _, args := range [][]string{{dir}, {"--fix", dir}} {
		code, out := checkAOF(t, args...)
		if code != 1 {
			t.Errorf("%q without the base: exit %d\n%s", args, code, out)
		}
		mustContain(t, "missing base", out, l.base+" (base): missing: the manifest names it; restore the directory from a backup")
	}
	if code, out := redisCheck(t, true, l.manifest); code != 1 {
		t.Errorf("redis-check-aof --fix without the base: exit %d\n%s", code, out)
	}

	dir = copyDir(t, orig)
	l = readLayout(t, dir)
	os.Remove(l.incr)
	code, out := checkAOF(t, dir)
	if code != 1 {
		t.Errorf("without the last incr file: exit %d\n%s", code, out)
	}
	mustContain(t, "missing incr", out, l.incr+" (incr): missing: the manifest names it", "run with --fix to create "+l.incr+" empty")
	if code, out := redisCheck(t, true, l.manifest); code != 1 {
		t.Errorf("redis-check-aof --fix without the last incr file: exit %d\n%s", code, out)
	}
	code, out = checkAOF(t, "--fix", dir)
	if code != 0 || fileSize(t, l.incr) != 0 {
		t.Fatalf("--fix without the last incr file: exit %d\n%s", code, out)
	}
	mustContain(t, "--fix", out, l.incr+": created empty", "the AOF is valid after the fix")
	if code, out := redisCheck(t, false, l.manifest); code != 0 {
		t.Errorf("redis-check-aof after --fix created the incr file: exit %d\n%s", code, out)
	}
	loadsInRingkv(t, dir, map[string]string{"a": bulk("1"), "b": bulk("2"), "l": ""})
}

// A base with an RDB preamble (redis-server's default): a clear message and
// exit 1, since ringkv cannot load it; redis-check-aof checks the RDB and
// exits 0.
func TestCheckRDBPreamble(t *testing.T) {
	dir := redisSource("yes")(t, t.TempDir())
	m, err := aof.ReadManifest(dir, "appendonly.aof")
	if err != nil || m.Base == nil || !strings.HasSuffix(m.Base.Name, ".base.rdb") {
		t.Fatalf("manifest %+v %v: want a .base.rdb", m, err)
	}
	base := filepath.Join(dir, m.Base.Name)
	for _, args := range [][]string{{dir}, {"--fix", "--force", dir}, {base}} {
		code, out := checkAOF(t, args...)
		if code != 1 {
			t.Fatalf("%q: exit %d\n%s", args, code, out)
		}
		mustContain(t, fmt.Sprint(args), out, base+" (", "): starts with an RDB preamble (aof-use-rdb-preamble yes), which ringkv cannot read",
			"--aof-use-rdb-preamble no and run BGREWRITEAOF")
	}
	if code, out := redisCheck(t, false, filepath.Join(dir, "appendonly.aof.manifest")); code != 0 {
		t.Fatalf("redis-check-aof: exit %d\n%s", code, out)
	}
}

func TestCheckUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{nil, {"a", "b"}, {"--force", dir}, {"--bogus", dir}} {
		if code, out := checkAOF(t, args...); code != 1 || !strings.Contains(out, "usage: ringkv-check-aof") && !strings.Contains(out, "--force goes with --fix") {
			t.Errorf("%q: exit %d\n%s", args, code, out)
		}
	}
}
