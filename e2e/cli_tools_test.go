package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redis-cli's tool modes (--stat, --latency, --latency-history, --bigkeys,
// --memkeys, --scan, --pipe) and its interactive mode driven in tmux, each
// against a server holding a known data set.

// cliRun runs redis-cli against s with args and returns its stdout; a
// non-zero exit or anything on stderr fails the test.
func cliRun(t *testing.T, ctx context.Context, s *server, stdin []byte, args ...string) string {
	t.Helper()
	full := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.port)}, args...)
	cmd := exec.CommandContext(ctx, "redis-cli", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("redis-cli %s: %v\nstdout: %q\nstderr: %q", strings.Join(quoteArgs(full), " "), err, tail(stdout.String()), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("redis-cli %s wrote to stderr: %q", strings.Join(quoteArgs(full), " "), stderr.String())
	}
	return stdout.String()
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// cliLines runs a redis-cli mode that never ends by itself, line-buffered
// through stdbuf (redis-cli's stdout is a pipe here, which stdio would
// buffer until exit), and returns its output once done says it has seen
// enough lines; then the process is killed. It fails the test if that takes
// longer than timeout.
func cliLines(t *testing.T, s *server, timeout time.Duration, done func(lines []string) bool, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("stdbuf"); err != nil {
		t.Skipf("stdbuf (coreutils) not installed: cannot read redis-cli %s line by line", strings.Join(args, " "))
	}
	full := append([]string{"-oL", "redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port)}, args...)
	cmd := exec.Command("stdbuf", full...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("stdbuf %s: %v", strings.Join(full, " "), err)
	}
	linesCh := make(chan string)
	go func() {
		defer close(linesCh)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			linesCh <- sc.Text()
		}
	}()
	var lines []string
	deadline := time.After(timeout)
	finished := false
	for !finished {
		select {
		case line, ok := <-linesCh:
			if !ok {
				finished = true
				break
			}
			lines = append(lines, line)
			if done(lines) {
				finished = true
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("redis-cli %s: not enough output within %v:\n%s\nstderr: %s", strings.Join(args, " "), timeout, strings.Join(lines, "\n"), stderr.String())
		}
	}
	cmd.Process.Kill()
	for range linesCh { // let the scanner goroutine end
	}
	cmd.Wait()
	if stderr.Len() > 0 {
		t.Errorf("redis-cli %s wrote to stderr: %q", strings.Join(args, " "), stderr.String())
	}
	return lines
}

// fillKnownKeys stores one key of each type with known sizes, and 20
// user:N keys, through redis-cli itself.
func fillKnownKeys(t *testing.T, ctx context.Context, s *server) {
	t.Helper()
	var in bytes.Buffer
	for _, argv := range [][]string{
		{"SET", "str:small", "ab"},
		{"SET", "str:big", strings.Repeat("x", 100)},
		{"RPUSH", "list", "a", "b", "c"},
		{"HSET", "hash", "f1", "v1", "f2", "v2"},
		{"SADD", "set", "a", "b", "c", "d"},
		{"ZADD", "zset", "1", "a", "2", "b"},
	} {
		in.Write(respCmd(argv...))
	}
	for i := range 20 {
		in.Write(respCmd("SET", fmt.Sprintf("user:%d", i), "u"))
	}
	out := cliRun(t, ctx, s, in.Bytes(), "--pipe")
	if !strings.Contains(out, "errors: 0, replies: 26") {
		t.Fatalf("filling the data set with redis-cli --pipe: %s", out)
	}
}

func TestRedisCLIModes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		fillKnownKeys(t, ctx, s)
		const keys = 26

		t.Run("stat", func(t *testing.T) {
			// --stat polls INFO every -i seconds: a header of two lines,
			// then one line per poll (keys, mem, clients, blocked,
			// requests, connections).
			lines := cliLines(t, s, 10*time.Second, func(l []string) bool { return len(l) >= 5 }, "--stat", "-i", "0.1")
			if !strings.HasPrefix(lines[0], "------- data ------") || !slices.Equal(strings.Fields(lines[1]), []string{"keys", "mem", "clients", "blocked", "requests", "connections"}) {
				t.Errorf("--stat header = %q", lines[:2])
			}
			mem := regexp.MustCompile(`^[0-9.]+[BKMG]$`)
			for _, line := range lines[2:] {
				f := strings.Fields(line)
				if len(f) != 7 || f[0] != strconv.Itoa(keys) || !mem.MatchString(f[1]) || f[2] != "1" || f[3] != "0" || !strings.HasPrefix(f[5], "(+") {
					t.Errorf("--stat line %q; want %d keys, a memory size, 1 client, 0 blocked, requests (+n), connections", line, keys)
				}
			}
		})

		t.Run("latency", func(t *testing.T) {
			// With stdout not a terminal, --latency prints one
			// "min max avg samples" line after -i seconds and exits.
			out := strings.TrimSpace(cliRun(t, ctx, s, nil, "--latency", "-i", "0.5"))
			f := strings.Fields(out)
			if len(f) != 4 {
				t.Fatalf("--latency -i 0.5 = %q; want min max avg samples", out)
			}
			minMs, err1 := strconv.Atoi(f[0])
			maxMs, err2 := strconv.Atoi(f[1])
			_, err3 := strconv.ParseFloat(f[2], 64)
			samples, err4 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil || err3 != nil || err4 != nil || minMs > maxMs || samples < 10 {
				t.Errorf("--latency -i 0.5 = %q; want min <= max, an average and >= 10 samples", out)
			}
		})

		t.Run("latency-history", func(t *testing.T) {
			// --latency-history starts a new series every -i seconds,
			// closing each with " -- 0.30 seconds range".
			ranges := 0
			lines := cliLines(t, s, 10*time.Second, func(l []string) bool {
				if strings.HasPrefix(l[len(l)-1], " -- ") {
					ranges++
				}
				return ranges == 2
			}, "--latency-history", "-i", "0.3")
			rangeLine := regexp.MustCompile(`^ -- 0\.[0-9]+ seconds range$`)
			sample := regexp.MustCompile(`^[0-9]+ [0-9]+ [0-9]+\.[0-9]+ [0-9]+$`)
			for _, line := range lines {
				if !rangeLine.MatchString(line) && !sample.MatchString(line) && line != "" {
					t.Errorf("--latency-history line %q; want \"min max avg samples\" or \" -- 0.3 seconds range\"", line)
				}
			}
		})

		t.Run("bigkeys", func(t *testing.T) {
			out := cliRun(t, ctx, s, nil, "--bigkeys")
			_, summary, ok := strings.Cut(out, "-------- summary -------\n")
			want := `
Sampled 26 keys in the keyspace!
Total key length in bytes is 161 (avg len 6.19)

Biggest   list found '"list"' has 3 items
Biggest   hash found '"hash"' has 2 fields
Biggest string found '"str:big"' has 100 bytes
Biggest    set found '"set"' has 4 members
Biggest   zset found '"zset"' has 2 members

1 lists with 3 items (03.85% of keys, avg size 3.00)
1 hashs with 2 fields (03.85% of keys, avg size 2.00)
22 strings with 122 bytes (84.62% of keys, avg size 5.55)
0 streams with 0 entries (00.00% of keys, avg size 0.00)
1 sets with 4 members (03.85% of keys, avg size 4.00)
1 zsets with 2 members (03.85% of keys, avg size 2.00)
`
			if !ok || summary != want {
				t.Errorf("--bigkeys summary:\n%s\nwant:\n%s\nwhole output:\n%s", summary, want, out)
			}
		})

		t.Run("memkeys", func(t *testing.T) {
			if strings.TrimSpace(cliRun(t, ctx, s, nil, "COMMAND", "INFO", "memory")) == "" {
				t.Skip("no MEMORY command: --memkeys needs MEMORY USAGE")
			}
			// The sizes are the server's own estimates (Redis's and
			// ringkv's differ); the keys found and the counts do not.
			out := cliRun(t, ctx, s, nil, "--memkeys")
			for _, re := range []string{
				`Biggest   list found '"list"' has [1-9][0-9]* bytes`,
				`Biggest   hash found '"hash"' has [1-9][0-9]* bytes`,
				`Biggest string found '"[a-z:]+"' has [1-9][0-9]* bytes`,
				`Biggest    set found '"set"' has [1-9][0-9]* bytes`,
				`Biggest   zset found '"zset"' has [1-9][0-9]* bytes`,
				`Sampled 26 keys in the keyspace!`,
				`\n22 strings with [1-9][0-9]* bytes \(84\.62% of keys, avg size [0-9.]+\)`,
				`\n1 zsets with [1-9][0-9]* bytes \(03\.85% of keys, avg size [0-9.]+\)`,
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("--memkeys printed no line matching %q:\n%s", re, out)
				}
			}
		})

		t.Run("scan", func(t *testing.T) {
			out := cliRun(t, ctx, s, nil, "--scan", "--pattern", "user:1*")
			got := strings.Fields(out)
			slices.Sort(got)
			want := []string{"user:1"}
			for i := 10; i < 20; i++ {
				want = append(want, fmt.Sprintf("user:%d", i))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("--scan --pattern user:1* = %q; want %q", got, want)
			}
			out = cliRun(t, ctx, s, nil, "--scan")
			if n := len(strings.Fields(out)); n != keys {
				t.Errorf("--scan listed %d keys; want %d", n, keys)
			}
		})
	})
}

