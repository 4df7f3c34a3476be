package store

import (
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// HSCAN, SSCAN and ZSCAN: Redis's scanGenericCommand for a collection. A
// small encoding (listpack, intset) is returned whole in one call with
// cursor 0, as Redis does. A dict is walked by record id: the cursor is the
// next id, ids are stable, so an element present for the whole scan is
// returned exactly once.

type collScanOpts struct {
	count   int
	pattern []byte // nil: all
}

// parseCollScan parses the cursor (argv[2]) and the options after it.
// Options are parsed after the key is found, as Redis does; the caller
// passes the key's existence in found.
func parseCollScanCursor(c *Ctx, arg []byte) (uint64, bool) {
	cur, ok := parseScanCursor(arg)
	if !ok {
		c.Out = append(c.Out, resp.ErrCursor...)
	}
	return cur, ok
}

func parseCollScanOpts(c *Ctx, argv [][]byte) (collScanOpts, bool) {
	o := collScanOpts{count: 10}
	for i := 3; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			c.Out = append(c.Out, resp.ErrSyntax...)
			return o, false
		}
		switch {
		case eqFold(argv[i], "count"):
			n, ok := resp.ParseInt(argv[i+1])
			if !ok {
				c.Out = append(c.Out, resp.ErrNotInt...)
				return o, false
			}
			if n < 1 {
				c.Out = append(c.Out, resp.ErrSyntax...)
				return o, false
			}
			o.count = int(min(n, scanCountMax))
		case eqFold(argv[i], "match"):
			o.pattern = argv[i+1]
			if len(o.pattern) == 1 && o.pattern[0] == '*' {
				o.pattern = nil
			}
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return o, false
		}
	}
	return o, true
}

var emptyScan = []byte("*2\r\n$1\r\n0\r\n*0\r\n")

// scanReply writes [cursor, elements]. items holds pairs (or single
// members when pairs is false) already filtered.
func scanReply(c *Ctx, next uint64, items [][]byte) {
	c.Out = resp.AppendArrayLen(c.Out, 2)
	var tmp [20]byte
	c.Out = resp.AppendBulk(c.Out, strconv.AppendUint(tmp[:0], next, 10))
	c.Out = resp.AppendArrayLen(c.Out, len(items))
	for _, it := range items {
		c.Out = resp.AppendBulk(c.Out, it)
	}
}

// scanDict walks d from cursor as Table.Scan does, calling emit for each
// live id, and returns the next cursor.
func scanDict(d *dict, cursor uint64, count int, emit func(id uint32)) uint64 {
	budget := scanEmptyPerCount * count
	id := cursor
	for id < uint64(d.IDs()) {
		if !d.Live(uint32(id)) {
			id++
			if budget--; budget == 0 {
				break
			}
			continue
		}
		emit(uint32(id))
		id++
		if count--; count == 0 {
			break
		}
	}
	if id >= uint64(d.IDs()) {
		return 0
	}
	return id
}

func scanMatch(o collScanOpts, b []byte) bool { return o.pattern == nil || globMatch(o.pattern, b) }
