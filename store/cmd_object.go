package store

import (
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// OBJECT: introspection of a key's value as Redis holds it (encoding.go).
// Redis 7.0 makes it a container command; its subcommands' arities are
// checked here, with the errors processCommand would give.
var objectCommands = []*Command{
	{Name: "object", Arity: -2, ACL: "@slow", Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands", Cplx: "Depends on subcommand.", Handler: objectCmd},
}

func init() { Register(objectCommands...) }

// objectSubArity is each subcommand's arity (all exact).
var objectSubArity = map[string]int{"encoding": 3, "freq": 3, "idletime": 3, "refcount": 3, "help": 2}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

func objectCmd(s *Store, c *Ctx, argv [][]byte) {
	sub := strings.ToLower(string(argv[1]))
	arity, ok := objectSubArity[sub]
	if !ok {
		c.Out = resp.AppendUnknownSubcommand(c.Out, "OBJECT", argv[1])
		return
	}
	if len(argv) != arity {
		c.Out = resp.AppendWrongArity(c.Out, "object|"+sub)
		return
	}
	if sub == "help" {
		c.Out = resp.AppendHelp(c.Out, "OBJECT", objectHelp)
		return
	}
	t, id, found := s.lookupNoTouch(c, argv[2])
	if !found {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	switch sub {
	case "encoding":
		c.Out = resp.AppendBulkString(c.Out, objectEncoding(t, id))
	case "refcount":
		c.Out = resp.AppendInt(c.Out, objectRefcount(t, id))
	case "idletime":
		c.Out = resp.AppendInt(c.Out, t.idleSeconds(id, s.lruClock))
	case "freq":
		// maxmemory-policy is noeviction: no LFU counters are kept.
		c.Out = append(c.Out, resp.ErrLFUNotSelected...)
	}
}
