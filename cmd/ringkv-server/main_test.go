package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn"
)

// TestMain doubles as the server binary: RINGKV_SERVER_TEST_MAIN=1 runs
// main with the arguments after the test binary's name, so that a test can
// check what the real command prints and its exit status.
func TestMain(m *testing.M) {
	if os.Getenv("RINGKV_SERVER_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ringkv.conf")
	os.WriteFile(conf, []byte("# a comment\nport 7000\nbind 127.0.0.1\nio epoll\nsave \"\"\nappendonly no\nmaxclients 50\nclient-output-buffer-limit normal 1048576 0 0\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string // "port bind io maxclients hard"; "" when an error is expected
		err  string
	}{
		{"defaults", nil, "6379 127.0.0.1  0 0", ""},
		{"flags", []string{"--port", "6380", "--bind", "127.0.0.1", "--io", "uring"}, "6380 127.0.0.1 uring 0 0", ""},
		{"empty save", []string{"--save", "", "--appendonly", "no"}, "6379 127.0.0.1  0 0", ""},
		// maxclients and client-output-buffer-limit go to the configuration
		// table (Params), not to Config's fields.
		{"config file", []string{conf}, "7000 127.0.0.1 epoll 0 0", ""},
		{"flags override file", []string{conf, "--port", "7001"}, "7001 127.0.0.1 epoll 0 0", ""},
		{"bad io", []string{"--io", "kqueue"}, "", "io: must be auto, uring or epoll"},
		{"bad port", []string{"--port", "x"}, "", "not a valid number"},
		{"unknown", []string{"--no-such-thing", "1"}, "", "\n>>> 'no-such-thing \"1\"'\nBad directive or wrong number of arguments\n"},
		{"stray arg", []string{"--port", "1", "2"}, "", "wrong number of arguments"},
		{"missing file", []string{filepath.Join(dir, "nope.conf")}, "", "Fatal error, can't open config file '" + filepath.Join(dir, "nope.conf") + "': No such file or directory"},
	}
	for _, tc := range cases {
		st, err := parseArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		cfg := st.cfg
		bind := cfg.Bind
		if bind == "" {
			bind = "127.0.0.1" // conn fills the default
		}
		got := strings.Join([]string{strconv.Itoa(cfg.Port), bind, cfg.IO, strconv.Itoa(cfg.MaxClients), strconv.Itoa(cfg.ReplyHardLimit)}, " ")
		if got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
}

// The AOF's directives are not the binary's: they go to Config.Params, for
// conn's configuration table, with the line redis-server would name.
func TestAOFDirectivesGoToTheTable(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "ringkv.conf")
	os.WriteFile(conf, []byte("port 7000\n# the AOF\nappendfsync always\n\ndir /tmp\n"), 0o644)
	st, err := parseArgs([]string{conf, "--appendonly", "no", "--auto-aof-rewrite-min-size", "1mb"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"appendfsync", "always"}, {"dir", "/tmp"}, {"appendonly", "no"}, {"auto-aof-rewrite-min-size", "1mb"}}
	if !slices.EqualFunc(st.cfg.Params, want, slices.Equal) {
		t.Fatalf("Params = %q, want %q", st.cfg.Params, want)
	}
	// The file has 5 '\n': its lines are 1-5, an empty 6 and the command
	// line's directives 7 and 8, as redis-server numbers them.
	var lines []string
	for _, d := range st.params {
		lines = append(lines, strconv.Itoa(d.line)+" "+d.text)
	}
	if got, want := strings.Join(lines, "|"), `3 appendfsync always|5 dir /tmp|7 appendonly "no"|8 auto-aof-rewrite-min-size "1mb"`; got != want {
		t.Fatalf("sources %q, want %q", got, want)
	}
	// The binary's defaults stay in Config.AOF, which the table's values
	// from Params override when the server starts.
	if a := st.cfg.AOF; !a.Enabled || a.Fsync != "everysec" || a.Dir != "." {
		t.Fatalf("defaults %+v: want appendonly yes, everysec, dir .", a)
	}
}

// start runs the server as main does, in process, on a free port (a
// --port 0 after args), and returns its address, or the error main would
// report.
func start(t *testing.T, args ...string) (string, error) {
	t.Helper()
	st, err := parseArgs(slices.Concat(args, []string{"--port", "0"}))
	if err != nil {
		return "", err
	}
	cfg := st.cfg
	cfg.Logger = log.New(io.Discard, "", 0)
	srv := conn.NewServer(cfg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run() }()
	select {
	case err := <-errc:
		return "", st.explain(err)
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start in 10s")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		if err := <-errc; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "127.0.0.1:" + strconv.Itoa(srv.Port()), nil
}

func configGet(t *testing.T, addr, name string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("CONFIG GET " + name + "\r\n"))
	br := bufio.NewReader(c)
	var lines []string
	for range 5 { // *2, $n, name, $n, value
		ln, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("CONFIG GET %s: %v", name, err)
		}
		lines = append(lines, strings.TrimSuffix(ln, "\r\n"))
	}
	return lines[4]
}