// TestRedisCLIPipe is redis-cli's mass insertion: a million SET commands as
// one RESP stream on stdin.
func TestRedisCLIPipe(t *testing.T) {
	const commands = 1000000
	var in bytes.Buffer
	in.Grow(commands * 48)
	for i := range commands {
		k, v := "key:"+strconv.Itoa(i), "value:"+strconv.Itoa(i)
		fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		start := time.Now()
		out := cliRun(t, ctx, s, in.Bytes(), "--pipe")
		t.Logf("redis-cli --pipe of %d SETs (%d MB) took %v:\n%s", commands, in.Len()>>20, time.Since(start).Round(time.Millisecond), out)
		if want := fmt.Sprintf("\nerrors: 0, replies: %d\n", commands); !strings.Contains("\n"+out, want) {
			t.Errorf("redis-cli --pipe printed %q; want the summary %q", out, strings.TrimSpace(want))
		}
		if got := strings.TrimSpace(cliRun(t, ctx, s, nil, "DBSIZE")); got != strconv.Itoa(commands) {
			t.Errorf("DBSIZE after --pipe = %s; want %d", got, commands)
		}
		if got := strings.TrimSpace(cliRun(t, ctx, s, nil, "GET", "key:999999")); got != "value:999999" {
			t.Errorf("GET key:999999 after --pipe = %q; want value:999999", got)
		}
	})
}

