package conn

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// Server commands that need the event loop: MONITOR, TIME, LASTSAVE, ROLE,
// SHUTDOWN, MEMORY.
var serverCommands = []*store.Command{
	{Name: "monitor", Handler: monitorCmd},
	{Name: "time", Handler: timeCmd},
	{Name: "lastsave", Handler: lastsaveCmd},
	{Name: "role", Handler: roleCmd},
	{Name: "shutdown", Handler: shutdownCmd},
	{Name: "memory", Subcommands: []*store.Command{
		{Name: "memory|usage", Handler: memoryUsageCmd},
		{Name: "memory|stats", Handler: memoryStatsCmd},
		{Name: "memory|doctor", Handler: memoryDoctorCmd},
		{Name: "memory|malloc-stats", Handler: memoryMallocStatsCmd},
		{Name: "memory|purge", Handler: memoryPurgeCmd},
		{Name: "memory|help", Handler: memoryHelpCmd},
	}},
}

func init() { store.Register(serverCommands...) }

// ---- MONITOR

func monitorCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, cl := server(c)
	if !cl.adm.monitor {
		cl.adm.monitor = true
		s.adm.monitors = append(s.adm.monitors, cl)
	}
	c.Out = append(c.Out, resp.OK...)
}

// feedMonitors sends every monitor the line Redis's replicationFeedMonitors
// writes: +<unix time with microseconds> [<db> <addr>] "arg" ...
// AUTH's arguments and HELLO's AUTH credentials are shown as "(redacted)".
func (s *Server) feedMonitors(cl *client, cmd *store.Command, argv [][]byte) {
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := strconv.AppendInt(nil, int64(now.Nanosecond()/1000), 10)
	for range 6 - len(us) {
		line = append(line, '0')
	}
	line = append(line, us...)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(cl.ctx.DB), 10)
	line = append(line, ' ')
	line = append(line, cl.addr...)
	line = append(line, ']')
	redactFrom, redactTo := len(argv), len(argv)
	switch cmd.Name {
	case "auth":
		redactFrom = 1
	case "hello":
		for j := 2; j+2 < len(argv); j++ {
			if strings.EqualFold(string(argv[j]), "auth") {
				redactFrom, redactTo = j+1, j+3
				break
			}
		}
	}
	for i, a := range argv {
		line = append(line, ' ')
		if i >= redactFrom && i < redactTo {
			a = []byte("(redacted)")
		}
		line = appendRepr(line, a)
	}
	line = append(line, '\r', '\n')
	for _, m := range s.adm.monitors {
		if m.closing {
			continue
		}
		m.ctx.Out = append(m.ctx.Out, line...)
		s.queue(m)
	}
}

// appendRepr is Redis's sdscatrepr: a double-quoted string with \\, \",
// \n, \r, \t, \a, \b escaped and other unprintable bytes as \xHH.
func appendRepr(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if ch >= ' ' && ch <= '~' {
				dst = append(dst, ch)
			} else {
				dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(dst, '"')
}

// ---- TIME, LASTSAVE, ROLE

func timeCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	now := time.Now()
	c.Out = resp.AppendArrayLen(c.Out, 2)
	c.Out = resp.AppendBulkInt(c.Out, now.Unix())
	c.Out = resp.AppendBulkInt(c.Out, int64(now.Nanosecond()/1000))
}

// lastsaveCmd reports the start of the server: ringkv writes no RDB
// snapshot, so nothing was saved since.
func lastsaveCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	c.Out = resp.AppendInt(c.Out, s.adm.lastSave)
}

func roleCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = resp.AppendArrayLen(c.Out, 3)
	c.Out = resp.AppendBulkString(c.Out, "master")
	c.Out = resp.AppendInt(c.Out, 0)
	c.Out = resp.AppendArrayLen(c.Out, 0)
}

// ---- SHUTDOWN

// shutdownCmd is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], parsed as
// Redis 7.0. ringkv has no RDB snapshot to save and no replicas to wait
// for: the server stops at the end of this loop turn (the AOF, when on, is
// flushed and fsynced by Run's shutdown path) and the connection closes
// without a reply, as in Redis.
func shutdownCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	nosave, save, abort := false, false, false
	for _, a := range argv[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "now", "force":
		case "abort":
			abort = true
		default:
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	if (abort && len(argv) != 2) || (nosave && save) {
		c.Out = append(c.Out, resp.ErrSyntax...)
		return
	}
	if abort {
		c.Out = resp.AppendErr(c.Out, "No shutdown in progress.")
		return
	}
	s.cfg.Logger.Printf("User requested shutdown...")
	s.Shutdown()
	c.Close = true
}

// ---- MEMORY