// The AOF's directives on the command line and in the config file reach
// the server with the values CONFIG GET then reports; the binary's
// defaults hold without them.
func TestAOFDirectives(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{
		"appendonly": "yes", "appendfsync": "always", "appendfilename": "my.aof", "appenddirname": "aofs",
		"dir": dir, "aof-load-truncated": "no", "auto-aof-rewrite-percentage": "50", "auto-aof-rewrite-min-size": "2097152",
	}
	cmdline := []string{"--appendonly", "yes", "--appendfsync", "ALWAYS", "--appendfilename", "my.aof", "--appenddirname", "aofs",
		"--dir", dir, "--aof-load-truncated", "no", "--auto-aof-rewrite-percentage", "50", "--auto-aof-rewrite-min-size", "2mb"}
	conf := filepath.Join(t.TempDir(), "ringkv.conf")
	var file strings.Builder
	for i := 0; i < len(cmdline); i += 2 {
		file.WriteString(strings.TrimPrefix(cmdline[i], "--") + " " + cmdline[i+1] + "\n")
	}
	os.WriteFile(conf, []byte(file.String()), 0o644)
	for _, tc := range []struct {
		name string
		args []string
	}{{"command line", cmdline}, {"config file", []string{conf}}} {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := start(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range want {
				if got := configGet(t, addr, name); got != v {
					t.Errorf("CONFIG GET %s = %q, want %q", name, got, v)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "aofs", "my.aof.manifest")); err != nil {
				t.Errorf("the AOF is not where the directives say: %v", err)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		// dir "." is the working directory: run the default in a
		// temporary one, where appendonly yes creates appendonlydir.
		wd, _ := os.Getwd()
		tmp := t.TempDir()
		if err := os.Chdir(tmp); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chdir(wd) })
		addr, err := start(t)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"appendonly": "yes", "appendfsync": "everysec", "dir": tmp,
			"aof-load-truncated": "yes", "auto-aof-rewrite-percentage": "100", "auto-aof-rewrite-min-size": "67108864"} {
			if got := configGet(t, addr, name); got != v {
				t.Errorf("CONFIG GET %s = %q, want %q", name, got, v)
			}
		}
		if _, err := os.Stat(filepath.Join(tmp, "appendonlydir", "appendonly.aof.manifest")); err != nil {
			t.Errorf("no AOF in the working directory: %v", err)
		}
	})
}

