package conn

import (
	"os"
	"runtime"
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

var infoDefaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"}

func infoCmd(st *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	want := map[string]bool{}
	all := false
	for _, a := range argv[1:] {
		sec := strings.ToLower(string(a))
		switch sec {
		case "all", "everything":
			all = true
		case "default":
			for _, d := range infoDefaultSections {
				want[d] = true
			}
		default:
			want[sec] = true
		}
	}
	if len(argv) == 1 || all {
		for _, d := range infoDefaultSections {
			want[d] = true
		}
	}
	var b strings.Builder
	section := func(name string, fields ...string) {
		if !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		for i := 0; i+1 < len(fields); i += 2 {
			b.WriteString(fields[i] + ":" + fields[i+1] + "\r\n")
		}
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	uptime := (s.nowMs - s.start.UnixMilli()) / 1000
	section("Server",
		"redis_version", RedisVersion,
		"ringkv_version", Version,
		"redis_mode", "standalone",
		"os", runtime.GOOS+" "+runtime.GOARCH,
		"arch_bits", "64",
		"multiplexing_api", s.backend,
		"go_version", runtime.Version(),
		"process_id", strconv.Itoa(os.Getpid()),
		"tcp_port", strconv.Itoa(s.port),
		"server_time_usec", itoa(s.nowMs*1000),
		"uptime_in_seconds", itoa(uptime),
		"uptime_in_days", itoa(uptime/86400),
		"hz", "10",
		"executable", executable(),
		"config_file", "",
	)
	section("Clients",
		"connected_clients", strconv.Itoa(s.nclients),
		"maxclients", strconv.Itoa(s.cfg.MaxClients),
		"blocked_clients", "0",
	)
	used := int64(0)
	for i := range store.NumDBs {
		used += int64(st.DB(i).MemoryBytes())
	}
	rss := rssBytes()
	section("Memory",
		"used_memory", itoa(used),
		"used_memory_human", humanBytes(used),
		"used_memory_rss", itoa(rss),
		"used_memory_rss_human", humanBytes(rss),
		"maxmemory", "0",
		"maxmemory_human", "0B",
		"maxmemory_policy", "noeviction",
		"mem_allocator", "go",
	)
	section("Persistence",
		"loading", "0",
		"async_loading", "0",
		"rdb_changes_since_last_save", itoa(st.Stats.Dirty),
		"rdb_bgsave_in_progress", "0",
		"aof_enabled", "0",
		"aof_rewrite_in_progress", "0",
	)
	section("Stats",
		"total_connections_received", itoa(s.stats.connections),
		"total_commands_processed", itoa(s.stats.commands),
		"total_net_input_bytes", itoa(s.stats.netIn),
		"total_net_output_bytes", itoa(s.stats.netOut),
		"rejected_connections", itoa(s.stats.rejected),
		"expired_keys", itoa(st.Stats.ExpiredKeys),
		"evicted_keys", "0",
		"keyspace_hits", itoa(st.Stats.Hits),
		"keyspace_misses", itoa(st.Stats.Misses),
		"total_error_replies", "0",
	)
	section("Replication",
		"role", "master",
		"connected_slaves", "0",
	)
	var ru struct{ user, sys float64 }
	ru.user, ru.sys = cpuTimes()
	section("CPU",
		"used_cpu_sys", strconv.FormatFloat(ru.sys, 'f', 6, 64),
		"used_cpu_user", strconv.FormatFloat(ru.user, 'f', 6, 64),
	)
	var ks []string
	for i := range store.NumDBs {
		t := st.DB(i)
		if t.Len() > 0 {
			ks = append(ks, "db"+strconv.Itoa(i), "keys="+strconv.Itoa(t.Len())+",expires="+strconv.Itoa(t.Expires())+",avg_ttl=0")
		}
	}
	section("Keyspace", ks...)
	c.Out = resp.AppendBulkString(c.Out, b.String())
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(f/1024, 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + "M"
	}
	return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + "G"
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
