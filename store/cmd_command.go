package store

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// COMMAND and its subcommands. Everything they report is derived from the
// command tables (and what Register filled in from Redis's specs).
var commandCommands = []*Command{
	{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", Since: "2.8.13",
		ACL: "@slow @connection", Summary: "Get array of Redis command details", Cplx: "O(N) where N is the total number of Redis commands",
		Handler: commandAllCmd,
		Subcommands: []*Command{
			{Name: "command|count", Handler: commandCountCmd},
			{Name: "command|info", Handler: commandInfoCmd},
			{Name: "command|docs", Handler: commandDocsCmd},
			{Name: "command|list", Handler: commandListCmd},
			{Name: "command|getkeys", Handler: commandGetKeysCmd},
			{Name: "command|getkeysandflags", Handler: commandGetKeysCmd},
			{Name: "command|help", Handler: commandHelpCmd},
		}},
}

func init() { Register(commandCommands...) }

func commandAllCmd(_ *Store, c *Ctx, _ [][]byte) {
	c.Out = resp.AppendArrayLen(c.Out, len(commandList))
	for _, cmd := range commandList {
		c.Out = appendCommandInfo(c.Out, c.Proto, cmd)
	}
}

func commandCountCmd(_ *Store, c *Ctx, _ [][]byte) {
	c.Out = resp.AppendInt(c.Out, int64(len(commandList)))
}

// lookupFull resolves a command name as COMMAND INFO and DOCS take it:
// "client|kill" names a subcommand.
func lookupFull(name []byte) *Command {
	s := strings.ToLower(string(name))
	if cont, sub, ok := strings.Cut(s, "|"); ok {
		if cmd := commands[cont]; cmd != nil {
			return cmd.Sub([]byte(sub))
		}
		return nil
	}
	return commands[s]
}

func commandInfoCmd(_ *Store, c *Ctx, argv [][]byte) {
	if len(argv) == 2 {
		// COMMAND INFO without names describes every command, as COMMAND.
		commandAllCmd(nil, c, argv)
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(argv)-2)
	for _, name := range argv[2:] {
		if cmd := lookupFull(name); cmd != nil {
			c.Out = appendCommandInfo(c.Out, c.Proto, cmd)
		} else {
			c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		}
	}
}

func commandDocsCmd(_ *Store, c *Ctx, argv [][]byte) {
	list := commandList
	if len(argv) > 2 {
		list = nil
		for _, name := range argv[2:] {
			if cmd := lookupFull(name); cmd != nil {
				list = append(list, cmd)
			}
		}
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, len(list))
	for _, cmd := range list {
		c.Out = resp.AppendBulkString(c.Out, cmd.Name)
		c.Out = appendDocs(c.Out, c.Proto, cmd)
	}
}

// appendDocs appends cmd's COMMAND DOCS map: Redis's own entry when the
// specs have one (its subcommands limited to those registered here),
// otherwise what the table says.
func appendDocs(dst []byte, proto int, cmd *Command) []byte {
	if cmd.docs == "" {
		n := 4
		if len(cmd.Subcommands) > 0 {
			n++
		}
		dst = resp.AppendMapLen(dst, proto, n)
		for _, kv := range [][2]string{{"summary", cmd.Summary}, {"since", cmd.Since}, {"group", cmd.Group}, {"complexity", cmd.Cplx}} {
			dst = resp.AppendBulkString(dst, kv[0])
			dst = resp.AppendBulkString(dst, kv[1])
		}
		if len(cmd.Subcommands) > 0 {
			dst = appendSubDocs(dst, proto, cmd)
		}
		return dst
	}
	raw := []byte(cmd.docs)
	// The entry is a map; its "subcommands" value is rebuilt from the
	// table, every other field copied.
	n, pos := readLen(raw, 0)
	hasSubs := false
	for i, p := 0, pos; i < n; i++ {
		k, next := readBulk(raw, p)
		if k == "subcommands" {
			hasSubs = true
		}
		p = skipValue(raw, next)
	}
	if !hasSubs && len(cmd.Subcommands) > 0 {
		dst = resp.AppendMapLen(dst, proto, n+1)
	} else {
		dst = resp.AppendMapLen(dst, proto, n)
	}
	for i := 0; i < n; i++ {
		k, next := readBulk(raw, pos)
		end := skipValue(raw, next)
		dst = append(dst, raw[pos:next]...)
		if k == "subcommands" && len(cmd.Subcommands) > 0 {
			// A container whose subcommands are table rows documents
			// those; one that parses its own (a single handler) keeps
			// Redis's list.
			dst = appendSubDocs(dst, proto, cmd)
		} else {
			dst = appendResp3(dst, proto, raw[next:end])
		}
		pos = end
	}
	if !hasSubs && len(cmd.Subcommands) > 0 {
		dst = appendSubDocs(dst, proto, cmd)
	}
	return dst
}

