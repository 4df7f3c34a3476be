package compat

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// protoQuiet is how long a torture exchange waits for more bytes before
	// it concludes that the server, still connected, has said all it will.
	protoQuiet = 300 * time.Millisecond
	// protoPause separates the pieces of a split request, so that each
	// arrives in its own read on the server.
	protoPause = 20 * time.Millisecond
)

// tortureCase is raw bytes sent in pieces (a piece boundary is a pause).
type tortureCase struct {
	name   string
	pieces []string
}

// outcome is everything a client can observe: the bytes that came back and
// whether the server closed the connection (EOF, or a reset: closing a socket
// with unread input makes the kernel send RST, which Redis does too).
type outcome struct {
	got    []byte
	closed bool
}

func exchangeRaw(addr string, pieces []string) (outcome, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return outcome{}, err
	}
	defer c.Close()
	for i, p := range pieces {
		if i > 0 {
			time.Sleep(protoPause)
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(p)); err != nil {
			// The server closed while we were still sending.
			return outcome{closed: true}, nil
		}
	}
	var o outcome
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(protoQuiet))
		n, err := c.Read(buf)
		o.got = append(o.got, buf[:n]...)
		var ne net.Error
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			o.closed = true
			return o, nil
		case errors.As(err, &ne) && ne.Timeout():
			return o, nil
		default:
			o.closed = true // reset
			return o, nil
		}
	}
}

