package bench

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is a minimal RESP server for the tests: it answers PING with
// +PONG, GET with a null, SET with +OK, and every other command with Redis's
// unknown-command error. With stallAfter > 0 the whole server stalls once,
// for stall, when that many commands have arrived.
type testServer struct {
	ln         net.Listener
	stallAfter int64
	stall      time.Duration
	commands   atomic.Int64

	mu         sync.Mutex
	stallUntil time.Time
	wg         sync.WaitGroup
}

func startTestServer(t *testing.T, stallAfter int64, stall time.Duration) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, stallAfter: stallAfter, stall: stall}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 0, 64<<10)
	tmp := make([]byte, 64<<10)
	var out []byte
	for {
		n, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		out = out[:0]
		for {
			// A request is a RESP array of bulk strings: the reply
			// scanner frames it as well.
			l, _, perr := replyLen(buf)
			if perr != nil {
				return
			}
			if l == 0 {
				break
			}
			out = append(out, s.answer(buf[:l])...)
			buf = buf[l:]
			if s.commands.Add(1) == s.stallAfter {
				s.mu.Lock()
				s.stallUntil = time.Now().Add(s.stall)
				s.mu.Unlock()
			}
		}
		buf = append(tmp[:0:0], buf...)
		s.mu.Lock()
		until := s.stallUntil
		s.mu.Unlock()
		time.Sleep(time.Until(until))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func (s *testServer) answer(req []byte) []byte {
	// The command name is the first bulk: *N\r\n$len\r\nNAME\r\n.
	i := bytes.Index(req, []byte("\r\n$"))
	if i < 0 {
		return []byte("-ERR Protocol error\r\n")
	}
	rest := req[i+3:]
	j := bytes.Index(rest, []byte("\r\n"))
	name := bytes.ToUpper(rest[j+2:])
	switch {
	case bytes.HasPrefix(name, []byte("PING\r\n")):
		return []byte("+PONG\r\n")
	case bytes.HasPrefix(name, []byte("GET\r\n")):
		return []byte("$-1\r\n")
	case bytes.HasPrefix(name, []byte("SET\r\n")):
		return []byte("+OK\r\n")
	}
	cmd := name[:bytes.Index(name, []byte("\r\n"))]
	return []byte("-ERR unknown command '" + string(cmd) + "', with args beginning with: \r\n")
}