// memoryUsageCmd is MEMORY USAGE key [SAMPLES n]: an estimate of the bytes
// the key and its value take, in the terms of Redis's allocator (entry,
// key and value allocations rounded to jemalloc's size classes).
func memoryUsageCmd(st *store.Store, c *store.Ctx, argv [][]byte) {
	for i := 3; i < len(argv); i += 2 {
		if !strings.EqualFold(string(argv[i]), "samples") || i+1 >= len(argv) {
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
		n, ok := resp.ParseInt(argv[i+1])
		if !ok {
			c.Out = append(c.Out, resp.ErrNotInt...)
			return
		}
		if n < 0 {
			c.Out = append(c.Out, resp.ErrSyntax...)
			return
		}
	}
	n, ok := st.KeyMemoryUsage(c, argv[2])
	if !ok {
		c.Out = resp.AppendNullBulkP(c.Out, c.Proto)
		return
	}
	c.Out = resp.AppendInt(c.Out, int64(n))
}

func memoryStatsCmd(st *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := usedMemory(st, &ms)
	keys := 0
	for i := range store.NumDBs {
		keys += st.DB(i).Len()
	}
	var dbs [][2]int
	for i := range store.NumDBs {
		if t := st.DB(i); t.Len() > 0 {
			dbs = append(dbs, [2]int{i, t.MemoryBytes()})
		}
	}
	fields := []struct {
		name string
		v    int64
	}{
		{"peak.allocated", int64(ms.HeapSys)},
		{"total.allocated", used},
		{"startup.allocated", 0},
		{"replication.backlog", 0},
		{"clients.slaves", 0},
		{"clients.normal", int64(s.clientsMemory())},
		{"cluster.links", 0},
		{"aof.buffer", 0},
		{"lua.caches", 0},
		{"functions.caches", 0},
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, len(fields)+len(dbs)+16)
	for _, f := range fields {
		c.Out = resp.AppendBulkString(c.Out, f.name)
		c.Out = resp.AppendInt(c.Out, f.v)
	}
	for _, d := range dbs {
		c.Out = resp.AppendBulkString(c.Out, "db."+strconv.Itoa(d[0]))
		c.Out = resp.AppendMapLen(c.Out, c.Proto, 2)
		c.Out = resp.AppendBulkString(c.Out, "overhead.hashtable.main")
		c.Out = resp.AppendInt(c.Out, int64(d[1]))
		c.Out = resp.AppendBulkString(c.Out, "overhead.hashtable.expires")
		c.Out = resp.AppendInt(c.Out, 0)
	}
	rss := rssBytes()
	ints := []struct {
		name string
		v    int64
	}{
		{"overhead.total", int64(s.clientsMemory())},
		{"keys.count", int64(keys)},
		{"keys.bytes-per-key", used / int64(max(keys, 1))},
		{"dataset.bytes", used},
		{"allocator.allocated", int64(ms.HeapAlloc)},
		{"allocator.active", int64(ms.HeapInuse)},
		{"allocator.resident", int64(ms.HeapSys)},
		{"allocator-fragmentation.bytes", int64(ms.HeapInuse - ms.HeapAlloc)},
		{"allocator.rss-bytes", rss - int64(ms.HeapSys)},
		{"rss-overhead.bytes", rss - int64(ms.HeapSys)},
		{"fragmentation.bytes", rss - used},
	}
	for _, f := range ints[:4] {
		c.Out = resp.AppendBulkString(c.Out, f.name)
		c.Out = resp.AppendInt(c.Out, f.v)
	}
	c.Out = resp.AppendBulkString(c.Out, "dataset.percentage")
	c.Out = resp.AppendDouble(c.Out, c.Proto, 100*float64(used)/float64(max(int64(ms.HeapAlloc), 1)))
	c.Out = resp.AppendBulkString(c.Out, "peak.percentage")
	c.Out = resp.AppendDouble(c.Out, c.Proto, 100*float64(ms.HeapAlloc)/float64(max(ms.HeapSys, 1)))
	for _, f := range ints[4:6] {
		c.Out = resp.AppendBulkString(c.Out, f.name)
		c.Out = resp.AppendInt(c.Out, f.v)
	}
	c.Out = resp.AppendBulkString(c.Out, ints[6].name)
	c.Out = resp.AppendInt(c.Out, ints[6].v)
	c.Out = resp.AppendBulkString(c.Out, "allocator-fragmentation.ratio")
	c.Out = resp.AppendDouble(c.Out, c.Proto, float64(ms.HeapInuse)/float64(max(ms.HeapAlloc, 1)))
	c.Out = resp.AppendBulkString(c.Out, ints[7].name)
	c.Out = resp.AppendInt(c.Out, ints[7].v)
	c.Out = resp.AppendBulkString(c.Out, "fragmentation")
	c.Out = resp.AppendDouble(c.Out, c.Proto, float64(rss)/float64(max(used, 1)))
	c.Out = resp.AppendBulkString(c.Out, ints[10].name)
	c.Out = resp.AppendInt(c.Out, ints[10].v)
}

func (s *Server) clientsMemory() int {
	n := 0
	for _, cl := range s.clients {
		if cl != nil {
			n += cap(cl.qbuf) + cap(cl.ctx.Out) + cap(cl.sending)
		}
	}
	return n
}

func memoryDoctorCmd(st *store.Store, c *store.Ctx, _ [][]byte) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	txt := "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	if usedMemory(st, &ms) < 5<<20 {
		txt = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, txt)
}

// memoryMallocStatsCmd reports the Go runtime's memory statistics: ringkv's
// allocator is Go's, not jemalloc.
func memoryMallocStatsCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics ___\n")
	for _, kv := range []struct {
		k string
		v uint64
	}{{"HeapAlloc", ms.HeapAlloc}, {"HeapSys", ms.HeapSys}, {"HeapIdle", ms.HeapIdle}, {"HeapInuse", ms.HeapInuse},
		{"HeapReleased", ms.HeapReleased}, {"HeapObjects", ms.HeapObjects}, {"StackInuse", ms.StackInuse}, {"Sys", ms.Sys},
		{"Mallocs", ms.Mallocs}, {"Frees", ms.Frees}, {"NumGC", uint64(ms.NumGC)}, {"PauseTotalNs", ms.PauseTotalNs}} {
		b.WriteString(kv.k + ": " + strconv.FormatUint(kv.v, 10) + "\n")
	}
	b.WriteString("--- End Go runtime memory statistics ---\n")
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, b.String())
}

// memoryPurgeCmd returns freed memory to the OS, as jemalloc's purge does.
func memoryPurgeCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	debug.FreeOSMemory()
	c.Out = append(c.Out, resp.OK...)
}

var memoryHelp = []string{
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

func memoryHelpCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = store.AppendHelp(c.Out, "MEMORY", memoryHelp)
}
