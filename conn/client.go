package conn

import (
	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// client is one connection's state. It lives in Server.clients, indexed by
// its fd, from accept until the ring reports the socket closed.
type client struct {
	srv    *Server
	fd     int
	id     int64
	name   []byte
	lib    [2][]byte // lib-name, lib-ver from CLIENT SETINFO
	addr   string
	laddr  string
	ctx    store.Ctx
	parser resp.Parser
	// qbuf holds received bytes; qbuf[qpos:] is not parsed yet. argv of the
	// command being executed are views into it.
	qbuf []byte
	qpos int
	// sending is the buffer the ring is writing (one send in flight per
	// socket); ctx.Out collects the replies that go next.
	sending         []byte
	sendBusy        bool
	recvPaused      bool
	queued          bool
	closing         bool           // the ring is closing the socket
	closeAfterReply bool           // QUIT or a protocol error: close once replies are sent
	lastCmd         *store.Command // for CLIENT LIST's cmd field
	adm             clientAdmin    // auth, CLIENT REPLY, MONITOR ... (admin.go)
	createdMs       int64
	lastMs          int64
	// obufSoftSinceMs: since when the replies have stayed past
	// client-output-buffer-limit's soft limit (0: they are not past it).
	obufSoftSinceMs int64

	// blocked is non-nil while a blocking command parks the client
	// (blocking.go).
	blocked *blockState

	// Replies held for the AOF's group commit (aof_commit.go). Positions
	// are absolute in the client's reply stream: outSent counts the bytes
	// that have left ctx.Out for the ring, so sending moves none of them.
	outSent  int
	markedTo int         // replies before this position were classified (held or free)
	holds    []replyHold // in stream order; holds[0].pos is where sending stops
	inHeld   bool        // in aofCommit.held
	aofShift int         // scratch of aofFailSpans: how much this client's later replies moved
}

func newClient(s *Server, fd int, id int64) *client {
	cl := &client{srv: s, fd: fd, id: id, createdMs: s.nowMs, lastMs: s.nowMs}
	cl.ctx.Client = cl
	cl.ctx.Out = make([]byte, 0, 4096)
	cl.parser.Reset()
	cl.addr, cl.laddr = peerAddrs(fd)
	return cl
}

// outLen is every reply byte not yet acknowledged by the kernel.
func (cl *client) outLen() int { return len(cl.ctx.Out) + len(cl.sending) }
