package conn

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// Connection-level commands: they need the client or the server, so conn
// implements them, and registers them in store's one command table. Rows
// leave out what Redis 7.0's specs say (arity, flags, ACL categories, docs);
// store.Register fills it in.
var connCommands = []*store.Command{
	{Name: "quit", Handler: quitCmd},
	{Name: "hello", Handler: helloCmd},
	{Name: "auth", Handler: authCmd},
	{Name: "reset", Handler: resetCmd},
	{Name: "client", Subcommands: []*store.Command{
		{Name: "client|id", Handler: clientIDCmd},
		{Name: "client|getname", Handler: clientGetNameCmd},
		{Name: "client|setname", Handler: clientSetNameCmd},
		{Name: "client|setinfo", Arity: 4, Flags: store.FlagNoscript | store.FlagLoading | store.FlagStale, ACL: "@slow @connection",
			Group: "connection", Since: "7.2.0", Summary: "Set client or connection specific info", Cplx: "O(1)", Handler: clientSetInfoCmd},
		{Name: "client|info", Handler: clientInfoCmd},
		{Name: "client|list", Handler: clientListCmd},
		{Name: "client|kill", Handler: clientKillCmd},
		{Name: "client|pause", Handler: clientPauseCmd},
		{Name: "client|unpause", Handler: clientUnpauseCmd},
		{Name: "client|reply", Handler: clientReplyCmd},
		{Name: "client|no-evict", Handler: clientNoEvictCmd},
		{Name: "client|no-touch", Arity: 3, Flags: store.FlagNoscript | store.FlagLoading | store.FlagStale, ACL: "@slow @connection",
			Group: "connection", Since: "7.2.0", Summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", Cplx: "O(1)", Handler: clientNoTouchCmd},
		{Name: "client|unblock", Handler: clientUnblockCmd},
		{Name: "client|tracking", Handler: clientTrackingCmd},
		{Name: "client|trackinginfo", Handler: clientTrackingInfoCmd},
		{Name: "client|getredir", Handler: clientGetRedirCmd},
		{Name: "client|caching", Handler: clientCachingCmd},
		{Name: "client|help", Handler: clientHelpCmd},
	}},
}

func init() { store.Register(connCommands...) }

func server(c *store.Ctx) (*Server, *client) {
	cl := c.Client.(*client)
	return cl.srv, cl
}

func quitCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = append(c.Out, resp.OK...)
	c.Close = true
}

// peerAddrs returns "ip:port" of both ends of a connected socket.
func peerAddrs(fd int) (addr, laddr string) {
	format := func(sa unix.Sockaddr, err error) string {
		if in4, ok := sa.(*unix.SockaddrInet4); ok && err == nil {
			a := in4.Addr
			return strconv.Itoa(int(a[0])) + "." + strconv.Itoa(int(a[1])) + "." + strconv.Itoa(int(a[2])) + "." + strconv.Itoa(int(a[3])) + ":" + strconv.Itoa(in4.Port)
		}
		return "?:0"
	}
	return format(unix.Getpeername(fd)), format(unix.Getsockname(fd))
}

// ---- HELLO, AUTH, RESET

