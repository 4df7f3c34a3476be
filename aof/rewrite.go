package aof

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rewrite is a rewrite in progress: the owner fills chunks of the new base
// (serialising the keyspace in bounded steps between batches) and a
// goroutine writes them to a temp file, so the owner never waits for the
// disk. Commit switches the manifest once the base is durable.
//
// The states of the directory, each of which loads to the whole keyspace:
//  1. Start: the incr file the writer appends to from now on is in the
//     manifest, after the old base and incr files.
//  2. The temp base is written and fsynced, then renamed to its base name;
//     the manifest does not list it yet, so a crash here loads the old
//     files (the stray base is ignored and replaced by the next rewrite).
//  3. Commit: one atomic manifest rename makes the new base and the incr
//     file of step 1 the whole set; the old files become history and are
//     deleted.
type Rewrite struct {
	w       *Writer
	tmpPath string
	seq     int64 // of the new base
	startAt int   // index in the manifest's Incrs of the incr file opened at start

	buf   []byte
	ch    chan []byte
	free  chan []byte
	done  chan struct{}
	err   error // set by the goroutine before done is closed
	bytes int64
	wake  func()
}

// rewriteChunkBytes is the size of the chunks handed to the base writer;
// rewriteChunksMax of them may wait, after which the owner pauses the walk
// (Room) rather than block or buffer without bound.
const (
	rewriteChunkBytes = 256 << 10
	rewriteChunksMax  = 8
)

// StartRewrite begins a rewrite: the batch is written and a new incr file
// started (state 1). wake is called from the goroutine when the base is
// written, so that the owner's loop notices Done without polling.
func (w *Writer) StartRewrite(wake func()) (*Rewrite, error) {
	if w.pendingIncr == nil {
		if err := w.switchIncr(); err != nil {
			return nil, err
		}
	} else if err := w.Flush(); err != nil {
		return nil, err
	}
	return w.newRewrite(wake, len(w.man.Incrs)-1)
}

