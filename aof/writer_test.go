package aof

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The group commit split in two (Write, then an fdatasync of FD made by the
// caller, then Synced), as conn does with its ring: Write never syncs, FD is
// the incr file written to, and a failed sync reported with Synced is what
// WriteErr says and what the next Flush retries.
func TestWriteThenSynced(t *testing.T) {
	dir := t.TempDir()
	var ops []Op
	w, err := Open(Options{Dir: dir, Filename: "appendonly.aof", Fsync: FsyncAlways, Fault: func(op Op) error {
		ops = append(ops, op)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.Append(cmd("SET", "a", "1"))
	ops = nil
	if err := w.Write(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ops) != fmt.Sprint([]Op{OpWrite}) || w.Pending() != 0 {
		t.Fatalf("Write: fault hook saw %v, %d bytes still pending; want one write and none", ops, w.Pending())
	}
	var st, want unix.Stat_t
	if err := unix.Fstat(w.FD(), &st); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(dir, w.Manifest().Incrs[len(w.Manifest().Incrs)-1].Name), &want); err != nil {
		t.Fatal(err)
	}
	if st.Ino != want.Ino || st.Size != int64(len(cmd("SET", "a", "1"))) {
		t.Fatalf("FD is inode %d of %d bytes; the incr file is inode %d", st.Ino, st.Size, want.Ino)
	}
	if err := unix.Fdatasync(w.FD()); err != nil {
		t.Fatal(err)
	}
	w.Synced(nil)
	if w.WriteErr() != nil {
		t.Fatalf("WriteErr after Synced(nil): %v", w.WriteErr())
	}

	// A failed sync: reported, and retried by Flush with nothing to write.
	w.Append(cmd("SET", "b", "2"))
	if err := w.Write(); err != nil {
		t.Fatal(err)
	}
	w.Synced(syscall.EIO)
	if !errors.Is(w.WriteErr(), syscall.EIO) {
		t.Fatalf("WriteErr after Synced(EIO): %v", w.WriteErr())
	}
	ops = nil
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ops) != fmt.Sprint([]Op{OpFsync}) || w.WriteErr() != nil {
		t.Fatalf("Flush after a failed sync: fault hook saw %v, WriteErr %v; want one fsync and none", ops, w.WriteErr())
	}
	// Sync is the same fsync, on the caller's thread.
	ops = nil
	if err := w.Sync(); err != nil || fmt.Sprint(ops) != fmt.Sprint([]Op{OpFsync}) {
		t.Fatalf("Sync: %v, fault hook saw %v", err, ops)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, _ := loadAll(t, LoadOptions{Dir: dir, Filename: "appendonly.aof"})
	if fmt.Sprint(got) != "[SET a 1 SET b 2]" {
		t.Fatalf("loaded %q", got)
	}
}

// A failed fsync stays counted (FsyncFailures, FsyncErr) whatever a later
// one says, on every path: Synced, Sync, the everysec goroutine.
func TestFsyncFailuresCounted(t *testing.T) {
	var fail atomic.Bool
	w, err := Open(Options{Dir: t.TempDir(), Filename: "appendonly.aof", Fsync: FsyncAlways, Fault: func(op Op) error {
		if op == OpFsync && fail.Load() {
			return syscall.EIO
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.FsyncFailures() != 0 || w.FsyncErr() != nil {
		t.Fatalf("a new writer: %d failures, %v", w.FsyncFailures(), w.FsyncErr())
	}
	w.Synced(syscall.EIO)
	w.Synced(nil)
	if w.FsyncFailures() != 1 || !errors.Is(w.FsyncErr(), syscall.EIO) {
		t.Fatalf("after Synced(EIO), Synced(nil): %d failures, %v", w.FsyncFailures(), w.FsyncErr())
	}
	fail.Store(true)
	if err := w.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync: %v", err)
	}
	fail.Store(false)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if w.FsyncFailures() != 2 {
		t.Fatalf("after a failed Sync: %d failures", w.FsyncFailures())
	}
	// The everysec goroutine's failure counts too.
	w.SetPolicy(FsyncEverysec)
	fail.Store(true)
	w.Append(cmd("SET", "a", "1"))
	if err := w.Write(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.FsyncFailures() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the background fsync's failure was not counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fail.Store(false)
}
