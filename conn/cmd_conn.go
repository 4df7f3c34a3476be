package conn

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// Connection-level commands: they need the client or the server, so conn
// implements them, and registers them in store's one command table.
var connCommands = []*store.Command{
	{Name: "quit", Arity: -1, Flags: store.FlagNoscript | store.FlagAllowBusy | store.FlagNoAuth | store.FlagFast | store.FlagLoading | store.FlagStale, ACL: "@fast @connection", Group: "connection", Since: "1.0.0", Summary: "Close the connection", Cplx: "O(1)", Handler: quitCmd},
	{Name: "client", Arity: -2, ACL: "@slow", Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands", Cplx: "Depends on subcommand.", Handler: clientCmd},
	{Name: "hello", Arity: -1, Flags: store.FlagNoscript | store.FlagLoading | store.FlagStale | store.FlagFast | store.FlagNoAuth | store.FlagAllowBusy, ACL: "@fast @connection", Group: "connection", Since: "6.0.0", Summary: "Handshake with Redis", Cplx: "O(1)", Handler: helloCmd},
	{Name: "info", Arity: -1, Flags: store.FlagLoading | store.FlagStale, ACL: "@slow @dangerous", Group: "server", Since: "1.0.0", Summary: "Get information and statistics about the server", Cplx: "O(1)", Handler: infoCmd},
	{Name: "config", Arity: -2, ACL: "@slow", Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands", Cplx: "Depends on subcommand.", Handler: configCmd},
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

func clientCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, cl := server(c)
	sub := strings.ToLower(string(argv[1]))
	arity := func(n int) bool {
		if len(argv) != n {
			c.Out = resp.AppendWrongArity(c.Out, "client|"+sub)
			return false
		}
		return true
	}
	switch sub {
	case "id":
		if arity(2) {
			c.Out = resp.AppendInt(c.Out, cl.id)
		}
	case "getname":
		if arity(2) {
			if cl.name == nil {
				c.Out = append(c.Out, resp.NullBulk...)
			} else {
				c.Out = resp.AppendBulk(c.Out, cl.name)
			}
		}
	case "setname":
		if !arity(3) {
			return
		}
		if !validClientName(argv[2]) {
			c.Out = resp.AppendErr(c.Out, "Client names cannot contain spaces, newlines or special characters.")
			return
		}
		cl.name = append([]byte(nil), argv[2]...)
		if len(cl.name) == 0 {
			cl.name = nil
		}
		c.Out = append(c.Out, resp.OK...)
	case "setinfo":
		if !arity(4) {
			return
		}
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
	case "info":
		if arity(2) {
			c.Out = resp.AppendBulkString(c.Out, s.clientLine(cl, "client|info")+"\n")
		}
	case "list":
		// CLIENT LIST [TYPE type] [ID id ...], parsed as Redis 7.0 does:
		// every client is "normal" here (no replicas, no pub/sub yet).
		var ids []int64
		filterIDs := false
		switch {
		case len(argv) == 4 && strings.EqualFold(string(argv[2]), "type"):
			switch strings.ToLower(string(argv[3])) {
			case "normal":
			case "slave", "replica", "master", "pubsub":
				c.Out = resp.AppendBulkString(c.Out, "")
				return
			default:
				c.Out = resp.AppendErr(c.Out, "Unknown client type '", string(argv[3]), "'")
				return
			}
		case len(argv) > 3 && strings.EqualFold(string(argv[2]), "id"):
			filterIDs = true
			for _, a := range argv[3:] {
				id, ok := resp.ParseInt(a)
				if !ok {
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
		line := func(other *client) {
			cmd := "client|list" // what the caller is running now
			if other != cl {
				cmd = lastCmdName(other)
			}
			b.WriteString(s.clientLine(other, cmd))
			b.WriteByte('\n')
		}
		if filterIDs {
			// Redis lists the matches in the order of the ids asked for.
			for _, id := range ids {
				for _, other := range s.clients {
					if other != nil && !other.closing && other.id == id {
						line(other)
					}
				}
			}
		} else {
			for _, other := range s.clients {
				if other != nil && !other.closing {
					line(other)
				}
			}
		}
		c.Out = resp.AppendBulkString(c.Out, b.String())
	default:
		c.Out = resp.AppendUnknownSubcommand(c.Out, "CLIENT", argv[1])
	}
}

// validClientName is Redis's rule for CLIENT SETNAME and HELLO SETNAME:
// printable ASCII without spaces.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// lastCmdName is the cmd field of CLIENT LIST for a client other than the
// caller: the last command it ran ("NULL" before its first, as in Redis).
func lastCmdName(cl *client) string {
	if cl.lastCmd == nil {
		return "NULL"
	}
	return cl.lastCmd.Name
}

// clientLine is one line of CLIENT LIST for cl.
func (s *Server) clientLine(cl *client, cmd string) string {
	age := (s.nowMs - cl.createdMs) / 1000
	idle := (s.nowMs - cl.lastMs) / 1000
	return "id=" + strconv.FormatInt(cl.id, 10) + " addr=" + cl.addr + " laddr=" + cl.laddr +
		" fd=" + strconv.Itoa(cl.fd) + " name=" + string(cl.name) + " age=" + strconv.FormatInt(age, 10) +
		" idle=" + strconv.FormatInt(idle, 10) + " flags=N db=" + strconv.Itoa(cl.ctx.DB) +
		" sub=0 psub=0 ssub=0 multi=-1 qbuf=" + strconv.Itoa(len(cl.qbuf)-cl.qpos) + " qbuf-free=" + strconv.Itoa(cap(cl.qbuf)-len(cl.qbuf)) +
		" argv-mem=0 multi-mem=0 rbs=" + strconv.Itoa(cap(cl.ctx.Out)) + " rbp=0 obl=0 oll=0 omem=" + strconv.Itoa(cl.outLen()) +
		" tot-mem=" + strconv.Itoa(cap(cl.qbuf)+cap(cl.ctx.Out)+cap(cl.sending)) + " events=r cmd=" + cmd + " user=default redir=-1 resp=2" +
		" lib-name=" + string(cl.lib[0]) + " lib-ver=" + string(cl.lib[1])
}

// helloCmd speaks RESP2 only for now: HELLO [2] answers the handshake map
// (as a flat array in RESP2); any other version is refused with -NOPROTO, on
// which clients such as go-redis fall back to RESP2.
func helloCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	_, cl := server(c)
	if len(argv) >= 2 {
		v, ok := resp.ParseInt(argv[1])
		if !ok {
			c.Out = resp.AppendErr(c.Out, "Protocol version is not an integer or out of range")
			return
		}
		if v != 2 {
			c.Out = append(c.Out, "-NOPROTO unsupported protocol version\r\n"...)
			return
		}
		// As Redis 7.0: each option takes effect as it is parsed, so a
		// SETNAME before a syntax error has already named the client.
		for j := 2; j < len(argv); j++ {
			more := len(argv) - j - 1
			switch {
			case strings.EqualFold(string(argv[j]), "auth") && more >= 2:
				j += 2 // no requirepass yet: any credentials of the default user pass
			case strings.EqualFold(string(argv[j]), "setname") && more >= 1:
				if !validClientName(argv[j+1]) {
					c.Out = resp.AppendErr(c.Out, "Client names cannot contain spaces, newlines or special characters.")
					return
				}
				cl.name = append([]byte(nil), argv[j+1]...)
				if len(cl.name) == 0 {
					cl.name = nil
				}
				j++
			default:
				c.Out = resp.AppendErr(c.Out, "Syntax error in HELLO option '", string(argv[j]), "'")
				return
			}
		}
	}
	c.Out = resp.AppendArrayLen(c.Out, 14)
	c.Out = resp.AppendBulkString(c.Out, "server")
	c.Out = resp.AppendBulkString(c.Out, "redis")
	c.Out = resp.AppendBulkString(c.Out, "version")
	c.Out = resp.AppendBulkString(c.Out, RedisVersion)
	c.Out = resp.AppendBulkString(c.Out, "proto")
	c.Out = resp.AppendInt(c.Out, 2)
	c.Out = resp.AppendBulkString(c.Out, "id")
	c.Out = resp.AppendInt(c.Out, cl.id)
	c.Out = resp.AppendBulkString(c.Out, "mode")
	c.Out = resp.AppendBulkString(c.Out, "standalone")
	c.Out = resp.AppendBulkString(c.Out, "role")
	c.Out = resp.AppendBulkString(c.Out, "master")
	c.Out = resp.AppendBulkString(c.Out, "modules")
	c.Out = resp.AppendArrayLen(c.Out, 0)
}
