package conn

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringkv/ringkv/store"
)

// startStoppable starts a server and returns its address and a stop
// function (also run at cleanup), for tests that start a second server
// after stopping the first.
func startStoppable(t *testing.T, cfg Config) (string, func()) {
	t.Helper()
	cfg.Logger = newTestLogger(t)
	s := NewServer(cfg)
	errc := make(chan error, 1)
	go func() { errc <- s.Run() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start in 10s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			s.Shutdown()
			if err := <-errc; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return "127.0.0.1:" + strconv.Itoa(s.Port()), stop
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// configPair is CONFIG GET's reply for one parameter.
func configPair(name, value string) string { return "*2\r\n" + bulk(name) + bulk(value) }

// One client changes the thresholds, others write: new values and values
// that grow follow the thresholds in force; existing ones keep their
// encoding when the thresholds go back up, as in Redis.
func TestConfigEncodingFollowsThresholds(t *testing.T) {
	addr := startServer(t, Config{})
	admin, w1, w2 := bdial(t, addr), bdial(t, addr), bdial(t, addr)
	steps := []struct {
		c         *bconn
		cmd       []string
		want      string
		wantEqual bool
	}{
		{admin, []string{"CONFIG", "SET", "hash-max-listpack-entries", "2"}, "+OK\r\n", true},
		{w1, []string{"HSET", "h", "a", "1", "b", "2"}, ":2\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "h"}, bulk("listpack"), true},
		{w1, []string{"HSET", "h", "c", "3"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "h"}, bulk("hashtable"), true},
		{admin, []string{"CONFIG", "SET", "hash-max-listpack-entries", "512"}, "+OK\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "h"}, bulk("hashtable"), true},
		{w1, []string{"HSET", "h2", "a", "1", "b", "2", "c", "3"}, ":3\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "h2"}, bulk("listpack"), true},
		{admin, []string{"CONFIG", "SET", "hash-max-ziplist-value", "3"}, "+OK\r\n", true},
		{w1, []string{"HSET", "hv", "f", "abcd"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "hv"}, bulk("hashtable"), true},

		{admin, []string{"CONFIG", "SET", "set-max-intset-entries", "2"}, "+OK\r\n", true},
		{w1, []string{"SADD", "s", "1", "2"}, ":2\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "s"}, bulk("intset"), true},
		{w1, []string{"SADD", "s", "3"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "s"}, bulk("hashtable"), true},
		{admin, []string{"CONFIG", "SET", "set-max-intset-entries", "512"}, "+OK\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "s"}, bulk("hashtable"), true},

		{admin, []string{"CONFIG", "SET", "zset-max-ziplist-entries", "1"}, "+OK\r\n", true},
		{w1, []string{"ZADD", "z", "1", "a"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "z"}, bulk("listpack"), true},
		{w1, []string{"ZADD", "z", "2", "b"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "z"}, bulk("skiplist"), true},
		{admin, []string{"CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "2"}, "+OK\r\n", true},
		{w1, []string{"ZADD", "zv", "1", "abc"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "zv"}, bulk("skiplist"), true},
		{w1, []string{"ZADD", "zw", "1", "ab"}, ":1\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "zw"}, bulk("listpack"), true},

		// Lists are quicklists in Redis 7.0 whatever the size says.
		{admin, []string{"CONFIG", "SET", "list-max-listpack-size", "1"}, "+OK\r\n", true},
		{w1, []string{"RPUSH", "l", "a", "b"}, ":2\r\n", true},
		{w2, []string{"OBJECT", "ENCODING", "l"}, bulk("quicklist"), true},
	}
	for i, st := range steps {
		if got := st.c.do(st.cmd...); got != st.want {
			t.Fatalf("step %d %v: got %q, want %q", i, st.cmd, got, st.want)
		}
	}
}

// Aliases: the -ziplist- names read and write the same values; GET *
// lists both names; an alias and its primary in one CONFIG SET are two
// parameters (set in order), a name twice is a duplicate.
func TestConfigEncodingAliases(t *testing.T) {
	addr := startServer(t, Config{})
	a, b := bdial(t, addr), bdial(t, addr)
	if got := a.do("CONFIG", "SET", "hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"); got != "+OK\r\n" {
		t.Fatalf("alias and primary in one SET: %q", got)
	}
	for _, name := range []string{"hash-max-ziplist-entries", "hash-max-listpack-entries"} {
		if got := b.do("CONFIG", "GET", name); got != configPair(name, "6") {
			t.Errorf("CONFIG GET %s: %q", name, got)
		}
	}
	if got := a.do("CONFIG", "SET", "zset-max-ziplist-value", "1", "ZSET-MAX-ZIPLIST-VALUE", "2"); got !=
		"-ERR CONFIG SET failed (possibly related to argument 'ZSET-MAX-ZIPLIST-VALUE') - duplicate parameter\r\n" {
		t.Errorf("a name twice: %q", got)
	}
	got := b.do("CONFIG", "GET", "*ziplist*")
	for _, name := range []string{"list-max-ziplist-size", "hash-max-ziplist-entries", "hash-max-ziplist-value", "zset-max-ziplist-entries", "zset-max-ziplist-value"} {
		if !strings.Contains(got, bulk(name)) {
			t.Errorf("CONFIG GET *ziplist* does not list %s: %q", name, got)
		}
	}
	if strings.Contains(got, "listpack") {
		t.Errorf("CONFIG GET *ziplist* lists a -listpack- name: %q", got)
	}
	if got := b.do("CONFIG", "GET", "set-max-listpack-entries"); got != "*0\r\n" {
		t.Errorf("set-max-listpack-entries is Redis 7.2's: %q", got)
	}
}

// The ranges and error texts of Redis 7.0: integers by string2ll, byte
// sizes by memtoull (whose errors have their own text).
func TestConfigEncodingRanges(t *testing.T) {
	addr := startServer(t, Config{})
	c := bdial(t, addr)
	fail := func(name, why string) string {
		return "-ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why + "\r\n"
	}
	const (
		notInt = "argument couldn't be parsed into an integer"
		notMem = "argument must be a memory value"
		long   = "argument must be between 0 and 9223372036854775807 inclusive"
	)
	cases := []struct {
		name, value, want, get string
	}{
		{"list-max-listpack-size", "-2147483648", "+OK\r\n", "-2147483648"},
		{"list-max-listpack-size", "2147483648", fail("list-max-listpack-size", "argument must be between -2147483648 and 2147483647 inclusive"), ""},
		{"list-max-ziplist-size", "+5", fail("list-max-ziplist-size", notInt), ""},
		{"list-max-ziplist-size", "010", fail("list-max-ziplist-size", notInt), ""},
		{"list-compress-depth", "-1", fail("list-compress-depth", "argument must be between 0 and 2147483647 inclusive"), ""},
		{"list-compress-depth", "7", "+OK\r\n", "7"},
		{"hash-max-listpack-entries", "-1", fail("hash-max-listpack-entries", long), ""},
		{"hash-max-listpack-entries", "9223372036854775808", fail("hash-max-listpack-entries", notInt), ""},
		{"hash-max-listpack-entries", "1kb", fail("hash-max-listpack-entries", notInt), ""},
		{"set-max-intset-entries", "9223372036854775807", "+OK\r\n", "9223372036854775807"},
		{"set-max-intset-entries", " 5", fail("set-max-intset-entries", notInt), ""},
		{"zset-max-listpack-entries", "-1", fail("zset-max-listpack-entries", long), ""},
		{"hash-max-listpack-value", "1kb", "+OK\r\n", "1024"},
		{"hash-max-listpack-value", "2M", "+OK\r\n", "2000000"},
		{"hash-max-listpack-value", "", "+OK\r\n", "0"},
		{"hash-max-listpack-value", "-1", fail("hash-max-listpack-value", notMem), ""},
		{"hash-max-listpack-value", "+5", fail("hash-max-listpack-value", notMem), ""},
		{"hash-max-listpack-value", "1.5", fail("hash-max-listpack-value", notMem), ""},
		{"hash-max-listpack-value", "9223372036854775808", fail("hash-max-listpack-value", long), ""},
		{"hash-max-listpack-value", "18446744073709551616", fail("hash-max-listpack-value", long), ""},
		{"zset-max-ziplist-value", "17179869185gb", "+OK\r\n", "1073741824"}, // wraps, as the C does
		{"zset-max-ziplist-value", "abc", fail("zset-max-ziplist-value", notMem), ""},
	}
	for _, tc := range cases {
		if got := c.do("CONFIG", "SET", tc.name, tc.value); got != tc.want {
			t.Errorf("CONFIG SET %s %q: got %q, want %q", tc.name, tc.value, got, tc.want)
			continue
		}
		if tc.get != "" {
			if got := c.do("CONFIG", "GET", tc.name); got != configPair(tc.name, tc.get) {
				t.Errorf("CONFIG GET %s after %q: %q, want %s", tc.name, tc.value, got, tc.get)
			}
		}
	}
}

// The thresholds are process-wide variables; a server applies its own
// values when it starts, so one started with the defaults after another
// changed them sees the defaults.
func TestConfigEncodingDefaultsAtStart(t *testing.T) {
	addr, stop := startStoppable(t, Config{})
	c := bdial(t, addr)
	if got := c.do("CONFIG", "SET", "hash-max-listpack-entries", "1", "set-max-intset-entries", "1",
		"zset-max-listpack-entries", "1", "hash-max-listpack-value", "1", "zset-max-listpack-value", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	c.c.Close()
	stop()

	addr2, _ := startStoppable(t, Config{})
	c2 := bdial(t, addr2)
	for _, st := range []struct{ cmd, want []string }{
		{[]string{"HSET", "h", "a", "1", "b", "2"}, nil},
		{[]string{"OBJECT", "ENCODING", "h"}, []string{"listpack"}},
		{[]string{"SADD", "s", "1", "2"}, nil},
		{[]string{"OBJECT", "ENCODING", "s"}, []string{"intset"}},
		{[]string{"ZADD", "z", "1", "ab", "2", "cd"}, nil},
		{[]string{"OBJECT", "ENCODING", "z"}, []string{"listpack"}},
		{[]string{"CONFIG", "GET", "hash-max-listpack-entries"}, []string{"*2", "hash-max-listpack-entries", "512"}},
	} {
		got := c2.do(st.cmd...)
		if st.want == nil {
			continue
		}
		want := bulk(st.want[0])
		if len(st.want) == 3 {
			want = configPair(st.want[1], st.want[2])
		}
		if got != want {
			t.Errorf("%v: got %q, want %q", st.cmd, got, want)
		}
	}
	if store.HashMaxListpackEntries != 512 || store.SetMaxIntsetEntries != 512 || store.ZsetMaxListpackEntries != 128 ||
		store.HashMaxListpackValue != 64 || store.ZsetMaxListpackValue != 64 {
		t.Errorf("store thresholds after a default start: %d %d %d %d %d", store.HashMaxListpackEntries, store.SetMaxIntsetEntries,
			store.ZsetMaxListpackEntries, store.HashMaxListpackValue, store.ZsetMaxListpackValue)
	}
}

// The config file may use either name and byte units; CONFIG REWRITE
// writes the primary name in place of an alias line, drops a later line of
// the same parameter, writes byte sizes with Redis's units and appends the
// changed parameters the file does not mention.
func TestConfigEncodingFileAndRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringkv.conf")
	file := "hash-max-ziplist-entries 100\n# a comment\nzset-max-ziplist-value 1kb\nhash-max-listpack-entries 50\n"
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	params := [][]string{{"hash-max-ziplist-entries", "100"}, {"zset-max-ziplist-value", "1kb"}, {"hash-max-listpack-entries", "50"}}
	addr, _ := startStoppable(t, Config{ConfigFile: path, Params: params})
	c := bdial(t, addr)
	for name, want := range map[string]string{"hash-max-listpack-entries": "50", "zset-max-listpack-value": "1024", "hash-max-ziplist-entries": "50"} {
		if got := c.do("CONFIG", "GET", name); got != configPair(name, want) {
			t.Errorf("from the file: CONFIG GET %s: %q, want %s", name, got, want)
		}
	}
	if got := c.do("CONFIG", "SET", "set-max-intset-entries", "7", "hash-max-listpack-value", "2kb", "list-max-ziplist-size", "5", "list-compress-depth", "3"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	if got := c.do("CONFIG", "REWRITE"); got != "+OK\r\n" {
		t.Fatalf("CONFIG REWRITE: %q", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	wantHead := []string{"hash-max-listpack-entries 50", "# a comment", "zset-max-listpack-value 1kb", rewriteConfigSignature}
	if len(lines) < len(wantHead) || strings.Join(lines[:len(wantHead)], "\n") != strings.Join(wantHead, "\n") {
		t.Fatalf("rewritten file starts:\n%s\nwant:\n%s", data, strings.Join(wantHead, "\n"))
	}
	rest := lines[len(wantHead):]
	for _, want := range []string{"set-max-intset-entries 7", "hash-max-listpack-value 2kb", "list-max-listpack-size 5", "list-compress-depth 3"} {
		found := false
		for _, ln := range rest {
			found = found || ln == want
		}
		if !found {
			t.Errorf("rewritten file lacks %q:\n%s", want, data)
		}
	}
	for _, ln := range rest {
		if strings.Contains(ln, "ziplist") {
			t.Errorf("rewritten file uses an alias: %q", ln)
		}
	}
}