func tortureCases() []tortureCase {
	one := func(name, in string) tortureCase { return tortureCase{name, []string{in}} }
	cases := []tortureCase{
		// Multibulk headers.
		one("bad count", "*x\r\n"),
		one("bad count after valid", "*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n"),
		one("negative count skipped", "*-1\r\nPING\r\n"),
		one("very negative count", "*-99999999999\r\nPING\r\n"),
		one("zero count skipped", "*0\r\n*1\r\n$4\r\nPING\r\n"),
		one("count over limit", "*1048577\r\n"),
		one("count at limit waits", "*1048576\r\n"),
		one("count overflows int64", "*99999999999999999999\r\n"),
		one("count with plus", "*+1\r\n$4\r\nPING\r\n"),
		one("count empty", "*\r\nPING\r\n"),
		one("count with space", "* 1\r\n$4\r\nPING\r\n"),
		// Bulk headers.
		one("null bulk in request", "*1\r\n$-1\r\n"),
		one("negative bulk", "*2\r\n$3\r\nGET\r\n$-5\r\n"),
		one("bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n"),
		one("bulk at proto-max-bulk-len waits", "*1\r\n$536870912\r\n"),
		one("huge bulk", "*1\r\n$99999999999999999999\r\n"),
		one("bulk not a number", "*1\r\n$abc\r\n"),
		one("bulk empty length", "*1\r\n$\r\n"),
		one("expected dollar, got colon", "*1\r\n:4\r\n"),
		one("expected dollar, got plus", "*1\r\n+PING\r\n"),
		one("empty command name", "*1\r\n$0\r\n\r\n"),
		one("payload longer than declared", "*1\r\n$1\r\nPING\r\n"),
		one("payload not followed by CRLF", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
		one("bulk header with LF only", "*1\n$4\nPING\n"),
		one("binary argument", "*2\r\n$4\r\nECHO\r\n$4\r\n\x00\r\n\xff\r\n"),
		// Inline commands.
		one("inline LF", "PING\n"),
		one("inline CRLF", "PING\r\n"),
		one("empty lines", "\r\n\n\r\n\nPING\r\n"),
		one("spaces", "   PING   \r\n"),
		one("tabs", "\tECHO\ta\tb\r\n"),
		one("double quotes", "ECHO \"a b\"\r\n"),
		one("single quotes", "ECHO 'a b'\r\n"),
		one("escapes in double quotes", "ECHO \"\\x41\\n\\t\\\\\\\"\"\r\n"),
		one("bad hex escape", "ECHO \"\\xzz\"\r\n"),
		one("escaped single quote", "ECHO 'a\\'b'\r\n"),
		one("empty quoted", "ECHO \"\"\r\n"),
		one("empty single quoted", "ECHO ''\r\n"),
		one("unbalanced double", "ECHO \"abc\r\n"),
		one("unbalanced single", "ECHO 'abc\r\n"),
		one("closing quote not followed by space", "ECHO \"a\"b\r\n"),
		one("quotes mid-word", "EC\"HO\" x\r\n"),
		one("inline unknown command", "NOSUCH a \"b c\"\r\n"),
		one("inline with CR only", "PING\rPING\r\n"),
		one("inline too big", strings.Repeat("a", 70000)),
		one("inline NUL", "ECHO a\x00b\r\n"),
		one("inline star alone", "*\r\n"),
		one("inline dollar", "$4\r\n"),
		// Pipelines mixing valid and invalid commands.
		one("mixed pipeline", "PING\r\n*1\r\n$4\r\nPING\r\nGET\r\nECHO x\r\n*2\r\n$3\r\nGET\r\n$-5\r\nPING\r\n"),
		one("errors then valid", "GET\r\nSET k\r\nNOSUCH\r\nSET k v\r\nGET k\r\n"),
		one("quit mid-pipeline", "PING\r\nQUIT\r\nPING\r\n"),
		one("quit with args", "QUIT now\r\nPING\r\n"),
		one("unbalanced mid-pipeline", "PING\r\nECHO \"x\r\nPING\r\n"),
		one("partial multibulk", "*2\r\n$3\r\nGET"),
		one("partial bulk header", "*2\r\n$3\r\nGET\r\n$1\r\n"),
		one("partial inline", "PING"),
		one("lone star", "*"),
		one("lone dollar", "$"),
		one("valid then partial", "PING\r\n*3\r\n$3\r\nSET\r\n"),
		// Pieces arriving separately.
		{"header then payload", []string{"*2\r\n$4\r\nECHO\r\n$5\r\n", "hello\r\n"}},
		{"CR and LF apart", []string{"PING\r", "\nPING\r\n"}},
		{"error after a pause", []string{"PING\r\n", "*x\r\n"}},
		{"bulk trailer apart", []string{"*1\r\n$4\r\nPING", "\r", "\n"}},
	}
	// One command split at every byte, multibulk and inline.
	for _, cmd := range []string{"*3\r\n$3\r\nSET\r\n$2\r\nsk\r\n$5\r\nh\r\nlo\r\n", "ECHO \"a b\" 'c'\r\n"} {
		for i := 1; i < len(cmd); i++ {
			cases = append(cases, tortureCase{"split " + strconv.Quote(cmd) + " at " + strconv.Itoa(i), []string{cmd[:i], cmd[i:]}})
		}
	}
	return cases
}

// TestProtocolTorture sends each case on a fresh connection to redis-server
// and to ringkv on each backend, and compares what comes back and whether
// (and so when, relative to the replies) the connection was closed.
func TestProtocolTorture(t *testing.T) {
	redis, ringkvs := startAll(t)
	learnCommands(t, dial(t, redis), dial(t, ringkvs[0]))
	servers := append([]*server{redis}, ringkvs...)
	cases := tortureCases()
	results := make([][]outcome, len(cases))
	errs := make([][]error, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		results[i] = make([]outcome, len(servers))
		errs[i] = make([]error, len(servers))
		for j, s := range servers {
			wg.Go(func() { results[i][j], errs[i][j] = exchangeRaw(s.addr, tc.pieces) })
		}
	}
	wg.Wait()
	for i, tc := range cases {
		want := results[i][0]
		if errs[i][0] != nil {
			t.Fatalf("%s: redis: %v", tc.name, errs[i][0])
		}
		pass := true
		for j, s := range servers[1:] {
			got, err := results[i][j+1], errs[i][j+1]
			if err != nil || !bytes.Equal(got.got, want.got) || got.closed != want.closed {
				pass = false
				t.Errorf("%s: %s (sent %q)\n\tredis:  %s closed=%v\n\t%s: %s closed=%v %v",
					tc.name, s.name, strings.Join(tc.pieces, ""), clip(strconv.Quote(string(want.got))), want.closed,
					s.name, clip(strconv.Quote(string(got.got))), got.closed, err)
			}
		}
		record(protocolFamily, pass)
	}
}
