package store

import "github.com/ringkv/ringkv/conn/resp"

// Encodings: the names OBJECT ENCODING and DEBUG OBJECT report, Redis 7.0's,
// so that tools and tests that look at them see what Redis would show. ringkv
// stores every string the same way (bytes in the arena); what it keeps per
// key is only enough to tell which encoding Redis would have chosen.
//
// Strings. Redis runs tryObjectEncoding on values written by SET, SETNX,
// SETEX, PSETEX, GETSET, MSET, MSETNX and APPEND of a new key: a value that
// string2ll reads and that is at most 20 bytes becomes "int" (0..9999 become
// the shared integers, refcount 2147483647), else up to 44 bytes "embstr",
// else "raw" (StrEncAuto). INCR and friends produce the same. APPEND and
// SETRANGE of an existing key (and SETRANGE of a new one) modify a private
// SDS in place: "raw" whatever the bytes (StrEncRaw). INCRBYFLOAT builds its
// result with createStringObject: "embstr" up to 44 bytes, else "raw", never
// "int" (StrEncNoInt). COPY duplicates the object: an int, shared or not,
// becomes a private int with refcount 1 (StrEncIntPrivate).

// StrEnc is how Redis would encode a string value; see above.
type StrEnc uint8

const (
	StrEncAuto StrEnc = iota
	StrEncRaw
	StrEncNoInt
	StrEncIntPrivate
)

const (
	// embstrBytesMax is OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
	embstrBytesMax = 44
	// intEncBytesMax: tryObjectEncoding tries integers up to 20 bytes.
	intEncBytesMax = 20
	// sharedIntegers is OBJ_SHARED_INTEGERS: 0..9999 are shared objects.
	sharedIntegers = 10000
	// sharedRefcount is OBJ_SHARED_REFCOUNT (INT_MAX).
	sharedRefcount = 1<<31 - 1
)

// strIsInt reports whether Redis would hold v as an integer object.
func strIsInt(v []byte) (int64, bool) {
	if len(v) > intEncBytesMax {
		return 0, false
	}
	return resp.ParseInt(v)
}

// strEncodingName is the encoding Redis would report for string value v
// written as enc says.
func strEncodingName(v []byte, enc StrEnc) string {
	switch enc {
	case StrEncRaw:
		return "raw"
	case StrEncIntPrivate:
		return "int"
	case StrEncAuto:
		if _, ok := strIsInt(v); ok {
			return "int"
		}
	}
	if len(v) <= embstrBytesMax {
		return "embstr"
	}
	return "raw"
}

// objectEncodings names the encoding of the object kinds; the files that
// implement a kind fill in their entry (in an init), since only they know
// their small and large forms.
var objectEncodings = map[Kind]func(v any) string{}

// objectEncoding is what OBJECT ENCODING reports for entry id of t.
func objectEncoding(t *Table, id uint32) string {
	k := t.Kind(id)
	if k == KindString {
		return strEncodingName(t.Str(id), t.entries[id].strEnc)
	}
	if f := objectEncodings[k]; f != nil {
		return f(t.Obj(id))
	}
	return "unknown"
}

// objectRefcount is what OBJECT REFCOUNT reports: 1, except the shared
// integers 0..9999.
func objectRefcount(t *Table, id uint32) int64 {
	if t.Kind(id) == KindString && t.entries[id].strEnc == StrEncAuto {
		if n, ok := strIsInt(t.Str(id)); ok && n >= 0 && n < sharedIntegers {
			return sharedRefcount
		}
	}
	return 1
}

// StrEnc returns how entry id's string value was written (encoding.go).
func (t *Table) StrEnc(id uint32) StrEnc { return t.entries[id].strEnc }

// SetStrEnc records how entry id's string value was written; call it after
// SetStr or GrowStr, which reset it to StrEncAuto and StrEncRaw.
func (t *Table) SetStrEnc(id uint32, enc StrEnc) { t.entries[id].strEnc = enc }

// touch records an access to entry id at the LRU clock clk.
func (t *Table) touch(id uint32, clk uint16) { t.entries[id].lru = clk }

// idleSeconds is the time since entry id's last access, modulo 2^16 s
// (18.2 hours; Redis's 24-bit clock wraps after 194 days).
func (t *Table) idleSeconds(id uint32, clk uint16) int64 {
	return int64(clk - t.entries[id].lru)
}

// lruClock is the LRU clock for a time: unix seconds mod 2^16.
func lruClock(nowMs int64) uint16 { return uint16(nowMs / 1000) }
