package store

import (
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// SetMaxIntsetEntries is Redis's set-max-intset-entries: a set of integers
// only stays an intset up to this many members. CONFIG exposes it.
var SetMaxIntsetEntries = 512

// set is a set value: an intset (a sorted []int64) while every member is a
// string2ll integer and there are at most SetMaxIntsetEntries of them, then
// a dict with empty values, for good (Redis 7.0 has no listpack sets).
type set struct {
	ints []int64
	collDict
}

func newSet(hint int, allInts bool) *set {
	if !allInts || hint > SetMaxIntsetEntries {
		return &set{collDict: collDict{d: newDict(hint)}}
	}
	return &set{}
}

func (s *set) Len() int {
	if s.d != nil {
		return s.d.Len()
	}
	return len(s.ints)
}

func (s *set) encoding() string {
	if s.d != nil {
		return "hashtable"
	}
	return "intset"
}

func (s *set) Has(m []byte) bool {
	if s.d != nil {
		_, ok := s.d.Find(m)
		return ok
	}
	v, ok := resp.ParseInt(m)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, v)
	return found
}

// Add adds m and reports whether it is new.
func (s *set) Add(m []byte) bool {
	if s.d == nil {
		v, ok := resp.ParseInt(m)
		if ok {
			i, found := slices.BinarySearch(s.ints, v)
			if found {
				return false
			}
			if len(s.ints) < SetMaxIntsetEntries {
				s.ints = slices.Insert(s.ints, i, v)
				return true
			}
		}
		s.convert()
	}
	if _, ok := s.d.Find(m); ok {
		return false
	}
	s.d.Add(m, nil)
	return true
}

func (s *set) convert() {
	d := newDict(len(s.ints) + 1)
	var tmp [20]byte
	for _, v := range s.ints {
		d.Add(strconv.AppendInt(tmp[:0], v, 10), nil)
	}
	s.large(d)
	s.ints = nil
}

// Remove removes m and reports whether it was there.
func (s *set) Remove(m []byte) bool {
	if s.d != nil {
		return s.d.DeleteKey(m)
	}
	v, ok := resp.ParseInt(m)
	if !ok {
		return false
	}
	i, found := slices.BinarySearch(s.ints, v)
	if found {
		s.ints = slices.Delete(s.ints, i, i+1)
	}
	return found
}

// ForEach calls fn with each member (intsets in ascending order) until it
// returns false. tmp is scratch for formatting integers.
func (s *set) ForEach(fn func(m []byte) bool) {
	if s.d != nil {
		for id := range uint32(s.d.IDs()) {
			if s.d.Live(id) && !fn(s.d.Key(id)) {
				return
			}
		}
		return
	}
	var tmp [20]byte
	for _, v := range s.ints {
		if !fn(strconv.AppendInt(tmp[:0], v, 10)) {
			return
		}
	}
}

// Random returns a random member, formatted into tmp for an intset.
func (s *set) Random(rnd *rand.Rand, tmp []byte) []byte {
	if s.d != nil {
		return s.d.Key(s.d.Random(rnd))
	}
	return strconv.AppendInt(tmp[:0], s.ints[rnd.IntN(len(s.ints))], 10)
}

// PopRandom removes a random member and appends it to dst; s must not be
// empty. A large set's member is dropped by its record id, without a
// lookup by member.
func (s *set) PopRandom(rnd *rand.Rand, dst []byte) []byte {
	if s.d != nil {
		id := s.d.Random(rnd)
		dst = append(dst, s.d.Key(id)...)
		s.d.Delete(id)
		return dst
	}
	i := rnd.IntN(len(s.ints))
	dst = strconv.AppendInt(dst, s.ints[i], 10)
	s.ints = slices.Delete(s.ints, i, i+1)
	return dst
}

// Members returns copies of every member.
func (s *set) Members() [][]byte {
	out := make([][]byte, 0, s.Len())
	s.ForEach(func(m []byte) bool { out = append(out, append([]byte(nil), m...)); return true })
	return out
}
