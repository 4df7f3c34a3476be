package store

import "github.com/ringkv/ringkv/conn/resp"

// LCS: the longest common subsequence of two strings, by the textbook
// dynamic programme, ported from Redis 7.0's lcsCommand so that the ranges
// IDX reports (including which matches it leaves out) are the same.
var lcsCommands = []*Command{
	{Name: "lcs", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 2, Step: 1, ACL: "@read @string @slow", Group: "string", Since: "7.0.0", Summary: "Find longest common substring", Cplx: "O(N*M) where N and M are the lengths of s1 and s2, respectively", Handler: lcsCmd},
}

func init() { Register(lcsCommands...) }

// lcsTableBytesMax bounds LCS's transient table, as Redis bounds it by
// proto-max-bulk-len: (len(a)+1)*(len(b)+1) uint32 cells.
const lcsTableBytesMax = resp.BulkLenMax

func lcsCmd(s *Store, c *Ctx, argv [][]byte) {
	ta, ida, oka := s.lookupRead(c, argv[1])
	tb, idb, okb := s.lookupRead(c, argv[2])
	if (oka && ta.Kind(ida) != KindString) || (okb && tb.Kind(idb) != KindString) {
		c.Out = append(c.Out, resp.ErrLCSNotString...)
		return
	}
	var a, b []byte
	if oka {
		a = ta.Str(ida)
	}
	if okb {
		b = tb.Str(idb)
	}
	getLen, getIdx, withMatchLen := false, false, false
	minMatchLen := int64(0)
	for j := 3; j < len(argv); j++ {
		opt := argv[j]
		switch {
		case eqFold(opt, "idx"):
			getIdx = true
		case eqFold(opt, "len"):
			getLen = true
		case eqFold(opt, "withmatchlen"):
			withMatchLen = true
		case eqFold(opt, "minmatchlen") && j+1 < len(argv):
			n, ok := resp.ParseInt(argv[j+1])
			if !ok {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	if getIdx && getLen {
		c.Out = append(c.Out, resp.ErrLCSLenIdx...)
		return
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > lcsTableBytesMax {
		c.Out = append(c.Out, resp.ErrLCSMemory...)
		return
	}
	// lcs[i*(blen+1)+j] is the LCS length of a[:i] and b[:j].
	w := blen + 1
	lcs := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				lcs[i*w+j] = lcs[(i-1)*w+j-1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i-1)*w+j], lcs[i*w+j-1])
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		c.Out = resp.AppendInt(c.Out, int64(total))
		return
	}
	result := make([]byte, total)
	var ranges []byte // the IDX entries, counted in nRanges
	nRanges := 0
	// Walk back from the end; a range of contiguous matches is emitted when
	// it cannot be extended. "Not set" is aStart == alen, as in Redis.
	idx := total
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		matchLen := aEnd - aStart + 1
		if emit {
			if getIdx && (minMatchLen == 0 || int64(matchLen) >= minMatchLen) {
				n := 2
				if withMatchLen {
					n = 3
				}
				ranges = resp.AppendArrayLen(ranges, n)
				ranges = resp.AppendArrayLen(ranges, 2)
				ranges = resp.AppendInt(ranges, int64(aStart))
				ranges = resp.AppendInt(ranges, int64(aEnd))
				ranges = resp.AppendArrayLen(ranges, 2)
				ranges = resp.AppendInt(ranges, int64(bStart))
				ranges = resp.AppendInt(ranges, int64(bEnd))
				if withMatchLen {
					ranges = resp.AppendInt(ranges, int64(matchLen))
				}
				nRanges++
			}
			aStart = alen
		}
	}
	if !getIdx {
		c.Out = resp.AppendBulk(c.Out, result)
		return
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, 2)
	c.Out = resp.AppendBulkString(c.Out, "matches")
	c.Out = resp.AppendArrayLen(c.Out, nRanges)
	c.Out = append(c.Out, ranges...)
	c.Out = resp.AppendBulkString(c.Out, "len")
	c.Out = resp.AppendInt(c.Out, int64(total))
}
