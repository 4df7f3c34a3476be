package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"unsafe"
)

// Redis 7.0's defaults for the small (listpack) form of a sorted set.
// CONFIG exposes them as zset-max-listpack-entries and zset-max-listpack-
// value (and the -ziplist- aliases).
var (
	ZsetMaxListpackEntries = 128
	ZsetMaxListpackValue   = 64
)

// zset is a sorted set value. Small: a slice sorted by (score, member), as
// Redis's listpack form keeps it. Large: a dict from member to its score (8
// bytes, little-endian float64 bits) plus a skip list ordered by (score,
// member) whose nodes name members by dict record id. Like Redis 7.0, a set
// converts to the large form past the thresholds and never back; a new set
// (ZUNIONSTORE, ZRANGESTORE ...) is created in the form its size calls for.
//
// Ranks are 0-based. Every range query is reduced to ranks: CountWhile with
// a monotone predicate gives the rank of a score or lex bound in O(log n).
type zset struct {
	small []zsetEntry
	collDict
	zsl *zskiplist
}

type zsetEntry struct {
	member string
	score  float64
}

// bytes is a read-only view of the member's bytes, without the copy a
// []byte conversion makes: range replies and comparisons walk small sets
// entry by entry, and a copy per entry was an allocation per element.
// Nothing may write through it.
func (e *zsetEntry) bytes() []byte { return unsafe.Slice(unsafe.StringData(e.member), len(e.member)) }

func newZset(hint, maxLen int) *zset {
	if hint > ZsetMaxListpackEntries || maxLen > ZsetMaxListpackValue {
		d := newDict(hint)
		return &zset{collDict: collDict{d: d}, zsl: newSkiplist(d)}
	}
	return &zset{}
}

func (z *zset) Len() int {
	if z.d != nil {
		return z.d.Len()
	}
	return len(z.small)
}

func (z *zset) encoding() string {
	if z.d != nil {
		return "skiplist"
	}
	return "listpack"
}

func (z *zset) smallFind(member []byte) int {
	for i := range z.small {
		if z.small[i].member == string(member) {
			return i
		}
	}
	return -1
}

// Score returns member's score.
func (z *zset) Score(member []byte) (float64, bool) {
	if z.d != nil {
		id, ok := z.d.Find(member)
		if !ok {
			return 0, false
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(z.d.Val(id))), true
	}
	if i := z.smallFind(member); i >= 0 {
		return z.small[i].score, true
	}
	return 0, false
}

func zsetLess(s1 float64, m1 []byte, s2 float64, m2 []byte) bool {
	return s1 < s2 || (s1 == s2 && bytes.Compare(m1, m2) < 0)
}

// Insert adds member, which must not be present.
func (z *zset) Insert(rnd *rand.Rand, member []byte, score float64) {
	if z.d == nil && (len(z.small)+1 > ZsetMaxListpackEntries || len(member) > ZsetMaxListpackValue) {
		z.convert(rnd)
	}
	if z.d != nil {
		var v [8]byte
		binary.LittleEndian.PutUint64(v[:], math.Float64bits(score))
		id := z.d.Add(member, v[:])
		z.zsl.Insert(rnd, score, id)
		return
	}
	if score == 0 {
		score = 0 // listpack stores -0 as the integer 0
	}
	i := sort.Search(len(z.small), func(i int) bool {
		e := &z.small[i]
		return !zsetLess(e.score, e.bytes(), score, member)
	})
	z.small = append(z.small, zsetEntry{})
	copy(z.small[i+1:], z.small[i:])
	z.small[i] = zsetEntry{member: string(member), score: score}
}

func (z *zset) convert(rnd *rand.Rand) {
	d := newDict(len(z.small) + 1)
	zsl := newSkiplist(d)
	var v [8]byte
	for _, e := range z.small {
		binary.LittleEndian.PutUint64(v[:], math.Float64bits(e.score))
		zsl.Insert(rnd, e.score, d.Add(e.bytes(), v[:]))
	}
	z.large(d)
	z.small, z.zsl = nil, zsl
}

// Delete removes member and reports whether it was there.
func (z *zset) Delete(member []byte) bool {
	if z.d != nil {
		id, ok := z.d.Find(member)
		if !ok {
			return false
		}
		score := math.Float64frombits(binary.LittleEndian.Uint64(z.d.Val(id)))
		if _, ok := z.zsl.Delete(score, member); !ok {
			panic("BUG: zset member missing from the skip list")
		}
		z.d.Delete(id)
		return true
	}
	i := z.smallFind(member)
	if i < 0 {
		return false
	}
	z.small = append(z.small[:i], z.small[i+1:]...)
	return true
}