func appendSubDocs(dst []byte, proto int, cmd *Command) []byte {
	if len(cmd.docs) == 0 {
		dst = resp.AppendBulkString(dst, "subcommands")
	}
	dst = resp.AppendMapLen(dst, proto, len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		dst = resp.AppendBulkString(dst, sub.Name)
		dst = appendDocs(dst, proto, sub)
	}
	return dst
}

// The generated docs are RESP3 written by Redis: well-formed, so these
// readers need no error handling beyond a BUG panic.

func readLine(raw []byte, pos int) (typ byte, body string, next int) {
	for i := pos; i+1 < len(raw); i++ {
		if raw[i] == '\r' && raw[i+1] == '\n' {
			return raw[pos], string(raw[pos+1 : i]), i + 2
		}
	}
	panic("BUG: malformed generated RESP3")
}

func readLen(raw []byte, pos int) (int, int) {
	_, body, next := readLine(raw, pos)
	n, _ := strconv.Atoi(body)
	return n, next
}

func readBulk(raw []byte, pos int) (string, int) {
	n, next := readLen(raw, pos)
	return string(raw[next : next+n]), next + n + 2
}

func skipValue(raw []byte, pos int) int {
	typ, body, next := readLine(raw, pos)
	n, _ := strconv.Atoi(body)
	switch typ {
	case '$', '=':
		return next + n + 2
	case '*', '~':
		for range n {
			next = skipValue(raw, next)
		}
	case '%':
		for range 2 * n {
			next = skipValue(raw, next)
		}
	}
	return next
}

// appendResp3 copies one RESP3 value, turning maps and sets into RESP2
// arrays when proto is 2.
func appendResp3(dst []byte, proto int, raw []byte) []byte {
	if proto >= 3 {
		return append(dst, raw...)
	}
	var walk func(pos int) int
	walk = func(pos int) int {
		typ, body, next := readLine(raw, pos)
		n, _ := strconv.Atoi(body)
		switch typ {
		case '$':
			dst = append(dst, raw[pos:next+n+2]...)
			return next + n + 2
		case '*', '~', '%':
			if typ == '%' {
				n *= 2
			}
			dst = resp.AppendArrayLen(dst, n)
			for range n {
				next = walk(next)
			}
			return next
		}
		dst = append(dst, raw[pos:next]...)
		return next
	}
	walk(0)
	return dst
}

