package conn

import (
	"github.com/ringkv/ringkv/store"
	"log"
	"testing"
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func newTestLogger(t *testing.T) *log.Logger { return log.New(testWriter{t}, "", 0) }

func lookupCmd(name string) *store.Command { return store.Lookup([]byte(name)) }
