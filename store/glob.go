package store

// globNestingMax bounds the recursion a pattern of many '*' can cause, as
// Redis 7 bounds stringmatchlen's nesting.
const globNestingMax = 1000

// globMatch reports whether s matches the glob pattern p with the syntax of
// Redis's stringmatchlen: * ? [abc] [^abc] [a-z] and \x escapes, byte-wise
// and case-sensitive. Like Redis it stops trying longer matches for a '*'
// once a shorter one failed on the rest of the string, which keeps the work
// polynomial.
// GlobMatch is exported for CONFIG GET patterns.
func GlobMatch(p, s []byte) bool { return globMatch(p, s) }

func globMatch(p, s []byte) bool {
	skipLonger := false
	return globMatchImpl(p, s, &skipLonger, 0)
}

func globMatchImpl(p, s []byte, skipLonger *bool, nesting int) bool {
	if nesting > globNestingMax {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchImpl(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) == 0 {
					// An unterminated class: Redis steps back so that the
					// advance below lands on the end of the pattern.
					break
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi := p[0], p[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					p = p[2:]
					if s[0] >= lo && s[0] <= hi {
						match = true
					}
				} else if p[0] == s[0] {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				// The class ran to the end of the pattern.
				return len(s) == 0
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
