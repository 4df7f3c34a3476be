package compat

import (
	"bytes"
	"testing"
)

// FuzzCommand is differential fuzzing over command arguments: the input is
// a command index byte followed by arguments separated by '\n'; the command
// (one of those TestRandom generates, from ringkv's COMMAND) runs on an empty
// keyspace after a fixed set-up on redis-server and on ringkv, and the
// replies must agree under the rules of rules_test.go.
//
//	go test ./compat -run '^$' -fuzz '^FuzzCommand$' -fuzztime 1h
func FuzzCommand(f *testing.F) {
	redis, ringkvs := startAll(f)
	p := dialPeers(f, redis, ringkvs)
	learnCommands(f, p.redis, p.ringkv[0])
	specs := loadSpecs(f, p.ringkv[0])
	setup := [][]string{{"FLUSHALL"}, {"SELECT", "0"}, {"SET", "k0", "hello"}, {"SET", "k1", "12"}, {"SET", "k2", "1.5"}}
	for _, seed := range []string{"\x00k0", "\x05k0\n0\n-1", "\x07k1\n9223372036854775807", "\x01k0\nv\nEX\n100000\nGET", "\x0ak0\n\x00\xff", "\x10k2\ninf"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		spec := specs[int(in[0])%len(specs)]
		argv := [][]byte{[]byte(spec.name)}
		if len(in) > 1 {
			argv = append(argv, bytes.Split(in[1:], []byte("\n"))...)
		}
		// Commands that would build strings of hundreds of megabytes
		// (SETRANGE k 500000000 x) are legitimate but too slow to fuzz.
		for _, a := range argv[1:] {
			if len(a) >= 7 && a[0] >= '1' && a[0] <= '9' && bytes.Trim(a, "0123456789") == nil {
				return
			}
		}
		for _, c := range p.all() {
			for _, cmd := range setup {
				if _, err := c.doStrings(cmd...); err != nil {
					t.Fatalf("%s: set-up: %v", c.srv.name, err)
				}
			}
		}
		diffs, err := p.step(argv)
		for _, d := range diffs {
			t.Errorf("%s\n%s", quote(argv), d)
		}
		if err != nil {
			t.Fatalf("%s: %v", quote(argv), err)
		}
	})
}
