package conn

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// usedMemoryOf reads INFO memory's used_memory.
func usedMemoryOf(t *testing.T, c *testClient) int {
	t.Helper()
	for _, ln := range strings.Split(c.do("INFO", "memory"), "\r\n") {
		if v, ok := strings.CutPrefix(ln, "used_memory:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("used_memory: %q", v)
			}
			return n
		}
	}
	t.Fatal("INFO memory has no used_memory")
	return 0
}

// vmRSS is this process's resident set in bytes.
func vmRSS(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(ln, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS: %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// A hash big enough for its arrays to live in mappings of their own
// (store/collmem.go) through the server's loop: a value moved by RENAME
// survives the end of the turn (the loop releases only what was dropped),
// a deleted one gives its mappings back by the next command, and used_memory
// and MEMORY USAGE count them.
func TestBigCollectionLifetime(t *testing.T) {
	const fields = 300_000 // index slots and record offsets of several MiB
	c := dialTest(t, startServer(t, Config{}))
	var batch [][]string
	for i := 0; i < fields; i += 100 {
		cmd := []string{"HSET", "big"}
		for j := i; j < i+100; j++ {
			cmd = append(cmd, "f"+strconv.Itoa(j), "v"+strconv.Itoa(j))
		}
		if batch = append(batch, cmd); len(batch) == 100 || i+100 >= fields {
			for _, r := range c.pipeline(batch...) {
				if r != ":100\r\n" {
					t.Fatalf("HSET: %q", r)
				}
			}
			batch = batch[:0]
		}
	}
	steps := []struct{ cmd, want string }{
		{"RENAME big big2", "+OK\r\n"},
		{"HGET big2 f299999", "$7\r\nv299999\r\n"},
		{"COPY big2 big3", ":1\r\n"},
		{"HGET big2 f0", "$2\r\nv0\r\n"},
	}
	for _, st := range steps {
		if got := c.do(strings.Fields(st.cmd)...); got != st.want {
			t.Fatalf("%s: %q, want %q", st.cmd, got, st.want)
		}
	}
	usage, err := strconv.Atoi(strings.Trim(c.do("MEMORY", "USAGE", "big3"), ":\r\n"))
	if err != nil || usage < 4<<20 {
		t.Fatalf("MEMORY USAGE of a %d-field hash: %d (%v)", fields, usage, err)
	}
	before, rssBefore := usedMemoryOf(t, c), vmRSS(t)
	if got := c.do("DEL", "big2"); got != ":1\r\n" {
		t.Fatalf("DEL: %q", got)
	}
	after, rssAfter := usedMemoryOf(t, c), vmRSS(t)
	// used_memory stops counting the mappings when DEL drops the hash; they
	// are unmapped at the end of DEL's turn, which the process's RSS shows
	// (the server runs in this process): the index slots alone are 4 MiB.
	// The record chunks wait for the GC.
	if drop := before - after; drop < usage/2 {
		t.Fatalf("used_memory %d -> %d after deleting a hash of %d bytes", before, after, usage)
	}
	if drop := rssBefore - rssAfter; drop < 4<<20 {
		t.Fatalf("VmRSS %d -> %d after deleting a hash of %d bytes: its mappings were not released", rssBefore, rssAfter, usage)
	}
	if got := c.do("HLEN", "big3"); got != ":300000\r\n" {
		t.Fatalf("HLEN of the copy: %q", got)
	}
	if got := c.do("HGET", "big3", "f123456"); got != "$7\r\nv123456\r\n" {
		t.Fatalf("HGET of the copy: %q", got)
	}
}
