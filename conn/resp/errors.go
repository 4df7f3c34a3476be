package resp

// Pre-encoded replies. Each error text is Redis 7's, byte for byte; client-
// facing errors are written only from this table (or from the formatters
// below, which build the few texts that quote the client's input).
var (
	OK           = []byte("+OK\r\n")
	Pong         = []byte("+PONG\r\n")
	Queued       = []byte("+QUEUED\r\n")
	NullBulk     = []byte("$-1\r\n")
	NullArray    = []byte("*-1\r\n")
	EmptyArray   = []byte("*0\r\n")
	EmptyBulk    = []byte("$0\r\n\r\n")
	Zero         = []byte(":0\r\n")
	One          = []byte(":1\r\n")
	MinusOne     = []byte(":-1\r\n")
	MinusTwo     = []byte(":-2\r\n")
	TypeNone     = []byte("+none\r\n")
	TypeString   = []byte("+string\r\n")
	ErrWrongType = []byte("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	ErrSyntax    = []byte("-ERR syntax error\r\n")
	ErrNotInt    = []byte("-ERR value is not an integer or out of range\r\n")
	// ErrIntRange is getIntFromObjectOrReply's: an integer outside C's int.
	ErrIntRange  = []byte("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n")
	ErrNotFloat  = []byte("-ERR value is not a valid float\r\n")
	ErrOverflow  = []byte("-ERR increment or decrement would overflow\r\n")
	ErrIncrNaN   = []byte("-ERR increment would produce NaN or Infinity\r\n")
	ErrNoSuchKey = []byte("-ERR no such key\r\n")
	ErrDBIndex   = []byte("-ERR DB index is out of range\r\n")
	ErrOffset    = []byte("-ERR offset is out of range\r\n")
	ErrStringMax = []byte("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
	ErrSameObj   = []byte("-ERR source and destination objects are the same\r\n")
	ErrCursor    = []byte("-ERR invalid cursor\r\n")
	ErrSelectNA  = []byte("-ERR SELECT is not allowed in cluster mode\r\n")
	ErrNotMulti  = []byte("-ERR syntax error\r\n")
	ErrTimeout   = []byte("-ERR timeout is not an integer or out of range\r\n")
	ErrGetNX     = []byte("-ERR syntax error\r\n")
)

// AppendErr appends "-ERR msg\r\n", replacing CR and LF in msg with spaces as
// Redis's addReplyErrorLength does, so that a quoted argument can never end
// the error line early.
func AppendErr(dst []byte, parts ...string) []byte {
	dst = append(dst, "-ERR "...)
	for _, p := range parts {
		dst = appendSanitized(dst, p)
	}
	return append(dst, '\r', '\n')
}

func appendSanitized[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// argTextMax is how much of a client's argument Redis quotes in an error
// (its "%.128s").
const argTextMax = 128

// cString is what C's "%s" prints of b: up to the first NUL byte.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// AppendUnknownCommand appends Redis's reply to an unknown command:
// "-ERR unknown command 'x', with args beginning with: 'a' 'b' ".
// Arguments are quoted while the quoted list is shorter than 128 bytes, each
// clipped to what is left of those 128, as processCommand does.
func AppendUnknownCommand(dst []byte, argv [][]byte) []byte {
	dst = append(dst, "-ERR unknown command '"...)
	dst = appendSanitized(dst, clip(cString(argv[0]), argTextMax))
	dst = append(dst, "', with args beginning with: "...)
	argsLen := 0
	for i := 1; i < len(argv) && argsLen < argTextMax; i++ {
		a := clip(cString(argv[i]), argTextMax-argsLen)
		dst = append(dst, '\'')
		dst = appendSanitized(dst, a)
		dst = append(dst, '\'', ' ')
		argsLen += len(a) + 3
	}
	return append(dst, '\r', '\n')
}

// AppendUnknownSubcommand appends "-ERR unknown subcommand 'x'. Try CMD HELP.".
func AppendUnknownSubcommand(dst []byte, cmdUpper string, sub []byte) []byte {
	dst = append(dst, "-ERR unknown subcommand '"...)
	dst = appendSanitized(dst, clip(cString(sub), argTextMax))
	dst = append(dst, "'. Try "...)
	dst = append(dst, cmdUpper...)
	return append(dst, " HELP.\r\n"...)
}

// AppendWrongArity appends "-ERR wrong number of arguments for 'name' command".
func AppendWrongArity(dst []byte, name string) []byte {
	dst = append(dst, "-ERR wrong number of arguments for '"...)
	dst = append(dst, name...)
	return append(dst, "' command\r\n"...)
}

// AppendInvalidExpire appends "-ERR invalid expire time in 'name' command".
func AppendInvalidExpire(dst []byte, name string) []byte {
	dst = append(dst, "-ERR invalid expire time in '"...)
	dst = append(dst, name...)
	return append(dst, "' command\r\n"...)
}