// badConfigs are refused with redis-server 7.0's report, byte for byte but
// the version in its first line. Each runs after "--port P --dir D" (lines 2
// and 3 of the command line's numbering), file and command line alike.
var badConfigs = []struct {
	name string
	file string // written to a config file given first, if not empty
	args []string
	want string // after the header line
}{
	{"appendfsync", "", []string{"--appendfsync", "bogus"},
		"Reading the configuration file, at line 4\n>>> 'appendfsync \"bogus\"'\nargument(s) must be one of the following: everysec, always, no\n"},
	{"name as typed", "", []string{"--APPENDFSYNC", "a b"},
		"Reading the configuration file, at line 4\n>>> 'APPENDFSYNC \"a b\"'\nargument(s) must be one of the following: everysec, always, no\n"},
	{"no value", "", []string{"--appendfsync"},
		"Reading the configuration file, at line 4\n>>> 'appendfsync'\nwrong number of arguments\n"},
	{"two values", "", []string{"--appendfsync", "always", "no"},
		"Reading the configuration file, at line 4\n>>> 'appendfsync \"always\" \"no\"'\nwrong number of arguments\n"},
	{"appendonly", "", []string{"--appendonly", "maybe"},
		"Reading the configuration file, at line 4\n>>> 'appendonly \"maybe\"'\nargument must be 'yes' or 'no'\n"},
	{"appendfilename path", "", []string{"--appendfilename", "a/b"},
		"Reading the configuration file, at line 4\n>>> 'appendfilename \"a/b\"'\nappendfilename can't be a path, just a filename\n"},
	{"appendfilename backslash", "", []string{"--appendfilename", `a\b`},
		"Reading the configuration file, at line 4\n>>> 'appendfilename \"a\\\\b\"'\nappendfilename can't be a path, just a filename\n"},
	{"appendfilename empty", "", []string{"--appendfilename", ""},
		"Reading the configuration file, at line 4\n>>> 'appendfilename \"\"'\nappendfilename can't be empty\n"},
	{"appenddirname path", "", []string{"--appenddirname", "a/b"},
		"Reading the configuration file, at line 4\n>>> 'appenddirname \"a/b\"'\nappenddirname can't be a path, just a dirname\n"},
	{"appenddirname empty", "", []string{"--appenddirname", ""},
		"Reading the configuration file, at line 4\n>>> 'appenddirname \"\"'\nappenddirname can't be empty\n"},
	{"dir missing", "", []string{"--dir", "/nonexistent-ringkv-dir"},
		"Reading the configuration file, at line 4\n>>> 'dir \"/nonexistent-ringkv-dir\"'\nNo such file or directory\n"},
	{"dir a file", "", []string{"--dir", "/etc/passwd"},
		"Reading the configuration file, at line 4\n>>> 'dir \"/etc/passwd\"'\nNot a directory\n"},
	{"aof-load-truncated", "", []string{"--aof-load-truncated", "x"},
		"Reading the configuration file, at line 4\n>>> 'aof-load-truncated \"x\"'\nargument must be 'yes' or 'no'\n"},
	{"percentage range", "", []string{"--auto-aof-rewrite-percentage", "-1"},
		"Reading the configuration file, at line 4\n>>> 'auto-aof-rewrite-percentage \"-1\"'\nargument must be between 0 and 2147483647 inclusive\n"},
	{"percentage not a number", "", []string{"--auto-aof-rewrite-percentage", "abc"},
		"Reading the configuration file, at line 4\n>>> 'auto-aof-rewrite-percentage \"abc\"'\nargument couldn't be parsed into an integer\n"},
	{"min-size unit", "", []string{"--auto-aof-rewrite-min-size", "1zb"},
		"Reading the configuration file, at line 4\n>>> 'auto-aof-rewrite-min-size \"1zb\"'\nargument must be a memory value\n"},
	{"min-size negative", "", []string{"--auto-aof-rewrite-min-size", "-5"},
		"Reading the configuration file, at line 4\n>>> 'auto-aof-rewrite-min-size \"-5\"'\nargument must be a memory value\n"},
	{"unknown", "", []string{"--no-such-directive", "1"},
		"Reading the configuration file, at line 4\n>>> 'no-such-directive \"1\"'\nBad directive or wrong number of arguments\n"},
	{"maxclients", "", []string{"--maxclients", "0"},
		"Reading the configuration file, at line 4\n>>> 'maxclients \"0\"'\nargument must be between 1 and 4294967295 inclusive\n"},
	{"client-query-buffer-limit", "", []string{"--client-query-buffer-limit", "1000"},
		"Reading the configuration file, at line 4\n>>> 'client-query-buffer-limit \"1000\"'\nargument must be between 1048576 and 9223372036854775807 inclusive\n"},
	{"client-query-buffer-limit unit", "", []string{"--client-query-buffer-limit", "1zb"},
		"Reading the configuration file, at line 4\n>>> 'client-query-buffer-limit \"1zb\"'\nargument must be a memory value\n"},
	{"client-output-buffer-limit", "", []string{"--client-output-buffer-limit", "normal", "1mb", "0"},
		"Reading the configuration file, at line 4\n>>> 'client-output-buffer-limit \"normal\" \"1mb\" \"0\"'\nWrong number of arguments in buffer limit configuration.\n"},
	// Lines are split as redis-server splits them (sdssplitargs).
	{"unbalanced quotes", "appendonly no\nappendfilename \"abc\n", nil,
		"Reading the configuration file, at line 2\n>>> 'appendfilename \"abc'\nUnbalanced quotes in configuration line\n"},
	{"text after a closing quote", "appendfsync \"always\"x\n", nil,
		"Reading the configuration file, at line 1\n>>> 'appendfsync \"always\"x'\nUnbalanced quotes in configuration line\n"},
	{"single quotes unbalanced", "appendfsync 'always\n", nil,
		"Reading the configuration file, at line 1\n>>> 'appendfsync 'always'\nUnbalanced quotes in configuration line\n"},
	{"quoted value", "appendfsync \"al\\x77ays no\"\n", nil,
		"Reading the configuration file, at line 1\n>>> 'appendfsync \"al\\x77ays no\"'\nargument(s) must be one of the following: everysec, always, no\n"},
	// The file's lines first (a comment and a blank line count), as written.
	{"file", "# AOF\n\nappendonly yes\nappendfsync  bogus\n", nil,
		"Reading the configuration file, at line 4\n>>> 'appendfsync  bogus'\nargument(s) must be one of the following: everysec, always, no\n"},
	{"file two values", "appendfsync always no\n", nil,
		"Reading the configuration file, at line 1\n>>> 'appendfsync always no'\nwrong number of arguments\n"},
	// The file has 2 '\n': the command line starts at line 4.
	{"file then command line", "appendonly no\nappendfsync no\n", []string{"--auto-aof-rewrite-min-size", "x"},
		"Reading the configuration file, at line 6\n>>> 'auto-aof-rewrite-min-size \"x\"'\nargument must be a memory value\n"},
}

