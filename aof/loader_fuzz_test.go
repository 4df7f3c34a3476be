package aof

import (
	"errors"
	"fmt"
	"testing"
)

// FuzzLoader: any incr file either loads, is a torn tail (cut, after which
// it loads with nothing more to cut and the same commands), or is damage;
// never a panic.
func FuzzLoader(f *testing.F) {
	f.Add(cmd("SET", "k", "v"))
	f.Add(append(cmd("MULTI"), cmd("SET", "k", "v")...))
	f.Add([]byte("*2\r\n$3\r\nDEL\r\n$1\r\nk"))
	f.Add([]byte("*1\r\n$-1\r\n"))
	f.Add([]byte("*99999999999999999999\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeDir(t, dir, nil, data)
		got, st, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again, st2, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
		if err != nil || st2.Truncated != 0 || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("reload after cutting %d bytes: %v, %d cut, %q vs %q", st.Truncated, err, st2.Truncated, again, got)
		}
	})
}
