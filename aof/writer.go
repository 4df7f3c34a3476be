package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ringkv/ringkv/conn/resp"
)

// Fsync is the appendfsync policy.
type Fsync int

const (
	FsyncEverysec Fsync = iota // Redis's default
	FsyncAlways
	FsyncNo
)

// ParseFsync reads an appendfsync value.
func ParseFsync(s string) (Fsync, bool) {
	switch s {
	case "always":
		return FsyncAlways, true
	case "everysec":
		return FsyncEverysec, true
	case "no":
		return FsyncNo, true
	}
	return 0, false
}

func (f Fsync) String() string {
	switch f {
	case FsyncAlways:
		return "always"
	case FsyncNo:
		return "no"
	}
	return "everysec"
}

// Op names an operation a fault hook can fail.
type Op int

const (
	OpWrite Op = iota + 1
	OpFsync
	OpManifest
	OpRewrite // writing the new base file
)

// Options configure a Writer.
type Options struct {
	Dir      string // the AOF directory: dir/appenddirname
	Filename string // appendfilename
	Fsync    Fsync
	// Fault, when set, is called before each write, fsync, manifest update
	// and base write; a non-nil error fails that operation as if the kernel
	// had returned it (tests inject ENOSPC and EIO this way).
	Fault func(Op) error
	// Logf reports what a person should know (repairs, failures, rewrites).
	Logf func(format string, args ...any)
	// Fresh starts a new incr file that the manifest does not list until
	// the first rewrite commits (CONFIG SET appendonly yes at run time: the
	// files on disk are stale, and until the rewrite has written the
	// keyspace a crash must load them, not them plus the new commands).
	Fresh bool
}

func injected(fault func(Op) error, op Op) error {
	if fault == nil {
		return nil
	}
	return fault(op)
}

// everysecInterval is how often the background fsync runs under everysec.
const everysecInterval = time.Second

// Writer appends to the current incr file. The owner goroutine calls every
// method except that, under everysec, a goroutine of its own fsyncs the file
// once a second; mu guards the file between the two.
type Writer struct {
	opt Options
	man *Manifest

	mu   sync.Mutex // guards f against the everysec goroutine
	f    *os.File
	size int64 // bytes of the current incr file

	buf []byte // the batch not yet written

	baseSize   int64 // incr sizes + base at the last rewrite (auto-rewrite)
	totalSize  int64 // base + every incr: aof_current_size
	writeErr   error // the last write failed with this; nil when it went through
	syncErr    atomic.Pointer[error]
	dirty      atomic.Bool // written since the last fsync (everysec)
	lastSyncNs atomic.Int64
	// fsyncFails counts the fsyncs of the incr files that failed (on any
	// path: Sync, Synced, the everysec goroutine, a rewrite's switch), and
	// lastFsyncErr is the latest such error. After a failed fsync the
	// kernel may have dropped the dirty pages and report a later fsync of
	// the same file as successful, so a caller must not take a later
	// success as the end of the failure: it watches the count instead.
	fsyncFails   atomic.Int64
	lastFsyncErr atomic.Pointer[error]
	stop         chan struct{}
	done         chan struct{}
	// pendingIncr is the incr file of a Fresh open: written to, not yet in
	// the manifest; the first rewrite's commit adds it.
	pendingIncr *FileInfo
}

// Pending reports a Fresh open whose first rewrite has not committed.
func (w *Writer) PendingIncr() bool { return w.pendingIncr != nil }

