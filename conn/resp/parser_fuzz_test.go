package resp

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzParser checks that no input panics the parser, that feeding the input
// in two pieces gives the same commands and error as feeding it whole, and
// that every parsed command re-encoded as multibulk parses back to itself.
func FuzzParser(f *testing.F) {
	for _, tc := range parserCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in), uint16(len(tc.in)/2))
		}
	}
	for _, s := range []string{"*1\r\n$-2\r\n", "*2\r\n$1\r\n", "$", "*", "*\r\n", "\"", "'\\'", "\"\\x4", "*1\r\n$0\r\n"} {
		f.Add([]byte(s), uint16(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		var whole Parser
		whole.Reset()
		wantCmds, wantErr := feed(&whole, in, 0)

		split := int(cut)
		if split > len(in) {
			split = len(in)
		}
		var p Parser
		p.Reset()
		gotCmds, gotErr := feedPieces(&p, in[:split], in[split:])
		if fmt.Sprint(gotCmds) != fmt.Sprint(wantCmds) || errText(gotErr) != errText(wantErr) {
			t.Fatalf("split at %d differs:\n whole %q %q\n split %q %q", split, wantCmds, errText(wantErr), gotCmds, errText(gotErr))
		}

		// Round trip: encode each whole-fed command and parse it back.
		var rt Parser
		rt.Reset()
		var enc []byte
		var q Parser
		q.Reset()
		pos := 0
		for {
			argv, next, err := q.Next(in, pos)
			if err != nil || (argv == nil && next == pos) {
				break
			}
			pos = next
			if argv == nil {
				continue
			}
			enc = AppendCommand(enc[:0], argv...)
			back, n, err := rt.Next(enc, 0)
			if err != nil || n != len(enc) || len(back) != len(argv) {
				t.Fatalf("round trip of %q: %q %d %v", argv, back, n, err)
			}
			for i := range argv {
				if !bytes.Equal(back[i], argv[i]) {
					t.Fatalf("round trip arg %d: %q != %q", i, back[i], argv[i])
				}
			}
		}
	})
}

func feedPieces(p *Parser, a, b []byte) ([]string, error) {
	var cmds []string
	var buf []byte
	pos := 0
	for _, piece := range [][]byte{a, b} {
		buf = append(buf, piece...)
		for {
			argv, next, err := p.Next(buf, pos)
			if err != nil {
				return cmds, err
			}
			if argv == nil && next == pos {
				break
			}
			if argv != nil {
				cmds = append(cmds, fmtArgv(argv))
			}
			pos = next
		}
	}
	return cmds, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
