package store

import (
	"math/bits"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// Flag is a command flag as COMMAND reports it.
type Flag uint32

// New flags go at the end: the values are not part of any format, but other
// files' tables name them.
const (
	FlagWrite Flag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagAdmin
	FlagPubsub
	FlagNoscript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagNoMulti
	FlagAllowBusy
	FlagAsking
	FlagNoMandatoryKeys
	FlagNoAsyncLoading
	FlagMovableKeys
	FlagModule
)

// flagOrder is the order in which Redis 7.0's addReplyCommandFlags lists
// flags. may_replicate (and sentinel, protected) are hidden on purpose there,
// and so here.
var flagOrder = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagModule, "module"},
	{FlagAdmin, "admin"}, {FlagPubsub, "pubsub"}, {FlagNoscript, "noscript"}, {FlagBlocking, "blocking"},
	{FlagLoading, "loading"}, {FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"},
	{FlagSkipSlowlog, "skip_slowlog"}, {FlagAsking, "asking"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
	{FlagNoMandatoryKeys, "no_mandatory_keys"}, {FlagNoAsyncLoading, "no_async_loading"},
	{FlagNoMulti, "no_multi"}, {FlagMovableKeys, "movablekeys"}, {FlagAllowBusy, "allow_busy"},
}

// parseFlags reads a space-separated list of flag names (the generated
// specs' form).
func parseFlags(s string) Flag {
	var f Flag
	for _, w := range strings.Fields(s) {
		for _, fo := range flagOrder {
			if fo.name == w {
				f |= fo.f
			}
		}
	}
	return f
}

// KeySpec is one of Redis 7's key specifications: where a command's keys
// begin (BeginSearch) and how many follow (FindKeys), with the key flags
// (RW, RO, OW, RM, access, update, insert, delete, not_key, incomplete,
// variable_flags) in Flags, space-separated, in Redis's order.
type KeySpec struct {
	Notes       string
	Flags       string
	BeginSearch BeginSearch
	FindKeys    FindKeys
}

// BeginSearch: Type "index" (the key is at Index) or "keyword" (after the
// argument equal to Keyword, searched from StartFrom; backwards from the end
// when StartFrom is negative).
type BeginSearch struct {
	Type      string
	Index     int
	Keyword   string
	StartFrom int
}

// FindKeys: Type "range" (keys up to LastKey after the first, -1 the last
// argument, every KeyStep; Limit divides the rest) or "keynum" (the argument
// at KeyNumIdx counts the keys, which start FirstKey after it).
type FindKeys struct {
	Type      string
	LastKey   int
	KeyStep   int
	Limit     int
	KeyNumIdx int
	FirstKey  int
}

// Command is one row of a command table: everything COMMAND reports about it
// and the handler that runs it. Tables live at the top of each cmd_*.go file.
//
// A row may leave out what Redis 7.0 already says about the command: Register
// fills Arity, Flags, key positions, ACL categories, key specs, tips and the
// COMMAND DOCS entry from redisSpecs (command_specs.go, generated from
// redis-server by store/internal/specgen), and TestCommandTablesMatchRedis
// checks that every field a row does state agrees with Redis.
type Command struct {
	Name     string // lower case, as Redis's fullname ("client|kill" for a subcommand)
	Arity    int    // > 0: exactly; < 0: at least -Arity (argv[0] included; a subcommand's name counts)
	Flags    Flag
	FirstKey int // key positions, as COMMAND reports them
	LastKey  int
	Step     int
	ACL      string // ACL categories, e.g. "@read @string @fast"
	Group    string // COMMAND DOCS group
	Since    string
	Summary  string
	Cplx     string // complexity
	Tips     string // space-separated command tips
	KeySpecs []KeySpec
	// Subcommands makes this a container (CLIENT, CONFIG ...): argv[1] names
	// the subcommand that runs. The container's own Handler runs only when
	// it is called without one and its arity allows that (COMMAND).
	Subcommands []*Command
	Handler     func(s *Store, c *Ctx, argv [][]byte)
	// ID indexes per-command statistics (INFO commandstats): every
	// registered command and subcommand has a distinct one, below NumIDs().
	ID     int
	Parent *Command
	docs   string // Redis's COMMAND DOCS entry, RESP3-encoded
}

// cmdNameMax is the longest command name Lookup resolves; longer names are
// unknown without further work.
const cmdNameMax = 32

var commands = map[string]*Command{}
var commandList []*Command
var allCommands []*Command // commands and subcommands, by ID

// Register adds commands to the table. conn registers its connection-level
// commands (CLIENT, HELLO, INFO, CONFIG, QUIT ...) here too, so that COMMAND
// lists every command from one table. It panics on a duplicate name.
func Register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := commands[c.Name]; dup {
			panic("BUG: command registered twice: " + c.Name)
		}
		fillFromSpec(c)
		commands[c.Name] = c
		commandList = append(commandList, c)
		for _, sub := range c.Subcommands {
			if !strings.HasPrefix(sub.Name, c.Name+"|") {
				panic("BUG: subcommand " + sub.Name + " of " + c.Name)
			}
			sub.Parent = c
			fillFromSpec(sub)
		}
	}
}