// Open opens the AOF directory for appending: it creates the directory,
// an empty base and the first incr file when there is no manifest (as a
// first start with appendonly yes does), and otherwise appends to the last
// incr file of the manifest (creating one if the manifest has none).
func Open(opt Options) (*Writer, error) {
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	w := &Writer{opt: opt}
	m, err := ReadManifest(opt.Dir, opt.Filename)
	switch {
	case errors.Is(err, os.ErrNotExist) && opt.Fresh:
		m = &Manifest{}
	case errors.Is(err, os.ErrNotExist):
		m = &Manifest{Base: &FileInfo{Name: baseName(opt.Filename, 1), Seq: 1, Type: TypeBase}}
		if err := createEmpty(filepath.Join(opt.Dir, m.Base.Name)); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if opt.Fresh {
		if m.Base == nil && len(m.Incrs) == 0 {
			m.Base = nil
		}
		seq := m.lastIncrSeq() + 1
		w.pendingIncr = &FileInfo{Name: incrName(opt.Filename, seq), Seq: seq, Type: TypeIncr}
		w.man = m
		removeStaleTemps(opt.Dir)
		w.f, err = os.OpenFile(filepath.Join(opt.Dir, w.pendingIncr.Name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, err
		}
		if opt.Fsync == FsyncEverysec {
			w.startSyncer()
		}
		return w, nil
	}
	if len(m.Incrs) == 0 {
		m.Incrs = append(m.Incrs, FileInfo{Name: incrName(opt.Filename, 1), Seq: 1, Type: TypeIncr})
		if err := createEmpty(filepath.Join(opt.Dir, m.Incrs[0].Name)); err != nil {
			return nil, err
		}
		if err := writeManifest(opt.Dir, opt.Filename, m, nil); err != nil {
			return nil, err
		}
	}
	w.man = m
	removeStaleTemps(opt.Dir)
	w.deleteHistory()
	last := m.Incrs[len(m.Incrs)-1]
	w.f, err = os.OpenFile(filepath.Join(opt.Dir, last.Name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := w.f.Stat()
	if err != nil {
		w.f.Close()
		return nil, err
	}
	w.size = fi.Size()
	for _, f := range m.Files() {
		if st, err := os.Stat(filepath.Join(opt.Dir, f.Name)); err == nil {
			w.totalSize += st.Size()
		}
	}
	w.baseSize = w.totalSize
	if opt.Fsync == FsyncEverysec {
		w.startSyncer()
	}
	return w, nil
}

func createEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Manifest returns the current manifest (not to be modified).
func (w *Writer) Manifest() *Manifest { return w.man }

// Append adds RESP-encoded commands to the batch.
func (w *Writer) Append(b []byte) { w.buf = append(w.buf, b...) }

// AppendCommand adds argv, RESP-encoded, to the batch.
func (w *Writer) AppendCommand(argv ...[]byte) { w.buf = resp.AppendCommand(w.buf, argv...) }

// Pending is the size of the batch not yet written.
func (w *Writer) Pending() int { return len(w.buf) }

// Size is aof_current_size: the base and every incr file.
func (w *Writer) Size() int64 { return w.totalSize + int64(len(w.buf)) }

// BaseSize is aof_base_size: the size at the last rewrite or at start.
func (w *Writer) BaseSize() int64 { return w.baseSize }

// Policy is the current appendfsync.
func (w *Writer) Policy() Fsync { return w.opt.Fsync }

// WriteErr is the error of the last write, nil if it went through.
func (w *Writer) WriteErr() error { return w.writeErr }

// SyncErr is the error of the last background fsync (everysec), nil if
// it went through.
func (w *Writer) SyncErr() error {
	if p := w.syncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// FsyncFailures is how many fsyncs of this writer's incr files failed so
// far; FsyncErr is the error of the latest.
func (w *Writer) FsyncFailures() int64 { return w.fsyncFails.Load() }

// FsyncErr is the error of the latest failed fsync, nil if none failed.
func (w *Writer) FsyncErr() error {
	if p := w.lastFsyncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// fsyncFailed records a failed fsync of an incr file.
func (w *Writer) fsyncFailed(err error) {
	w.lastFsyncErr.Store(&err)
	w.fsyncFails.Add(1)
}

// Flush writes the batch with one write(2) (repeated only for a short
// write) and, under always, makes it durable with one fdatasync(2): the
// group commit of a loop turn, done on the caller's thread. On an error the
// batch stays buffered for the next Flush, and a partly written batch is
// cut back off the file, as Redis does, so a retry never leaves a record
// twice.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		if w.writeErr != nil && w.opt.Fsync == FsyncAlways {
			return w.syncNow() // a failed fsync is retried by the next Flush
		}
		return nil
	}
	if err := w.Write(); err != nil {
		return err
	}
	if w.opt.Fsync == FsyncAlways {
		return w.syncNow()
	}
	return nil
}

// Write is the first half of a group commit whose fdatasync the caller
// makes elsewhere (conn hands it to the ring, so the owner does not wait
// for the disk): the batch is written with one write(2), whatever the
// policy, and nothing is synced. Errors are handled as Flush's. The caller
// then syncs FD and reports the result with Synced; until then the file
// must not be switched or closed (StartRewrite, Close), which the caller
// ensures.
func (w *Writer) Write() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.write(w.buf)
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				// Could not cut it back: keep what was written and retry
				// only the rest, so the file never holds a record twice.
				w.size += int64(n)
				w.totalSize += int64(n)
				w.buf = w.buf[:copy(w.buf, w.buf[n:])]
			}
		}
		w.writeErr = err
		return err
	}
	w.size += int64(n)
	w.totalSize += int64(n)
	if cap(w.buf) > batchKeepBytes {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	w.writeErr = nil
	w.dirty.Store(true)
	return nil
}

