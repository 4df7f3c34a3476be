package resp

import (
	"bytes"
)

// Limits, with Redis 7's defaults. They are checked before any allocation.
const (
	// BulkLenMax is proto-max-bulk-len: the largest bulk argument accepted.
	BulkLenMax = 512 << 20
	// MultibulkLenMax is the largest argument count a multibulk may declare
	// (Redis: INT_MAX). The count alone allocates nothing here: argv grows
	// as arguments actually arrive.
	MultibulkLenMax = 1<<31 - 1
	// InlineLenMax is PROTO_INLINE_MAX_SIZE: the longest inline command, and
	// the longest header line ("*N" or "$N") searched for before giving up.
	InlineLenMax = 64 << 10
	// argvPrealloc is how many argument slots a parser keeps ready; a command
	// with more grows argv once, by appending.
	argvPrealloc = 16
)

// ProtocolError is a framing violation. Reply is the exact error line Redis
// sends before closing the connection.
type ProtocolError struct{ Reply []byte }

func (e *ProtocolError) Error() string { return string(e.Reply[1 : len(e.Reply)-2]) }

var (
	errMultibulkLen   = &ProtocolError{[]byte("-ERR Protocol error: invalid multibulk length\r\n")}
	errBulkLen        = &ProtocolError{[]byte("-ERR Protocol error: invalid bulk length\r\n")}
	errBigMbulkCount  = &ProtocolError{[]byte("-ERR Protocol error: too big mbulk count string\r\n")}
	errBigBulkCount   = &ProtocolError{[]byte("-ERR Protocol error: too big bulk count string\r\n")}
	errBigInline      = &ProtocolError{[]byte("-ERR Protocol error: too big inline request\r\n")}
	errUnbalancedQuot = &ProtocolError{[]byte("-ERR Protocol error: unbalanced quotes in request\r\n")}
)

// expectedDollar builds "expected '$', got 'c'"; CR and LF show as spaces, as
// in every Redis error line.
func expectedDollar(c byte) *ProtocolError {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	b := append([]byte("-ERR Protocol error: expected '$', got '"), c)
	return &ProtocolError{append(b, "'\r\n"...)}
}

type span struct{ start, end int32 }

// Parser is the request state of one connection. The zero value is ready.
type Parser struct {
	// Position of the command in progress, relative to the pos passed to
	// Next: the caller may move the unparsed bytes between calls.
	scan      int // bytes of the command consumed so far
	multibulk int // arguments still expected; 0 when no multibulk is open
	bulk      int // length of the bulk being read; -1 when a "$N" line is next
	spans     []span
	argv      [][]byte
	scratch   []byte // unescaped inline arguments
	inlineArg []span // spans into scratch or the buffer
	// hdrSeen is how much of an incomplete "*N" or "$N" line (from the
	// command's start) has been searched for '\r' already; -1 once a NUL
	// was seen (Redis's strchr never looks past it). A header arriving a
	// byte at a time is then scanned once, not once per read.
	hdrSeen int
	// inlineSeen is how much of an incomplete inline line has been searched
	// for '\n' already, so a long line arriving in small reads is scanned
	// once, not once per read.
	inlineSeen int
}

// Reset forgets any command in progress.
func (p *Parser) Reset() {
	p.scan, p.multibulk, p.bulk, p.inlineSeen, p.hdrSeen = 0, 0, -1, 0, 0
	p.spans = p.spans[:0]
}

// Pending returns how many more bytes the command in progress needs at
// least, so the caller can size its buffer once for a large bulk argument.
func (p *Parser) Pending() int {
	if p.multibulk > 0 && p.bulk >= 0 {
		return p.bulk + 2
	}
	return 0
}

// Next parses the command that starts at buf[pos:]. It returns the command's
// arguments and the position after it; argv == nil with err == nil means the
// command is incomplete (call again with more bytes appended, from the same
// pos) or was an empty frame that Redis skips (next > pos then). argv views
// buf or the parser's scratch and is valid until the next call.
func (p *Parser) Next(buf []byte, pos int) (argv [][]byte, next int, err error) {
	if p.scan == 0 && p.multibulk == 0 {
		if pos >= len(buf) {
			return nil, pos, nil
		}
		if buf[pos] != '*' {
			return p.inline(buf, pos)
		}
	}
	return p.multibulkCmd(buf, pos)
}

// line finds the '\r' that ends the header starting at buf[from] (the command
// starts at buf[pos]), resuming where the last search of this header stopped.
// It stops at a NUL byte as Redis's strchr does. ok is false when no complete
// line (the '\r' and one more byte) is there yet.
func (p *Parser) line(buf []byte, pos, from int) (cr int, ok bool) {
	if p.hdrSeen < 0 {
		return -1, false
	}
	// Header lines are a few bytes ("$3", "*16"): one plain pass looking
	// for '\r' and NUL together beats two IndexByte calls, whose set-up
	// costs more than such a line.
	for i := max(from, pos+p.hdrSeen); i < len(buf); i++ {
		switch buf[i] {
		case '\r':
			// Redis requires the two bytes "\r?" before it parses.
			if i+2 > len(buf) {
				p.hdrSeen = i - pos
				return -1, false
			}
			p.hdrSeen = 0
			return i, true
		case 0:
			p.hdrSeen = -1
			return -1, false
		}
	}
	p.hdrSeen = len(buf) - pos
	return -1, false
}

// parseLen is string2ll on a header number: no sign but '-', no spaces, no
// leading '+', no leading zeros except "0", within int64.
func parseLen(b []byte) (int64, bool) {
	return ParseInt(b)
}

