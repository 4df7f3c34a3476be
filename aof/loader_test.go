package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
)

func cmd(args ...string) []byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return resp.AppendCommand(nil, argv...)
}

// loadAll loads dir and returns the commands as space-joined strings.
func loadAll(t *testing.T, opt LoadOptions) ([]string, LoadStats, error) {
	t.Helper()
	var got []string
	st, err := Load(opt, func(argv [][]byte) error {
		parts := make([]string, len(argv))
		for i, a := range argv {
			parts[i] = string(a)
		}
		got = append(got, strings.Join(parts, " "))
		return nil
	})
	return got, st, err
}

func TestManifestRoundTrip(t *testing.T) {
	// As redis-server 7.0 writes it.
	text := "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n" +
		"file appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n"
	m, err := ParseManifest([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if m.Base.Seq != 2 || len(m.Incrs) != 2 || len(m.History) != 1 {
		t.Fatalf("parsed %+v", m)
	}
	if got := string(m.Marshal()); got != text {
		t.Fatalf("marshal:\n%s\nwant\n%s", got, text)
	}
	odd := &Manifest{Base: &FileInfo{Name: "my file \"x\".aof", Seq: 1, Type: TypeBase}}
	back, err := ParseManifest(odd.Marshal())
	if err != nil || back.Base.Name != odd.Base.Name {
		t.Fatalf("quoted name: %v %+v", err, back)
	}
	for _, bad := range []string{
		"", "file a seq 1 type x\n", "file a seq 1 type b\nfile b seq 2 type b\n",
		"file a seq 2 type i\nfile b seq 1 type i\n", "file ../x seq 1 type b\n", "file \"a seq 1 type b\n",
		"file a seq -1 type b\n",
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("ParseManifest(%q) accepted", bad)
		}
	}
}

func openTest(t *testing.T, dir string, p Fsync) *Writer {
	t.Helper()
	w, err := Open(Options{Dir: dir, Filename: "appendonly.aof", Fsync: p})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWriterLoad(t *testing.T) {
	for _, p := range []Fsync{FsyncAlways, FsyncEverysec, FsyncNo} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			w := openTest(t, dir, p)
			w.Append(cmd("SET", "a", "1"))
			w.AppendCommand([]byte("SET"), []byte("b"), []byte("2"))
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			w.Append(cmd("DEL", "a"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"SET a 1", "SET b 2", "DEL a"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("loaded %q, want %q", got, want)
			}
			// Reopening appends to the same incr file.
			w = openTest(t, dir, p)
			w.Append(cmd("SET", "c", "3"))
			w.Close()
			got, _, _ = loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
			if len(got) != 4 {
				t.Fatalf("after reopen: %q", got)
			}
			m, _ := ReadManifest(dir, "appendonly.aof")
			if want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; string(m.Marshal()) != want {
				t.Fatalf("manifest %q", m.Marshal())
			}
		})
	}
}

func writeDir(t *testing.T, dir string, base, incr []byte) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.base.aof"), base, 0o644)
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.incr.aof"), incr, 0o644)
	m := &Manifest{Base: &FileInfo{Name: "appendonly.aof.1.base.aof", Seq: 1, Type: TypeBase},
		Incrs: []FileInfo{{Name: "appendonly.aof.1.incr.aof", Seq: 1, Type: TypeIncr}}}
	os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), m.Marshal(), 0o644)
}

// A cut at every byte offset of the last record loads to the previous one,
// cuts the file there and says how many bytes it dropped.
func TestTornTailEveryOffset(t *testing.T) {
	base := cmd("SET", "base", "x")
	prefix := append(cmd("SET", "k1", "v1"), cmd("SET", "k2", "v2")...)
	last := cmd("SET", "k3", "a value with\r\nCRLF inside")
	for cut := 1; cut < len(last); cut++ {
		dir := t.TempDir()
		writeDir(t, dir, base, append(append([]byte(nil), prefix...), last[:cut]...))
		if _, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof", RefuseTruncated: true}); err == nil {
			t.Fatalf("cut %d: aof-load-truncated no loaded a torn file", cut)
		} else if te := (*TruncatedError)(nil); !errors.As(err, &te) || te.ValidBytes != int64(len(prefix)) {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got, st, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if len(got) != 3 || got[2] != "SET k2 v2" || st.Truncated != int64(cut) {
			t.Fatalf("cut %d: loaded %q, truncated %d", cut, got, st.Truncated)
		}
		fi, _ := os.Stat(filepath.Join(dir, "appendonly.aof.1.incr.aof"))
		if fi.Size() != int64(len(prefix)) {
			t.Fatalf("cut %d: file is %d bytes, want %d", cut, fi.Size(), len(prefix))
		}
	}
}

