package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
)

// Placeholders a command template may contain, anywhere inside an argument
// ("key:__rand_int__" as redis-benchmark writes it). Each occurrence draws a
// fresh value.
const (
	// PlaceholderKey is a key index from the run's distribution, written as
	// 12 zero-padded digits, as redis-benchmark's __rand_int__ is, so the
	// keys of both tools are the same strings.
	PlaceholderKey = "__rand_int__"
	// PlaceholderData is a value of the run's size (fixed or a range), made
	// of 'x' bytes as redis-benchmark's are.
	PlaceholderData = "__data__"
	// PlaceholderMember is a uniform integer in [0, MemberSpace).
	PlaceholderMember = "__rand_member__"
	// PlaceholderScore is a uniform integer in [0, ScoreSpace).
	PlaceholderScore = "__rand_score__"
)

const (
	MemberSpace = 1000
	ScoreSpace  = 1000000
	keyDigits   = 12
)

type placeholder uint8

const (
	phNone placeholder = iota
	phKey
	phData
	phMember
	phScore
)

var placeholders = []struct {
	text string
	ph   placeholder
}{
	{PlaceholderKey, phKey},
	{PlaceholderData, phData},
	{PlaceholderMember, phMember},
	{PlaceholderScore, phScore},
}

type part struct {
	lit []byte
	ph  placeholder
}

// argTemplate is one argument: literal bytes and placeholders.
type argTemplate struct {
	parts  []part
	static []byte // the whole argument when it has no placeholder
	data   bool   // the argument is exactly __data__: sent from the value buffer without a copy
}

// Template is a compiled command template. It is immutable; each connection
// encodes through its own encoder (newEncoder), which owns the scratch space.
type Template struct {
	Name string
	Args []string
	args []argTemplate
}

// CompileTemplate parses a command's arguments and their placeholders.
func CompileTemplate(name string, args []string) (*Template, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("empty command template")
	}
	t := &Template{Name: name, Args: args}
	for _, a := range args {
		var at argTemplate
		rest := a
		for rest != "" {
			at1, ph, idx := -1, phNone, 0
			for _, p := range placeholders {
				if i := strings.Index(rest, p.text); i >= 0 && (at1 < 0 || i < at1) {
					at1, ph, idx = i, p.ph, len(p.text)
				}
			}
			if at1 < 0 {
				at.parts = append(at.parts, part{lit: []byte(rest)})
				break
			}
			if at1 > 0 {
				at.parts = append(at.parts, part{lit: []byte(rest[:at1])})
			}
			at.parts = append(at.parts, part{ph: ph})
			rest = rest[at1+idx:]
		}
		switch {
		case len(at.parts) == 0:
			at.static = []byte{}
		case len(at.parts) == 1 && at.parts[0].ph == phNone:
			at.static = at.parts[0].lit
		case len(at.parts) == 1 && at.parts[0].ph == phData:
			at.data = true
		}
		t.args = append(t.args, at)
	}
	return t, nil
}

// String is the template as typed.
func (t *Template) String() string { return strings.Join(t.Args, " ") }

// valueSize is a fixed size (Min == Max) or a uniform range of value sizes.
type valueSize struct{ Min, Max int }

// encoder is one connection's generator of requests: random sources and the
// reused argument buffers. Encoding allocates nothing once the buffers have
// grown to their steady size.
type encoder struct {
	rng   *rand.Rand
	keys  *keyGen
	size  valueSize
	value []byte // Max bytes of 'x'
	argv  [][]byte
	bufs  [][]byte
}

func newEncoder(rng *rand.Rand, keys *keyGen, size valueSize, maxArgs int) *encoder {
	e := &encoder{rng: rng, keys: keys, size: size,
		value: []byte(strings.Repeat("x", size.Max)),
		argv:  make([][]byte, maxArgs),
		bufs:  make([][]byte, maxArgs),
	}
	for i := range e.bufs {
		e.bufs[i] = make([]byte, 0, 64)
	}
	return e
}

func (e *encoder) valueLen() int {
	if e.size.Max <= e.size.Min {
		return e.size.Min
	}
	return e.size.Min + e.rng.IntN(e.size.Max-e.size.Min+1)
}

// appendRequest appends one instance of t, encoded as a RESP multibulk.
func (e *encoder) appendRequest(dst []byte, t *Template) []byte {
	for i := range t.args {
		a := &t.args[i]
		switch {
		case a.static != nil:
			e.argv[i] = a.static
		case a.data:
			e.argv[i] = e.value[:e.valueLen()]
		default:
			b := e.bufs[i][:0]
			for _, p := range a.parts {
				switch p.ph {
				case phNone:
					b = append(b, p.lit...)
				case phKey:
					b = appendPadded(b, e.keys.next(), keyDigits)
				case phData:
					b = append(b, e.value[:e.valueLen()]...)
				case phMember:
					b = appendPadded(b, e.rng.Uint64N(MemberSpace), 0)
				case phScore:
					b = appendPadded(b, e.rng.Uint64N(ScoreSpace), 0)
				}
			}
			e.bufs[i] = b
			e.argv[i] = b
		}
	}
	return resp.AppendCommand(dst, e.argv[:len(t.args)]...)
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(dst []byte, n uint64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n >= 10 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	tmp[i] = byte('0' + n)
	for len(tmp)-i < width {
		i--
		tmp[i] = '0'
	}
	return append(dst, tmp[i:]...)
}
