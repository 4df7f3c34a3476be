package bench

import (
	"fmt"
	"sort"
	"strings"
)

// Op is one command type of a workload: its label in the reports, its share
// of the requests, and its template.
type Op struct {
	Name   string
	Weight int
	Args   []string
}

// Workload is a weighted mix of command types.
type Workload struct {
	Name        string
	Description string
	Ops         []Op
}

func split(s string) []string { return strings.Fields(s) }

// Key prefixes differ by type so that workloads run one after another on the
// same server never meet a key of the wrong type.
var workloads = []Workload{
	{"ping", "PING", []Op{{"PING", 1, split("PING")}}},
	{"get", "GET of a random key", []Op{{"GET", 1, split("GET key:__rand_int__")}}},
	{"set", "SET of a random key", []Op{{"SET", 1, split("SET key:__rand_int__ __data__")}}},
	{"read-heavy", "90% GET, 10% SET", []Op{
		{"GET", 90, split("GET key:__rand_int__")},
		{"SET", 10, split("SET key:__rand_int__ __data__")}}},
	{"write-heavy", "10% GET, 90% SET", []Op{
		{"GET", 10, split("GET key:__rand_int__")},
		{"SET", 90, split("SET key:__rand_int__ __data__")}}},
	{"ttl", "30% SET EX 1, 20% SET PX 500, 50% GET: keys expire while the run goes on", []Op{
		{"SET EX", 30, split("SET ttl:__rand_int__ __data__ EX 1")},
		{"SET PX", 20, split("SET ttl:__rand_int__ __data__ PX 500")},
		{"GET", 50, split("GET ttl:__rand_int__")}}},
	{"list", "45% LPUSH, 45% RPOP, 10% LRANGE 0 9", []Op{
		{"LPUSH", 45, split("LPUSH list:__rand_int__ __data__")},
		{"RPOP", 45, split("RPOP list:__rand_int__")},
		{"LRANGE", 10, split("LRANGE list:__rand_int__ 0 9")}}},
	{"zset", "40% ZADD, 30% ZSCORE, 20% ZRANGE 0 9 WITHSCORES, 10% ZREM", []Op{
		{"ZADD", 40, split("ZADD zset:__rand_int__ __rand_score__ m:__rand_member__")},
		{"ZSCORE", 30, split("ZSCORE zset:__rand_int__ m:__rand_member__")},
		{"ZRANGE", 20, split("ZRANGE zset:__rand_int__ 0 9 WITHSCORES")},
		{"ZREM", 10, split("ZREM zset:__rand_int__ m:__rand_member__")}}},
}

var workloadAliases = map[string]string{
	"mixed": "read-heavy", "ttl-heavy": "ttl", "read": "read-heavy", "write": "write-heavy",
}

// WorkloadByName returns a built-in workload (or an alias of one).
func WorkloadByName(name string) (Workload, error) {
	n := strings.ToLower(name)
	if a, ok := workloadAliases[n]; ok {
		n = a
	}
	for _, w := range workloads {
		if w.Name == n {
			return w, nil
		}
	}
	return Workload{}, fmt.Errorf("unknown workload %q (one of: %s)", name, strings.Join(WorkloadNames(), ", "))
}

// WorkloadNames lists the built-in workloads in their order.
func WorkloadNames() []string {
	var names []string
	for _, w := range workloads {
		names = append(names, w.Name)
	}
	return names
}

// WorkloadHelp describes the built-in workloads and aliases, one per line.
func WorkloadHelp() string {
	var b strings.Builder
	for _, w := range workloads {
		fmt.Fprintf(&b, "  %-12s %s\n", w.Name, w.Description)
	}
	var al []string
	for a, w := range workloadAliases {
		al = append(al, a+"="+w)
	}
	sort.Strings(al)
	fmt.Fprintf(&b, "  aliases: %s\n", strings.Join(al, " "))
	return b.String()
}

// CustomWorkload is one command template given on the command line, named
// after its command.
func CustomWorkload(args []string) Workload {
	name := strings.ToUpper(args[0])
	return Workload{Name: "custom", Description: strings.Join(args, " "), Ops: []Op{{name, 1, args}}}
}

// compiled is a workload ready to run: templates and cumulative weights.
type compiled struct {
	w         Workload
	templates []*Template
	cumWeight []int
	total     int
	maxArgs   int
}

func compileWorkload(w Workload) (*compiled, error) {
	if len(w.Ops) == 0 {
		return nil, fmt.Errorf("workload %q has no commands", w.Name)
	}
	if len(w.Ops) > maxOps {
		return nil, fmt.Errorf("workload %q has %d command types; at most %d", w.Name, len(w.Ops), maxOps)
	}
	c := &compiled{w: w}
	for _, op := range w.Ops {
		if op.Weight <= 0 {
			return nil, fmt.Errorf("workload %q: %s has weight %d; must be > 0", w.Name, op.Name, op.Weight)
		}
		t, err := CompileTemplate(op.Name, op.Args)
		if err != nil {
			return nil, err
		}
		c.templates = append(c.templates, t)
		c.total += op.Weight
		c.cumWeight = append(c.cumWeight, c.total)
		c.maxArgs = max(c.maxArgs, len(op.Args))
	}
	return c, nil
}

// pick chooses an op index for a uniform r in [0, total).
func (c *compiled) pick(r int) int {
	for i, cw := range c.cumWeight {
		if r < cw {
			return i
		}
	}
	return len(c.cumWeight) - 1
}
