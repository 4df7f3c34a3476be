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

	// Lists, hashes, sets, sorted sets, blocking commands and SORT.
	ErrTimeoutFloat    = []byte("-ERR timeout is not a float or out of range\r\n")
	ErrTimeoutNegative = []byte("-ERR timeout is negative\r\n")
	ErrPositive        = []byte("-ERR value is out of range, must be positive\r\n")
	ErrIndexRange      = []byte("-ERR index out of range\r\n")
	ErrNumkeys         = []byte("-ERR numkeys should be greater than 0\r\n")
	ErrCountPositive   = []byte("-ERR count should be greater than 0\r\n")
	ErrRankZero        = []byte("-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n")
	ErrCountNegative   = []byte("-ERR COUNT can't be negative\r\n")
	ErrMaxlenNegative  = []byte("-ERR MAXLEN can't be negative\r\n")
	ErrHashNotInt      = []byte("-ERR hash value is not an integer\r\n")
	ErrHashNotFloat    = []byte("-ERR hash value is not a float\r\n")
	ErrMinMaxFloat     = []byte("-ERR min or max is not a float\r\n")
	ErrMinMaxLex       = []byte("-ERR min or max not valid string range item\r\n")
	ErrNaNScore        = []byte("-ERR resulting score is not a number (NaN)\r\n")
	ErrZaddNXXX        = []byte("-ERR XX and NX options at the same time are not compatible\r\n")
	ErrZaddGTLTNX      = []byte("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n")
	ErrZaddIncr        = []byte("-ERR INCR option supports a single increment-element pair\r\n")
	ErrWeightFloat     = []byte("-ERR weight value is not a float\r\n")
	ErrLimitNegative   = []byte("-ERR LIMIT can't be negative\r\n")
	ErrSortOrder       = []byte("-ERR One or more scores can't be converted into double\r\n")
	TypeList           = []byte("+list\r\n")
	TypeHash           = []byte("+hash\r\n")
	TypeSet            = []byte("+set\r\n")
	TypeZSet           = []byte("+zset\r\n")
)

// AppendErr appends "-ERR msg\r\n" as Redis's addReplyErrorFormat makes it:
// CR and LF at the end of msg are trimmed, and those inside replaced with
// spaces, so that a quoted argument can never end the error line early.
func AppendErr(dst []byte, parts ...string) []byte {
	dst = append(dst, "-ERR "...)
	start := len(dst)
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return endMessage(dst, start)
}

// endMessage finishes an error whose text (from a client's arguments) is
// dst[start:]: CR and LF are trimmed from its end and replaced with spaces
// inside it (sdstrim, then sdsmapchars), and CRLF ends the line.
func endMessage(dst []byte, start int) []byte {
	for len(dst) > start && (dst[len(dst)-1] == '\r' || dst[len(dst)-1] == '\n') {
		dst = dst[:len(dst)-1]
	}
	for i := start; i < len(dst); i++ {
		if dst[i] == '\r' || dst[i] == '\n' {
			dst[i] = ' '
		}
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

// Expiry, OBJECT, LCS and DEBUG (issue 5).
var (
	ErrExpireNXXXGTLT = []byte("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")
	ErrExpireGTLT     = []byte("-ERR GT and LT options at the same time are not compatible\r\n")
	ErrLCSLenIdx      = []byte("-ERR If you want both the length and indexes, please just use IDX.\r\n")
	ErrLCSNotString   = []byte("-ERR The specified keys must contain string values\r\n")
	ErrLCSMemory      = []byte("-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
	// ErrCopyKind is ringkv's own, for COPY of a value kind that has no
	// deep copy yet (store's cloneObj); it goes once every kind has one.
	ErrCopyKind       = []byte("-ERR COPY is not supported for this value type yet\r\n")
	ErrLFUNotSelected = []byte("-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
)

// AppendUnsupportedOption appends EXPIRE's "-ERR Unsupported option x".
func AppendUnsupportedOption(dst []byte, opt []byte) []byte {
	dst = append(dst, "-ERR Unsupported option "...)
	start := len(dst)
	return endMessage(append(dst, cString(opt)...), start)
}

// AppendSubcommandSyntax appends addReplySubcommandSyntaxError's "-ERR
// unknown subcommand or wrong number of arguments for 'x'. Try CMD HELP.".
func AppendSubcommandSyntax(dst []byte, cmdUpper string, sub []byte) []byte {
	dst = append(dst, "-ERR unknown subcommand or wrong number of arguments for '"...)
	dst = appendSanitized(dst, clip(cString(sub), argTextMax))
	dst = append(dst, "'. Try "...)
	dst = append(dst, cmdUpper...)
	return append(dst, " HELP.\r\n"...)
}

// AppendHelp appends addReplyHelp's reply: a status line per line, headed
// by "CMD <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" and
// ending with HELP's own two lines.
func AppendHelp(dst []byte, cmdUpper string, lines []string) []byte {
	dst = AppendArrayLen(dst, len(lines)+3)
	dst = AppendSimple(dst, cmdUpper+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, ln := range lines {
		dst = AppendSimple(dst, ln)
	}
	dst = AppendSimple(dst, "HELP")
	return AppendSimple(dst, "    Prints this help.")
}

// AppendMisconfAOF appends the error Redis gives a write while the AOF
// cannot be written: "-MISCONF Errors writing to the AOF file: <strerror>".
func AppendMisconfAOF(dst []byte, strerror string) []byte {
	dst = append(dst, "-MISCONF Errors writing to the AOF file: "...)
	start := len(dst)
	return endMessage(append(dst, strerror...), start)
}

// BGREWRITEAOF's replies.
var (
	RewriteStarted   = []byte("+Background append only file rewriting started\r\n")
	RewriteScheduled = []byte("+Background append only file rewriting scheduled\r\n")
	ErrRewriteBusy   = []byte("-ERR Background append only file rewriting already in progress\r\n")
	ErrRewriteFailed = []byte("-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n")
)
