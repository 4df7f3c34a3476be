package main

import (
	"slices"
	"testing"
)

// splitArgs against sdssplitargs's rules (Redis's sds.c), case by case.
func TestSplitArgs(t *testing.T) {
	cases := []struct {
		line string
		want []string // nil: refused (unbalanced quotes)
	}{
		{"", []string{}},
		{"  \t ", []string{}},
		{"set a b", []string{"set", "a", "b"}},
		{"  set\ta  \r b ", []string{"set", "a", "b"}},
		{`save ""`, []string{"save", ""}},
		{`dir "/tmp/a b"`, []string{"dir", "/tmp/a b"}},
		{`x "\x41\x7a\n\r\t\b\a\"\\\q"`, []string{"x", "Az\n\r\t\b\a\"\\q"}},
		{`x "\x4"`, []string{"x", "x4"}},
		{`x "\xzz"`, []string{"x", "xzz"}},
		{`x 'it\'s' 'a\nb'`, []string{"x", "it's", `a\nb`}},
		{`x a"b c"`, []string{"x", "ab c"}},
		{`x a'b c'd`, nil},
		{`x "a"b`, nil},
		{`x "a"	b`, []string{"x", "a", "b"}},
		{`x "abc`, nil},
		{`x 'abc`, nil},
		{`x "abc\`, nil},
		{"x \"a\x00b\"", nil}, // C stops at the NUL: the quotes are unbalanced
		{"x a\x00b", []string{"x", "a"}},
		// A leading \v is skipped as blank (isspace), but inside a token
		// only ' ', \n, \r, \t end it.
		{"\vx\vy z", []string{"x\vy", "z"}},
	}
	for _, c := range cases {
		got, ok := splitArgs(c.line)
		if c.want == nil {
			if ok {
				t.Errorf("splitArgs(%q) = %q, want refused", c.line, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, %v, want %q", c.line, got, ok, c.want)
		}
	}
}