var (
	errWrongPass  = []byte("-WRONGPASS invalid username-password pair or user is disabled.\r\n")
	errHelloAuth  = []byte("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n")
	errNoProto    = []byte("-NOPROTO unsupported protocol version\r\n")
	errBadName    = []byte("-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
	errNoPassword = []byte("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")
)

// authenticate is ACLAuthenticateUser for the one user ringkv has,
// "default", whose password is requirepass (none: any password passes).
func (s *Server) authenticate(cl *client, user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	if s.params.requirePass != "" && string(pass) != s.params.requirePass {
		return false
	}
	cl.adm.authed = true
	return true
}

// helloCmd is HELLO [protover [AUTH user pass] [SETNAME name]] as Redis
// 7.0: options take effect as they are parsed (a SETNAME before a bad option
// has named the client), then the client must be authenticated, then the
// protocol switches and the handshake map is written in it.
func helloCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, cl := server(c)
	ver := int64(0)
	if len(argv) >= 2 {
		v, ok := resp.ParseInt(argv[1])
		if !ok {
			c.Out = resp.AppendErr(c.Out, "Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Out = append(c.Out, errNoProto...)
			return
		}
		ver = v
		for j := 2; j < len(argv); j++ {
			more := len(argv) - j - 1
			switch {
			case strings.EqualFold(string(argv[j]), "auth") && more >= 2:
				if !s.authenticate(cl, argv[j+1], argv[j+2]) {
					c.Out = append(c.Out, errWrongPass...)
					return
				}
				j += 2
			case strings.EqualFold(string(argv[j]), "setname") && more >= 1:
				if !setName(c, cl, argv[j+1]) {
					return
				}
				j++
			default:
				c.Out = resp.AppendErr(c.Out, "Syntax error in HELLO option '", string(argv[j]), "'")
				return
			}
		}
	}
	if !cl.adm.authed && s.params.requirePass != "" {
		c.Out = append(c.Out, errHelloAuth...)
		return
	}
	if ver != 0 {
		c.Proto = int(ver)
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, 7)
	c.Out = resp.AppendBulkString(c.Out, "server")
	c.Out = resp.AppendBulkString(c.Out, "redis")
	c.Out = resp.AppendBulkString(c.Out, "version")
	c.Out = resp.AppendBulkString(c.Out, RedisVersion)
	c.Out = resp.AppendBulkString(c.Out, "proto")
	c.Out = resp.AppendInt(c.Out, int64(proto(c)))
	c.Out = resp.AppendBulkString(c.Out, "id")
	c.Out = resp.AppendInt(c.Out, cl.id)
	c.Out = resp.AppendBulkString(c.Out, "mode")
	c.Out = resp.AppendBulkString(c.Out, "standalone")
	c.Out = resp.AppendBulkString(c.Out, "role")
	c.Out = resp.AppendBulkString(c.Out, "master")
	c.Out = resp.AppendBulkString(c.Out, "modules")
	c.Out = resp.AppendArrayLen(c.Out, 0)
}

// proto is the connection's protocol, 2 or 3.
func proto(c *store.Ctx) int {
	if c.Proto == 3 {
		return 3
	}
	return 2
}

// authCmd is AUTH [user] pass.
func authCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, cl := server(c)
	if len(argv) > 3 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	user, pass := []byte("default"), argv[1]
	if len(argv) == 2 {
		if s.params.requirePass == "" {
			c.Out = append(c.Out, errNoPassword...)
			return
		}
	} else {
		user, pass = argv[1], argv[2]
	}
	if s.authenticate(cl, user, pass) {
		c.Out = append(c.Out, resp.OK...)
	} else {
		c.Out = append(c.Out, errWrongPass...)
	}
}

// resetCmd is RESET: the connection's state as new (Redis's
// clearClientConnectionState): MONITOR off, database 0, RESP2, the default
// authentication, no name, CLIENT REPLY ON. lib-name and lib-ver stay, and
// so does NO-EVICT, as in Redis. (Transactions and subscriptions, when they
// exist, are reset by their own code.)
func resetCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, cl := server(c)
	if cl.adm.monitor {
		s.clientGone(cl)
		cl.adm.monitor = false
	}
	c.DB = 0
	c.Proto = 2
	cl.adm.authed = s.params.requirePass == ""
	cl.name = nil
	cl.adm.noTouch = false
	cl.adm.replyOff, cl.adm.replySkip, cl.adm.replySkipNext = false, false, false
	c.Out = append(c.Out, "+RESET\r\n"...)
}

// ---- CLIENT

func clientIDCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	_, cl := server(c)
	c.Out = resp.AppendInt(c.Out, cl.id)
}

func clientGetNameCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	_, cl := server(c)
	if cl.name == nil {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
	} else {
		c.Out = resp.AppendBulk(c.Out, cl.name)
	}
}

// setName is clientSetNameOrReply: printable ASCII without spaces; an empty
// name removes the name.
func setName(c *store.Ctx, cl *client, name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			c.Out = append(c.Out, errBadName...)
			return false
		}
	}
	cl.name = nil
	if len(name) > 0 {
		cl.name = append([]byte(nil), name...)
	}
	return true
}

func clientSetNameCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	if setName(c, cl, argv[2]) {
		c.Out = append(c.Out, resp.OK...)
	}
}