// fillFromSpec completes a table row from Redis's description of the
// command and gives it its ID.
func fillFromSpec(c *Command) {
	c.ID = len(allCommands)
	allCommands = append(allCommands, c)
	sp := redisSpecs[c.Name]
	if sp == nil {
		return
	}
	if c.Arity == 0 {
		c.Arity = sp.arity
	}
	if c.Flags == 0 {
		c.Flags = parseFlags(sp.flags)
	}
	if c.FirstKey == 0 && c.LastKey == 0 && c.Step == 0 {
		c.FirstKey, c.LastKey, c.Step = sp.first, sp.last, sp.step
	}
	if c.ACL == "" {
		c.ACL = sp.acl
	}
	if c.Tips == "" {
		c.Tips = sp.tips
	}
	if c.KeySpecs == nil {
		c.KeySpecs = sp.keySpecs
	}
	// movablekeys is derived, as Redis derives it, from the key specs.
	if strings.Contains(" "+sp.flags+" ", " movablekeys ") {
		c.Flags |= FlagMovableKeys
	}
	c.docs = sp.docs
}

// redisSpec is one entry of redisSpecs.
type redisSpec struct {
	arity             int
	flags             string
	first, last, step int
	acl, tips         string
	keySpecs          []KeySpec
	docs              string
}

// NumIDs bounds Command.ID.
func NumIDs() int { return len(allCommands) }

// ByID returns the command or subcommand with the given ID.
func ByID(id int) *Command { return allCommands[id] }

// Lookup resolves a command name case-insensitively without allocating.
func Lookup(name []byte) *Command {
	if len(name) > cmdNameMax {
		return nil
	}
	var lower [cmdNameMax]byte
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return commands[string(lower[:len(name)])]
}

// Sub returns the subcommand of cmd named name (case-insensitively), or nil.
func (cmd *Command) Sub(name []byte) *Command {
	for _, sub := range cmd.Subcommands {
		if eqFold(name, sub.Name[len(cmd.Name)+1:]) {
			return sub
		}
	}
	return nil
}

// Resolve is what Redis's lookupCommand does with argv: a container called
// with a subcommand resolves to it. It returns nil when argv[0] is unknown,
// and, with unknownSub set, when argv[1] is not a subcommand of a container
// that needs one.
func Resolve(argv [][]byte) (cmd *Command, unknownSub bool) {
	cmd = Lookup(argv[0])
	if cmd == nil || cmd.Subcommands == nil || len(argv) < 2 {
		return cmd, false
	}
	if sub := cmd.Sub(argv[1]); sub != nil {
		return sub, false
	}
	return nil, true
}

// Is reports whether name (as a client sent it, any case) is cmd's name.
// conn uses it to skip the table lookup when a client repeats a command.
func (cmd *Command) Is(name []byte) bool { return eqFold(name, cmd.Name) }

// AppendCommandError appends the reply to argv that Resolve could not
// resolve: an unknown command or an unknown subcommand.
func AppendCommandError(dst []byte, argv [][]byte, unknownSub bool) []byte {
	if unknownSub {
		return resp.AppendUnknownSubcommand(dst, strings.ToUpper(string(argv[0])), argv[1])
	}
	return resp.AppendUnknownCommand(dst, argv)
}

// CheckArity reports whether argv has the number of arguments cmd takes.
func (cmd *Command) CheckArity(argc int) bool {
	if cmd.Arity > 0 {
		return argc == cmd.Arity
	}
	return argc >= -cmd.Arity
}

// eqFold compares an argument with a lower-case ASCII word.
func eqFold(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		ch := arg[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// AppendHelp appends a HELP reply: the lines as status replies, as Redis's
// addReplyHelp does ("<CMD> <subcommand> [<arg> [value] [opt] ...].
// Subcommands are:" first, the HELP entry last).
func AppendHelp(dst []byte, cmdUpper string, lines []string) []byte {
	dst = resp.AppendArrayLen(dst, len(lines)+3)
	dst = resp.AppendSimple(dst, cmdUpper+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		dst = resp.AppendSimple(dst, l)
	}
	dst = resp.AppendSimple(dst, "HELP")
	return resp.AppendSimple(dst, "    Prints this help.")
}

// KeyMemoryUsage estimates the bytes key and its value take (MEMORY USAGE),
// counted as Redis counts them: the table entry, the key and the value,
// each rounded up to jemalloc's size class. It reports false when the key
// does not exist. Values other than strings are estimated from their
// encoded size when their type reports one (MemoryUsage() int).
func (s *Store) KeyMemoryUsage(c *Ctx, key []byte) (int, bool) {
	t, id, ok := s.lookup(c, key)
	if !ok {
		return 0, false
	}
	const dictEntry, robj = 24, 16
	n := dictEntry + jemallocSize(sdsHeader(len(key), true)+len(key)+1)
	if t.Kind(id) == KindString {
		v := t.Str(id)
		if len(v) <= 44 { // embstr: the object and its sds (sdshdr8) in one allocation
			return n + jemallocSize(robj+3+len(v)+1), true
		}
		return n + robj + jemallocSize(sdsHeader(len(v), false)+len(v)+1), true
	}
	if m, ok := t.Obj(id).(interface{ MemoryUsage() int }); ok {
		return n + robj + m.MemoryUsage(), true
	}
	return n + robj + 64, true
}

// sdsHeader is the header of an sds string of n bytes (sdsReqType): a
// dict key copied with sdsdup may be an sdshdr5 (1 byte) when shorter than
// 32 bytes; otherwise 3, 5, 9 or 17 bytes by the length it must hold.
func sdsHeader(n int, type5 bool) int {
	switch {
	case n < 32 && type5:
		return 1
	case n < 1<<8:
		return 3
	case n < 1<<16:
		return 5
	case uint64(n) < 1<<32:
		return 9
	}
	return 17
}

// jemallocSize rounds n up to jemalloc's size classes: 8, then multiples of
// 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320 ...).
func jemallocSize(n int) int {
	if n <= 8 {
		return 8
	}
	if n <= 128 {
		return (n + 15) &^ 15
	}
	group := 1 << (bits.Len(uint(n-1)) - 1) // the power of two below n
	step := group / 4
	return (n + step - 1) / step * step
}
