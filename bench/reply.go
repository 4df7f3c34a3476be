package bench

import (
	"bytes"
	"errors"

	"github.com/ringkv/ringkv/conn/resp"
)

// errProtocol is a reply the scanner cannot read: the server is not speaking
// RESP, or the stream is out of step, and the connection cannot continue.
var errProtocol = errors.New("bench: protocol error in server reply")

// replyLen finds the end of the first complete reply in b. It returns the
// reply's length in bytes, or 0 if b does not yet hold all of it, and whether
// the reply is an error (a top-level '-' or '!' reply). Aggregates are walked
// with a counter of elements still expected, not a stack, so any nesting depth
// costs nothing. It understands RESP2 and RESP3 replies and allocates nothing.
func replyLen(b []byte) (n int, isErr bool, err error) {
	pos, pending := 0, 1
	for pending > 0 {
		if pos >= len(b) {
			return 0, false, nil
		}
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			return 0, false, nil
		}
		lineEnd := pos + nl + 1 // just past '\n'
		if nl < 1 || b[lineEnd-2] != '\r' {
			return 0, false, errProtocol
		}
		t := b[pos]
		if pos == 0 && (t == '-' || t == '!') {
			isErr = true
		}
		pending--
		switch t {
		case '+', '-', ':', ',', '#', '(', '_':
			pos = lineEnd
		case '$', '=', '!':
			size, ok := resp.ParseInt(b[pos+1 : lineEnd-2])
			if !ok {
				return 0, false, errProtocol
			}
			pos = lineEnd
			if size >= 0 {
				if int64(len(b)-pos) < size+2 {
					return 0, false, nil
				}
				pos += int(size) + 2
			}
		case '*', '~', '>', '%', '|':
			count, ok := resp.ParseInt(b[pos+1 : lineEnd-2])
			if !ok {
				return 0, false, errProtocol
			}
			pos = lineEnd
			if t == '%' || t == '|' {
				count *= 2
			}
			if count > 0 {
				pending += int(count)
			}
		default:
			return 0, false, errProtocol
		}
	}
	return pos, isErr, nil
}

// errorText returns the text of an error reply (without the leading '-' and
// the CRLF), for messages; reply must be a complete reply from replyLen.
func errorText(reply []byte) string {
	if len(reply) == 0 {
		return ""
	}
	if reply[0] == '!' {
		if i := bytes.IndexByte(reply, '\n'); i >= 0 && i+1 < len(reply) {
			reply = reply[i+1:]
			return string(bytes.TrimRight(reply, "\r\n"))
		}
	}
	end := bytes.IndexByte(reply, '\r')
	if end < 0 {
		end = len(reply)
	}
	return string(reply[1:end])
}

// isUnknownCommand reports whether an error reply says the server does not
// implement the command (Redis's "ERR unknown command ..." text).
func isUnknownCommand(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("-ERR unknown command"))
}
