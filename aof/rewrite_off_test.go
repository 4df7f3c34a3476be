package aof

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func finishOff(t *testing.T, rw *Rewrite, cmds ...[]byte) {
	t.Helper()
	b := rw.Buf()
	for _, c := range cmds {
		b = append(b, c...)
	}
	rw.Put(b)
	rw.Finish()
	for !rw.Done() {
		time.Sleep(time.Millisecond)
	}
}

// A rewrite with appendonly no (BGREWRITEAOF then, as Redis 7.0): the base
// becomes the whole AOF, the old base and incr files go, and the seq
// numbers follow the old manifest's.
func TestOffRewrite(t *testing.T) {
	opt := func(dir string) Options { return Options{Dir: dir, Filename: "appendonly.aof"} }
	t.Run("no directory yet", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "appendonlydir")
		rw, err := StartOffRewrite(opt(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		finishOff(t, rw, cmd("SET", "a", "1"))
		if err := rw.CommitOff(); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(dir, "appendonly.aof")
		if err != nil || string(m.Marshal()) != "file appendonly.aof.1.base.aof seq 1 type b\n" {
			t.Fatalf("manifest %q %v", m.Marshal(), err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"appendonly.aof.1.base.aof", "appendonly.aof.manifest"}) {
			t.Fatalf("files %q", names)
		}
		got, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
		if err != nil || fmt.Sprint(got) != "[SET a 1]" {
			t.Fatalf("load: %q %v", got, err)
		}
	})
	t.Run("over an AOF", func(t *testing.T) {
		dir := t.TempDir()
		writeDir(t, dir, cmd("SET", "old", "base"), cmd("SET", "old", "incr"))
		os.WriteFile(filepath.Join(dir, "temp-rewriteaof-bg-1.aof"), []byte("left by a crash"), 0o644)
		rw, err := StartOffRewrite(opt(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		finishOff(t, rw, cmd("SET", "new", "1"))
		if err := rw.CommitOff(); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(dir, "appendonly.aof")
		if err != nil || string(m.Marshal()) != "file appendonly.aof.2.base.aof seq 2 type b\n" {
			t.Fatalf("manifest %q %v", m.Marshal(), err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"appendonly.aof.2.base.aof", "appendonly.aof.manifest"}) {
			t.Fatalf("files %q", names)
		}
		// Opening it for appending (appendonly yes at the next start)
		// starts an incr file after the base.
		w := openTest(t, dir, FsyncNo)
		w.Append(cmd("SET", "later", "x"))
		w.Close()
		got, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
		if err != nil || fmt.Sprint(got) != "[SET new 1 SET later x]" {
			t.Fatalf("load: %q %v", got, err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		dir := t.TempDir()
		writeDir(t, dir, cmd("SET", "old", "base"), cmd("SET", "old", "incr"))
		before := dirNames(t, dir)
		rw, err := StartOffRewrite(opt(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		rw.Put(append(rw.Buf(), cmd("SET", "new", "1")...))
		rw.Abort()
		if names := dirNames(t, dir); !slices.Equal(names, before) {
			t.Fatalf("files after Abort %q, before %q", names, before)
		}
	})
	t.Run("directory is a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "appendonlydir")
		os.WriteFile(path, nil, 0o644)
		if _, err := StartOffRewrite(opt(path), nil); err == nil {
			t.Fatal("started in a path that is a file")
		}
	})
}
