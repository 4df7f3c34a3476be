package compat

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// result is what one command produced on one server: its reply and, for the
// commands whose rule needs more than the reply, what was learnt by asking the
// same connection further questions.
type result struct {
	r *reply
	// scanKeys is, for SCAN from cursor 0, every key of the iteration run to
	// its end (cursor 0 again), sorted and deduplicated.
	scanKeys []string
	// invariant is, for RANDOMKEY, a description of a broken invariant, or "".
	invariant string
}

// execute runs argv on c and gathers what the command's rule needs.
func execute(c *client, argv [][]byte) (*result, error) {
	r, err := c.do(argv...)
	if err != nil {
		return nil, err
	}
	res := &result{r: r}
	switch strings.ToLower(string(argv[0])) {
	case "scan":
		if len(argv) < 2 || string(argv[1]) != "0" || !scanShape(r) {
			break
		}
		// Run the iteration to its end with the same options. A bound on
		// the calls keeps a server whose cursor never returns to 0 from
		// hanging the test; that is reported as a difference.
		seen := map[string]bool{}
		for calls := 0; ; calls++ {
			for _, e := range r.elems[1].elems {
				seen[e.str] = true
			}
			if r.elems[0].str == "0" {
				break
			}
			if calls == scanCallsMax {
				res.invariant = "SCAN cursor did not return to 0 after " + fmt.Sprint(scanCallsMax) + " calls"
				break
			}
			next := append([][]byte{argv[0], []byte(r.elems[0].str)}, argv[2:]...)
			if r, err = c.do(next...); err != nil {
				return nil, err
			}
			if !scanShape(r) {
				res.invariant = "SCAN continuation replied " + r.String()
				break
			}
		}
		for k := range seen {
			res.scanKeys = append(res.scanKeys, k)
		}
		slices.Sort(res.scanKeys)
	case "randomkey":
		if r.isErr() {
			break
		}
		size, err := c.doStrings("DBSIZE")
		if err != nil {
			return nil, err
		}
		switch {
		case r.null && size.n != 0:
			res.invariant = fmt.Sprintf("RANDOMKEY replied nil with DBSIZE %d", size.n)
		case !r.null && r.typ != '$':
			res.invariant = "RANDOMKEY replied " + r.String()
		case !r.null:
			ex, err := c.do([]byte("EXISTS"), []byte(r.str))
			if err != nil {
				return nil, err
			}
			if ex.n != 1 {
				res.invariant = fmt.Sprintf("RANDOMKEY replied %q, which does not exist", r.str)
			}
		}
	}
	return res, nil
}

// scanCallsMax bounds one SCAN iteration in execute.
const scanCallsMax = 10000

