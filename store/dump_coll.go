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

func dumpList(dst []byte, t *Table, id uint32, key []byte) []byte {
	l := t.Obj(id).(*list)
	ch := dumpChunk{left: l.Len()}
	for i := range l.Len() {
		dst = ch.begin(dst, dumpRpushWord, key, 1)
		dst = resp.AppendBulk(dst, l.At(i))
	}
	return dst
}

func dumpHash(dst []byte, t *Table, id uint32, key []byte) []byte {
	h := t.Obj(id).(*hash)
	ch := dumpChunk{left: h.Len()}
	h.ForEach(func(f, v []byte) bool {
		dst = ch.begin(dst, dumpHsetWord, key, 2)
		dst = resp.AppendBulk(dst, f)
		dst = resp.AppendBulk(dst, v)
		return true
	})
	return dst
}

func dumpSet(dst []byte, t *Table, id uint32, key []byte) []byte {
	st := t.Obj(id).(*set)
	ch := dumpChunk{left: st.Len()}
	st.ForEach(func(m []byte) bool {
		dst = ch.begin(dst, dumpSaddWord, key, 1)
		dst = resp.AppendBulk(dst, m)
		return true
	})
	return dst
}

func dumpZset(dst []byte, t *Table, id uint32, key []byte) []byte {
	z := t.Obj(id).(*zset)
	n := z.Len()
	if n == 0 {
		return dst
	}
	ch := dumpChunk{left: n}
	var tmp [32]byte
	z.Range(0, n-1, false, func(m []byte, score float64) bool {
		dst = ch.begin(dst, dumpZaddWord, key, 2)
		dst = resp.AppendBulk(dst, resp.FormatDouble(tmp[:0], score))
		dst = resp.AppendBulk(dst, m)
		return true
	})
	return dst
}