func badArgs(t *testing.T, file string, args []string, port string) []string {
	t.Helper()
	var out []string
	if file != "" {
		path := filepath.Join(t.TempDir(), "bad.conf")
		os.WriteFile(path, []byte(file), 0o644)
		out = append(out, path)
	}
	out = append(out, "--port", port, "--dir", t.TempDir())
	return append(out, args...)
}

// Bad values, on the command line and in a file, are refused before the
// server listens, with redis-server's text; when redis-server is installed
// it is run with the same arguments and must print the same.
func TestConfigErrors(t *testing.T) {
	redis, _ := exec.LookPath("redis-server")
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := startArgs(t, badArgs(t, tc.file, tc.args, "0"))
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a configuration error", err)
			}
			want := "\n*** FATAL CONFIG FILE ERROR (ringkv " + conn.Version + ") ***\n" + tc.want
			if got := err.Error(); got != want {
				t.Fatalf("ringkv:\n%s\nwant\n%s", got, want)
			}
			if redis == "" {
				return
			}
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, redis, badArgs(t, tc.file, tc.args, port)...)
			cmd.Dir = t.TempDir()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil || ctx.Err() != nil {
				t.Fatalf("redis-server accepted it: %v", err)
			}
			if got := strings.Replace(stderr.String(), "(Redis 7.0.15)", "(ringkv "+conn.Version+")", 1); got != want {
				t.Fatalf("redis-server:\n%s\nringkv\n%s", stderr.String(), want)
			}
		})
	}
}

