package conn

import (
	"errors"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// The configuration table: every parameter CONFIG GET, CONFIG SET, CONFIG
// REWRITE and the config file know, with Redis's names, defaults, parsing
// and error texts.
//
// Adding a parameter. Declare an entry with one of the typed constructors
// and register it from an init function in the file that owns the feature:
//
//	func init() {
//		registerConfig(
//			boolConfig("appendonly", false, func(s *Server) *bool { return &s.aof.enabled }, applyAOF),
//			enumConfig("appendfsync", "everysec", []string{"always", "everysec", "no"}, func(s *Server) *string { return &s.aof.fsync }, nil),
//			intConfig("tcp-keepalive", 0, 0, math.MaxInt32, func(s *Server) *int64 { return &s.params.tcpKeepalive }, nil),
//			withAlias(intConfig("hash-max-listpack-entries", 512, 0, math.MaxInt64, ...), "hash-max-ziplist-entries"),
//		)
//	}
//
// The pointer function says where the value lives (any field of the server or
// the store; the default is stored there when the server starts); apply, if
// not nil, runs after the value changed (CONFIG SET or the config file) and
// may refuse it with an error, in which case the old value is put back. A
// parameter registered by the code that implements it replaces a placeholder
// of the same name (flag configPlaceholder: accepted and reported, not acted
// on). Every registered parameter is listed by CONFIG GET *, settable by
// CONFIG SET (unless configImmutable), and written by CONFIG REWRITE.
//
// Aliases. withAlias gives a parameter a second name (Redis 7.0's -ziplist-
// names for the -listpack- ones). As in Redis's registerConfigValue, the
// alias is an entry of its own (flag configAlias) sharing the primary's
// value: CONFIG GET * lists both names, CONFIG SET takes either (and both
// in one call, in order: they are not duplicates of each other), the config
// file may use either, and CONFIG REWRITE writes only the primary name,
// turning a line that used the alias into one that uses the primary.

type configFlag uint8

const (
	configImmutable   configFlag = 1 << iota // CONFIG SET refuses it
	configPlaceholder                        // accepted, not acted on; a real entry replaces it
	configAlias                              // a second name of the entry named by primary
	configMemory                             // a byte size: CONFIG REWRITE writes 1kb, 2mb, 3gb
	configMultiArg                           // several words in the config file (Redis's MULTI_ARG_CONFIG)
)

// configParam is one row of the table.
type configParam struct {
	name  string
	flags configFlag
	// alias, on a primary entry, is its second name (withAlias); primary,
	// on the alias entry registerConfig makes from it, names the primary.
	alias, primary string
	// def is the default value, as CONFIG GET prints it.
	def string
	// get returns the current value as CONFIG GET prints it.
	get func(s *Server) string
	// set parses v and stores it. It changes nothing when it returns an
	// error (whose text follows Redis's "CONFIG SET failed ... - ").
	set func(s *Server, v string) error
	// apply runs after set succeeded; an error makes CONFIG SET put the
	// old value back.
	apply func(s *Server) error
}

var (
	configTable []*configParam
	configIndex = map[string]*configParam{}
)

// registerConfig adds parameters to the table, each followed by its alias
// entry if it has one. A duplicate name panics, unless the existing entry is
// a placeholder, which is replaced.
func registerConfig(params ...*configParam) {
	for _, p := range params {
		registerConfigEntry(p)
		if p.alias != "" {
			a := *p
			a.name, a.alias, a.primary, a.flags = p.alias, "", p.name, p.flags|configAlias
			registerConfigEntry(&a)
		}
	}
}

func registerConfigEntry(p *configParam) {
	if old := configIndex[p.name]; old != nil {
		if old.flags&configPlaceholder == 0 {
			panic("BUG: config parameter registered twice: " + p.name)
		}
		configTable[slices.Index(configTable, old)] = p
	} else {
		configTable = append(configTable, p)
	}
	configIndex[p.name] = p
}

func errRange(lo, hi int64) error {
	return errors.New("argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive")
}

var (
	errNotInteger = errors.New("argument couldn't be parsed into an integer")
	errNotMemory  = errors.New("argument must be a memory value")
)

// withAlias gives p a second name (see Aliases above).
func withAlias(p *configParam, alias string) *configParam {
	p.alias = alias
	return p
}

// multiArg lets the config file and the command line give p several words,
// which set receives joined by spaces; any other parameter takes exactly one.
func multiArg(p *configParam) *configParam {
	p.flags |= configMultiArg
	return p
}

// intConfig is an integer parameter within [lo, hi], parsed as Redis's
// string2ll does (no sign but '-', no leading zero, no spaces).
func intConfig(name string, def, lo, hi int64, ptr func(*Server) *int64, apply func(*Server) error) *configParam {
	return &configParam{name: name, def: strconv.FormatInt(def, 10),
		get: func(s *Server) string { return strconv.FormatInt(*ptr(s), 10) },
		set: func(s *Server, v string) error {
			n, ok := resp.ParseInt([]byte(v))
			if !ok {
				return errNotInteger
			}
			if n < lo || n > hi {
				return errRange(lo, hi)
			}
			*ptr(s) = n
			return nil
		}, apply: apply}
}

// memoryConfig is a byte size ("1gb", "100mb", "512"), parsed as Redis's
// memtoull and range-checked as the long long it is cast to: a value past
// 2^63 is negative there, so out of range rather than unparsable.
func memoryConfig(name string, def, lo, hi int64, ptr func(*Server) *int64, apply func(*Server) error) *configParam {
	p := intConfig(name, def, lo, hi, ptr, apply)
	p.flags |= configMemory
	p.set = func(s *Server, v string) error {
		u, ok := parseMemory(v)
		if !ok {
			return errNotMemory
		}
		if n := int64(u); n < lo || n > hi {
			return errRange(lo, hi)
		}
		*ptr(s) = int64(u)
		return nil
	}
	return p
}

// parseMemory is Redis 7.0's memtoull: digits (none is 0) and an optional
// unit, b, k=1000, kb=1024, m, mb, g, gb, case-insensitive; nothing else,
// not even a sign or a space. Like the C, it neither reports an overflow of
// the digits (strtoull's ULLONG_MAX stands) nor of the multiplication (it
// wraps).
func parseMemory(v string) (uint64, bool) {
	if strings.HasPrefix(v, "-") {
		return 0, false
	}
	u := 0
	for u < len(v) && v[u] >= '0' && v[u] <= '9' {
		u++
	}
	var mul uint64
	switch strings.ToLower(v[u:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1 << 20
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1 << 30
	default:
		return 0, false
	}
	if u >= memDigitsMax {
		return 0, false
	}
	var n uint64
	if u > 0 {
		var err error
		if n, err = strconv.ParseUint(v[:u], 10, 64); err != nil {
			n = math.MaxUint64 // only a range error is possible here
		}
	}
	return n * mul, true
}

// memDigitsMax is the size of memtoull's digit buffer: it refuses this
// many digits or more.
const memDigitsMax = 128

// formatMemory is how CONFIG REWRITE writes a byte size, as Redis's
// rewriteConfigFormatMemory: the largest of gb, mb, kb that divides it.
func formatMemory(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// boolConfig is a yes/no parameter.
func boolConfig(name string, def bool, ptr func(*Server) *bool, apply func(*Server) error) *configParam {
	return &configParam{name: name, def: yesNo(def),
		get: func(s *Server) string { return yesNo(*ptr(s)) },
		set: func(s *Server, v string) error {
			switch strings.ToLower(v) {
			case "yes":
				*ptr(s) = true
			case "no":
				*ptr(s) = false
			default:
				return errors.New("argument must be 'yes' or 'no'")
			}
			return nil
		}, apply: apply}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// enumConfig is one of a fixed list of words.
func enumConfig(name, def string, values []string, ptr func(*Server) *string, apply func(*Server) error) *configParam {
	return &configParam{name: name, def: def,
		get: func(s *Server) string { return *ptr(s) },
		set: func(s *Server, v string) error {
			for _, w := range values {
				if strings.EqualFold(w, v) {
					*ptr(s) = w
					return nil
				}
			}
			return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
		}, apply: apply}
}

// stringConfig is a free-form string; check, if not nil, validates it.
func stringConfig(name, def string, ptr func(*Server) *string, check func(string) error, apply func(*Server) error) *configParam {
	return &configParam{name: name, def: def,
		get: func(s *Server) string { return *ptr(s) },
		set: func(s *Server, v string) error {
			if check != nil {
				if err := check(v); err != nil {
					return err
				}
			}
			*ptr(s) = v
			return nil
		}, apply: apply}
}

// immutableConfig reports a value that cannot change at run time.
func immutableConfig(name string, get func(*Server) string) *configParam {
	return &configParam{name: name, flags: configImmutable, get: get}
}

// placeholderConfig is accepted and reported but not acted on yet; the code
// that implements it registers a real entry under the same name.
func placeholderConfig(name, def string) *configParam {
	p := stringConfig(name, def, nil, nil, nil)
	p.flags = configPlaceholder
	p.get = func(s *Server) string {
		if v, ok := s.params.placeholders[name]; ok {
			return v
		}
		return def
	}
	p.set = func(s *Server, v string) error { s.params.placeholders[name] = v; return nil }
	return p
}

// params holds the values of the parameters conn owns that Config does not.
type params struct {
	requirePass        string
	protectedMode      bool
	timeoutSec         int64
	slowlogSlowerThan  int64
	slowlogMaxLen      int64
	latencyThresholdMs int64
	latencyTracking    bool
	latencyPercentiles string
	maxClients         int64
	queryBufLimit      int64
	maxMemory          int64
	maxMemoryPolicy    string
	hz                 int64
	tcpKeepalive       int64
	logLevel           string
	dbFilename         string
	save               string
	placeholders       map[string]string
	enc                encodingParams
	// obuf is client-output-buffer-limit by class (obufClasses). The normal
	// class's hard limit lives in Config.ReplyHardLimit, which enforces it.
	obuf [3]obufLimit
}

// obufLimit is one class's "hard soft soft-seconds" of
// client-output-buffer-limit.
type obufLimit struct{ hard, soft, softSec int64 }

// obufClasses are the classes in the order CONFIG GET lists them.
var obufClasses = [3]string{"normal", "slave", "pubsub"}

// encodingParams are the thresholds of the small encodings (applyEncoding).
type encodingParams struct {
	listMaxListpackSize    int64
	listCompressDepth      int64
	hashMaxListpackEntries int64
	hashMaxListpackValue   int64
	setMaxIntsetEntries    int64
	zsetMaxListpackEntries int64
	zsetMaxListpackValue   int64
}

// init stores every default, then the values Config carries.
func (p *params) init(s *Server) {
	p.placeholders = map[string]string{}
	hardLimit := s.cfg.ReplyHardLimit
	for _, c := range configTable {
		if c.set != nil && c.flags&configPlaceholder == 0 {
			if err := c.set(s, c.def); err != nil {
				panic("BUG: default of " + c.name + ": " + err.Error())
			}
		}
	}
	p.maxClients = int64(s.cfg.MaxClients)
	p.queryBufLimit = int64(s.cfg.QueryBufLimit)
	s.cfg.ReplyHardLimit = hardLimit // the default's 0 must not replace Config's
	applyEncoding(s)                 // a server starts with the defaults, whatever a previous one set
}

func percentilesCheck(v string) error {
	for _, f := range strings.Fields(v) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || x < 0 || x > 100 {
			return errors.New("latency-tracking-info-percentiles parameter should contain numbers between 0 and 100")
		}
	}
	return nil
}

func init() {
	registerConfig(
		immutableConfig("bind", func(s *Server) string { return s.cfg.Bind }),
		immutableConfig("port", func(s *Server) string { return strconv.Itoa(s.port) }),
		immutableConfig("io", func(s *Server) string { return s.backend }),
		immutableConfig("databases", func(*Server) string { return strconv.Itoa(store.NumDBs) }),
		immutableConfig("daemonize", func(*Server) string { return "no" }),
		immutableConfig("logfile", func(*Server) string { return "" }),
		immutableConfig("tcp-backlog", func(*Server) string { return strconv.Itoa(listenBacklog) }),
		immutableConfig("proto-max-bulk-len", func(*Server) string { return strconv.Itoa(resp.BulkLenMax) }),
		intConfig("maxclients", DefaultMaxClients, 1, math.MaxUint32, func(s *Server) *int64 { return &s.params.maxClients },
			func(s *Server) error { s.cfg.MaxClients = int(s.params.maxClients); return nil }),
		memoryConfig("client-query-buffer-limit", DefaultQueryBufLimit, 1024*1024, math.MaxInt64, func(s *Server) *int64 { return &s.params.queryBufLimit },
			func(s *Server) error { s.cfg.QueryBufLimit = int(s.params.queryBufLimit); return nil }),
		multiArg(&configParam{name: "client-output-buffer-limit", def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
			get: getOutputBufferLimit, set: setOutputBufferLimit}),
		stringConfig("requirepass", "", func(s *Server) *string { return &s.params.requirePass }, nil, nil),
		boolConfig("protected-mode", true, func(s *Server) *bool { return &s.params.protectedMode }, nil),
		intConfig("timeout", 0, 0, math.MaxInt32, func(s *Server) *int64 { return &s.params.timeoutSec }, nil),
		intConfig("slowlog-log-slower-than", 10000, -1, math.MaxInt64, func(s *Server) *int64 { return &s.params.slowlogSlowerThan }, applyTiming),
		intConfig("slowlog-max-len", 128, 0, math.MaxInt64, func(s *Server) *int64 { return &s.params.slowlogMaxLen },
			func(s *Server) error { s.adm.slowlog.trim(int(s.params.slowlogMaxLen)); return nil }),
		intConfig("latency-monitor-threshold", 0, 0, math.MaxInt64, func(s *Server) *int64 { return &s.params.latencyThresholdMs }, applyTiming),
		boolConfig("latency-tracking", true, func(s *Server) *bool { return &s.params.latencyTracking }, applyTiming),
		multiArg(stringConfig("latency-tracking-info-percentiles", "50 99 99.9", func(s *Server) *string { return &s.params.latencyPercentiles }, percentilesCheck, nil)),
		memoryConfig("maxmemory", 0, 0, math.MaxInt64, func(s *Server) *int64 { return &s.params.maxMemory }, nil),
		enumConfig("maxmemory-policy", "noeviction", []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
			func(s *Server) *string { return &s.params.maxMemoryPolicy }, nil),
		intConfig("hz", 10, 0, math.MaxInt32, func(s *Server) *int64 { return &s.params.hz },
			func(s *Server) error { s.params.hz = min(max(s.params.hz, 1), 500); return nil }),
		intConfig("tcp-keepalive", 0, 0, math.MaxInt32, func(s *Server) *int64 { return &s.params.tcpKeepalive }, nil),
		enumConfig("loglevel", "notice", []string{"debug", "verbose", "notice", "warning"}, func(s *Server) *string { return &s.params.logLevel }, nil),
		stringConfig("dbfilename", "dump.rdb", func(s *Server) *string { return &s.params.dbFilename }, nil, nil),
		// No RDB: save is empty by default, which is the truth.
		multiArg(stringConfig("save", "", func(s *Server) *string { return &s.params.save }, nil, nil)),
	)
}

func applyTiming(s *Server) error { s.updateTiming(); return nil }

// The thresholds of the small encodings, at Redis 7.0's names, aliases,
// defaults and ranges (the -value ones are byte sizes). The store reads them
// from package variables (store.HashMaxListpackEntries ...), so they are
// process-wide while CONFIG is per Server: Redis has one server per process,
// ringkv's tests start several. Each Server keeps its own values and
// applyEncoding copies them into the store's variables when it starts and
// after each change, so a server started with the defaults sees the
// defaults whatever a previous one set; two servers running at once in one
// process with different values would share the last ones set. As in Redis,
// a change applies to values created or grown afterwards: an existing key
// keeps its encoding (a hash that became a hashtable stays one).
//
// list-max-listpack-size and list-compress-depth are kept and reported but
// change nothing: Redis 7.0 always reports a list as quicklist, and ringkv's
// list has no nodes to size or compress (store/list.go).
func init() {
	enc := func(f func(e *encodingParams) *int64) func(s *Server) *int64 {
		return func(s *Server) *int64 { return f(&s.params.enc) }
	}
	registerConfig(
		withAlias(intConfig("list-max-listpack-size", -2, math.MinInt32, math.MaxInt32,
			enc(func(e *encodingParams) *int64 { return &e.listMaxListpackSize }), nil), "list-max-ziplist-size"),
		intConfig("list-compress-depth", 0, 0, math.MaxInt32,
			enc(func(e *encodingParams) *int64 { return &e.listCompressDepth }), nil),
		withAlias(intConfig("hash-max-listpack-entries", 512, 0, math.MaxInt64,
			enc(func(e *encodingParams) *int64 { return &e.hashMaxListpackEntries }), applyEncoding), "hash-max-ziplist-entries"),
		withAlias(memoryConfig("hash-max-listpack-value", 64, 0, math.MaxInt64,
			enc(func(e *encodingParams) *int64 { return &e.hashMaxListpackValue }), applyEncoding), "hash-max-ziplist-value"),
		intConfig("set-max-intset-entries", 512, 0, math.MaxInt64,
			enc(func(e *encodingParams) *int64 { return &e.setMaxIntsetEntries }), applyEncoding),
		withAlias(intConfig("zset-max-listpack-entries", 128, 0, math.MaxInt64,
			enc(func(e *encodingParams) *int64 { return &e.zsetMaxListpackEntries }), applyEncoding), "zset-max-ziplist-entries"),
		withAlias(memoryConfig("zset-max-listpack-value", 64, 0, math.MaxInt64,
			enc(func(e *encodingParams) *int64 { return &e.zsetMaxListpackValue }), applyEncoding), "zset-max-ziplist-value"),
	)
}

// applyEncoding copies s's encoding thresholds into the store's variables.
// A variable is written only when its value changes: servers that all run
// with the defaults never write them, so they can run side by side (the
// race detector sees no write while another server's loop reads).
func applyEncoding(s *Server) error {
	e := &s.params.enc
	setInt := func(dst *int, v int64) {
		if int64(*dst) != v {
			*dst = int(v)
		}
	}
	setInt(&store.HashMaxListpackEntries, e.hashMaxListpackEntries)
	setInt(&store.HashMaxListpackValue, e.hashMaxListpackValue)
	setInt(&store.SetMaxIntsetEntries, e.setMaxIntsetEntries)
	setInt(&store.ZsetMaxListpackEntries, e.zsetMaxListpackEntries)
	setInt(&store.ZsetMaxListpackValue, e.zsetMaxListpackValue)
	return nil
}

// getOutputBufferLimit lists every class as Redis does.
func getOutputBufferLimit(s *Server) string {
	var b []byte
	for i, class := range obufClasses {
		l := s.params.obuf[i]
		if i == 0 {
			l.hard = int64(s.cfg.ReplyHardLimit)
		} else {
			b = append(b, ' ')
		}
		b = append(b, class...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.hard, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.soft, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.softSec, 10)
	}
	return string(b)
}

// setOutputBufferLimit takes Redis's "class hard soft seconds ..." list and
// changes the classes it names; like Redis it checks every group before it
// changes any. The normal class's limits are enforced (overOutputLimits);
// ringkv has no replicas, and its pub/sub clients are not a class of their
// own yet.
func setOutputBufferLimit(s *Server, v string) error {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	var vals [3]obufLimit
	var named [3]bool
	for i := 0; i < len(f); i += 4 {
		class := -1
		switch strings.ToLower(f[i]) {
		case "normal":
			class = 0
		case "slave", "replica":
			class = 1
		case "pubsub":
			class = 2
		}
		if class < 0 {
			return errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(f[i+1])
		soft, ok2 := parseMemory(f[i+2])
		sec, err := strconv.ParseInt(f[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || sec < 0 || hard > math.MaxInt64 || soft > math.MaxInt64 {
			return errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		vals[class], named[class] = obufLimit{int64(hard), int64(soft), sec}, true
	}
	for i := range vals {
		if !named[i] {
			continue
		}
		s.params.obuf[i] = vals[i]
		if i == 0 {
			s.cfg.ReplyHardLimit = int(vals[i].hard)
		}
	}
	return nil
}

// KnownConfig reports whether name (lower case) is a parameter of the
// table, for the config file parser.
func KnownConfig(name string) bool { return configIndex[name] != nil }

// ParamError is a directive of Config.Params that the table refused when
// the server started (Run returns it wrapped): Params[Index], and why, in
// the text redis-server prints for its config file (CONFIG SET's after
// "- "), so that the binary can report it as Redis does.
type ParamError struct {
	Index int
	Name  string
	Err   error
}

func (e *ParamError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// applyParams applies directives from the config file or the command line
// through the table, at start, checking their number of words as Redis's
// loadServerConfigFromString does.
func (s *Server) applyParams(directives [][]string) error {
	for i, d := range directives {
		p := configIndex[strings.ToLower(d[0])]
		if p == nil {
			return &ParamError{Index: i, Name: d[0], Err: errors.New("Bad directive or wrong number of arguments")}
		}
		if p.set == nil {
			continue // immutable ones (port, bind, ...) are Config's fields
		}
		if p.flags&configMultiArg == 0 && len(d) != 2 {
			return &ParamError{Index: i, Name: d[0], Err: errors.New("wrong number of arguments")}
		}
		v := strings.Join(d[1:], " ")
		if err := p.set(s, v); err != nil {
			return &ParamError{Index: i, Name: d[0], Err: err}
		}
		if p.apply != nil {
			if err := p.apply(s); err != nil {
				return &ParamError{Index: i, Name: d[0], Err: err}
			}
		}
	}
	return nil
}

func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6, float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

var configCommands = []*store.Command{
	{Name: "config", Arity: -2, ACL: "@slow", Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands", Cplx: "Depends on subcommand.",
		Subcommands: []*store.Command{
			{Name: "config|get", Handler: configGetCmd},
			{Name: "config|set", Handler: configSetCmd},
			{Name: "config|resetstat", Handler: configResetStatCmd},
			{Name: "config|rewrite", Handler: configRewriteCmd},
			{Name: "config|help", Handler: configHelpCmd},
		}},
}

func init() { store.Register(configCommands...) }

func configGetCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	var matched [][2]string
	seen := map[string]bool{}
	for _, pat := range argv[2:] {
		lower := strings.ToLower(string(pat))
		if !strings.ContainsAny(lower, "[*?") {
			// A plain name is looked up, and answered as it was spelt
			// (CONFIG GET MAXMEMORY names MAXMEMORY), as Redis does.
			if p := configIndex[lower]; p != nil && !seen[p.name] {
				seen[p.name] = true
				matched = append(matched, [2]string{string(pat), p.get(s)})
			}
			continue
		}
		for _, p := range configTable {
			if !seen[p.name] && store.GlobMatch([]byte(lower), []byte(p.name)) {
				seen[p.name] = true
				matched = append(matched, [2]string{p.name, p.get(s)})
			}
		}
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, len(matched))
	for _, p := range matched {
		c.Out = resp.AppendBulkString(c.Out, p[0])
		c.Out = resp.AppendBulkString(c.Out, p[1])
	}
}

// configSetCmd is CONFIG SET name value [name value ...], all or nothing as
// Redis 7 does: every name is checked first; then the values are set in
// order, and if one is refused, those already set get their old values back.
func configSetCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	if len(argv)%2 != 0 {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	n := (len(argv) - 2) / 2
	ps := make([]*configParam, n)
	for i := range n {
		name := strings.ToLower(string(argv[2+2*i]))
		p := configIndex[name]
		if p == nil {
			c.Out = resp.AppendErr(c.Out, "Unknown option or number of arguments for CONFIG SET - '", string(argv[2+2*i]), "'")
			return
		}
		if p.flags&configImmutable != 0 {
			c.Out = configSetFailed(c.Out, string(argv[2+2*i]), "can't set immutable config")
			return
		}
		if slices.Contains(ps[:i], p) {
			c.Out = configSetFailed(c.Out, string(argv[2+2*i]), "duplicate parameter")
			return
		}
		ps[i] = p
	}
	old := make([]string, n)
	for i, p := range ps {
		old[i] = p.get(s)
	}
	restore := func(upto int) {
		for j := upto - 1; j >= 0; j-- {
			ps[j].set(s, old[j])
			if ps[j].apply != nil {
				ps[j].apply(s)
			}
		}
	}
	for i, p := range ps {
		if err := p.set(s, string(argv[3+2*i])); err != nil {
			restore(i)
			c.Out = configSetFailed(c.Out, string(argv[2+2*i]), err.Error())
			return
		}
	}
	for i, p := range ps {
		if p.apply == nil {
			continue
		}
		if err := p.apply(s); err != nil {
			restore(n)
			c.Out = configSetFailed(c.Out, string(argv[2+2*i]), err.Error())
			return
		}
	}
	c.Out = append(c.Out, resp.OK...)
}

func configSetFailed(dst []byte, name, why string) []byte {
	return resp.AppendErr(dst, "CONFIG SET failed (possibly related to argument '", name, "') - ", why)
}

func configResetStatCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	s.resetStats()
	c.Out = append(c.Out, resp.OK...)
}

// resetStats is CONFIG RESETSTAT: the counters INFO reports, the command and
// error statistics, as Redis's resetServerStats.
func (s *Server) resetStats() {
	s.stats = stats{}
	s.store.Stats.Hits, s.store.Stats.Misses, s.store.Stats.ExpiredKeys = 0, 0, 0
	clear(s.adm.cmdStats)
	clear(s.adm.errStats)
	s.adm.errTotal = 0
	s.adm.opsSamples, s.adm.inSamples, s.adm.outSamples = [16]int64{}, [16]int64{}, [16]int64{}
	s.adm.lastSampleMs = 0
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

func configHelpCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = store.AppendHelp(c.Out, "CONFIG", configHelp)
}

func configRewriteCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	if s.cfg.ConfigFile == "" {
		c.Out = resp.AppendErr(c.Out, "The server is running without a config file")
		return
	}
	if err := s.rewriteConfig(s.cfg.ConfigFile); err != nil {
		s.cfg.Logger.Printf("CONFIG REWRITE failed: %v", err)
		c.Out = resp.AppendErr(c.Out, "Rewriting config file: ", errText(err))
		return
	}
	s.cfg.Logger.Printf("CONFIG REWRITE executed with success.")
	c.Out = append(c.Out, resp.OK...)
}

// errText is strerror's text for an OS error, as Redis prints it.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}

// rewriteConfigSignature marks the lines CONFIG REWRITE appends, as Redis's.
const rewriteConfigSignature = "# Generated by CONFIG REWRITE"

// rewriteConfig rewrites the config file as Redis's rewriteConfig does:
// comments and unknown lines stay; the first line of each known parameter
// gets its current value, later lines of the same parameter go; parameters
// whose value differs from the default and that the file does not mention
// are appended after the signature line. The new file replaces the old one
// atomically (written beside it, fsynced, renamed).
func (s *Server) rewriteConfig(path string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var out []string
	done := map[string]bool{}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(data) == 0 {
		lines = nil
	}
	for _, ln := range lines {
		trimmed := strings.TrimSpace(ln)
		if trimmed == rewriteConfigSignature {
			continue // appended again below if needed
		}
		if trimmed == "" || trimmed[0] == '#' {
			out = append(out, ln)
			continue
		}
		name := strings.ToLower(strings.Fields(trimmed)[0])
		p := configIndex[name]
		if p == nil || p.flags&configImmutable != 0 {
			out = append(out, ln)
			continue
		}
		if p.flags&configAlias != 0 {
			// A line that uses the alias becomes the primary's line.
			name, p = p.primary, configIndex[p.primary]
		}
		if done[name] {
			continue
		}
		done[name] = true
		out = append(out, name+" "+rewriteValue(s, p))
	}
	var extra []string
	for _, p := range configTable {
		if done[p.name] || p.flags&(configImmutable|configAlias) != 0 {
			continue
		}
		if v := p.get(s); v != p.def && !(p.name == "dir") {
			extra = append(extra, p.name+" "+rewriteValue(s, p))
		}
	}
	if len(extra) > 0 {
		out = append(out, rewriteConfigSignature)
		out = append(out, extra...)
	}
	tmp := path + ".tmp-ringkv"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(out, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// rewriteValue is p's value as CONFIG REWRITE writes it.
func rewriteValue(s *Server, p *configParam) string {
	v := p.get(s)
	if p.flags&configMemory != 0 {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return formatMemory(n)
		}
	}
	return configQuote(v)
}

// configQuote quotes a value for the config file when it is empty or has
// spaces or quotes, as Redis's rewriteConfigStringOption does (sdscatrepr).
func configQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \"'\\\t\r\n") {
		return v
	}
	return strconv.Quote(v)
}