// tmuxSession is redis-cli running interactively in a detached tmux session
// on a private tmux server (its own socket), killed on cleanup.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (m *tmuxSession) tmux(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen returns the visible pane, trailing blank lines dropped.
func (m *tmuxSession) screen() string {
	return strings.TrimRight(m.tmux("capture-pane", "-p", "-t", "cli"), "\n")
}

// waitFor polls the pane until it contains want.
func (m *tmuxSession) waitFor(want string) {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := m.screen()
		if strings.Contains(sc, want) {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("interactive redis-cli: the screen never showed %q; it shows:\n%s", want, sc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run types a command, presses Enter and waits for the reply and the
// next prompt; it returns the reply as displayed.
func (m *tmuxSession) run(prompt, command string) string {
	m.t.Helper()
	m.tmux("send-keys", "-t", "cli", "C-l")
	m.waitFor(strings.TrimSpace(prompt))
	m.tmux("send-keys", "-t", "cli", "-l", command)
	m.tmux("send-keys", "-t", "cli", "Enter")
	// The screen was cleared: the reply sits between the command's line
	// and the next prompt.
	m.waitFor(prompt + command + "\n")
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := m.screen()
		if _, after, ok := strings.Cut(sc, prompt+command+"\n"); ok {
			if reply, rest, ok := strings.Cut(after, "\n"+strings.TrimSpace(prompt)); ok && strings.TrimSpace(rest) == "" {
				return reply
			}
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("interactive redis-cli: no reply to %q followed by a prompt; the screen shows:\n%s", command, sc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisCLIInteractive(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (scripts/test.sh installs it with apt): interactive redis-cli not tested")
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		fillKnownKeys(t, ctx, s)

		for _, proto := range []string{"2", "3"} {
			t.Run("resp"+proto, func(t *testing.T) {
				m := &tmuxSession{t: t, socket: fmt.Sprintf("ringkv-e2e-%d-%s-%s", os.Getpid(), backend, proto)}
				// A wide window so that no hint or reply wraps.
				m.tmux("-f", "/dev/null", "new-session", "-d", "-s", "cli", "-x", "250", "-y", "50",
					"redis-cli", "-"+proto, "-h", "127.0.0.1", "-p", strconv.Itoa(s.port))
				t.Cleanup(func() { exec.Command("tmux", "-L", m.socket, "kill-server").Run() })
				// capture-pane drops trailing spaces: an empty prompt line
				// reads "127.0.0.1:port>".
				prompt := fmt.Sprintf("127.0.0.1:%d> ", s.port)
				m.waitFor(strings.TrimSpace(prompt))

				// Hints: after a command name and a space, redis-cli shows
				// the rest of the syntax from its help table; once some
				// arguments are typed, only what remains.
				for _, h := range []struct{ typed, hint string }{
					{"SET ", "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"},
					{"zadd myzset ", "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"},
					{"HSET h f ", "value [field value ...]"},
				} {
					m.tmux("send-keys", "-t", "cli", "-l", h.typed)
					m.waitFor(prompt + h.typed + h.hint)
					m.tmux("send-keys", "-t", "cli", "C-u")
				}

				replies := []struct{ command, reply string }{
					{"PING", "PONG"},
					{"SET greeting hello", "OK"},
					{"GET greeting", `"hello"`},
					{"GET nokey", "(nil)"},
					{"EXISTS greeting nokey", "(integer) 1"},
					{"LRANGE list 0 -1", "1) \"a\"\n2) \"b\"\n3) \"c\""},
					{"LPUSH greeting x", "(error) WRONGTYPE Operation against a key holding the wrong kind of value"},
				}
				if proto == "2" {
					replies = append(replies, []struct{ command, reply string }{
						{"HGETALL hash", "1) \"f1\"\n2) \"v1\"\n3) \"f2\"\n4) \"v2\""},
						{"ZSCORE zset b", `"2"`},
						{"ZRANGE zset 0 -1 WITHSCORES", "1) \"a\"\n2) \"1\"\n3) \"b\"\n4) \"2\""},
					}...)
				} else {
					// RESP3 as redis-cli -3 renders it: maps, doubles.
					replies = append(replies, []struct{ command, reply string }{
						{"HGETALL hash", "1# \"f1\" => \"v1\"\n2# \"f2\" => \"v2\""},
						{"ZSCORE zset b", "(double) 2"},
						{"ZRANGE zset 0 -1 WITHSCORES", "1) 1) \"a\"\n   2) (double) 1\n2) 1) \"b\"\n   2) (double) 2"},
						{"HELLO 3", ""}, // checked below
					}...)
				}
				for _, r := range replies {
					got := m.run(prompt, r.command)
					if r.command == "HELLO 3" {
						if !strings.Contains(got, `1# "server" => "redis"`) || !strings.Contains(got, `3# "proto" => (integer) 3`) {
							t.Errorf("interactive HELLO 3 shows:\n%s\nwant a map with server redis and proto 3", got)
						}
						continue
					}
					if got != r.reply {
						t.Errorf("interactive %s shows:\n%s\nwant:\n%s", r.command, got, r.reply)
					}
				}
			})
		}
	})
}
