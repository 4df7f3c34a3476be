package store

import (
	"slices"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// Flag is a command flag as COMMAND reports it.
type Flag uint32

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
)

var flagNames = []string{"write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking",
	"loading", "stale", "skip_monitor", "skip_slowlog", "fast", "no_auth", "may_replicate", "no_multi", "allow_busy"}

// Command is one row of a command table: everything COMMAND reports about it
// and the handler that runs it. Tables live at the top of each cmd_*.go file.
type Command struct {
	Name     string // lower case, as Redis's fullname
	Arity    int    // > 0: exactly; < 0: at least -Arity (argv[0] included)
	Flags    Flag
	FirstKey int // key positions, as COMMAND reports them
	LastKey  int
	Step     int
	ACL      string // ACL categories besides those implied by flags, e.g. "@string @fast"
	Group    string // COMMAND DOCS group
	Since    string
	Summary  string
	Cplx     string // complexity
	Handler  func(s *Store, c *Ctx, argv [][]byte)
}

// cmdNameMax is the longest command name Lookup resolves; longer names are
// unknown without further work.
const cmdNameMax = 32

var commands = map[string]*Command{}
var commandList []*Command

// Register adds commands to the table. conn registers its connection-level
// commands (CLIENT, HELLO, INFO, CONFIG, QUIT ...) here too, so that COMMAND
// lists every command from one table. It panics on a duplicate name.
func Register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := commands[c.Name]; dup {
			panic("BUG: command registered twice: " + c.Name)
		}
		commands[c.Name] = c
		commandList = append(commandList, c)
	}
}

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

var commandCommands = []*Command{
	{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", Since: "2.8.13",
		ACL: "@slow @connection", Summary: "Get array of Redis command details", Cplx: "O(N) where N is the total number of Redis commands",
		Handler: commandCmd},
}

func init() { Register(commandCommands...) }

func commandCmd(s *Store, c *Ctx, argv [][]byte) {
	if len(argv) == 1 {
		c.Out = resp.AppendArrayLen(c.Out, len(commandList))
		for _, cmd := range commandList {
			c.Out = appendCommandInfo(c.Out, cmd)
		}
		return
	}
	sub := argv[1]
	switch {
	case eqFold(sub, "count") && len(argv) == 2:
		c.Out = resp.AppendInt(c.Out, int64(len(commandList)))
	case eqFold(sub, "info") && len(argv) == 2:
		// COMMAND INFO without names describes every command, as COMMAND.
		c.Out = resp.AppendArrayLen(c.Out, len(commandList))
		for _, cmd := range commandList {
			c.Out = appendCommandInfo(c.Out, cmd)
		}
	case eqFold(sub, "info"):
		c.Out = resp.AppendArrayLen(c.Out, len(argv)-2)
		for _, name := range argv[2:] {
			if cmd := Lookup(name); cmd != nil {
				c.Out = appendCommandInfo(c.Out, cmd)
			} else {
				c.Out = append(c.Out, resp.NullArray...)
			}
		}
	case eqFold(sub, "docs"):
		list := commandList
		if len(argv) > 2 {
			list = nil
			for _, name := range argv[2:] {
				if cmd := Lookup(name); cmd != nil {
					list = append(list, cmd)
				}
			}
		}
		c.Out = resp.AppendArrayLen(c.Out, 2*len(list))
		for _, cmd := range list {
			c.Out = resp.AppendBulkString(c.Out, cmd.Name)
			c.Out = resp.AppendArrayLen(c.Out, 8)
			c.Out = resp.AppendBulkString(c.Out, "summary")
			c.Out = resp.AppendBulkString(c.Out, cmd.Summary)
			c.Out = resp.AppendBulkString(c.Out, "since")
			c.Out = resp.AppendBulkString(c.Out, cmd.Since)
			c.Out = resp.AppendBulkString(c.Out, "group")
			c.Out = resp.AppendBulkString(c.Out, cmd.Group)
			c.Out = resp.AppendBulkString(c.Out, "complexity")
			c.Out = resp.AppendBulkString(c.Out, cmd.Cplx)
		}
	case eqFold(sub, "list"):
		commandListCmd(c, argv)
	case eqFold(sub, "count"):
		c.Out = resp.AppendWrongArity(c.Out, "command|"+strings.ToLower(string(sub)))
	default:
		c.Out = resp.AppendUnknownSubcommand(c.Out, "COMMAND", sub)
	}
}

// commandListCmd is COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern], parsed as Redis 7.0 does: the last FILTERBY wins, and
// anything else is a syntax error. There are no modules, so MODULE lists
// nothing; an unknown category lists nothing too.
func commandListCmd(c *Ctx, argv [][]byte) {
	filter, arg := "", []byte(nil)
	for i := 2; i < len(argv); i++ {
		if !eqFold(argv[i], "filterby") || len(argv)-1-i != 2 {
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
		switch t := argv[i+1]; {
		case eqFold(t, "module"), eqFold(t, "aclcat"), eqFold(t, "pattern"):
			filter = strings.ToLower(string(t))
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
		arg = argv[i+2]
		i += 2
	}
	var names []string
	for _, cmd := range commandList {
		switch filter {
		case "module":
			continue
		case "aclcat":
			if !slices.ContainsFunc(strings.Fields(cmd.ACL), func(cat string) bool {
				return strings.EqualFold(cat, "@"+string(arg))
			}) {
				continue
			}
		case "pattern":
			if !GlobMatch([]byte(strings.ToLower(string(arg))), []byte(cmd.Name)) {
				continue
			}
		}
		names = append(names, cmd.Name)
	}
	c.Out = resp.AppendArrayLen(c.Out, len(names))
	for _, name := range names {
		c.Out = resp.AppendBulkString(c.Out, name)
	}
}

// appendCommandInfo appends the ten-element reply COMMAND gives per command:
// name, arity, flags, first key, last key, step, ACL categories, tips, key
// specs, subcommands.
func appendCommandInfo(dst []byte, cmd *Command) []byte {
	dst = resp.AppendArrayLen(dst, 10)
	dst = resp.AppendBulkString(dst, cmd.Name)
	dst = resp.AppendInt(dst, int64(cmd.Arity))
	n := 0
	for i := range flagNames {
		if cmd.Flags&(1<<i) != 0 {
			n++
		}
	}
	dst = resp.AppendArrayLen(dst, n)
	for i, name := range flagNames {
		if cmd.Flags&(1<<i) != 0 {
			dst = resp.AppendSimple(dst, name)
		}
	}
	dst = resp.AppendInt(dst, int64(cmd.FirstKey))
	dst = resp.AppendInt(dst, int64(cmd.LastKey))
	dst = resp.AppendInt(dst, int64(cmd.Step))
	cats := strings.Fields(cmd.ACL)
	dst = resp.AppendArrayLen(dst, len(cats))
	for _, cat := range cats {
		dst = resp.AppendSimple(dst, cat)
	}
	dst = resp.AppendArrayLen(dst, 0) // tips
	dst = resp.AppendArrayLen(dst, 0) // key specs: a later issue derives them
	return resp.AppendArrayLen(dst, 0)
}