// startArgs is start with the arguments as given (no --port 0 first).
func startArgs(t *testing.T, args []string) (string, error) {
	t.Helper()
	st, err := parseArgs(args)
	if err != nil {
		return "", err
	}
	cfg := st.cfg
	cfg.Logger = log.New(io.Discard, "", 0)
	srv := conn.NewServer(cfg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Run() }()
	select {
	case err := <-errc:
		return "", st.explain(err)
	case <-srv.Ready():
		srv.Shutdown()
		<-errc
		return "", nil
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start in 10s")
	}
	return "", nil
}

// The binary itself: the report on stderr, nothing on stdout, exit 1.
func TestConfigErrorExit(t *testing.T) {
	for _, tc := range badConfigs {
		if tc.name != "appendfsync" && tc.name != "file" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], badArgs(t, tc.file, tc.args, "0")...)
			cmd.Env = append(os.Environ(), "RINGKV_SERVER_TEST_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\nstderr: %s", err, stderr.String())
			}
			want := "\n*** FATAL CONFIG FILE ERROR (ringkv " + conn.Version + ") ***\n" + tc.want
			if stderr.String() != want || stdout.Len() != 0 {
				t.Fatalf("stderr %q, want %q; stdout %q", stderr.String(), want, stdout.String())
			}
		})
	}
}

// A config file with quoted values, escapes, memory units and the limits
// reaches the server as redis-server reads it: each CONFIG GET is compared
// with redis-server started on the same file (and is checked against the
// expected value when redis-server is not installed).
func TestConfigFileValues(t *testing.T) {
	dir := t.TempDir()
	file := "# quoting as sdssplitargs\n" +
		"appendonly no\n" +
		"appendfilename \"my \\x41 file.aof\"\n" +
		"appenddirname 'it\\'s'\n" +
		"dir " + dir + "\n" +
		"  maxclients   50  \n" +
		"client-query-buffer-limit 2mb\n" +
		"client-output-buffer-limit normal 1mb 512kb 10\n" +
		"AUTO-AOF-REWRITE-MIN-SIZE \"1gb\"\n"
	conf := filepath.Join(t.TempDir(), "ringkv.conf")
	os.WriteFile(conf, []byte(file), 0o644)
	want := map[string]string{
		"appendfilename":             "my A file.aof",
		"appenddirname":              "it's",
		"maxclients":                 "50",
		"client-query-buffer-limit":  "2097152",
		"client-output-buffer-limit": "normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"auto-aof-rewrite-min-size":  "1073741824",
	}
	addr, err := start(t, conf)
	if err != nil {
		t.Fatal(err)
	}
	redisAddr := ""
	if redis, err := exec.LookPath("redis-server"); err == nil {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		cmd := exec.Command(redis, conf, "--port", port, "--save", "")
		cmd.Dir = t.TempDir()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		redisAddr = "127.0.0.1:" + port
		for deadline := time.Now().Add(10 * time.Second); ; {
			c, err := net.Dial("tcp", redisAddr)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server did not start: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for name, v := range want {
		got := configGet(t, addr, name)
		if got != v {
			t.Errorf("ringkv CONFIG GET %s = %q, want %q", name, got, v)
		}
		if redisAddr != "" {
			if r := configGet(t, redisAddr, name); r != got {
				t.Errorf("CONFIG GET %s: ringkv %q, redis-server %q", name, got, r)
			}
		}
	}
}
