package resp

import (
	"math"
	"strconv"
)

// Protocol-aware encoders. A reply whose RESP3 type differs from its RESP2
// form (maps, sets, doubles, nulls, booleans, verbatim strings) is written
// with one of these, passing the connection's protocol version (2 or 3,
// store.Ctx.Proto), so that a command handler has one code path for both.

// AppendNullBulkP appends the null bulk string: "$-1" in RESP2, "_" in RESP3.
func AppendNullBulkP(dst []byte, proto int) []byte {
	if proto >= 3 {
		return append(dst, '_', '\r', '\n')
	}
	return append(dst, NullBulk...)
}

// AppendNullArrayP appends the null array: "*-1" in RESP2, "_" in RESP3.
func AppendNullArrayP(dst []byte, proto int) []byte {
	if proto >= 3 {
		return append(dst, '_', '\r', '\n')
	}
	return append(dst, NullArray...)
}

// AppendMapLen appends the header of a map of n pairs: "%n" in RESP3, an
// array of 2n elements in RESP2.
func AppendMapLen(dst []byte, proto, n int) []byte {
	if proto >= 3 {
		dst = append(dst, '%')
		dst = strconv.AppendInt(dst, int64(n), 10)
		return append(dst, '\r', '\n')
	}
	return AppendArrayLen(dst, 2*n)
}

// AppendSetLen appends the header of a set of n elements: "~n" in RESP3,
// "*n" in RESP2.
func AppendSetLen(dst []byte, proto, n int) []byte {
	if proto >= 3 {
		dst = append(dst, '~')
		dst = strconv.AppendInt(dst, int64(n), 10)
		return append(dst, '\r', '\n')
	}
	return AppendArrayLen(dst, n)
}

// AppendBool appends a boolean: "#t"/"#f" in RESP3, ":1"/":0" in RESP2.
func AppendBool(dst []byte, proto int, v bool) []byte {
	if proto >= 3 {
		if v {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	}
	if v {
		return append(dst, One...)
	}
	return append(dst, Zero...)
}

// AppendDouble appends a double: ",<v>" in RESP3, a bulk string in RESP2.
// The text is Redis's: "inf", "-inf", "nan", else %.17g (addReplyDouble).
func AppendDouble(dst []byte, proto int, v float64) []byte {
	var tmp [32]byte
	txt := FormatDouble(tmp[:0], v)
	if proto >= 3 {
		dst = append(dst, ',')
		dst = append(dst, txt...)
		return append(dst, '\r', '\n')
	}
	return AppendBulk(dst, txt)
}

// FormatDouble appends v as Redis prints a double reply: "inf", "-inf",
// "nan", otherwise C's %.17g.
func FormatDouble(dst []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(v):
		return append(dst, "nan"...)
	}
	return appendG17(dst, v)
}

// appendG17 is C's printf("%.17g", v). strconv's 'g' with precision 17
// follows the same rules (exponent form when exp < -4 or exp >= 17, trailing
// zeros dropped, at least two exponent digits); checked against C on 200k
// random doubles when this was written.
func appendG17(dst []byte, v float64) []byte {
	// Integral scores are the common case (ZADD key 1 m, ZINCRBY by 1):
	// below 1e17 an integral double has at most 17 digits, which %.17g
	// prints exactly, with no point and no exponent. -0 is not one.
	if v == math.Trunc(v) && math.Abs(v) < 1e17 && (v != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', 17, 64)
}

// AppendVerbatim appends a verbatim string of format "txt" (RESP3 "=") or a
// bulk string in RESP2 (INFO, CLIENT LIST ...).
func AppendVerbatim(dst []byte, proto int, s string) []byte {
	if proto >= 3 {
		dst = append(dst, '=')
		dst = strconv.AppendInt(dst, int64(len(s)+4), 10)
		dst = append(dst, "\r\ntxt:"...)
		dst = append(dst, s...)
		return append(dst, '\r', '\n')
	}
	return AppendBulkString(dst, s)
}