func scanShape(r *reply) bool {
	if r.typ != '*' || len(r.elems) != 2 || r.elems[0].typ != '$' || r.elems[1].typ != '*' {
		return false
	}
	for _, ch := range []byte(r.elems[0].str) {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return r.elems[0].str != ""
}

// A rule compares the replies of a command whose reply is legitimately not
// byte-identical between two correct servers. It returns "" when they agree
// and a description of the difference otherwise. Everything not listed here
// is compared byte for byte. Keep this list small: each entry is a place where
// a real difference could hide.
type rule func(argv [][]byte, want, got *result) string

var rules = map[string]rule{
	// KEYS: the order follows the hash table. Compared as sorted lists.
	"keys": sortedRule,
	// Set replies of sets held as hash tables follow each server's own
	// table. Compared as sorted lists (intsets are ordered on both).
	"smembers": sortedRule, "sinter": sortedRule, "sunion": sortedRule, "sdiff": sortedRule,
	// SCAN: cursors are positions in each server's own table. From cursor 0
	// the iteration is run to its end on each server and the sets of keys
	// compared; cursor values are not compared. From another cursor only the
	// shape is checked, since the cursor means nothing to the other server.
	"scan": scanRule,
	// HGETALL, HKEYS, HVALS: a hash held as a hash table lists its fields
	// in each server's own table order (hashRule).
	"hgetall": hashRule, "hkeys": hashRule, "hvals": hashRule,
	// RANDOMKEY: by invariant, nil iff the database is empty, else a key
	// that exists (execute checks both on each server).
	"randomkey": randomkeyRule,
	// INFO: values are the server's own (pids, ports, memory, times).
	// Every section and field ringkv reports must exist in Redis's reply, in
	// the same section; Redis reports more (README, known differences).
	"info": infoRule,
	// CLIENT: ids, addresses, fds and ages are per-connection facts.
	"client": clientRule,
	// HELLO: the reply carries the connection id; it is masked.
	"hello": helloRule,
	// CONFIG GET: port and dir are per-instance, and ringkv knows fewer
	// parameters than Redis.
	"config": configRule,
	// COMMAND: ringkv describes only the commands it implements.
	"command": commandRule,
	// TTL, PTTL, EXPIRETIME, PEXPIRETIME: a relative TTL (EXPIRE k 100000,
	// SET EX) is made absolute by each server's own clock, and the two run
	// the same command a little apart. Non-negative replies may differ by
	// ttlSkewMs (in the reply's unit: 1 for seconds, which round); -1 and -2
	// and errors are compared exactly.
	"ttl": ttlRule(1), "expiretime": ttlRule(1),
	"pttl": ttlRule(ttlSkewMs), "pexpiretime": ttlRule(ttlSkewMs),
	// OBJECT IDLETIME: Redis's shared integers (values 0..9999) carry the
	// idle time of whichever key last touched that integer, since the
	// server started: a fact of the process. Any integer is accepted;
	// compat/testdata/object.txt checks fresh keys read 0.
	"object": objectRule,
}

// ttlSkewMs bounds how far apart, in ms, the two servers may have read
// their clocks for the same command in a random sequence.
const ttlSkewMs = 1000

func ttlRule(tolerance int64) rule {
	return func(_ [][]byte, want, got *result) string {
		w, g := want.r, got.r
		if w.typ != ':' || g.typ != ':' || w.n < 0 || g.n < 0 {
			return "reply differs"
		}
		if d := w.n - g.n; d > tolerance || d < -tolerance {
			return fmt.Sprintf("TTL differs by more than %d", tolerance)
		}
		return ""
	}
}

func objectRule(argv [][]byte, want, got *result) string {
	if len(argv) == 3 && strings.EqualFold(string(argv[1]), "idletime") && want.r.typ == ':' && got.r.typ == ':' {
		return ""
	}
	return "reply differs"
}

// compare applies argv's rule, or byte equality when it has none.
func compare(argv [][]byte, want, got *result) string {
	if got.invariant != "" {
		return got.invariant
	}
	if want.invariant != "" {
		return "redis broke the rule's invariant (a harness bug?): " + want.invariant
	}
	if bytes.Equal(want.r.raw, got.r.raw) {
		return ""
	}
	// Rules see only well-formed, successful calls: errors are compared
	// byte for byte.
	if rule := rules[strings.ToLower(string(argv[0]))]; rule != nil && !want.r.isErr() && !got.r.isErr() {
		return rule(argv, want, got)
	}
	return "reply differs"
}

func elemStrings(r *reply) []string {
	var s []string
	for _, e := range r.elems {
		s = append(s, string(e.raw))
	}
	return s
}

func sortedRule(_ [][]byte, want, got *result) string {
	if want.r.typ != '*' || got.r.typ != '*' {
		return "reply differs"
	}
	w, g := elemStrings(want.r), elemStrings(got.r)
	slices.Sort(w)
	slices.Sort(g)
	if !slices.Equal(w, g) {
		return "elements differ (compared sorted)"
	}
	return ""
}

// hashRule: a hash in its listpack form (at most 512 fields, none and no
// value longer than 64 bytes: the defaults the random runs keep) lists
// its fields in insertion order on both servers, compared exactly; a hash
// past those sizes is a hash table, whose order is each server's own, so
// its fields (or, for HGETALL, its field-value pairs) are compared as sets.
// HKEYS and HVALS show only half of each pair, so they cannot tell which
// form the hash has and are always compared as sets.
func hashRule(argv [][]byte, want, got *result) string {
	w, g := want.r, got.r
	if w.typ != g.typ || w.typ != '*' && w.typ != '%' {
		return "reply differs"
	}
	all := strings.EqualFold(string(argv[0]), "hgetall")
	if all {
		listpack := len(w.elems) <= 2*512
		for _, e := range w.elems {
			listpack = listpack && len(e.str) <= 64
		}
		if listpack {
			return "reply differs" // not byte-identical, and the order is Redis's
		}
	}
	pairs := func(r *reply) []string {
		var out []string
		for i := 0; i < len(r.elems); i++ {
			e := string(r.elems[i].raw)
			if all && i+1 < len(r.elems) {
				i++
				e += string(r.elems[i].raw)
			}
			out = append(out, e)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(pairs(w), pairs(g)) {
		return "fields differ (compared as a set)"
	}
	return ""
}

func scanRule(argv [][]byte, want, got *result) string {
	if !scanShape(want.r) || !scanShape(got.r) {
		return "reply differs"
	}
	if string(argv[1]) != "0" {
		return ""
	}
	if !slices.Equal(want.scanKeys, got.scanKeys) {
		return fmt.Sprintf("SCAN iteration keys differ: redis %q, ringkv %q", want.scanKeys, got.scanKeys)
	}
	return ""
}

func randomkeyRule(_ [][]byte, want, got *result) string {
	// Both passed their invariant checks; a key reply against a nil one
	// means one server thought the database empty.
	if want.r.null != got.r.null {
		return "one server's database is empty, the other's is not"
	}
	return ""
}

// infoRingkvFields are INFO fields of ringkv's own, absent from Redis.
var infoRingkvFields = []string{"ringkv_version", "go_version"}

// infoHistorySections list what each server has seen, not what it is.
var infoHistorySections = []string{"Commandstats", "Errorstats", "Latencystats"}

// infoSections parses an INFO payload into section name -> field names.
func infoSections(s string) (order []string, fields map[string][]string) {
	fields = map[string][]string{}
	cur := ""
	for _, ln := range strings.Split(s, "\r\n") {
		switch {
		case strings.HasPrefix(ln, "# "):
			cur = ln[2:]
			order = append(order, cur)
			fields[cur] = nil
		case ln == "":
		default:
			name, _, _ := strings.Cut(ln, ":")
			fields[cur] = append(fields[cur], name)
		}
	}
	return order, fields
}

// isText: a bulk string, or in RESP3 the verbatim string Redis uses for
// INFO and CLIENT LIST/INFO.
func isText(r *reply) bool { return r.typ == '$' || r.typ == '=' }

func infoRule(_ [][]byte, want, got *result) string {
	if want.r.typ != got.r.typ || !isText(want.r) {
		return "reply differs"
	}
	_, wf := infoSections(want.r.str)
	gorder, gf := infoSections(got.r.str)
	for _, sec := range gorder {
		wfields, ok := wf[sec]
		if !ok {
			return "INFO section " + sec + " is not in Redis's reply"
		}
		if slices.Contains(infoHistorySections, sec) {
			// One line per command or error code seen: each server's
			// own history (the harness sends ringkv commands of its own).
			continue
		}
		for _, f := range gf[sec] {
			if !slices.Contains(wfields, f) && !slices.Contains(infoRingkvFields, f) {
				return "INFO field " + sec + "/" + f + " is not in Redis's reply"
			}
		}
	}
	// The keyspace lines name the databases that hold keys: a fact both
	// servers must agree on (the values carry avg_ttl, so only names).
	if slices.Contains(gorder, "Keyspace") && !slices.Equal(wf["Keyspace"], gf["Keyspace"]) {
		return fmt.Sprintf("INFO keyspace databases: redis %v, ringkv %v", wf["Keyspace"], gf["Keyspace"])
	}
	return ""
}

// clientFieldsDeterministic are the CLIENT LIST/INFO fields whose values two
// servers given the same commands must agree on; the others (id, addr, laddr,
// fd, age, idle, buffer sizes and memory) are per-process facts.
var clientFieldsDeterministic = []string{"name", "db", "flags", "sub", "psub", "ssub", "multi", "cmd", "user", "redir", "resp"}

// clientRedis72Fields are fields of Redis 7.2's CLIENT LIST that ringkv reports
// with CLIENT SETINFO (README, known differences); Redis 7.0 has neither.
var clientRedis72Fields = []string{"lib-name", "lib-ver"}

func clientRule(argv [][]byte, want, got *result) string {
	sub := strings.ToLower(string(argv[1]))
	switch sub {
	case "id":
		if want.r.typ == ':' && got.r.typ == ':' {
			return ""
		}
	case "info", "list":
		if want.r.typ != got.r.typ || !isText(want.r) {
			return "reply differs"
		}
		wl := strings.Split(strings.TrimSuffix(want.r.str, "\n"), "\n")
		gl := strings.Split(strings.TrimSuffix(got.r.str, "\n"), "\n")
		if len(wl) != len(gl) {
			return fmt.Sprintf("%d clients listed, Redis lists %d", len(gl), len(wl))
		}
		for i := range wl {
			wk, wv := clientFields(wl[i])
			gk, gv := clientFields(gl[i])
			gk = slices.DeleteFunc(gk, func(k string) bool { return slices.Contains(clientRedis72Fields, k) })
			if !slices.Equal(wk, gk) {
				return fmt.Sprintf("CLIENT %s field names differ: redis %v, ringkv %v", sub, wk, gk)
			}
			for _, k := range clientFieldsDeterministic {
				if wv[k] != gv[k] {
					return fmt.Sprintf("CLIENT %s field %s: redis %q, ringkv %q", sub, k, wv[k], gv[k])
				}
			}
		}
		return ""
	}
	return "reply differs"
}

func clientFields(line string) (keys []string, vals map[string]string) {
	vals = map[string]string{}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

func helloRule(_ [][]byte, want, got *result) string {
	mask := func(r *reply) []string {
		s := elemStrings(r)
		for i := 0; i+1 < len(r.elems); i += 2 {
			if r.elems[i].str == "id" {
				s[i+1] = "<id>"
			}
		}
		return s
	}
	if want.r.typ == got.r.typ && (want.r.typ == '*' || want.r.typ == '%') && slices.Equal(mask(want.r), mask(got.r)) {
		return ""
	}
	return "reply differs"
}

// configPerInstance are parameters whose values differ between two servers
// started differently (the port each listens on, the directory each runs in).
var configPerInstance = []string{"port", "dir"}

func configRule(argv [][]byte, want, got *result) string {
	if strings.ToLower(string(argv[1])) != "get" || want.r.typ != got.r.typ || (want.r.typ != '*' && want.r.typ != '%') {
		return "reply differs"
	}
	pairs := func(r *reply) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(r.elems); i += 2 {
			m[r.elems[i].str] = r.elems[i+1].str
		}
		return m
	}
	wm, gm := pairs(want.r), pairs(got.r)
	for k, v := range gm {
		wv, ok := wm[k]
		if !ok {
			return "CONFIG GET: ringkv reports " + k + ", which Redis does not"
		}
		if wv != v && !slices.Contains(configPerInstance, k) {
			return fmt.Sprintf("CONFIG GET %s: redis %q, ringkv %q", k, wv, v)
		}
	}
	// A pattern without wildcards names parameters: both must know them.
	for _, pat := range argv[2:] {
		if !bytes.ContainsAny(pat, "*?[") {
			if _, ok := wm[strings.ToLower(string(pat))]; ok {
				if _, ok := gm[strings.ToLower(string(pat))]; !ok {
					return "CONFIG GET: ringkv does not know " + string(pat)
				}
			}
		}
	}
	return ""
}

// commandInfoFields is how many leading fields of a COMMAND INFO entry are
// compared byte for byte: name, arity, flags, first key, last key, step, ACL
// categories, tips, key specs. Subcommands (the tenth) come in the order of
// each server's own hash table, and ringkv lists only those it implements.
const commandInfoFields = 9

// commandRedis72 are Redis 7.2 subcommands ringkv has because clients send
// them (README, known differences).
var commandRedis72 = []string{"client|setinfo", "client|no-touch"}

func commandRule(argv [][]byte, want, got *result) string {
	sub := ""
	if len(argv) > 1 {
		sub = strings.ToLower(string(argv[1]))
	}
	switch sub {
	case "count":
		if want.r.typ == ':' && got.r.typ == ':' {
			return ""
		}
	case "list":
		// Every command ringkv lists exists in Redis.
		ws := elemStrings(want.r)
		for _, e := range got.r.elems {
			if !slices.Contains(ws, string(e.raw)) && !slices.Contains(commandRedis72, e.str) {
				return "COMMAND LIST: ringkv lists " + e.str + ", which Redis does not"
			}
		}
		return ""
	case "", "info":
		// Entries compared by name; ringkv answers nil for a command it
		// does not implement, and COMMAND lists only its own.
		wm := map[string]*reply{}
		for _, e := range want.r.elems {
			if len(e.elems) > 0 {
				wm[e.elems[0].str] = e
			}
		}
		for i, e := range got.r.elems {
			if e.null && sub == "info" {
				continue
			}
			if len(e.elems) < commandInfoFields {
				return "COMMAND entry too short: " + e.String()
			}
			w := wm[e.elems[0].str]
			if sub == "info" && len(argv) > 2 {
				w = want.r.elems[i]
			}
			if w == nil || len(w.elems) < commandInfoFields {
				return "COMMAND: ringkv describes " + e.elems[0].str + ", Redis does not"
			}
			for j := range commandInfoFields {
				if !bytes.Equal(w.elems[j].raw, e.elems[j].raw) {
					return fmt.Sprintf("COMMAND %s field %d: redis %s, ringkv %s", e.elems[0].str, j, w.elems[j], e.elems[j])
				}
			}
		}
		if sub == "info" && len(argv) > 2 && len(want.r.elems) != len(got.r.elems) {
			return "COMMAND INFO: entry counts differ"
		}
		return ""
	case "docs":
		// For each command ringkv documents, every doc field it reports
		// has Redis's value (ringkv reports no arguments yet, README).
		wm := map[string]*reply{}
		for i := 0; i+1 < len(want.r.elems); i += 2 {
			wm[want.r.elems[i].str] = want.r.elems[i+1]
		}
		for i := 0; i+1 < len(got.r.elems); i += 2 {
			name, doc := got.r.elems[i].str, got.r.elems[i+1]
			w := wm[name]
			if w == nil {
				return "COMMAND DOCS: ringkv documents " + name + ", Redis does not"
			}
			for j := 0; j+1 < len(doc.elems); j += 2 {
				field := doc.elems[j].str
				found := false
				for k := 0; k+1 < len(w.elems); k += 2 {
					if w.elems[k].str == field {
						found = true
						if field == "subcommands" {
							// In each server's hash-table order: compared as
							// sets of (name, docs) pairs.
							if sortedPairs(w.elems[k+1]) != sortedPairs(doc.elems[j+1]) {
								return "COMMAND DOCS " + name + " subcommands differ"
							}
							continue
						}
						if !bytes.Equal(w.elems[k+1].raw, doc.elems[j+1].raw) {
							return fmt.Sprintf("COMMAND DOCS %s %s: redis %s, ringkv %s", name, field, w.elems[k+1], doc.elems[j+1])
						}
					}
				}
				if !found {
					return "COMMAND DOCS " + name + ": field " + field + " is not in Redis's reply"
				}
			}
		}
		return ""
	}
	return "reply differs"
}

// sortedPairs renders a map reply (flat in RESP2) as its sorted pairs.
func sortedPairs(r *reply) string {
	var pairs []string
	for i := 0; i+1 < len(r.elems); i += 2 {
		if slices.Contains(commandRedis72, r.elems[i].str) {
			continue
		}
		pairs = append(pairs, string(r.elems[i].raw)+string(r.elems[i+1].raw))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "")
}
