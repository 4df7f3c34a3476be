package resp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// feed runs the parser the way conn does: bytes are appended to a query
// buffer in chunks of size chunk (0 = all at once), every complete command is
// taken, and parsed bytes are dropped from the front between reads. It
// returns the commands as quoted argv lists and the protocol error, if any.
func feed(p *Parser, data []byte, chunk int) (cmds []string, perr error) {
	var buf []byte
	pos := 0
	for off := 0; off < len(data) || off == 0; {
		end := len(data)
		if chunk > 0 && off+chunk < end {
			end = off + chunk
		}
		buf = append(buf, data[off:end]...)
		off = end
		for {
			argv, next, err := p.Next(buf, pos)
			if err != nil {
				return cmds, err
			}
			if argv == nil && next == pos {
				break
			}
			if argv != nil {
				cmds = append(cmds, fmtArgv(argv))
			}
			pos = next
		}
		buf = append(buf[:0], buf[pos:]...)
		pos = 0
		if off >= len(data) {
			break
		}
	}
	return cmds, nil
}

func fmtArgv(argv [][]byte) string {
	var sb strings.Builder
	for i, a := range argv {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%q", a)
	}
	return sb.String()
}

// Every case was checked against redis-server 7.0 with raw sockets.
var parserCases = []struct {
	name string
	in   string
	want []string // parsed commands, in order
	err  string   // protocol error reply, "" if none
}{
	{"multibulk", "*1\r\n$4\r\nPING\r\n", []string{`"PING"`}, ""},
	{"pipeline", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n", []string{`"GET" "k"`, `"PING"`}, ""},
	{"binary", "*2\r\n$4\r\nECHO\r\n$5\r\na\x00\r\nb\r\n", []string{`"ECHO" "a\x00\r\nb"`}, ""},
	{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{`"ECHO" ""`}, ""},
	{"zero and negative counts skipped", "*-1\r\n*0\r\nPING\r\n", []string{`"PING"`}, ""},
	{"bulk trailer not checked", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", []string{`"PING"`, `"PING"`}, ""},
	{"inline", "ping\r\n", []string{`"ping"`}, ""},
	{"inline LF only", "ping\n", []string{`"ping"`}, ""},
	{"inline empty lines", "\r\n\r\n  \r\nping\r\n", []string{`"ping"`}, ""},
	{"inline quotes", `set "a b" 'c\'d' "\x41\n"` + "\r\n", []string{`"set" "a b" "c'd" "A\n"`}, ""},
	{"inline quote mid token", `echo ab"c d"` + "\r\n", []string{`"echo" "abc d"`}, ""},
	{"inline empty quoted", `echo ""` + "\r\n", []string{`"echo" ""`}, ""},
	{"inline tabs", "echo\ta\v\r\n", []string{`"echo" "a\v"`}, ""},
	{"inline unbalanced", "PING\r\n\"abc\r\n", []string{`"PING"`}, "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"inline closing quote then char", "ping \"a\"b\r\n", nil, "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"inline NUL waits", "echo a\x00b\r\n", nil, ""},
	{"bad multibulk count", "*1\r\n$4\r\nPING\r\n*x\r\n", []string{`"PING"`}, "-ERR Protocol error: invalid multibulk length\r\n"},
	{"huge multibulk count", "*3000000000\r\n", nil, "-ERR Protocol error: invalid multibulk length\r\n"},
	{"count line LF only", "*1\n$4\r\nPING\r\n", nil, "-ERR Protocol error: invalid multibulk length\r\n"},
	{"negative bulk", "*2\r\n$3\r\nGET\r\n$-5\r\n", nil, "-ERR Protocol error: invalid bulk length\r\n"},
	{"bulk over proto-max-bulk-len", "*2\r\n$3\r\nGET\r\n$600000000\r\n", nil, "-ERR Protocol error: invalid bulk length\r\n"},
	{"expected dollar", "*2\r\n$3\r\nGET\r\n+3\r\n", nil, "-ERR Protocol error: expected '$', got '+'\r\n"},
	{"leading zero count", "*01\r\n", nil, "-ERR Protocol error: invalid multibulk length\r\n"},
	{"plus sign count", "*+1\r\n", nil, "-ERR Protocol error: invalid multibulk length\r\n"},
	{"incomplete", "*2\r\n$3\r\nGET\r\n$1\r\n", nil, ""},
	{"too big inline", strings.Repeat("a", InlineLenMax+1), nil, "-ERR Protocol error: too big inline request\r\n"},
	{"too big mbulk count", "*" + strings.Repeat("1", InlineLenMax+1), nil, "-ERR Protocol error: too big mbulk count string\r\n"},
	{"too big bulk count", "*1\r\n$" + strings.Repeat("1", InlineLenMax+1), nil, "-ERR Protocol error: too big bulk count string\r\n"},
}

func TestParser(t *testing.T) {
	for _, tc := range parserCases {
		for _, chunk := range []int{0, 1, 2, 7} {
			t.Run(fmt.Sprintf("%s/chunk=%d", tc.name, chunk), func(t *testing.T) {
				var p Parser
				p.Reset()
				cmds, err := feed(&p, []byte(tc.in), chunk)
				if fmt.Sprint(cmds) != fmt.Sprint(tc.want) {
					t.Errorf("commands:\n got %q\nwant %q", cmds, tc.want)
				}
				got := ""
				if err != nil {
					got = string(err.(*ProtocolError).Reply)
				}
				if got != tc.err {
					t.Errorf("error: got %q want %q", got, tc.err)
				}
			})
		}
	}
}

// A large bulk fed in pieces is parsed without rescanning: Pending reports
// what is still needed once the header is in.
func TestParserPending(t *testing.T) {
	var p Parser
	p.Reset()
	buf := []byte("*2\r\n$3\r\nSET\r\n$100\r\nabc")
	if argv, _, err := p.Next(buf, 0); argv != nil || err != nil {
		t.Fatalf("incomplete frame parsed: %q %v", argv, err)
	}
	if got := p.Pending(); got != 102 {
		t.Fatalf("Pending = %d, want 102", got)
	}
	buf = append(buf, bytes.Repeat([]byte("x"), 97)...)
	buf = append(buf, "\r\n"...)
	argv, next, err := p.Next(buf, 0)
	if err != nil || len(argv) != 2 || len(argv[1]) != 100 || next != len(buf) {
		t.Fatalf("got %d args, next %d/%d, err %v", len(argv), next, len(buf), err)
	}
}

func TestParseInt(t *testing.T) {
	cases := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"01", 0, false}, {"-0", 0, false}, {"+1", 0, false}, {" 1", 0, false},
		{"1 ", 0, false}, {"", 0, false}, {"-", 0, false}, {"1a", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, c := range cases {
		n, ok := ParseInt([]byte(c.in))
		if n != c.n || ok != c.ok {
			t.Errorf("ParseInt(%q) = %d,%v want %d,%v", c.in, n, ok, c.n, c.ok)
		}
	}
}

func TestErrorFormatters(t *testing.T) {
	argv := [][]byte{[]byte("foo"), []byte("a"), []byte("b\r\nc")}
	if got := string(AppendUnknownCommand(nil, argv)); got != "-ERR unknown command 'foo', with args beginning with: 'a' 'b  c' \r\n" {
		t.Errorf("unknown command: %q", got)
	}
	if got := string(AppendUnknownCommand(nil, [][]byte{[]byte("PI\x00G")})); got != "-ERR unknown command 'PI', with args beginning with: \r\n" {
		t.Errorf("unknown command with NUL: %q", got)
	}
	long := [][]byte{[]byte("x"), bytes.Repeat([]byte("a"), 100), bytes.Repeat([]byte("b"), 100), []byte("c")}
	want := "-ERR unknown command 'x', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' \r\n"
	if got := string(AppendUnknownCommand(nil, long)); got != want {
		t.Errorf("long args:\n got %q\nwant %q", got, want)
	}
	if got := string(AppendWrongArity(nil, "get")); got != "-ERR wrong number of arguments for 'get' command\r\n" {
		t.Errorf("arity: %q", got)
	}
}

func TestParserZeroAlloc(t *testing.T) {
	var p Parser
	p.Reset()
	buf := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\nGET key\r\n")
	allocs := testing.AllocsPerRun(1000, func() {
		pos := 0
		for pos < len(buf) {
			_, next, err := p.Next(buf, pos)
			if err != nil || next == pos {
				t.Fatal("parse failed")
			}
			pos = next
		}
	})
	if allocs != 0 {
		t.Fatalf("parse allocates %.1f times per run", allocs)
	}
}

// A header line that arrives a byte at a time is searched once in all, not
// from its start at every read: the parser remembers how far it got. The
// count of bytes examined is what is asserted, not time.
func TestHeaderScanResumes(t *testing.T) {
	var p Parser
	p.Reset()
	buf := []byte("*")
	for i := 0; i < 1000; i++ {
		buf = append(buf, '1')
		if argv, next, err := p.Next(buf, 0); argv != nil || next != 0 || err != nil {
			t.Fatalf("incomplete header parsed: %q %d %v", argv, next, err)
		}
		if p.hdrSeen != len(buf) {
			t.Fatalf("after %d bytes the search resumes at %d", len(buf), p.hdrSeen)
		}
	}
	buf = append(buf[:0], "*1\r\n$4\r\nPING\r\n"...)
	p.Reset()
	if argv, _, err := p.Next(buf, 0); len(argv) != 1 || err != nil {
		t.Fatalf("%q %v", argv, err)
	}
}