// PopEnd removes the member with the lowest score (min) or the highest,
// appends its bytes to dst and returns them with its score; z must not be
// empty. Unlike Delete it needs no lookup by member: the skip list's end
// node names the dict record to drop.
func (z *zset) PopEnd(min bool, dst []byte) ([]byte, float64) {
	if z.d == nil {
		i := 0
		if !min {
			i = len(z.small) - 1
		}
		e := z.small[i]
		dst = append(dst, e.member...)
		z.small = append(z.small[:i], z.small[i+1:]...)
		return dst, e.score
	}
	x := z.zsl.tail
	if min {
		x = z.zsl.next(0, 0)
	}
	n := z.zsl.nodes[x]
	start := len(dst)
	dst = append(dst, z.d.Key(n.rec)...)
	if _, ok := z.zsl.Delete(n.score, dst[start:]); !ok {
		panic("BUG: zset end node missing from the skip list")
	}
	z.d.Delete(n.rec)
	return dst, n.score
}

// Update changes the score of a present member.
func (z *zset) Update(rnd *rand.Rand, member []byte, score float64) {
	if z.d != nil {
		// In place when the order does not change (Redis's zslUpdateScore);
		// otherwise the node moves, and the member's record stays.
		id, ok := z.d.Find(member)
		if !ok {
			panic("BUG: zset Update of a missing member")
		}
		v := z.d.Val(id)
		z.zsl.UpdateScore(rnd, math.Float64frombits(binary.LittleEndian.Uint64(v)), id, score)
		binary.LittleEndian.PutUint64(v, math.Float64bits(score))
		return
	}
	// The entry moves to its new place keeping its member string.
	i := z.smallFind(member)
	if i < 0 {
		panic("BUG: zset Update of a missing member")
	}
	e := z.small[i]
	if score == 0 {
		score = 0 // listpack stores -0 as the integer 0
	}
	e.score = score
	z.small = append(z.small[:i], z.small[i+1:]...)
	j := sort.Search(len(z.small), func(j int) bool {
		o := &z.small[j]
		return !zsetLess(o.score, o.bytes(), score, member)
	})
	z.small = slices.Insert(z.small, j, e)
}

// Rank returns member's 0-based rank in ascending order.
func (z *zset) Rank(member []byte) (int, bool) {
	score, ok := z.Score(member)
	if !ok {
		return 0, false
	}
	if z.d != nil {
		return z.zsl.Rank(score, member), true
	}
	return z.smallFind(member), true
}

// Range calls fn for ranks start..end (inclusive, 0 <= start <= end <
// Len), ascending, or descending from end to start when rev, until fn
// returns false. Members are views valid until the set changes.
func (z *zset) Range(start, end int, rev bool, fn func(member []byte, score float64) bool) {
	if z.d == nil {
		if rev {
			for i := end; i >= start; i-- {
				if !fn(z.small[i].bytes(), z.small[i].score) {
					return
				}
			}
			return
		}
		for i := start; i <= end; i++ {
			if !fn(z.small[i].bytes(), z.small[i].score) {
				return
			}
		}
		return
	}
	r := start
	if rev {
		r = end
	}
	x := z.zsl.ByRank(r)
	for n := end - start + 1; n > 0 && x != 0; n-- {
		if !fn(z.zsl.member(x), z.zsl.nodes[x].score) {
			return
		}
		if rev {
			x = z.zsl.nodes[x].back
		} else {
			x = z.zsl.next(x, 0)
		}
	}
}

// CountWhile returns how many leading elements (ascending) satisfy pred,
// which must hold on a prefix of the order and not after it.
func (z *zset) CountWhile(pred func(score float64, member []byte) bool) int {
	if z.d != nil {
		return z.zsl.CountWhile(pred)
	}
	return sort.Search(len(z.small), func(i int) bool {
		return !pred(z.small[i].score, z.small[i].bytes())
	})
}

// At returns the element at rank r.
func (z *zset) At(r int) (member []byte, score float64) {
	z.Range(r, r, false, func(m []byte, s float64) bool { member, score = m, s; return false })
	return member, score
}
