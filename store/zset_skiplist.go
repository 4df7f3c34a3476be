package store

import (
	"bytes"
	"math/rand/v2"
)

// zskiplist is the ordered half of a large sorted set: Redis's skip list
// (t_zset.c), with spans so that rank is O(log n), but laid out without
// pointers. Nodes live in one slice and are named by index (0 is the header,
// and 0 as a link means none); each node's forward links are a run of
// levels in another slice. A member is a record id in the zset's dict,
// which holds the member bytes once for both halves. nodes and levels are
// in the dict's maps once large (collmem.go).
type zskiplist struct {
	nodes      []zslNode
	levels     []zslLevel
	freeNodes  []uint32
	freeLevels [zslMaxLevel + 1][]uint32 // runs of levels by length
	tail       uint32
	length     int
	level      int
	d          *dict
}

type zslNode struct {
	score float64
	rec   uint32 // member: d.Key(rec)
	back  uint32 // previous node; 0 for the first
	lv    uint32 // index of this node's first level in levels
	n     uint8  // number of levels
}

type zslLevel struct{ next, span uint32 }

const (
	zslMaxLevel   = 32
	zslPThreshold = 0x4000 // ZSKIPLIST_P = 0.25 of 0xffff, as Redis compares it
)

func newSkiplist(d *dict) *zskiplist {
	z := &zskiplist{d: d, level: 1}
	z.nodes = append(z.nodes, zslNode{lv: 0, n: zslMaxLevel})
	z.levels = make([]zslLevel, zslMaxLevel)
	return z
}

func (z *zskiplist) lvl(x uint32, i int) *zslLevel { return &z.levels[z.nodes[x].lv+uint32(i)] }
func (z *zskiplist) next(x uint32, i int) uint32   { return z.levels[z.nodes[x].lv+uint32(i)].next }
func (z *zskiplist) member(x uint32) []byte        { return z.d.Key(z.nodes[x].rec) }

// before reports whether node x sorts before (score, member).
func (z *zskiplist) before(x uint32, score float64, member []byte) bool {
	n := &z.nodes[x]
	return n.score < score || (n.score == score && bytes.Compare(z.d.Key(n.rec), member) < 0)
}

func zslRandomLevel(rnd *rand.Rand) int {
	l := 1
	for l < zslMaxLevel && rnd.Uint32()&0xffff < zslPThreshold {
		l++
	}
	return l
}

func (z *zskiplist) newNode(n int, score float64, rec uint32) uint32 {
	var lv uint32
	if k := len(z.freeLevels[n]); k > 0 {
		lv = z.freeLevels[n][k-1]
		z.freeLevels[n] = z.freeLevels[n][:k-1]
		clear(z.levels[lv : lv+uint32(n)])
	} else {
		lv = uint32(len(z.levels))
		// The arrays grow as collGrow places them (collmem.go); the new
		// levels are cleared, as what lies past len may be old.
		z.levels = collGrow(z.d.maps, z.levels, n)[:int(lv)+n]
		clear(z.levels[lv:])
	}
	node := zslNode{score: score, rec: rec, lv: lv, n: uint8(n)}
	if k := len(z.freeNodes); k > 0 {
		x := z.freeNodes[k-1]
		z.freeNodes = z.freeNodes[:k-1]
		z.nodes[x] = node
		return x
	}
	z.nodes = append(collGrow(z.d.maps, z.nodes, 1), node)
	return uint32(len(z.nodes) - 1)
}

func (z *zskiplist) freeNode(x uint32) {
	n := &z.nodes[x]
	z.freeLevels[n.n] = append(z.freeLevels[n.n], n.lv)
	*n = zslNode{}
	z.freeNodes = append(z.freeNodes, x)
}

// Insert adds (score, rec), which must not be present.
func (z *zskiplist) Insert(rnd *rand.Rand, score float64, rec uint32) {
	member := z.d.Key(rec)
	var update [zslMaxLevel]uint32
	var rank [zslMaxLevel]uint32
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		if i != z.level-1 {
			rank[i] = rank[i+1]
		}
		for nx := z.next(x, i); nx != 0 && z.before(nx, score, member); nx = z.next(x, i) {
			rank[i] += z.lvl(x, i).span
			x = nx
		}
		update[i] = x
	}
	level := zslRandomLevel(rnd)
	if level > z.level {
		for i := z.level; i < level; i++ {
			rank[i] = 0
			update[i] = 0
			z.lvl(0, i).span = uint32(z.length)
		}
		z.level = level
	}
	x = z.newNode(level, score, rec)
	for i := 0; i < level; i++ {
		u := z.lvl(update[i], i)
		xl := z.lvl(x, i)
		xl.next = u.next
		u.next = x
		xl.span = u.span - (rank[0] - rank[i])
		u.span = rank[0] - rank[i] + 1
	}
	for i := level; i < z.level; i++ {
		z.lvl(update[i], i).span++
	}
	z.nodes[x].back = update[0]
	if nx := z.next(x, 0); nx != 0 {
		z.nodes[nx].back = x
	} else {
		z.tail = x
	}
	z.length++
}

