package e2e

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var aofSeed = flag.Uint64("aof-seed", 0, "seed of TestAOFKill9 (0: a fresh one, printed)")

const (
	// kill9Rounds per backend: start, write under load, SIGKILL, restart
	// and check.
	kill9Rounds = 10
	// kill9Writers write at once, each with one command in flight, so that
	// a loop turn's group commit covers several clients.
	kill9Writers = 8
	// kill9Keys per writer for SET.
	kill9Keys = 16
	// kill9LoadMaxMs bounds how long a round's load runs before the kill.
	kill9LoadMaxMs = 600
)

// kill9Writer is one client's view of what it wrote: what the server
// acknowledged, and the one command it sent without seeing the reply (that
// one may or may not have reached the disk).
type kill9Writer struct {
	id      int
	keys    [kill9Keys]string // acknowledged value of each key; "" none
	counter int64             // acknowledged INCRs
	list    []string          // acknowledged RPUSHes, in order
	// pending: the command in flight when the server died, if any.
	pending    []string
	pendingKey int
	acked      int
}

func (w *kill9Writer) key(i int) string   { return fmt.Sprintf("w%d:k%d", w.id, i) }
func (w *kill9Writer) counterKey() string { return fmt.Sprintf("w%d:n", w.id) }
func (w *kill9Writer) listKey() string    { return fmt.Sprintf("w%d:l", w.id) }

// write runs commands until the connection fails (the server was killed).
func (w *kill9Writer) write(addr string, rnd *rand.Rand, round int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil // killed before we connected
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for seq := 0; ; seq++ {
		val := fmt.Sprintf("r%d.w%d.%d", round, w.id, seq)
		var argv []string
		switch op := rnd.IntN(4); op {
		case 0, 1:
			w.pendingKey = rnd.IntN(kill9Keys)
			argv = []string{"SET", w.key(w.pendingKey), val}
		case 2:
			argv = []string{"INCR", w.counterKey()}
		case 3:
			argv = []string{"RPUSH", w.listKey(), val}
		}
		w.pending = argv
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(respCmd(argv...)); err != nil {
			return nil
		}
		reply, err := readReply(br)
		if err != nil {
			return nil // no reply: the command stays pending
		}
		if reply[0] == '-' {
			return fmt.Errorf("%q: %s", argv, strings.TrimSpace(reply))
		}
		w.pending = nil
		w.acked++
		switch argv[0] {
		case "SET":
			w.keys[w.pendingKey] = val
		case "INCR":
			w.counter++
		case "RPUSH":
			w.list = append(w.list, val)
		}
	}
}

// check compares the restarted server with what w saw acknowledged: every
// acknowledged write is there, and nothing else but possibly the pending
// command. The pending command's outcome is then taken as what the server
// has.
func (w *kill9Writer) check(c net.Conn, br *bufio.Reader) error {
	do := func(argv ...string) (string, error) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(respCmd(argv...)); err != nil {
			return "", err
		}
		return readReply(br)
	}
	p := w.pending
	w.pending = nil
	for i := range kill9Keys {
		got, err := do("GET", w.key(i))
		if err != nil {
			return err
		}
		want := "$-1\r\n"
		if w.keys[i] != "" {
			want = bulk(w.keys[i])
		}
		switch {
		case got == want:
		case p != nil && p[0] == "SET" && p[1] == w.key(i) && got == bulk(p[2]):
			w.keys[i] = p[2]
		default:
			return fmt.Errorf("GET %s = %q after restart; acknowledged %q, in flight %q", w.key(i), got, want, p)
		}
	}
	got, err := do("GET", w.counterKey())
	if err != nil {
		return err
	}
	n := int64(0)
	if got != "$-1\r\n" {
		lines := strings.Split(got, "\r\n")
		if len(lines) < 2 {
			return fmt.Errorf("GET %s = %q", w.counterKey(), got)
		}
		n, _ = strconv.ParseInt(lines[1], 10, 64)
	}
	switch {
	case n == w.counter:
	case n == w.counter+1 && p != nil && p[0] == "INCR":
		w.counter = n
	default:
		return fmt.Errorf("counter %s = %d after restart; acknowledged %d INCRs, in flight %q", w.counterKey(), n, w.counter, p)
	}
	got, err = do("LRANGE", w.listKey(), "0", "-1")
	if err != nil {
		return err
	}
	items := splitBulks(got)
	switch {
	case slices.Equal(items, w.list):
	case p != nil && p[0] == "RPUSH" && slices.Equal(items, append(slices.Clip(w.list), p[2])):
		w.list = items
	default:
		return fmt.Errorf("list %s has %d items after restart, acknowledged %d (in flight %q); first difference at %d",
			w.listKey(), len(items), len(w.list), p, firstDiff(items, w.list))
	}
	return nil
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// splitBulks returns the bulk strings of a flat array reply.
func splitBulks(r string) []string {
	var out []string
	lines := strings.Split(r, "\r\n")
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, lines[i+1])
	}
	return out
}

// TestAOFKill9: under appendfsync always, several clients write while the
// server is killed with SIGKILL at a random moment; after the restart every
// write a client saw acknowledged is there, and no value that was never
// written. Many rounds on one directory, so each start also loads what the
// earlier ones left, torn tails included.
func TestAOFKill9(t *testing.T) {
	seed := *aofSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -aof-seed %d)", seed, seed)
	forEachBackend(t, func(t *testing.T, backend string) {
		rnd := rand.New(rand.NewPCG(seed, uint64(len(backend))))
		dir := t.TempDir()
		args := []string{"--appendonly", "yes", "--appendfsync", "always", "--dir", dir}
		writers := make([]*kill9Writer, kill9Writers)
		for i := range writers {
			writers[i] = &kill9Writer{id: i}
		}
		for round := range kill9Rounds {
			srv := startServerArgs(t, backend, args...)
			c, err := net.Dial("tcp", srv.addr)
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for _, w := range writers {
				if err := w.check(c, br); err != nil {
					t.Fatalf("round %d (seed %d): %v\n--- server log ---\n%s", round, seed, err, srv.logTail())
				}
			}
			c.Close()
			var wg sync.WaitGroup
			errs := make([]error, len(writers))
			for i, w := range writers {
				wrnd := rand.New(rand.NewPCG(rnd.Uint64(), uint64(i)))
				wg.Go(func() { errs[i] = w.write(srv.addr, wrnd, round) })
			}
			time.Sleep(time.Duration(rnd.IntN(kill9LoadMaxMs)) * time.Millisecond)
			srv.crash()
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		// A clean start after the last kill, checked once more.
		srv := startServerArgs(t, backend, args...)
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		acked := 0
		for _, w := range writers {
			if err := w.check(c, br); err != nil {
				t.Fatalf("final check (seed %d): %v", seed, err)
			}
			acked += w.acked
		}
		t.Logf("%d rounds, %d acknowledged writes checked", kill9Rounds, acked)
		if acked == 0 {
			t.Fatal("no write was acknowledged in any round")
		}
	})
}
