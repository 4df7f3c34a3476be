package resp

import (
	"math"
	"testing"
)

func TestFormatDouble(t *testing.T) {
	// Expected texts are C's printf("%.17g").
	cases := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-1.5, "-1.5"}, {0.1, "0.10000000000000001"},
		{1.0 / 3, "0.33333333333333331"}, {100, "100"}, {1e16, "10000000000000000"},
		{1e17, "1e+17"}, {1.5e300, "1.5000000000000001e+300"}, {0.0001, "0.0001"},
		{0.00001, "1.0000000000000001e-05"}, {123456789.125, "123456789.125"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {3.14, "3.1400000000000001"},
		{9007199254740993, "9007199254740992"}, {2.5e-310, "2.5000000000000171e-310"},
		{99999999999999984, "99999999999999984"}, {-1e16, "-10000000000000000"}, {-123, "-123"},
		{123456789012345678, "1.2345678901234568e+17"}, {-1152921504606846976, "-1.152921504606847e+18"},
		{5e-324, "4.9406564584124654e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.5, "0.5"}, {-0.25, "-0.25"}, {1e-5, "1.0000000000000001e-05"}, {12345.678, "12345.678"},
	}
	for _, c := range cases {
		if got := string(FormatDouble(nil, c.v)); got != c.want {
			t.Errorf("FormatDouble(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	// A reply's score is formatted on the request path: no allocation.
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range cases {
			buf = FormatDouble(buf[:0], c.v)
		}
	}); n != 0 {
		t.Errorf("FormatDouble allocates %v times per run", n)
	}
}

func TestProtoEncoders(t *testing.T) {
	cases := []struct{ got, want string }{
		{string(AppendNullBulkP(nil, 2)), "$-1\r\n"}, {string(AppendNullBulkP(nil, 3)), "_\r\n"},
		{string(AppendNullArrayP(nil, 2)), "*-1\r\n"}, {string(AppendNullArrayP(nil, 3)), "_\r\n"},
		{string(AppendMapLen(nil, 2, 3)), "*6\r\n"}, {string(AppendMapLen(nil, 3, 3)), "%3\r\n"},
		{string(AppendSetLen(nil, 2, 2)), "*2\r\n"}, {string(AppendSetLen(nil, 3, 2)), "~2\r\n"},
		{string(AppendBool(nil, 2, true)), ":1\r\n"}, {string(AppendBool(nil, 3, false)), "#f\r\n"},
		{string(AppendDouble(nil, 2, 1.5)), "$3\r\n1.5\r\n"}, {string(AppendDouble(nil, 3, 1.5)), ",1.5\r\n"},
		{string(AppendVerbatim(nil, 3, "a:b")), "=7\r\ntxt:a:b\r\n"}, {string(AppendVerbatim(nil, 2, "a:b")), "$3\r\na:b\r\n"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q want %q", i, c.got, c.want)
		}
	}
}