// commandListCmd is COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern], parsed as Redis 7.0 does: the last FILTERBY wins, and
// anything else is a syntax error. Subcommands follow their container. There
// are no modules, so MODULE lists nothing; an unknown category lists nothing.
func commandListCmd(_ *Store, c *Ctx, argv [][]byte) {
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
	match := func(cmd *Command) bool {
		switch filter {
		case "module":
			return false
		case "aclcat":
			return slices.ContainsFunc(strings.Fields(cmd.ACL), func(cat string) bool {
				return strings.EqualFold(cat, "@"+string(arg))
			})
		case "pattern":
			return GlobMatch([]byte(strings.ToLower(string(arg))), []byte(cmd.Name))
		}
		return true
	}
	for _, cmd := range commandList {
		if match(cmd) {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.Subcommands {
			if match(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.Out = resp.AppendArrayLen(c.Out, len(names))
	for _, name := range names {
		c.Out = resp.AppendBulkString(c.Out, name)
	}
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
}

func commandHelpCmd(_ *Store, c *Ctx, _ [][]byte) {
	c.Out = AppendHelp(c.Out, "COMMAND", commandHelp)
}

// appendCommandInfo appends the ten-element reply COMMAND gives per command:
// name, arity, flags, first key, last key, step, ACL categories, tips, key
// specs, subcommands.
func appendCommandInfo(dst []byte, proto int, cmd *Command) []byte {
	dst = resp.AppendArrayLen(dst, 10)
	dst = resp.AppendBulkString(dst, cmd.Name)
	dst = resp.AppendInt(dst, int64(cmd.Arity))
	n := 0
	for _, fo := range flagOrder {
		if cmd.Flags&fo.f != 0 {
			n++
		}
	}
	dst = resp.AppendSetLen(dst, proto, n)
	for _, fo := range flagOrder {
		if cmd.Flags&fo.f != 0 {
			dst = resp.AppendSimple(dst, fo.name)
		}
	}
	dst = resp.AppendInt(dst, int64(cmd.FirstKey))
	dst = resp.AppendInt(dst, int64(cmd.LastKey))
	dst = resp.AppendInt(dst, int64(cmd.Step))
	dst = appendWords(dst, proto, cmd.ACL, true)
	dst = appendWords(dst, proto, cmd.Tips, false)
	// Redis 7.0 writes key specs, and an empty list of subcommands, as
	// sets in RESP3 (addReplyCommandKeySpecs, addReplyCommandSubCommands).
	dst = resp.AppendSetLen(dst, proto, len(cmd.KeySpecs))
	for i := range cmd.KeySpecs {
		dst = appendKeySpec(dst, proto, &cmd.KeySpecs[i])
	}
	if len(cmd.Subcommands) == 0 {
		return resp.AppendSetLen(dst, proto, 0)
	}
	dst = resp.AppendArrayLen(dst, len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		dst = appendCommandInfo(dst, proto, sub)
	}
	return dst
}

// appendWords appends a set of the space-separated words of s, as status
// replies or bulk strings.
func appendWords(dst []byte, proto int, s string, status bool) []byte {
	words := strings.Fields(s)
	dst = resp.AppendSetLen(dst, proto, len(words))
	for _, w := range words {
		if status {
			dst = resp.AppendSimple(dst, w)
		} else {
			dst = resp.AppendBulkString(dst, w)
		}
	}
	return dst
}

func appendKeySpec(dst []byte, proto int, ks *KeySpec) []byte {
	n := 3
	if ks.Notes != "" {
		n++
	}
	dst = resp.AppendMapLen(dst, proto, n)
	if ks.Notes != "" {
		dst = resp.AppendBulkString(dst, "notes")
		dst = resp.AppendBulkString(dst, ks.Notes)
	}
	dst = resp.AppendBulkString(dst, "flags")
	dst = appendWords(dst, proto, ks.Flags, true)
	dst = resp.AppendBulkString(dst, "begin_search")
	dst = resp.AppendMapLen(dst, proto, 2)
	dst = resp.AppendBulkString(dst, "type")
	dst = resp.AppendBulkString(dst, ks.BeginSearch.Type)
	dst = resp.AppendBulkString(dst, "spec")
	switch ks.BeginSearch.Type {
	case "index":
		dst = resp.AppendMapLen(dst, proto, 1)
		dst = resp.AppendBulkString(dst, "index")
		dst = resp.AppendInt(dst, int64(ks.BeginSearch.Index))
	case "keyword":
		dst = resp.AppendMapLen(dst, proto, 2)
		dst = resp.AppendBulkString(dst, "keyword")
		dst = resp.AppendBulkString(dst, ks.BeginSearch.Keyword)
		dst = resp.AppendBulkString(dst, "startfrom")
		dst = resp.AppendInt(dst, int64(ks.BeginSearch.StartFrom))
	default:
		dst = resp.AppendMapLen(dst, proto, 0)
	}
	dst = resp.AppendBulkString(dst, "find_keys")
	dst = resp.AppendMapLen(dst, proto, 2)
	dst = resp.AppendBulkString(dst, "type")
	dst = resp.AppendBulkString(dst, ks.FindKeys.Type)
	dst = resp.AppendBulkString(dst, "spec")
	switch ks.FindKeys.Type {
	case "range":
		dst = resp.AppendMapLen(dst, proto, 3)
		dst = resp.AppendBulkString(dst, "lastkey")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.LastKey))
		dst = resp.AppendBulkString(dst, "keystep")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.KeyStep))
		dst = resp.AppendBulkString(dst, "limit")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.Limit))
	case "keynum":
		dst = resp.AppendMapLen(dst, proto, 3)
		dst = resp.AppendBulkString(dst, "keynumidx")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.KeyNumIdx))
		dst = resp.AppendBulkString(dst, "firstkey")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.FirstKey))
		dst = resp.AppendBulkString(dst, "keystep")
		dst = resp.AppendInt(dst, int64(ks.FindKeys.KeyStep))
	default:
		dst = resp.AppendMapLen(dst, proto, 0)
	}
	return dst
}

// KeyRef is one key argument found by GetKeys: its position in argv and its
// key spec's flags.
type KeyRef struct {
	Pos   int
	Flags string
}

