package compat

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The compatibility report: per Redis command family (the group field of
// redis-server's COMMAND DOCS), how many of Redis's commands ringkv lists in
// COMMAND, and how many differential cases ran and passed. Written to
// $RINGKV_COMPAT_REPORT after the tests (scripts/compat-report.sh).
var report struct {
	sync.Mutex
	groups      map[string]string // Redis command -> family
	implemented map[string]bool   // ringkv's COMMAND LIST
	cases       map[string]*[2]int
}

// protocolFamily is the report row of the protocol torture cases, which
// belong to no command.
const protocolFamily = "(protocol)"

// learnCommands records Redis's families and ringkv's command list, once.
func learnCommands(t testing.TB, redis, ringkv *client) {
	report.Lock()
	defer report.Unlock()
	if report.groups != nil {
		return
	}
	docs := redis.mustDo(t, "COMMAND", "DOCS")
	groups := map[string]string{}
	for i := 0; i+1 < len(docs.elems); i += 2 {
		doc := docs.elems[i+1]
		for j := 0; j+1 < len(doc.elems); j += 2 {
			if doc.elems[j].str == "group" {
				groups[docs.elems[i].str] = doc.elems[j+1].str
			}
		}
	}
	list := ringkv.mustDo(t, "COMMAND", "LIST")
	report.implemented = map[string]bool{}
	for _, e := range list.elems {
		report.implemented[e.str] = true
	}
	report.groups = groups
	report.cases = map[string]*[2]int{}
}

// family is the report row of a case starting with command name.
func family(name string) string {
	report.Lock()
	defer report.Unlock()
	if g, ok := report.groups[strings.ToLower(name)]; ok {
		return g
	}
	return "(unknown command)"
}

func record(fam string, pass bool) {
	report.Lock()
	defer report.Unlock()
	if report.cases == nil {
		report.cases = map[string]*[2]int{}
	}
	c := report.cases[fam]
	if c == nil {
		c = new([2]int)
		report.cases[fam] = c
	}
	c[1]++
	if pass {
		c[0]++
	}
}

func writeReport() error {
	path := os.Getenv("RINGKV_COMPAT_REPORT")
	if path == "" {
		return nil
	}
	report.Lock()
	defer report.Unlock()
	if report.groups == nil {
		return fmt.Errorf("no command families learnt: did the tests run?")
	}
	type row struct{ commands, implemented int }
	rows := map[string]*row{}
	for name, g := range report.groups {
		r := rows[g]
		if r == nil {
			r = new(row)
			rows[g] = r
		}
		r.commands++
		if report.implemented[name] {
			r.implemented++
		}
	}
	var fams []string
	for g := range rows {
		fams = append(fams, g)
	}
	for g := range report.cases {
		if rows[g] == nil {
			rows[g] = new(row)
			fams = append(fams, g)
		}
	}
	slices.Sort(fams)
	var b strings.Builder
	b.WriteString("| family | Redis 7.0 commands | implemented | differential cases passed |\n|---|---:|---:|---:|\n")
	var tc, ti, tp, tn int
	for _, g := range fams {
		r := rows[g]
		passed, total := 0, 0
		if c := report.cases[g]; c != nil {
			passed, total = c[0], c[1]
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d / %d |\n", g, r.commands, r.implemented, passed, total)
		tc, ti, tp, tn = tc+r.commands, ti+r.implemented, tp+passed, tn+total
	}
	fmt.Fprintf(&b, "| **total** | %d | %d | %d / %d |\n", tc, ti, tp, tn)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
