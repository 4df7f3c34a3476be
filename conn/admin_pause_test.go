package conn

import (
	"io"
	"net"
	"testing"
	"time"
)

// CLIENT PAUSE WRITE holds write commands (and what a client pipelined
// after them) until CLIENT UNPAUSE, while reads go on being answered; the
// held command then runs and answers. Order is asserted, not durations.
func TestClientPauseHoldsWrites(t *testing.T) {
	addr := adminServer(t)
	admin, writer := dialTest(t, addr), dialTest(t, addr)
	if got := admin.do("CLIENT", "PAUSE", "60000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE: %q", got)
	}
	if got := writer.do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("a read during the pause: %q", got)
	}
	// The write is held: no reply while the pause lasts.
	if _, err := writer.c.Write([]byte("SET k v\r\nGET k\r\n")); err != nil {
		t.Fatal(err)
	}
	writer.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if b, err := writer.br.Peek(1); err == nil {
		t.Fatalf("a write was answered during CLIENT PAUSE WRITE: %q", b)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("reading the held reply: %v", err)
	}
	if got := admin.do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("the held SET ran during the pause: GET gave %q", got)
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE: %q", got)
	}
	writer.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"+OK\r\n", "$1\r\nv\r\n"} {
		r, err := readReply(writer.br, nil)
		if err != nil || string(r) != want {
			t.Fatalf("after UNPAUSE: %q %v, want %q", r, err, want)
		}
	}
}

// With CONFIG SET timeout N, a client idle for more than N seconds is
// closed by the server; a client that keeps talking is not.
func TestIdleTimeout(t *testing.T) {
	addr := adminServer(t)
	admin := dialTest(t, addr)
	if got := admin.do("CONFIG", "SET", "timeout", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET timeout: %q", got)
	}
	idle := dialTest(t, addr)
	if got := idle.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	// The busy client talks every 200 ms while the idle one waits for the
	// server to close it (bounded: 10 s).
	done := make(chan error, 1)
	go func() {
		idle.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := idle.br.ReadByte()
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != io.EOF {
				t.Fatalf("idle client: got %v, want the server to close it (EOF)", err)
			}
			if got := admin.do("PING"); got != "+PONG\r\n" {
				t.Fatalf("the busy client was closed too: %q", got)
			}
			return
		case <-time.After(200 * time.Millisecond):
			if got := admin.do("PING"); got != "+PONG\r\n" {
				t.Fatalf("busy client: %q", got)
			}
		}
	}
}
