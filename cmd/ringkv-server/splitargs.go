package main

import "strings"

// splitArgs splits a config-file line into arguments as redis-server does
// (sdssplitargs): arguments are separated by blanks; "double quotes" take
// the escapes \n \r \t \b \a \xHH and a backslash before any other
// character; 'single quotes' take only \'; a closing quote must be followed
// by a blank or the end of the line. ok is false for unbalanced quotes or a
// closing quote followed by something else, which redis-server refuses as
// "Unbalanced quotes in configuration line".
func splitArgs(line string) (args []string, ok bool) {
	if k := strings.IndexByte(line, 0); k >= 0 {
		line = line[:k] // C's string ends at a NUL
	}
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, true
		}
		var cur []byte
		quote := byte(0) // the quote the token is inside, if any
	token:
		for {
			switch {
			case quote != 0:
				if i == len(line) {
					return nil, false // unterminated quotes
				}
				c := line[i]
				switch {
				case quote == '"' && c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHexDigit(line[i+2]) && isHexDigit(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case quote == '"' && c == '\\' && i+1 < len(line):
					i++
					switch e := line[i]; e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case quote == '\'' && c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == quote:
					if !endsToken(line, i+1) {
						return nil, false
					}
					i++
					break token
				default:
					cur = append(cur, c)
				}
			default:
				if i == len(line) {
					break token
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					break token
				case '"', '\'':
					quote = c
				default:
					cur = append(cur, c)
				}
			}
			i++
		}
		args = append(args, string(cur))
	}
}

// endsToken reports whether a closing quote may stand before line[i]: it
// must be followed by a blank or the end of the line.
func endsToken(line string, i int) bool { return i == len(line) || isSpace(line[i]) }

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
