package store

import (
	"bytes"
	"math"
	"slices"

	"github.com/ringkv/ringkv/conn/resp"
)

// SORT and SORT_RO (Redis's sort.c) over lists, sets and sorted sets.
var sortCommands = []*Command{
	{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@write @set @sortedset @list @slow @dangerous", Group: "generic", Since: "1.0.0", Summary: "Sort the elements in a list, set or sorted set", Cplx: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", Handler: sortCmd},
	{Name: "sort_ro", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, ACL: "@read @set @sortedset @list @slow @dangerous", Group: "generic", Since: "7.0.0", Summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Cplx: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).", Handler: sortROCmd},
}

func init() { Register(sortCommands...) }

type sortElem struct {
	val    []byte
	score  float64
	cmpBy  []byte // ALPHA BY value; nil when missing
	hasCmp bool
}

func sortCmd(s *Store, c *Ctx, argv [][]byte)   { sortGeneric(s, c, argv, false) }
func sortROCmd(s *Store, c *Ctx, argv [][]byte) { sortGeneric(s, c, argv, true) }

// sortLookup is lookupKeyByPattern: the first '*' of pattern replaced by
// subst; "->field" after it reads a hash field. "#" is the element itself.
func (s *Store) sortLookup(c *Ctx, pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	keyPat := pattern
	if arrow := bytes.Index(pattern[star:], []byte("->")); arrow >= 0 && star+arrow+2 < len(pattern) {
		field = pattern[star+arrow+2:]
		keyPat = pattern[:star+arrow]
	}
	key := make([]byte, 0, len(keyPat)+len(subst))
	key = append(key, keyPat[:star]...)
	key = append(key, subst...)
	key = append(key, keyPat[star+1:]...)
	t, id, ok := s.lookup(c, key)
	if !ok {
		return nil, false
	}
	if field != nil {
		if t.Kind(id) != KindHash {
			return nil, false
		}
		return t.Obj(id).(*hash).Get(field)
	}
	if t.Kind(id) != KindString {
		return nil, false
	}
	return t.Str(id), true
}

func sortGeneric(s *Store, c *Ctx, argv [][]byte, readonly bool) {
	desc, alpha, dontsort := false, false, false
	offset, count := int64(0), int64(-1)
	var byPat, storeKey []byte
	var gets [][]byte
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch {
		case eqFold(argv[j], "asc"):
			desc = false
		case eqFold(argv[j], "desc"):
			desc = true
		case eqFold(argv[j], "alpha"):
			alpha = true
		case eqFold(argv[j], "limit") && left >= 2:
			r, ok := parseInts(c, argv[j+1], argv[j+2])
			if !ok {
				return
			}
			offset, count = r[0], r[1]
			j += 2
		case !readonly && eqFold(argv[j], "store") && left >= 1:
			storeKey = argv[j+1]
			j++
		case eqFold(argv[j], "by") && left >= 1:
			byPat = argv[j+1]
			if bytes.IndexByte(byPat, '*') < 0 {
				dontsort = true
			}
			j++
		case eqFold(argv[j], "get") && left >= 1:
			gets = append(gets, argv[j+1])
			j++
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	t, id, found := s.lookupRead(c, argv[1])
	var elems []sortElem
	kind := KindNone
	if found {
		kind = t.Kind(id)
		switch kind {
		case KindList:
			l := t.Obj(id).(*list)
			for i := range l.Len() {
				elems = append(elems, sortElem{val: append([]byte(nil), l.At(i)...)})
			}
		case KindSet:
			t.Obj(id).(*set).ForEach(func(m []byte) bool {
				elems = append(elems, sortElem{val: append([]byte(nil), m...)})
				return true
			})
		case KindZSet:
			z := t.Obj(id).(*zset)
			if z.Len() > 0 {
				z.Range(0, z.Len()-1, false, func(m []byte, _ float64) bool {
					elems = append(elems, sortElem{val: append([]byte(nil), m...)})
					return true
				})
			}
		default:
			wrongType(c)
			return
		}
	}
	// A set has no order of its own: sorting it anyway keeps STORE
	// deterministic, as Redis does.
	if dontsort && kind == KindSet && storeKey != nil {
		dontsort, alpha = false, true
		byPat = nil
	}
	// With a sorted set and no sort, LIMIT just selects a rank range.
	start := max(offset, 0)
	if start > int64(len(elems)) {
		start = int64(len(elems))
	}
	end := int64(len(elems))
	if count >= 0 && start+count < end {
		end = start + count
	}
	if !dontsort {
		for i := range elems {
			e := &elems[i]
			var v []byte
			ok := true
			if byPat != nil {
				v, ok = s.sortLookup(c, byPat, e.val)
			} else {
				v = e.val
			}
			if alpha {
				if byPat != nil {
					e.cmpBy, e.hasCmp = v, ok
				}
				continue
			}
			if !ok {
				continue // a missing weight is 0
			}
			v = cStr(v)
			f, n, erange := cStrtod(v)
			if n != len(v) || erange || math.IsNaN(f) {
				if len(v) != 0 || n != 0 {
					c.Out = append(c.Out, resp.ErrSortOrder...)
					return
				}
			}
			e.score = f
		}
		slices.SortStableFunc(elems, func(a, b sortElem) int {
			var r int
			switch {
			case !alpha:
				switch {
				case a.score < b.score:
					r = -1
				case a.score > b.score:
					r = 1
				default:
					r = bytes.Compare(a.val, b.val)
				}
			case byPat != nil:
				switch {
				case !a.hasCmp && !b.hasCmp:
					r = 0
				case !a.hasCmp:
					r = -1
				case !b.hasCmp:
					r = 1
				default:
					r = bytes.Compare(a.cmpBy, b.cmpBy)
				}
			default:
				r = bytes.Compare(a.val, b.val)
			}
			if desc {
				r = -r
			}
			return r
		})
	} else if desc && kind == KindZSet {
		slices.Reverse(elems)
	}
	elems = elems[start:end]
	var out [][]byte
	var present []bool
	for _, e := range elems {
		if len(gets) == 0 {
			out = append(out, e.val)
			present = append(present, true)
			continue
		}
		for _, g := range gets {
			v, ok := s.sortLookup(c, g, e.val)
			out = append(out, append([]byte(nil), v...))
			present = append(present, ok)
		}
	}
	if storeKey == nil {
		c.Out = resp.AppendArrayLen(c.Out, len(out))
		for i, v := range out {
			if present[i] {
				c.Out = resp.AppendBulk(c.Out, v)
			} else {
				c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
			}
		}
		return
	}
	dt, did, dfound := s.lookup(c, storeKey)
	if dfound {
		dt.Remove(did)
	}
	if len(out) == 0 {
		if dfound {
			s.Stats.Dirty++
		}
		c.Out = append(c.Out, resp.Zero...)
		return
	}
	l := &list{}
	for _, v := range out {
		l.PushBack(v) // a missing GET stores an empty string
	}
	did = dt.Add(storeKey)
	dt.SetObj(did, KindList, l)
	s.Stats.Dirty += int64(len(out))
	c.Out = resp.AppendInt(c.Out, int64(len(out)))
	s.signalReady(c.DB, storeKey)
}