// FD is the file descriptor of the incr file the batch is written to: the
// one whose fdatasync makes Write's bytes durable.
func (w *Writer) FD() int { return int(w.f.Fd()) }

// Sync makes what was written durable now, with one fdatasync(2) on the
// caller's thread (the fault hook's OpFsync first), and records the result
// as Synced does. It excludes the everysec goroutine's fsync, so that a
// failure either of them sees is counted (FsyncFailures) before Sync
// returns.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syncNow()
}

// Synced records the result of an fdatasync of FD that the caller made: a
// failure is what the next Flush (under always) retries, and what WriteErr
// reports until a write or sync succeeds.
func (w *Writer) Synced(err error) {
	w.writeErr = err
	if err == nil {
		w.lastSyncNs.Store(time.Now().UnixNano())
	} else {
		w.fsyncFailed(err)
	}
}

// batchKeepBytes: a batch buffer that grew past this is released once
// written.
const batchKeepBytes = 1 << 20

func (w *Writer) write(b []byte) (int, error) {
	if err := injected(w.opt.Fault, OpWrite); err != nil {
		return 0, err
	}
	done := 0
	for done < len(b) {
		n, err := unix.Write(int(w.f.Fd()), b[done:])
		if n > 0 {
			done += n
		}
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, unix.ENOSPC // write(2) returning 0 for a regular file: no room
		}
	}
	return done, nil
}

func (w *Writer) syncNow() error {
	err := injected(w.opt.Fault, OpFsync)
	if err == nil {
		err = fdatasync(w.f)
	}
	w.Synced(err)
	return err
}

func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// SetPolicy changes appendfsync at run time (CONFIG SET appendfsync).
func (w *Writer) SetPolicy(p Fsync) {
	if p == w.opt.Fsync {
		return
	}
	if w.opt.Fsync == FsyncEverysec {
		w.stopSyncer()
	}
	w.opt.Fsync = p
	if p == FsyncEverysec {
		w.startSyncer()
	}
}

func (w *Writer) startSyncer() {
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.syncLoop(w.stop, w.done)
}

func (w *Writer) stopSyncer() {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop, w.done = nil, nil
	}
}

// syncLoop is everysec's fsync, off the owner's path: once a second, if
// anything was written since the last fsync, fdatasync the current file.
func (w *Writer) syncLoop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(everysecInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if !w.dirty.Swap(false) {
			continue
		}
		w.mu.Lock()
		err := injected(w.opt.Fault, OpFsync)
		if err == nil {
			err = fdatasync(w.f)
		}
		if err != nil {
			w.fsyncFailed(err) // under mu: a switch of files sees it
			w.syncErr.Store(&err)
		}
		w.mu.Unlock()
		if err != nil {
			w.dirty.Store(true) // retry next second
			if w.opt.Logf != nil {
				w.opt.Logf("AOF background fsync failed: %v", err)
			}
			continue
		}
		w.mu.Lock()
		w.syncErr.Store(nil)
		w.mu.Unlock()
		w.lastSyncNs.Store(time.Now().UnixNano())
	}
}

// Close writes what is buffered, fsyncs and closes the file.
func (w *Writer) Close() error {
	w.stopSyncer()
	err := w.Flush()
	if serr := fdatasync(w.f); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// switchIncr starts a new incr file (a rewrite begins): the batch is
// written and the old file fsynced, the manifest gains the new file, and
// appends go to it from now on.
func (w *Writer) switchIncr() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if err := fdatasync(w.f); err != nil {
		w.fsyncFailed(err)
		return err
	}
	m := w.man.clone()
	fi := FileInfo{Name: incrName(w.opt.Filename, m.lastIncrSeq()+1), Seq: m.lastIncrSeq() + 1, Type: TypeIncr}
	f, err := os.OpenFile(filepath.Join(w.opt.Dir, fi.Name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	m.Incrs = append(m.Incrs, fi)
	if err := writeManifest(w.opt.Dir, w.opt.Filename, m, w.opt.Fault); err != nil {
		f.Close()
		os.Remove(filepath.Join(w.opt.Dir, fi.Name))
		return fmt.Errorf("writing the manifest: %w", err)
	}
	w.man = m
	w.mu.Lock()
	old := w.f
	w.f, w.size = f, 0
	w.syncErr.Store(nil) // it concerned the old file (FsyncFailures still counts it)
	w.mu.Unlock()
	old.Close()
	return nil
}