func TestDamage(t *testing.T) {
	good := cmd("SET", "k", "v")
	cases := []struct {
		name       string
		base, incr []byte
		corrupt    bool // else truncated
	}{
		{"garbage in the middle", nil, append(append(append([]byte(nil), good...), "+junk\r\n"...), good...), true},
		{"bad bulk length", nil, append([]byte("*2\r\n$x\r\nab\r\n"), good...), true},
		{"missing CRLF after a bulk", nil, append([]byte("*1\r\n$1\r\nabc\r\n"), good...), true},
		{"zero arguments", nil, []byte("*0\r\n"), true},
		{"torn base before the incr", good[:5], good, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDir(t, dir, c.base, c.incr)
			_, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
			var ce *CorruptError
			var te *TruncatedError
			if c.corrupt && !errors.As(err, &ce) || !c.corrupt && !errors.As(err, &te) {
				t.Fatalf("got %v", err)
			}
			if ce != nil && !strings.Contains(err.Error(), "appendonly.aof.1.incr.aof") {
				t.Fatalf("message does not name the file: %v", err)
			}
		})
	}
}

func TestMultiWithoutExec(t *testing.T) {
	dir := t.TempDir()
	incr := append(cmd("SET", "a", "1"), cmd("MULTI")...)
	incr = append(incr, cmd("SET", "b", "2")...)
	valid := len(cmd("SET", "a", "1"))
	writeDir(t, dir, nil, incr)
	got, st, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if err != nil || len(got) != 1 || st.Truncated != int64(len(incr)-valid) {
		t.Fatalf("got %q %+v %v", got, st, err)
	}
	writeDir(t, dir, nil, append(incr, cmd("EXEC")...))
	got, _, err = loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if err != nil || fmt.Sprint(got) != "[SET a 1 SET b 2]" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestRDBPreambleRefused(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, []byte("REDIS0009\xfa..."), nil)
	_, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if !errors.Is(err, ErrRDBPreamble) {
		t.Fatalf("got %v", err)
	}
}

func TestRewriteCommit(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, FsyncAlways)
	w.Append(cmd("SET", "a", "1"))
	w.Append(cmd("SET", "a", "2"))
	w.Flush()
	rw, err := w.StartRewrite(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(cmd("SET", "b", "after-start")) // into the new incr file
	w.Flush()
	// A crash now: the old files plus the new incr file load everything.
	got, _, err := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if err != nil || len(got) != 3 {
		t.Fatalf("mid-rewrite load: %q %v", got, err)
	}
	rw.Put(append(rw.Buf(), cmd("SET", "a", "2")...))
	rw.Finish()
	for !rw.Done() {
		time.Sleep(time.Millisecond)
	}
	if err := w.CommitRewrite(rw); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, _, err = loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if err != nil || fmt.Sprint(got) != "[SET a 2 SET b after-start]" {
		t.Fatalf("after commit: %q %v", got, err)
	}
	m, _ := ReadManifest(dir, "appendonly.aof")
	if want := "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; string(m.Marshal()) != want {
		t.Fatalf("manifest %q", m.Marshal())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Fatalf("old files not deleted: %v", ents)
	}
}

func TestWriteFaultRetriesOnce(t *testing.T) {
	dir := t.TempDir()
	var fail error
	w, err := Open(Options{Dir: dir, Filename: "appendonly.aof", Fsync: FsyncAlways, Fault: func(op Op) error {
		if op == OpWrite || op == OpFsync {
			return fail
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.Append(cmd("SET", "a", "1"))
	fail = syscall.ENOSPC
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush: %v", err)
	}
	w.Append(cmd("SET", "b", "2"))
	fail = syscall.EIO
	if err := w.Flush(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("flush: %v", err)
	}
	fail = nil
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, _, _ := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if fmt.Sprint(got) != "[SET a 1 SET b 2]" {
		t.Fatalf("got %q", got)
	}
}

func TestScanSplitReads(t *testing.T) {
	var all []byte
	for i := range 1000 {
		all = append(all, cmd("SET", fmt.Sprint("key", i), strings.Repeat("v", i))...)
	}
	n := 0
	valid, size, err := Scan(&oneByteReader{b: all}, func(argv [][]byte, off int64) error {
		if want := fmt.Sprint("key", n); string(argv[1]) != want {
			return fmt.Errorf("record %d is %q", n, argv[1])
		}
		n++
		return nil
	})
	if err != nil || n != 1000 || valid != size || size != int64(len(all)) {
		t.Fatalf("n=%d valid=%d size=%d err=%v", n, valid, size, err)
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errEOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}

var errEOF = ioEOF()
