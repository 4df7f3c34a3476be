package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A script, testdata/<family>.txt, is one command per line: arguments
// separated by spaces, each bare or Go-quoted ("a b", "\x00\xff", "").
// Blank lines and lines starting with # are ignored. "@sleep <ms>" pauses
// (for TTL cases). "@known <reason>" marks the next command as a difference
// listed in README's known differences: if it differs, the difference is
// logged (and counted as failed in the report) instead of failing the test;
// if it no longer differs, that is logged so the mark can go. Each script starts on an empty keyspace, database 0, new
// connections. There are no expected replies in the file: redis-server
// answers each line at test time and ringkv, on each backend, must agree.
type scriptLine struct {
	argv    [][]byte
	line    int
	sleepMs int
	known   string
}

func parseScript(path string) ([]scriptLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []scriptLine
	known := ""
	for i, ln := range strings.Split(string(data), "\n") {
		ln = strings.TrimSpace(ln)
		switch {
		case ln == "" || ln[0] == '#':
		case strings.HasPrefix(ln, "@known "):
			known = strings.TrimSpace(ln[len("@known "):])
		case strings.HasPrefix(ln, "@sleep "):
			ms, err := strconv.Atoi(strings.TrimSpace(ln[len("@sleep "):]))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
			}
			lines = append(lines, scriptLine{line: i + 1, sleepMs: ms})
		default:
			argv, err := splitArgs(ln)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
			}
			lines = append(lines, scriptLine{argv: argv, line: i + 1, known: known})
			known = ""
		}
	}
	return lines, nil
}

func splitArgs(s string) ([][]byte, error) {
	var argv [][]byte
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("bad quoted argument at %q", s)
			}
			u, _ := strconv.Unquote(q)
			argv = append(argv, []byte(u))
			s = s[len(q):]
			continue
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		argv = append(argv, []byte(s[:end]))
		s = s[end:]
	}
	return argv, nil
}

// peers are one connection to redis-server and one to each ringkv, driven in
// lockstep: each command goes to Redis first, then to each ringkv, and each
// ringkv's result is compared with Redis's.
type peers struct {
	redis  *client
	ringkv []*client
}

func dialPeers(t testing.TB, redis *server, ringkvs []*server) *peers {
	p := &peers{redis: dial(t, redis)}
	for _, s := range ringkvs {
		p.ringkv = append(p.ringkv, dial(t, s))
	}
	return p
}

func (p *peers) all() []*client { return append([]*client{p.redis}, p.ringkv...) }

// reset empties every database and selects 0 on every peer.
func (p *peers) reset(t testing.TB) {
	for _, c := range p.all() {
		c.mustDo(t, "FLUSHALL")
		c.mustDo(t, "SELECT", "0")
	}
}

// diff is one disagreement between Redis and one ringkv.
type diff struct {
	server    string
	why       string
	want, got string
}

func (d diff) String() string {
	return fmt.Sprintf("%s: %s\n\tredis:  %s\n\t%s: %s", d.server, d.why, clip(d.want), d.server, clip(d.got))
}

// clipLen bounds a reply printed in a failure message (INFO is kilobytes).
const clipLen = 400

func clip(s string) string {
	if len(s) > clipLen {
		return s[:clipLen] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// step runs argv on every peer and returns the disagreements. An I/O error
// (a hang, a closed connection) is a disagreement too, and fatal to the
// peers: err is set and they must not be used again.
func (p *peers) step(argv [][]byte) (diffs []diff, err error) {
	want, err := execute(p.redis, argv)
	if err != nil {
		return nil, fmt.Errorf("redis: %q: %v", quote(argv), err)
	}
	for _, c := range p.ringkv {
		got, err := execute(c, argv)
		if err != nil {
			return append(diffs, diff{c.srv.name, "no reply: " + err.Error(), want.r.String(), ""}), err
		}
		if why := compare(argv, want, got); why != "" {
			diffs = append(diffs, diff{c.srv.name, why, want.r.String(), got.r.String()})
		}
	}
	return diffs, nil
}

// startAll starts redis-server and ringkv on every backend.
func startAll(t testing.TB) (*server, []*server) {
	redis := startRedis(t)
	var ringkvs []*server
	for _, b := range backends {
		ringkvs = append(ringkvs, startRingkv(t, b))
	}
	return redis, ringkvs
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	redis, ringkvs := startAll(t)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			lines, err := parseScript(file)
			if err != nil {
				t.Fatal(err)
			}
			p := dialPeers(t, redis, ringkvs)
			learnCommands(t, p.redis, p.ringkv[0])
			p.reset(t)
			for _, ln := range lines {
				if ln.sleepMs > 0 {
					time.Sleep(time.Duration(ln.sleepMs) * time.Millisecond)
					continue
				}
				diffs, err := p.step(ln.argv)
				record(family(string(ln.argv[0])), len(diffs) == 0 && err == nil)
				if ln.known != "" && err == nil {
					if len(diffs) == 0 {
						t.Logf("%s:%d: %s: marked @known (%s) but agrees with Redis now: remove the mark", file, ln.line, quote(ln.argv), ln.known)
					}
					for _, d := range diffs {
						t.Logf("%s:%d: %s: known difference (%s):\n%s", file, ln.line, quote(ln.argv), ln.known, d)
					}
					continue
				}
				for _, d := range diffs {
					t.Errorf("%s:%d: %s\n%s", file, ln.line, quote(ln.argv), d)
				}
				if err != nil {
					t.Fatalf("%s:%d: %v", file, ln.line, err)
				}
			}
		})
	}
}
