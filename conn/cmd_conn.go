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
	{Name: "quit", Arity: -1, Flags: store.FlagAllowBusy | store.FlagNoAuth | store.FlagFast | store.FlagLoading | store.FlagStale, ACL: "@fast @connection", Group: "connection", Since: "1.0.0", Summary: "Close the connection", Cplx: "O(1)", Handler: quitCmd},
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
		for _, ch := range argv[2] {
			if ch < '!' || ch > '~' {
				c.Out = resp.AppendErr(c.Out, "Client names cannot contain spaces, newlines or special characters.")
				return
			}
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
			c.Out = resp.AppendBulkString(c.Out, s.clientLine(cl)+"\n")
		}
	case "list":
		var b strings.Builder
		for _, other := range s.clients {
			if other != nil && !other.closing {
				b.WriteString(s.clientLine(other))
				b.WriteByte('\n')
			}
		}
		c.Out = resp.AppendBulkString(c.Out, b.String())
	default:
		c.Out = resp.AppendUnknownSubcommand(c.Out, "CLIENT", argv[1])
	}
}

// clientLine is one line of CLIENT LIST for cl.
func (s *Server) clientLine(cl *client) string {
	age := (s.nowMs - cl.createdMs) / 1000
	idle := (s.nowMs - cl.lastMs) / 1000
	return "id=" + strconv.FormatInt(cl.id, 10) + " addr=" + cl.addr + " laddr=" + cl.laddr +
		" fd=" + strconv.Itoa(cl.fd) + " name=" + string(cl.name) + " age=" + strconv.FormatInt(age, 10) +
		" idle=" + strconv.FormatInt(idle, 10) + " flags=N db=" + strconv.Itoa(cl.ctx.DB) +
		" sub=0 psub=0 ssub=0 multi=-1 qbuf=" + strconv.Itoa(len(cl.qbuf)-cl.qpos) + " qbuf-free=" + strconv.Itoa(cap(cl.qbuf)-len(cl.qbuf)) +
		" argv-mem=0 multi-mem=0 rbs=" + strconv.Itoa(cap(cl.ctx.Out)) + " rbp=0 obl=0 oll=0 omem=" + strconv.Itoa(cl.outLen()) +
		" tot-mem=" + strconv.Itoa(cap(cl.qbuf)+cap(cl.ctx.Out)+cap(cl.sending)) + " events=r cmd=client|list user=default redir=-1 resp=2" +
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
			c.Out = append(c.Out, "-NOPROTO sorry, this protocol version is not supported.\r\n"...)
			return
		}
		for j := 2; j < len(argv); j++ {
			more := len(argv) - j - 1
			switch {
			case strings.EqualFold(string(argv[j]), "setname") && more >= 1:
				cl.name = append([]byte(nil), argv[j+1]...)
				j++
			case strings.EqualFold(string(argv[j]), "auth") && more >= 2:
				j += 2 // no requirepass yet: any credentials of the default user pass
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
