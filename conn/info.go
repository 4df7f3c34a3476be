package conn

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// RedisVersion is the Redis release whose behaviour ringkv reproduces; it is
// what INFO's redis_version and HELLO report, because clients gate features
// on it (Sidekiq refuses < 7.0.0, BullMQ reads it).
const RedisVersion = "7.0.15"

// Version is ringkv's own version, reported as ringkv_version.
const Version = "0.1.0"

var infoCommands = []*store.Command{{Name: "info", Handler: infoCmd}}

func init() { store.Register(infoCommands...) }

// Sections, in Redis 7.0's order. "default" and "all" name subsets, as in
// Redis's genRedisInfoString: all = default + commandstats + latencystats;
// everything = all + modules (none here).
var (
	infoSections        = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"}
	infoDefaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}
)

// InfoHooks let other files add fields to a section (by its lower-case
// name, e.g. "persistence" for the AOF's aof_* fields): each returns
// name, value pairs, appended after the section's own fields.
var InfoHooks = map[string][]func(s *Server) []string{}

func infoCmd(st *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	want := map[string]bool{}
	if len(argv) == 1 {
		for _, d := range infoDefaultSections {
			want[d] = true
		}
	}
	for _, a := range argv[1:] {
		switch sec := strings.ToLower(string(a)); sec {
		case "all":
			for _, d := range infoSections {
				want[d] = true
			}
		case "everything":
			for _, d := range infoSections {
				want[d] = true
			}
		case "default":
			for _, d := range infoDefaultSections {
				want[d] = true
			}
		default:
			want[sec] = true
		}
	}
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, s.infoString(st, want))
}

