package conn

import (
	"strconv"
	"strings"
	"testing"
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