func (p *Parser) multibulkCmd(buf []byte, pos int) ([][]byte, int, error) {
	if p.multibulk == 0 {
		// "*N" header.
		start := pos + p.scan
		cr, ok := p.line(buf, pos, start)
		if !ok {
			if len(buf)-start > InlineLenMax {
				return nil, pos, errBigMbulkCount
			}
			return nil, pos, nil
		}
		n, ok := parseLen(buf[start+1 : cr])
		if !ok || n > MultibulkLenMax {
			return nil, pos, errMultibulkLen
		}
		p.scan = cr + 2 - pos
		if n <= 0 {
			next := pos + p.scan
			p.Reset()
			return nil, next, nil
		}
		p.multibulk = int(n)
		p.bulk = -1
		p.spans = p.spans[:0]
	}
	for p.multibulk > 0 {
		start := pos + p.scan
		if p.bulk < 0 {
			cr, ok := p.line(buf, pos, start)
			if !ok {
				if len(buf)-start > InlineLenMax {
					return nil, pos, errBigBulkCount
				}
				return nil, pos, nil
			}
			if buf[start] != '$' {
				return nil, pos, expectedDollar(buf[start])
			}
			n, ok := parseLen(buf[start+1 : cr])
			if !ok || n < 0 || n > BulkLenMax {
				return nil, pos, errBulkLen
			}
			p.bulk = int(n)
			p.scan = cr + 2 - pos
			start = pos + p.scan
		}
		if len(buf)-start < p.bulk+2 {
			return nil, pos, nil
		}
		p.spans = append(p.spans, span{int32(p.scan), int32(p.scan + p.bulk)})
		p.scan += p.bulk + 2
		p.bulk = -1
		p.multibulk--
	}
	argv := p.argv[:0]
	for _, s := range p.spans {
		argv = append(argv, buf[pos+int(s.start):pos+int(s.end):pos+int(s.end)])
	}
	p.argv = argv
	next := pos + p.scan
	p.Reset()
	return argv, next, nil
}

// inline parses a command in Redis's inline form: one line, arguments split
// as sdssplitargs splits them (quotes, and escapes inside double quotes).
func (p *Parser) inline(buf []byte, pos int) ([][]byte, int, error) {
	rest := buf[pos:]
	nl := -1
	if p.inlineSeen >= 0 { // < 0: a NUL was seen; Redis's strchr never looks past it
		from := p.inlineSeen
		if i := bytes.IndexByte(rest[from:], '\n'); i >= 0 {
			nl = from + i
		}
		end := len(rest)
		if nl >= 0 {
			end = nl
		}
		if bytes.IndexByte(rest[from:end], 0) >= 0 {
			nl, p.inlineSeen = -1, -1
		} else if nl < 0 {
			p.inlineSeen = len(rest)
		}
	}
	if nl < 0 {
		if len(rest) > InlineLenMax {
			return nil, pos, errBigInline
		}
		return nil, pos, nil
	}
	p.inlineSeen = 0
	end := nl
	if end > 0 && rest[end-1] == '\r' {
		end--
	}
	next := pos + nl + 1
	if !p.splitArgs(rest[:end]) {
		return nil, pos, errUnbalancedQuot
	}
	if len(p.inlineArg) == 0 {
		return nil, next, nil
	}
	argv := p.argv[:0]
	for _, s := range p.inlineArg {
		if s.start < 0 { // in scratch, stored as ^offset
			a, b := ^s.start, ^s.end
			argv = append(argv, p.scratch[a:b:b])
		} else {
			argv = append(argv, rest[s.start:s.end:s.end])
		}
	}
	p.argv = argv
	return argv, next, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitArgs is sdssplitargs. An argument without quotes is recorded as a
// span of the line; one with quotes is unescaped into scratch (its span is
// stored complemented, so negative).
func (p *Parser) splitArgs(ln []byte) bool {
	p.inlineArg = p.inlineArg[:0]
	p.scratch = p.scratch[:0]
	n := len(ln)
	// at reads ln as the C string it is in Redis: NUL past the end. The line
	// itself holds no NUL (inline stops at one).
	at := func(j int) byte {
		if j < n {
			return ln[j]
		}
		return 0
	}
	i := 0
	for {
		for i < n && isSpace(ln[i]) {
			i++
		}
		if i >= n {
			return true
		}
		tokStart, tokEnd := i, -1
		sc := len(p.scratch)
		inq, insq, quoted := false, false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inq:
				if c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)) {
					p.scratch = append(p.scratch, hexVal(at(i+2))<<4|hexVal(at(i+3)))
					i += 3
				} else if c == '\\' && at(i+1) != 0 {
					i++
					e := at(i)
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					p.scratch = append(p.scratch, e)
				} else if c == '"' {
					// The closing quote must be followed by a space or the end.
					if nx := at(i + 1); nx != 0 && !isSpace(nx) {
						return false
					}
					done = true
				} else if c == 0 {
					return false // unterminated quotes
				} else {
					p.scratch = append(p.scratch, c)
				}
			case insq:
				if c == '\\' && at(i+1) == '\'' {
					i++
					p.scratch = append(p.scratch, '\'')
				} else if c == '\'' {
					if nx := at(i + 1); nx != 0 && !isSpace(nx) {
						return false
					}
					done = true
				} else if c == 0 {
					return false
				} else {
					p.scratch = append(p.scratch, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done, tokEnd = true, i
				case '"', '\'':
					// A quote may open mid-token: what came before it is
					// part of the same argument.
					inq, insq, quoted = c == '"', c == '\'', true
					p.scratch = append(p.scratch, ln[tokStart:i]...)
				}
			}
			if i < n {
				i++
			}
		}
		if quoted {
			p.inlineArg = append(p.inlineArg, span{^int32(sc), ^int32(len(p.scratch))})
		} else {
			p.inlineArg = append(p.inlineArg, span{int32(tokStart), int32(tokEnd)})
		}
	}
}