// GetKeys finds the key arguments of argv (argv[0] is the command) from
// cmd's key specs, as Redis's getKeysUsingKeySpecs does. ok is false when a
// spec does not fit argv (a syntax error the command itself would report)
// or is incomplete (Redis then asks a per-command function, which ringkv
// does not have).
func GetKeys(cmd *Command, argv [][]byte) (keys []KeyRef, ok bool) {
	if proc := variableFlagKeys[cmd.Name]; proc != nil {
		return []KeyRef{{Pos: 1, Flags: proc(argv)}}, true
	}
	argc := len(argv)
	for i := range cmd.KeySpecs {
		ks := &cmd.KeySpecs[i]
		if strings.Contains(ks.Flags, "not_key") {
			continue
		}
		first := 0
		switch ks.BeginSearch.Type {
		case "index":
			first = ks.BeginSearch.Index
		case "keyword":
			sf := ks.BeginSearch.StartFrom
			start, end := sf, argc-1
			if sf <= 0 {
				start, end = argc+sf, 0
			}
			for j := start; j != end; {
				if j >= argc || j < 1 {
					break
				}
				if strings.EqualFold(string(argv[j]), ks.BeginSearch.Keyword) {
					first = j + 1
					break
				}
				if start <= end {
					j++
				} else {
					j--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch ks.FindKeys.Type {
		case "range":
			step = ks.FindKeys.KeyStep
			switch {
			case ks.FindKeys.LastKey >= 0:
				last = first + ks.FindKeys.LastKey
			case ks.FindKeys.Limit == 0:
				last = argc + ks.FindKeys.LastKey
			default:
				last = first + ((argc-first)/ks.FindKeys.Limit + ks.FindKeys.LastKey)
			}
		case "keynum":
			step = ks.FindKeys.KeyStep
			idx := first + ks.FindKeys.KeyNumIdx
			if idx >= argc {
				return nil, false
			}
			n, isInt := resp.ParseInt(argv[idx])
			if !isInt || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += ks.FindKeys.FirstKey
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			if last == first-1 && ks.FindKeys.Type == "keynum" {
				continue // zero keys: a valid empty range
			}
			return nil, false
		}
		for j := first; j <= last; j += max(step, 1) {
			keys = append(keys, KeyRef{Pos: j, Flags: ks.Flags})
		}
		if strings.Contains(ks.Flags, "incomplete") {
			return nil, false
		}
	}
	return keys, true
}

func hasKeys(cmd *Command) bool {
	for _, ks := range cmd.KeySpecs {
		if !strings.Contains(ks.Flags, "not_key") {
			return true
		}
	}
	return false
}

// commandGetKeysCmd is COMMAND GETKEYS and GETKEYSANDFLAGS.
func commandGetKeysCmd(_ *Store, c *Ctx, argv [][]byte) {
	withFlags := eqFold(argv[1], "getkeysandflags")
	full := argv[2:]
	cmd, _ := Resolve(full)
	switch {
	case cmd == nil:
		c.Out = resp.AppendErr(c.Out, "Invalid command specified")
		return
	case !hasKeys(cmd):
		c.Out = resp.AppendErr(c.Out, "The command has no key arguments")
		return
	case !cmd.CheckArity(len(full)):
		c.Out = resp.AppendErr(c.Out, "Invalid number of arguments specified for command")
		return
	}
	keys, ok := GetKeys(cmd, full)
	if !ok {
		if cmd.Flags&FlagNoMandatoryKeys != 0 {
			c.Out = append(c.Out, resp.EmptyArray...)
		} else {
			c.Out = resp.AppendErr(c.Out, "Invalid arguments specified for command")
		}
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(keys))
	for _, k := range keys {
		if !withFlags {
			c.Out = resp.AppendBulk(c.Out, full[k.Pos])
			continue
		}
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendBulk(c.Out, full[k.Pos])
		c.Out = appendWords(c.Out, c.Proto, k.Flags, true)
	}
}

// variableFlagKeys are Redis's getkeys functions for the commands whose key
// spec says variable_flags: the key's flags depend on the arguments
// (setGetKeys, bitfieldGetKeys).
var variableFlagKeys = map[string]func(argv [][]byte) string{
	"set": func(argv [][]byte) string {
		for _, a := range argv[min(3, len(argv)):] {
			if eqFold(a, "get") {
				return "RW access update"
			}
		}
		return "OW update"
	},
	"bitfield": func(argv [][]byte) string {
		for i := 2; i < len(argv); i++ {
			rem := len(argv) - i - 1
			switch {
			case eqFold(argv[i], "get") && rem >= 2:
				i += 2
			case eqFold(argv[i], "overflow") && rem >= 1:
				i++
			default:
				return "RW access update"
			}
		}
		return "RO access"
	},
}
