package aof

import (
	"errors"
	"os"
)

// StartOffRewrite begins a rewrite while appendonly is no: BGREWRITEAOF
// then writes the keyspace as a new base, as Redis 7.0 does. There is no
// incr file to switch to and no writer: the directory (created if missing)
// is only read for its manifest until CommitOff, which makes the new base
// the whole AOF (the old base and every incr file become history and are
// deleted; a later appendonly yes starts its incr file after it). Writes
// made during the walk are in no file, as they are in none in Redis.
func StartOffRewrite(opt Options, wake func()) (*Rewrite, error) {
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	m, err := ReadManifest(opt.Dir, opt.Filename)
	switch {
	case errors.Is(err, os.ErrNotExist):
		m = &Manifest{}
	case err != nil:
		return nil, err
	}
	removeStaleTemps(opt.Dir)
	w := &Writer{opt: opt, man: m} // no file: nothing is appended while appendonly is no
	return w.newRewrite(wake, len(m.Incrs))
}

// CommitOff commits a rewrite StartOffRewrite began, once Done.
func (r *Rewrite) CommitOff() error {
	if r.w.f != nil {
		panic("BUG: CommitOff of a rewrite of an open AOF")
	}
	return r.w.CommitRewrite(r)
}