func (s *Server) infoString(st *store.Store, want map[string]bool) string {
	var b strings.Builder
	for _, sec := range infoSections {
		if !want[sec] {
			continue
		}
		title, fields := s.infoSection(st, sec)
		for _, hook := range InfoHooks[sec] {
			fields = append(fields, hook(s)...)
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + title + "\r\n")
		for i := 0; i+1 < len(fields); i += 2 {
			b.WriteString(fields[i] + ":" + fields[i+1] + "\r\n")
		}
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) infoSection(st *store.Store, sec string) (string, []string) {
	switch sec {
	case "server":
		uptime := (s.nowMs - s.start.UnixMilli()) / 1000
		return "Server", []string{
			"redis_version", RedisVersion,
			"ringkv_version", Version,
			"redis_git_sha1", "00000000",
			"redis_git_dirty", "0",
			"redis_mode", "standalone",
			"os", runtime.GOOS + " " + runtime.GOARCH,
			"arch_bits", "64",
			"monotonic_clock", "POSIX clock_gettime",
			"multiplexing_api", s.backend,
			"go_version", runtime.Version(),
			"process_id", strconv.Itoa(os.Getpid()),
			"process_supervised", "no",
			"tcp_port", strconv.Itoa(s.port),
			"server_time_usec", itoa(s.nowMs * 1000),
			"uptime_in_seconds", itoa(uptime),
			"uptime_in_days", itoa(uptime / 86400),
			"hz", itoa(s.params.hz),
			"configured_hz", itoa(s.params.hz),
			"executable", executable(),
			"config_file", s.cfg.ConfigFile,
			"io_threads_active", "0",
		}
	case "clients":
		maxIn, maxOut := s.clientsMaxBuffers()
		return "Clients", []string{
			"connected_clients", strconv.Itoa(s.nclients),
			"cluster_connections", "0",
			"maxclients", strconv.Itoa(s.cfg.MaxClients),
			"client_recent_max_input_buffer", strconv.Itoa(maxIn),
			"client_recent_max_output_buffer", strconv.Itoa(maxOut),
			// Redis 7.0 counts the clients blocked on keys and those whose
			// command CLIENT PAUSE holds (BLOCKED_POSTPONE) alike.
			"blocked_clients", strconv.Itoa(len(s.blk.clients) + len(s.adm.pausedCls)),
			"tracking_clients", "0",
			"clients_in_timeout_table", strconv.Itoa(s.blockedWithTimeout()),
		}
	case "memory":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		used := usedMemory(st, &ms)
		rss := rssBytes()
		total := totalSystemMemory()
		frag := "0.00"
		if used > 0 {
			frag = strconv.FormatFloat(float64(rss)/float64(used), 'f', 2, 64)
		}
		return "Memory", []string{
			"used_memory", itoa(used),
			"used_memory_human", humanBytes(used),
			"used_memory_rss", itoa(rss),
			"used_memory_rss_human", humanBytes(rss),
			"used_memory_peak", itoa(int64(ms.HeapSys)),
			"used_memory_peak_human", humanBytes(int64(ms.HeapSys)),
			"used_memory_overhead", itoa(int64(s.clientsMemory())),
			"used_memory_dataset", itoa(used),
			"allocator_allocated", itoa(int64(ms.HeapAlloc)),
			"allocator_active", itoa(int64(ms.HeapInuse)),
			"allocator_resident", itoa(int64(ms.HeapSys)),
			"total_system_memory", itoa(total),
			"total_system_memory_human", humanBytes(total),
			"maxmemory", itoa(s.params.maxMemory),
			"maxmemory_human", humanBytes(s.params.maxMemory),
			"maxmemory_policy", s.params.maxMemoryPolicy,
			"mem_fragmentation_ratio", frag,
			"mem_fragmentation_bytes", itoa(rss - used),
			"mem_clients_normal", strconv.Itoa(s.clientsMemory()),
			"mem_allocator", "go-" + runtime.Version(),
			"lazyfree_pending_objects", "0",
		}
	case "persistence":
		return "Persistence", append([]string{
			"loading", "0",
			"async_loading", "0",
			"rdb_changes_since_last_save", itoa(st.Stats.Dirty),
			"rdb_bgsave_in_progress", "0",
			"rdb_last_save_time", itoa(s.adm.lastSave),
			"rdb_last_bgsave_status", "ok",
		}, s.aofInfo()...) // aof.go
	case "stats":
		a := &s.adm
		return "Stats", []string{
			"total_connections_received", itoa(s.stats.connections),
			"total_commands_processed", itoa(s.stats.commands),
			"instantaneous_ops_per_sec", itoa(mean(a.opsSamples[:])),
			"total_net_input_bytes", itoa(s.stats.netIn),
			"total_net_output_bytes", itoa(s.stats.netOut),
			"instantaneous_input_kbps", strconv.FormatFloat(float64(mean(a.inSamples[:]))/1024, 'f', 2, 64),
			"instantaneous_output_kbps", strconv.FormatFloat(float64(mean(a.outSamples[:]))/1024, 'f', 2, 64),
			"rejected_connections", itoa(s.stats.rejected),
			"expired_keys", itoa(st.Stats.ExpiredKeys),
			"evicted_keys", "0",
			"evicted_clients", "0",
			"keyspace_hits", itoa(st.Stats.Hits),
			"keyspace_misses", itoa(st.Stats.Misses),
			"pubsub_channels", "0",
			"pubsub_patterns", "0",
			"latest_fork_usec", "0",
			"total_forks", "0",
			"total_error_replies", itoa(a.errTotal),
		}
	case "replication":
		return "Replication", []string{
			"role", "master",
			"connected_slaves", "0",
			"master_failover_state", "no-failover",
			"master_repl_offset", "0",
			"second_repl_offset", "-1",
			"repl_backlog_active", "0",
			"repl_backlog_size", "1048576",
			"repl_backlog_first_byte_offset", "0",
			"repl_backlog_histlen", "0",
		}
	case "cpu":
		user, sys := cpuTimes()
		return "CPU", []string{
			"used_cpu_sys", strconv.FormatFloat(sys, 'f', 6, 64),
			"used_cpu_user", strconv.FormatFloat(user, 'f', 6, 64),
			"used_cpu_sys_children", "0.000000",
			"used_cpu_user_children", "0.000000",
		}
	case "modules":
		return "Modules", nil
	case "commandstats":
		var f []string
		for id := range store.NumIDs() {
			stt := &s.adm.cmdStats[id]
			if stt.calls == 0 && stt.rejected == 0 && stt.failed == 0 {
				continue
			}
			perCall := 0.0
			if stt.calls > 0 {
				perCall = float64(stt.usec) / float64(stt.calls)
			}
			f = append(f, "cmdstat_"+store.ByID(id).Name, "calls="+itoa(stt.calls)+",usec="+itoa(stt.usec)+
				",usec_per_call="+strconv.FormatFloat(perCall, 'f', 2, 64)+",rejected_calls="+itoa(stt.rejected)+",failed_calls="+itoa(stt.failed))
		}
		return "Commandstats", f
	case "errorstats":
		var f []string
		codes := make([]string, 0, len(s.adm.errStats))
		for code := range s.adm.errStats {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for _, code := range codes {
			f = append(f, "errorstat_"+code, "count="+itoa(s.adm.errStats[code]))
		}
		return "Errorstats", f
	case "latencystats":
		var f []string
		pcts := strings.Fields(s.params.latencyPercentiles)
		for id := range store.NumIDs() {
			stt := &s.adm.cmdStats[id]
			if stt.calls == 0 {
				continue
			}
			var parts []string
			for _, p := range pcts {
				q, _ := strconv.ParseFloat(p, 64)
				parts = append(parts, "p"+p+"="+strconv.FormatFloat(histPercentile(&stt.hist, q), 'f', 3, 64))
			}
			f = append(f, "latency_percentiles_usec_"+store.ByID(id).Name, strings.Join(parts, ","))
		}
		return "Latencystats", f
	case "cluster":
		return "Cluster", []string{"cluster_enabled", "0"}
	case "keyspace":
		var ks []string
		for i := range store.NumDBs {
			t := st.DB(i)
			if t.Len() > 0 {
				ks = append(ks, "db"+strconv.Itoa(i), "keys="+strconv.Itoa(t.Len())+",expires="+strconv.Itoa(t.Expires())+",avg_ttl="+itoa(t.AvgTTLMs(s.nowMs)))
			}
		}
		return "Keyspace", ks
	}
	return "", nil
}

// clientsMaxBuffers is client_recent_max_input_buffer and _output_buffer:
// the largest query buffer and reply backlog of a connected client now.
// Redis reports the peak over its last few seconds (clientsCronTrack-
// ExpansiveClients); the current maximum is what ringkv keeps.
func (s *Server) clientsMaxBuffers() (in, out int) {
	for _, cl := range s.clients {
		if cl != nil && !cl.closing {
			in, out = max(in, cap(cl.qbuf)), max(out, cl.outLen())
		}
	}
	return in, out
}

// blockedWithTimeout is clients_in_timeout_table: the clients blocked on
// keys with a timeout (Redis's timeout table holds those; a client held by
// CLIENT PAUSE has none).
func (s *Server) blockedWithTimeout() int {
	n := 0
	for cl := range s.blk.clients {
		if cl.blocked.deadlineMs != 0 {
			n++
		}
	}
	return n
}

// histPercentile is the upper bound, in microseconds, of the power-of-two
// bucket that holds the q-th percentile of the calls.
func histPercentile(h *[40]int64, q float64) float64 {
	var total int64
	for _, v := range h {
		total += v
	}
	if total == 0 {
		return 0
	}
	need := int64(q / 100 * float64(total))
	var cum int64
	for i, v := range h {
		cum += v
		if cum >= need && cum > 0 {
			return float64(int64(1) << i)
		}
	}
	return float64(int64(1) << (len(h) - 1))
}

// usedMemory is used_memory: what the keyspace maps off the Go heap (its
// tables and its large collections' arrays) plus the Go heap in use, which
// holds everything else (small collections, record chunks, clients). The
// tables' few heap arrays (objs, free lists) are counted twice: a few bytes
// per key at most.
func usedMemory(st *store.Store, ms *runtime.MemStats) int64 {
	used := int64(0)
	for i := range store.NumDBs {
		used += int64(st.DB(i).MemoryBytes())
	}
	return used + int64(ms.HeapAlloc)
}

func totalSystemMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(ln, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// humanBytes is Redis's bytesToHuman.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(f/1024, 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + "M"
	case n < 1<<40:
		return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + "G"
	}
	return strconv.FormatFloat(f/(1<<40), 'f', 2, 64) + "T"
}

func executable() string {
	p, _ := os.Executable()
	return p
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
