package conn

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

func adminServer(t *testing.T) string {
	t.Helper()
	s := NewServer(Config{Logger: newTestLogger(t)})
	errc := make(chan error, 1)
	go func() { errc <- s.Run() }()
	<-s.Ready()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-errc; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "127.0.0.1:" + strconv.Itoa(s.Port())
}

// CLIENT REPLY OFF/SKIP leave commands unanswered, which the differential
// scripts cannot express; PING after them shows exactly which were answered.
func TestClientReply(t *testing.T) {
	c := dialTest(t, adminServer(t))
	steps := []struct{ cmd, want string }{
		{"CLIENT REPLY SKIP", ""}, {"PING skipped", ""}, {"PING shown", "$5\r\nshown\r\n"},
		{"CLIENT REPLY OFF", ""}, {"PING hidden", ""}, {"GET", ""},
		{"CLIENT REPLY ON", "+OK\r\n"}, {"PING back", "$4\r\nback\r\n"},
	}
	for _, st := range steps {
		if _, err := c.c.Write([]byte(st.cmd + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if st.want != "" {
			r, err := readReply(c.br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(r) != st.want {
				t.Fatalf("%s: got %q, want %q (a suppressed reply leaked?)", st.cmd, r, st.want)
			}
		}
	}
}

// Timing, slowlog and command statistics see every command; MONITOR sees
// the others' commands (not admin ones such as CONFIG) with AUTH redacted.
func TestSlowlogStatsMonitor(t *testing.T) {
	addr := adminServer(t)
	c, mon := dialTest(t, addr), dialTest(t, addr)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", got)
	}
	c.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.do("SET", "k", "v\n")
	c.do("AUTH", "default", "pw")
	for _, want := range []string{`"SET" "k" "v\n"`, `"AUTH" "(redacted)" "(redacted)"`} {
		line, err := mon.br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+") || !strings.Contains(line, want) {
			t.Fatalf("monitor line %q (%v), want it to contain %s", line, err, want)
		}
	}
	if got := c.do("SLOWLOG", "LEN"); got == ":0\r\n" {
		t.Fatalf("SLOWLOG LEN with threshold 0: %q", got)
	}
	get := c.do("SLOWLOG", "GET", "2")
	if !strings.Contains(get, "$4\r\nAUTH\r\n") {
		t.Fatalf("SLOWLOG GET 1: %q", get)
	}
	info := c.do("INFO", "commandstats")
	if !strings.Contains(info, "cmdstat_set:calls=1,") || !strings.Contains(info, "cmdstat_config|set:calls=1,") {
		t.Fatalf("INFO commandstats: %q", info)
	}
	c.do("GET")
	if info := c.do("INFO", "errorstats"); !strings.Contains(info, "errorstat_ERR:count=1") {
		t.Fatalf("INFO errorstats: %q", info)
	}
}

// CONFIG SET is all or nothing: a bad value after a good one leaves both
// parameters as they were.
func TestConfigSetAtomic(t *testing.T) {
	c := dialTest(t, adminServer(t))
	if got := c.do("CONFIG", "SET", "timeout", "5", "maxclients", "abc"); !strings.HasPrefix(got, "-ERR CONFIG SET failed (possibly related to argument 'maxclients')") {
		t.Fatalf("got %q", got)
	}
	if got := c.do("CONFIG", "GET", "timeout"); got != "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n" {
		t.Fatalf("timeout changed by a failed CONFIG SET: %q", got)
	}
}

// client-output-buffer-limit's normal class: past the hard limit a client is
// closed by the reply that passes it; past the soft limit only once its
// replies have stayed past it for more than the soft seconds, and a reply
// that finds it under the limit starts the count again (Redis's
// checkClientOutputBufferLimits).
func TestOutputBufferLimits(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // one 200 KiB reply
	closed := func(c *testClient) bool {
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := readReply(c.br, nil)
		return err != nil
	}
	send := func(c *testClient, args ...string) {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		if _, err := c.c.Write(resp.AppendCommand(nil, argv...)); err != nil {
			t.Fatal(err)
		}
	}
	addr := adminServer(t)
	admin := dialTest(t, addr)
	admin.do("SET", "big", big)
	admin.do("SET", "small", "s")

	t.Run("hard", func(t *testing.T) {
		admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100kb 0 0")
		defer admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
		c := dialTest(t, addr)
		if got := c.do("GET", "small"); got != "$1\r\ns\r\n" {
			t.Fatalf("GET small: %q", got)
		}
		send(c, "GET", "big")
		if !closed(c) {
			t.Fatal("a 200 KiB reply past a 100 KiB hard limit did not close the client")
		}
	})

	t.Run("soft", func(t *testing.T) {
		// soft seconds 0: closed once past the limit for at least a second.
		admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 100kb 0")
		defer admin.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
		c := dialTest(t, addr)
		if got := c.do("GET", "big"); len(got) != len(big)+len("$204800\r\n\r\n") {
			t.Fatalf("first GET big: %d bytes", len(got))
		}
		// A small reply resets the count: the next big one starts it again.
		c.do("GET", "small")
		time.Sleep(1100 * time.Millisecond)
		if got := c.do("GET", "big"); len(got) != len(big)+len("$204800\r\n\r\n") {
			t.Fatalf("GET big after a reset: %d bytes", len(got))
		}
		time.Sleep(1100 * time.Millisecond)
		send(c, "GET", "big")
		if !closed(c) {
			t.Fatal("replies past the soft limit for over a second did not close the client")
		}
		if got := admin.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING from another client: %q", got)
		}
	})
}
