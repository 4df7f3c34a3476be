package store

import (
	"encoding/binary"
	"math/rand/v2"
)

// Redis 7.0's defaults for the small (listpack) form of a hash: at most
// HashMaxListpackEntries fields, none of whose field or value is longer than
// HashMaxListpackValue bytes. CONFIG exposes them as hash-max-listpack-
// entries and hash-max-listpack-value (and the -ziplist- aliases).
var (
	HashMaxListpackEntries = 512
	HashMaxListpackValue   = 64
)

// hash is a hash value. While small it is a packed byte string of
// alternating fields and values, each [uvarint len][bytes], in insertion
// order (Redis's listpack: HGETALL of a small hash lists fields in the order
// they were first set); past the thresholds it becomes a dict, for good.
type hash struct {
	lp []byte
	n  int // fields in lp
	collDict
}

func (h *hash) Len() int {
	if h.d != nil {
		return h.d.Len()
	}
	return h.n
}

// lpNext decodes the entry at off and returns it and the next offset.
func lpNext(lp []byte, off int) ([]byte, int) {
	l, n := binary.Uvarint(lp[off:])
	s := off + n
	e := s + int(l)
	return lp[s:e:e], e
}

// lpFind returns the offsets of field's entry and of its value entry.
func (h *hash) lpFind(field []byte) (fieldOff, valOff int, ok bool) {
	for off := 0; off < len(h.lp); {
		f, vo := lpNext(h.lp, off)
		_, next := lpNext(h.lp, vo)
		if string(f) == string(field) {
			return off, vo, true
		}
		off = next
	}
	return 0, 0, false
}

// Get returns a view of field's value.
func (h *hash) Get(field []byte) ([]byte, bool) {
	if h.d != nil {
		id, ok := h.d.Find(field)
		if !ok {
			return nil, false
		}
		return h.d.Val(id), true
	}
	_, vo, ok := h.lpFind(field)
	if !ok {
		return nil, false
	}
	v, _ := lpNext(h.lp, vo)
	return v, true
}

// Set stores val under field and reports whether the field is new.
func (h *hash) Set(field, val []byte) bool {
	if h.d == nil && (len(field) > HashMaxListpackValue || len(val) > HashMaxListpackValue) {
		h.convert()
	}
	if h.d != nil {
		_, added := h.d.Set(field, val)
		return added
	}
	if _, vo, ok := h.lpFind(field); ok {
		_, end := lpNext(h.lp, vo)
		var enc [binary.MaxVarintLen64]byte
		rep := binary.AppendUvarint(enc[:0], uint64(len(val)))
		h.lp = splice(h.lp, vo, end, rep, val)
		return false
	}
	if h.n+1 > HashMaxListpackEntries {
		h.convert()
		h.d.Add(field, val)
		return true
	}
	h.lp = binary.AppendUvarint(h.lp, uint64(len(field)))
	h.lp = append(h.lp, field...)
	h.lp = binary.AppendUvarint(h.lp, uint64(len(val)))
	h.lp = append(h.lp, val...)
	h.n++
	return true
}

// splice replaces b[from:to] with the concatenation of parts.
func splice(b []byte, from, to int, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	tail := len(b) - to
	size := from + n + tail
	if size > cap(b) {
		nb := make([]byte, size, size+size/4)
		copy(nb, b[:from])
		copy(nb[from+n:], b[to:])
		b = nb
	} else {
		old := len(b)
		b = b[:max(size, old)]
		copy(b[from+n:], b[to:old])
		b = b[:size]
	}
	for _, p := range parts {
		from += copy(b[from:], p)
	}
	return b
}

// Delete removes field and reports whether it was there.
func (h *hash) Delete(field []byte) bool {
	if h.d != nil {
		return h.d.DeleteKey(field)
	}
	fo, vo, ok := h.lpFind(field)
	if !ok {
		return false
	}
	_, end := lpNext(h.lp, vo)
	h.lp = append(h.lp[:fo], h.lp[end:]...)
	h.n--
	return true
}

func (h *hash) convert() {
	d := newDict(h.n + 1)
	h.ForEach(func(f, v []byte) bool { d.Add(f, v); return true })
	h.large(d)
	h.lp, h.n = nil, 0
}

// ForEach calls fn for each field in order until it returns false.
func (h *hash) ForEach(fn func(field, val []byte) bool) {
	if h.d != nil {
		for id := range uint32(h.d.IDs()) {
			if h.d.Live(id) {
				k, v := h.d.record(h.d.recs[id])
				if !fn(k, v) {
					return
				}
			}
		}
		return
	}
	for off := 0; off < len(h.lp); {
		f, vo := lpNext(h.lp, off)
		v, next := lpNext(h.lp, vo)
		if !fn(f, v) {
			return
		}
		off = next
	}
}

// At returns the i-th field and value of a small hash (for HRANDFIELD).
func (h *hash) at(i int) (field, val []byte) {
	off := 0
	for ; i > 0; i-- {
		_, vo := lpNext(h.lp, off)
		_, off = lpNext(h.lp, vo)
	}
	f, vo := lpNext(h.lp, off)
	v, _ := lpNext(h.lp, vo)
	return f, v
}

// Random returns a random field and value; h must not be empty.
func (h *hash) Random(rnd *rand.Rand) (field, val []byte) {
	if h.d != nil {
		id := h.d.Random(rnd)
		return h.d.record(h.d.recs[id])
	}
	return h.at(rnd.IntN(h.n))
}

func (h *hash) encoding() string {
	if h.d != nil {
		return "hashtable"
	}
	return "listpack"
}
