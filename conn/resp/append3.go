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

// appendG17 is C's printf("%.17g", v).
func appendG17(dst []byte, v float64) []byte {
	if v == 0 {
		if math.Signbit(v) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// %g: exponent form when exp < -4 or exp >= precision (17).
	exp := int(math.Floor(math.Log10(math.Abs(v))))
	// Log10 can be off by one at powers of ten: let the 'e' formatting say.
	e := strconv.AppendFloat(nil, v, 'e', 16, 64)
	if i := indexByte(e, 'e'); i >= 0 {
		n, _ := strconv.Atoi(string(e[i+1:]))
		exp = n
	}
	if exp < -4 || exp >= 17 {
		// Mantissa with trailing zeros removed, exponent at least 2 digits.
		i := indexByte(e, 'e')
		mant := trimZeros(e[:i])
		dst = append(dst, mant...)
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	f := strconv.AppendFloat(nil, v, 'f', 16-exp, 64)
	return append(dst, trimZeros(f)...)
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// trimZeros drops trailing zeros after a decimal point, and the point.
func trimZeros(b []byte) []byte {
	if indexByte(b, '.') < 0 {
		return b
	}
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
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
