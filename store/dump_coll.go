package store

import "github.com/ringkv/ringkv/conn/resp"

// AOF rewrite serialisers of the collection kinds, as Redis's
// rewriteListObject, rewriteHashObject, rewriteSetObject and
// rewriteSortedSetObject write them: RPUSH, HSET, SADD and ZADD commands of
// at most dumpItemsPerCmd items each, so that a large value never becomes
// one huge command for the loader. Scores are written as %.17g, which reads
// back to the same float64.
func init() {
	dumpKinds[KindList] = dumpList
	dumpKinds[KindHash] = dumpHash
	dumpKinds[KindSet] = dumpSet
	dumpKinds[KindZSet] = dumpZset
}

var (
	dumpRpushWord = []byte("RPUSH")
	dumpHsetWord  = []byte("HSET")
	dumpSaddWord  = []byte("SADD")
	dumpZaddWord  = []byte("ZADD")
)

// dumpChunk tracks how many items are left for the current command and in
// all: begin starts a new command when the current one is full.
type dumpChunk struct {
	left, inCmd int
}

// begin appends the header of a new command (word key, then per items of
// width bulks each) when the previous one is full, and counts one item.
func (ch *dumpChunk) begin(dst []byte, word, key []byte, width int) []byte {
	if ch.inCmd == 0 {
		ch.inCmd = min(ch.left, dumpItemsPerCmd)
		dst = resp.AppendArrayLen(dst, 2+width*ch.inCmd)
		dst = resp.AppendBulk(dst, word)
		dst = resp.AppendBulk(dst, key)
	}
	ch.inCmd--
	ch.left--
	return dst
}

// start counts the items of a value the first time its dump is called.
func (p *dumpProgress) start(n int) {
	if !p.started {
		p.ch.left, p.started = n, true
	}
}

// stop says a resumable dump may end here: at a command boundary, once dst
// has reached stopAt.
func (p *dumpProgress) stop(dst []byte, stopAt int) bool {
	return p.ch.inCmd == 0 && len(dst) >= stopAt
}

func dumpList(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, stopAt int) []byte {
	l := t.Obj(id).(*list)
	p.start(l.Len())
	for ; p.pos < l.Len(); p.pos++ {
		if p.stop(dst, stopAt) {
			return dst
		}
		dst = p.ch.begin(dst, dumpRpushWord, key, 1)
		dst = resp.AppendBulk(dst, l.At(p.pos))
	}
	p.done = true
	return dst
}

// dumpDict walks a dict's records from p.pos on, width bulks per record
// (the key, and the value when width is 2).
func dumpDict(dst []byte, d *dict, word, key []byte, width int, p *dumpProgress, stopAt int) []byte {
	for ; p.pos < d.IDs(); p.pos++ {
		id := uint32(p.pos)
		if !d.Live(id) {
			continue
		}
		if p.stop(dst, stopAt) {
			return dst
		}
		dst = p.ch.begin(dst, word, key, width)
		dst = resp.AppendBulk(dst, d.Key(id))
		if width == 2 {
			dst = resp.AppendBulk(dst, d.Val(id))
		}
	}
	p.done = true
	return dst
}

// The small forms (at most a few hundred items) are dumped whole.

func dumpHash(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, stopAt int) []byte {
	h := t.Obj(id).(*hash)
	p.start(h.Len())
	if h.d != nil {
		return dumpDict(dst, h.d, dumpHsetWord, key, 2, p, stopAt)
	}
	h.ForEach(func(f, v []byte) bool {
		dst = p.ch.begin(dst, dumpHsetWord, key, 2)
		dst = resp.AppendBulk(dst, f)
		dst = resp.AppendBulk(dst, v)
		return true
	})
	p.done = true
	return dst
}

func dumpSet(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, stopAt int) []byte {
	st := t.Obj(id).(*set)
	p.start(st.Len())
	if st.d != nil {
		return dumpDict(dst, st.d, dumpSaddWord, key, 1, p, stopAt)
	}
	st.ForEach(func(m []byte) bool {
		dst = p.ch.begin(dst, dumpSaddWord, key, 1)
		dst = resp.AppendBulk(dst, m)
		return true
	})
	p.done = true
	return dst
}

// dumpZset writes ZADD commands in rank order, one command of
// dumpItemsPerCmd ranks at a time.
func dumpZset(dst []byte, t *Table, id uint32, key []byte, p *dumpProgress, stopAt int) []byte {
	z := t.Obj(id).(*zset)
	n := z.Len()
	p.start(n)
	var tmp [32]byte
	for p.pos < n {
		if p.stop(dst, stopAt) {
			return dst
		}
		end := min(p.pos+dumpItemsPerCmd, n)
		z.Range(p.pos, end-1, false, func(m []byte, score float64) bool {
			dst = p.ch.begin(dst, dumpZaddWord, key, 2)
			dst = resp.AppendBulk(dst, resp.FormatDouble(tmp[:0], score))
			dst = resp.AppendBulk(dst, m)
			return true
		})
		p.pos = end
	}
	p.done = true
	return dst
}