// newRewrite starts the base writer of a rewrite whose incr files from
// startAt on (in the manifest's Incrs) stay after the commit.
func (w *Writer) newRewrite(wake func(), startAt int) (*Rewrite, error) {
	seq := int64(1)
	if w.man.Base != nil {
		seq = w.man.Base.Seq + 1
	}
	for _, h := range w.man.History {
		if h.Type == TypeBase && h.Seq >= seq {
			seq = h.Seq + 1
		}
	}
	r := &Rewrite{
		w:       w,
		tmpPath: filepath.Join(w.opt.Dir, "temp-rewriteaof-bg-"+strconv.Itoa(os.Getpid())+".aof"),
		seq:     seq,
		startAt: startAt,
		ch:      make(chan []byte, rewriteChunksMax),
		free:    make(chan []byte, rewriteChunksMax+1),
		done:    make(chan struct{}),
		wake:    wake,
	}
	f, err := os.OpenFile(r.tmpPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	go r.run(f)
	return r, nil
}

func (r *Rewrite) run(f *os.File) {
	defer close(r.done)
	defer func() {
		if r.wake != nil {
			r.wake()
		}
	}()
	var err error
	for b := range r.ch {
		if err == nil {
			if err = injected(r.w.opt.Fault, OpRewrite); err == nil {
				_, err = f.Write(b)
			}
		}
		select {
		case r.free <- b[:0]:
		default:
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(r.tmpPath, filepath.Join(r.w.opt.Dir, baseName(r.w.opt.Filename, r.seq)))
	}
	if err == nil {
		err = syncDir(r.w.opt.Dir)
	}
	if err != nil {
		os.Remove(r.tmpPath)
	}
	r.err = err
}

// Buf is the chunk being filled; append to it and hand it back with Put.
func (r *Rewrite) Buf() []byte { return r.buf }

// Put takes the chunk back; a full chunk goes to the writer goroutine.
func (r *Rewrite) Put(b []byte) {
	r.buf = b
	if len(r.buf) >= rewriteChunkBytes && len(r.ch) < cap(r.ch) {
		r.send()
	}
}

func (r *Rewrite) send() {
	r.bytes += int64(len(r.buf))
	r.ch <- r.buf // Room said there is space: never blocks
	select {
	case b := <-r.free:
		r.buf = b
	default:
		r.buf = make([]byte, 0, rewriteChunkBytes+rewriteChunkBytes/4)
	}
}

// Room says whether the owner may fill another chunk without the writer
// falling behind by more than rewriteChunksMax chunks.
func (r *Rewrite) Room() bool { return len(r.ch) < cap(r.ch)-1 }

// Finish hands over the last chunk: the base is complete.
func (r *Rewrite) Finish() {
	if len(r.buf) > 0 {
		r.bytes += int64(len(r.buf))
		r.ch <- r.buf
		r.buf = nil
	}
	close(r.ch)
}

// Done reports whether the base is written (or failed: Err).
func (r *Rewrite) Done() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Err is the base writer's error, once Done.
func (r *Rewrite) Err() error { return r.err }

// Bytes is the size of the base handed over so far.
func (r *Rewrite) Bytes() int64 { return r.bytes }

// Abort stops a rewrite that has not been committed; the incr file started
// at StartRewrite stays (it is in the manifest and holds writes).
func (r *Rewrite) Abort() {
	select {
	case <-r.done:
	default:
		if r.ch != nil {
			func() {
				defer func() { recover() }() // already closed by Finish
				close(r.ch)
			}()
		}
		<-r.done
	}
	os.Remove(r.tmpPath)
	os.Remove(filepath.Join(r.w.opt.Dir, baseName(r.w.opt.Filename, r.seq)))
}

// CommitRewrite switches the manifest to the new base and the incr files
// since the rewrite began (state 3), then deletes the old files.
func (w *Writer) CommitRewrite(r *Rewrite) error {
	if r.err != nil {
		return r.err
	}
	m := w.man.clone()
	if w.pendingIncr != nil {
		r.startAt = len(m.Incrs)
		m.Incrs = append(m.Incrs, *w.pendingIncr)
	}
	hist := append([]FileInfo(nil), m.History...)
	if m.Base != nil {
		hist = append(hist, FileInfo{Name: m.Base.Name, Seq: m.Base.Seq, Type: TypeHistory})
	}
	for _, fi := range m.Incrs[:r.startAt] {
		hist = append(hist, FileInfo{Name: fi.Name, Seq: fi.Seq, Type: TypeHistory})
	}
	m.Base = &FileInfo{Name: baseName(w.opt.Filename, r.seq), Seq: r.seq, Type: TypeBase}
	m.Incrs = append([]FileInfo(nil), m.Incrs[r.startAt:]...)
	m.History = hist
	if err := writeManifest(w.opt.Dir, w.opt.Filename, m, w.opt.Fault); err != nil {
		os.Remove(filepath.Join(w.opt.Dir, m.Base.Name))
		return err
	}
	w.man = m
	w.pendingIncr = nil
	w.totalSize = 0
	for _, f := range m.Files() {
		if st, err := os.Stat(filepath.Join(w.opt.Dir, f.Name)); err == nil {
			w.totalSize += st.Size()
		}
	}
	w.baseSize = w.totalSize
	w.deleteHistory()
	return nil
}

// deleteHistory removes the history files and drops them from the
// manifest. A crash in between leaves history lines naming missing files,
// which are ignored and dropped next time.
func (w *Writer) deleteHistory() {
	if len(w.man.History) == 0 {
		return
	}
	for _, h := range w.man.History {
		os.Remove(filepath.Join(w.opt.Dir, h.Name))
	}
	m := w.man.clone()
	m.History = nil
	if err := writeManifest(w.opt.Dir, w.opt.Filename, m, nil); err == nil {
		w.man = m
	}
}

// removeStaleTemps deletes temp files a crash left behind.
func removeStaleTemps(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "temp-rewriteaof-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