// Delete removes (score, member) and returns its record id.
func (z *zskiplist) Delete(score float64, member []byte) (uint32, bool) {
	var update [zslMaxLevel]uint32
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		for nx := z.next(x, i); nx != 0 && z.before(nx, score, member); nx = z.next(x, i) {
			x = nx
		}
		update[i] = x
	}
	x = z.next(x, 0)
	if x == 0 || z.nodes[x].score != score || !bytes.Equal(z.member(x), member) {
		return 0, false
	}
	z.unlink(x, &update)
	rec := z.nodes[x].rec
	z.freeNode(x)
	return rec, true
}

// UpdateScore changes the score of record rec, present with score old, to
// score. As Redis's zslUpdateScore: when the node keeps its place between
// its neighbours only the score changes; otherwise it is unlinked and
// inserted again (its node and levels are reused from the free lists).
func (z *zskiplist) UpdateScore(rnd *rand.Rand, old float64, rec uint32, score float64) {
	member := z.d.Key(rec)
	var update [zslMaxLevel]uint32
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		for nx := z.next(x, i); nx != 0 && z.before(nx, old, member); nx = z.next(x, i) {
			x = nx
		}
		update[i] = x
	}
	x = z.next(x, 0)
	if x == 0 || z.nodes[x].rec != rec {
		panic("BUG: zskiplist UpdateScore of a missing node")
	}
	back, fwd := z.nodes[x].back, z.next(x, 0)
	if (back == 0 || z.nodes[back].score < score) && (fwd == 0 || z.nodes[fwd].score > score) {
		z.nodes[x].score = score
		return
	}
	z.unlink(x, &update)
	z.freeNode(x)
	z.Insert(rnd, score, rec)
}

// unlink takes node x out of every level; update[i] is its predecessor at
// level i (or the last node before it there).
func (z *zskiplist) unlink(x uint32, update *[zslMaxLevel]uint32) {
	for i := 0; i < z.level; i++ {
		u := z.lvl(update[i], i)
		if u.next == x {
			xl := z.lvl(x, i)
			u.span += xl.span - 1
			u.next = xl.next
		} else {
			u.span--
		}
	}
	if nx := z.next(x, 0); nx != 0 {
		z.nodes[nx].back = z.nodes[x].back
	} else {
		z.tail = z.nodes[x].back
	}
	for z.level > 1 && z.next(0, z.level-1) == 0 {
		z.level--
	}
	z.length--
}

// Rank returns the 0-based rank of (score, member), which must be present.
func (z *zskiplist) Rank(score float64, member []byte) int {
	rank := 0
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		for nx := z.next(x, i); nx != 0 && z.before(nx, score, member); nx = z.next(x, i) {
			rank += int(z.lvl(x, i).span)
			x = nx
		}
	}
	return rank
}

// ByRank returns the node at 0-based rank r < length.
func (z *zskiplist) ByRank(r int) uint32 {
	want := uint32(r + 1)
	var traversed uint32
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		for nx := z.next(x, i); nx != 0 && traversed+z.lvl(x, i).span <= want; nx = z.next(x, i) {
			traversed += z.lvl(x, i).span
			x = nx
		}
		if traversed == want {
			return x
		}
	}
	panic("BUG: zskiplist rank out of range")
}

// CountWhile returns how many leading elements satisfy pred, which must be
// true on a prefix of the order and false after it.
func (z *zskiplist) CountWhile(pred func(score float64, member []byte) bool) int {
	rank := 0
	x := uint32(0)
	for i := z.level - 1; i >= 0; i-- {
		for nx := z.next(x, i); nx != 0 && pred(z.nodes[nx].score, z.member(nx)); nx = z.next(x, i) {
			rank += int(z.lvl(x, i).span)
			x = nx
		}
	}
	return rank
}