// clientSetInfoCmd is Redis 7.2's CLIENT SETINFO LIB-NAME|LIB-VER value,
// which clients send on connect (README, known differences).
func clientSetInfoCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	attr := strings.ToLower(string(argv[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		c.Out = resp.AppendErr(c.Out, "Unrecognized option '", string(argv[2]), "'")
		return
	}
	for _, ch := range argv[3] {
		if ch < '!' || ch > '~' {
			c.Out = resp.AppendErr(c.Out, "lib-name and lib-ver cannot contain spaces, newlines or special characters.")
			return
		}
	}
	i := 0
	if attr == "lib-ver" {
		i = 1
	}
	cl.lib[i] = append([]byte(nil), argv[3]...)
	c.Out = append(c.Out, resp.OK...)
}

func clientInfoCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, cl := server(c)
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, s.clientLine(cl)+"\n")
}

// clientListCmd is CLIENT LIST [TYPE type] [ID id ...], parsed as Redis 7.0
// does. Monitors count as normal clients, as in Redis; there are no
// replicas, and pub/sub clients are not told apart yet.
func clientListCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	var ids []int64
	filterIDs := false
	switch {
	case len(argv) == 4 && strings.EqualFold(string(argv[2]), "type"):
		switch strings.ToLower(string(argv[3])) {
		case "normal":
		case "slave", "replica", "master", "pubsub":
			c.Out = resp.AppendVerbatim(c.Out, c.Proto, "")
			return
		default:
			c.Out = resp.AppendErr(c.Out, "Unknown client type '", string(argv[3]), "'")
			return
		}
	case len(argv) > 3 && strings.EqualFold(string(argv[2]), "id"):
		filterIDs = true
		for _, a := range argv[3:] {
			id, ok := resp.ParseInt(a)
			if !ok || id <= 0 {
				c.Out = resp.AppendErr(c.Out, "Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(argv) != 2:
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	var b strings.Builder
	if filterIDs {
		// Redis lists the matches in the order of the ids asked for.
		for _, id := range ids {
			if other := s.clientByID(id); other != nil {
				b.WriteString(s.clientLine(other))
				b.WriteByte('\n')
			}
		}
	} else {
		for _, other := range s.clients {
			if other != nil && !other.closing {
				b.WriteString(s.clientLine(other))
				b.WriteByte('\n')
			}
		}
	}
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, b.String())
}

func (s *Server) clientByID(id int64) *client {
	for _, other := range s.clients {
		if other != nil && !other.closing && other.id == id {
			return other
		}
	}
	return nil
}

// lastCmdName is the cmd field of CLIENT LIST: the command running or last
// run ("NULL" before the first, as in Redis). A client blocked on keys
// shows its blocking command (blpop). A client whose command CLIENT PAUSE
// holds shows the held command, as Redis has looked it up before
// postponing it; it is still the first thing in the query buffer.
func lastCmdName(cl *client) string {
	if cl.adm.pauseWait && cl.blocked == nil {
		var p resp.Parser
		p.Reset()
		if argv, _, err := p.Next(cl.qbuf, cl.qpos); err == nil && argv != nil {
			if cmd, _ := store.Resolve(argv); cmd != nil {
				return cmd.Name
			}
		}
	}
	if cl.lastCmd == nil {
		return "NULL"
	}
	return cl.lastCmd.Name
}

// clientFlags is CLIENT LIST's flags field, in Redis's order. b: blocked on
// keys, or held by CLIENT PAUSE (Redis 7.0 blocks such a client too).
func clientFlags(cl *client) string {
	var f []byte
	if cl.adm.monitor {
		f = append(f, 'O')
	}
	if cl.blocked != nil || cl.adm.pauseWait {
		f = append(f, 'b')
	}
	if cl.closeAfterReply {
		f = append(f, 'c')
	}
	if cl.adm.noEvict {
		f = append(f, 'e')
	}
	if cl.adm.noTouch {
		f = append(f, 'T')
	}
	if len(f) == 0 {
		return "N"
	}
	return string(f)
}

// clientLine is one line of CLIENT LIST for cl.
func (s *Server) clientLine(cl *client) string {
	age := (s.nowMs - cl.createdMs) / 1000
	idle := (s.nowMs - cl.lastMs) / 1000
	return "id=" + strconv.FormatInt(cl.id, 10) + " addr=" + cl.addr + " laddr=" + cl.laddr +
		" fd=" + strconv.Itoa(cl.fd) + " name=" + string(cl.name) + " age=" + strconv.FormatInt(age, 10) +
		" idle=" + strconv.FormatInt(idle, 10) + " flags=" + clientFlags(cl) + " db=" + strconv.Itoa(cl.ctx.DB) +
		" sub=0 psub=0 ssub=0 multi=-1 qbuf=" + strconv.Itoa(len(cl.qbuf)-cl.qpos) + " qbuf-free=" + strconv.Itoa(cap(cl.qbuf)-len(cl.qbuf)) +
		" argv-mem=0 multi-mem=0 rbs=" + strconv.Itoa(cap(cl.ctx.Out)) + " rbp=0 obl=0 oll=0 omem=" + strconv.Itoa(cl.outLen()) +
		" tot-mem=" + strconv.Itoa(cap(cl.qbuf)+cap(cl.ctx.Out)+cap(cl.sending)) + " events=r cmd=" + lastCmdName(cl) +
		" user=default redir=-1 resp=" + strconv.Itoa(proto(&cl.ctx)) +
		" lib-name=" + string(cl.lib[0]) + " lib-ver=" + string(cl.lib[1])
}

// clientKillCmd is CLIENT KILL addr (the old form: "+OK" or "No such
// client", and a client may kill itself) or CLIENT KILL <filter> <value> ...
// (the number killed; SKIPME yes by default), as Redis 7.0's
// clientKillCommand. A client that kills itself is closed after the reply.
func clientKillCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, self := server(c)
	var addr, laddr string
	var id int64
	typ, haveAddr, haveLaddr := "", false, false
	skipme := true
	if len(argv) == 3 {
		addr, haveAddr, skipme = string(argv[2]), true, false
	} else {
		for i := 2; i < len(argv); i += 2 {
			more := i+1 < len(argv)
			opt := strings.ToLower(string(argv[i]))
			switch {
			case opt == "id" && more:
				n, ok := resp.ParseInt(argv[i+1])
				if !ok || n < 1 {
					c.Out = resp.AppendErr(c.Out, "client-id should be greater than 0")
					return
				}
				id = n
			case opt == "type" && more:
				typ = strings.ToLower(string(argv[i+1]))
				switch typ {
				case "normal", "slave", "replica", "master", "pubsub":
				default:
					c.Out = resp.AppendErr(c.Out, "Unknown client type '", string(argv[i+1]), "'")
					return
				}
			case opt == "addr" && more:
				addr, haveAddr = string(argv[i+1]), true
			case opt == "laddr" && more:
				laddr, haveLaddr = string(argv[i+1]), true
			case opt == "user" && more:
				if string(argv[i+1]) != "default" {
					c.Out = resp.AppendErr(c.Out, "No such user '", string(argv[i+1]), "'")
					return
				}
			case opt == "skipme" && more:
				switch strings.ToLower(string(argv[i+1])) {
				case "yes":
					skipme = true
				case "no":
					skipme = false
				default:
					c.Out = append(c.Out, resp.ErrSyntax...)
					return
				}
			default:
				c.Out = append(c.Out, resp.ErrSyntax...)
				return
			}
		}
	}
	killed := 0
	for _, other := range s.clients {
		switch {
		case other == nil || other.closing:
		case haveAddr && other.addr != addr:
		case haveLaddr && other.laddr != laddr:
		case typ != "" && typ != "normal":
		case id != 0 && other.id != id:
		case other == self && skipme:
		default:
			killed++
			if other == self {
				c.Close = true
			} else {
				s.closeClient(other)
			}
		}
	}
	if len(argv) == 3 {
		if killed == 0 {
			c.Out = resp.AppendErr(c.Out, "No such client")
		} else {
			c.Out = append(c.Out, resp.OK...)
		}
		return
	}
	c.Out = resp.AppendInt(c.Out, int64(killed))
}

var errClientSyntax = func(sub string) string {
	return "unknown subcommand or wrong number of arguments for '" + sub + "'. Try CLIENT HELP."
}

// clientPauseCmd is CLIENT PAUSE timeout-ms [WRITE|ALL]. A second pause
// extends the first (the later end, the stricter mode wins), as Redis's
// pauseClients.
func clientPauseCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	if len(argv) > 4 {
		c.Out = resp.AppendErr(c.Out, errClientSyntax(string(argv[1])))
		return
	}
	ms, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrTimeout...)
		return
	}
	if ms < 0 {
		c.Out = resp.AppendErr(c.Out, "timeout is negative")
		return
	}
	all := true
	if len(argv) == 4 {
		switch strings.ToLower(string(argv[3])) {
		case "write":
			all = false
		case "all":
		default:
			c.Out = resp.AppendErr(c.Out, "CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	end := s.nowMs + ms
	if s.adm.pauseEnd == 0 {
		s.adm.pauseAll = all
	} else {
		s.adm.pauseAll = s.adm.pauseAll || all
	}
	s.adm.pauseEnd = max(s.adm.pauseEnd, end, 1)
	c.Out = append(c.Out, resp.OK...)
}

func clientUnpauseCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	if s.adm.pauseEnd != 0 {
		// The held commands run after this one, at the end of the
		// batch, not inside it.
		s.adm.pauseEnd = s.nowMs
		s.adm.nextCron = 0
	}
	c.Out = append(c.Out, resp.OK...)
}

// clientReplyCmd is CLIENT REPLY ON|OFF|SKIP; OFF and SKIP are not answered
// (Server.replied suppresses the replies).
func clientReplyCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	switch strings.ToLower(string(argv[2])) {
	case "on":
		cl.adm.replyOff, cl.adm.replySkipNext = false, false
		c.Out = append(c.Out, resp.OK...)
	case "off":
		cl.adm.replyOff = true
	case "skip":
		if !cl.adm.replyOff {
			cl.adm.replySkipNext = true
		}
		cl.adm.replySkip = true // this command's own reply (there is none)
	default:
		c.Out = append(c.Out, resp.ErrSyntax...)
	}
}

func onOff(c *store.Ctx, arg []byte, v *bool) {
	switch strings.ToLower(string(arg)) {
	case "on":
		*v = true
	case "off":
		*v = false
	default:
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	c.Out = append(c.Out, resp.OK...)
}

func clientNoEvictCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	onOff(c, argv[2], &cl.adm.noEvict)
}

// clientNoTouchCmd is Redis 7.2's CLIENT NO-TOUCH ON|OFF (README, known
// differences): ringkv keeps no access times or frequencies yet, so it only
// shows in CLIENT LIST's flags.
func clientNoTouchCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	onOff(c, argv[2], &cl.adm.noTouch)
}

// UnblockHook, when set by the code that parks blocked clients, unblocks the
// client with the given id if it is blocked, as if its timeout had passed
// (withError: with Redis's UNBLOCKED error instead), and reports whether it
// was.
var UnblockHook func(s *Server, id int64, withError bool) bool

func clientUnblockCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	if len(argv) > 4 {
		c.Out = resp.AppendErr(c.Out, errClientSyntax(string(argv[1])))
		return
	}
	id, ok := resp.ParseInt(argv[2])
	if !ok {
		c.Out = append(c.Out, resp.ErrNotInt...)
		return
	}
	withError := false
	if len(argv) == 4 {
		switch strings.ToLower(string(argv[3])) {
		case "timeout":
		case "error":
			withError = true
		default:
			c.Out = resp.AppendErr(c.Out, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	if UnblockHook != nil && UnblockHook(s, id, withError) {
		c.Out = append(c.Out, resp.One...)
		return
	}
	c.Out = append(c.Out, resp.Zero...)
}

// clientTrackingCmd: client-side caching is not implemented; OFF (the state
// every client is in) is accepted, ON is refused (README, known differences).
func clientTrackingCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	switch strings.ToLower(string(argv[2])) {
	case "off":
		c.Out = append(c.Out, resp.OK...)
	case "on":
		c.Out = resp.AppendErr(c.Out, "client tracking is not supported by this server")
	default:
		c.Out = append(c.Out, resp.ErrSyntax...)
	}
}

func clientTrackingInfoCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = resp.AppendMapLen(c.Out, c.Proto, 3)
	c.Out = resp.AppendBulkString(c.Out, "flags")
	c.Out = resp.AppendSetLen(c.Out, c.Proto, 1)
	c.Out = resp.AppendBulkString(c.Out, "off")
	c.Out = resp.AppendBulkString(c.Out, "redirect")
	c.Out = resp.AppendInt(c.Out, -1)
	c.Out = resp.AppendBulkString(c.Out, "prefixes")
	c.Out = resp.AppendArrayLen(c.Out, 0)
}

func clientGetRedirCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = append(c.Out, resp.MinusOne...)
}

func clientCachingCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = resp.AppendErr(c.Out, "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
}

var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
}

func clientHelpCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = store.AppendHelp(c.Out, "CLIENT", clientHelp)
}
