package conn

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6, float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

// configParams lists every parameter CONFIG GET reports, in Redis's names,
// with the server's value. Parameters ringkv does not act on yet report the
// value that describes what it does (no persistence: save "" and
// appendonly no), so tools such as redis-benchmark read the truth.
func (s *Server) configParams() [][2]string {
	return [][2]string{
		{"bind", s.cfg.Bind},
		{"port", strconv.Itoa(s.port)},
		{"io", s.backend},
		{"databases", strconv.Itoa(store.NumDBs)},
		{"maxclients", strconv.Itoa(s.cfg.MaxClients)},
		{"save", ""},
		{"appendonly", "no"},
		{"appendfsync", "everysec"},
		{"maxmemory", "0"},
		{"maxmemory-policy", "noeviction"},
		{"proto-max-bulk-len", strconv.Itoa(resp.BulkLenMax)},
		{"client-query-buffer-limit", strconv.Itoa(s.cfg.QueryBufLimit)},
		{"client-output-buffer-limit", "normal " + strconv.Itoa(s.cfg.ReplyHardLimit) + " 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
		{"timeout", "0"},
		{"tcp-backlog", strconv.Itoa(listenBacklog)},
		{"tcp-keepalive", "0"},
		{"hz", "10"},
		{"protected-mode", "no"},
		{"requirepass", ""},
		{"loglevel", "notice"},
		{"daemonize", "no"},
		{"dir", "."},
		{"dbfilename", "dump.rdb"},
	}
}

func configCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	sub := strings.ToLower(string(argv[1]))
	switch sub {
	case "get":
		if len(argv) < 3 {
			c.Out = resp.AppendWrongArity(c.Out, "config|get")
			return
		}
		var matched [][2]string
		seen := map[string]bool{}
		params := s.configParams()
		for _, pat := range argv[2:] {
			lower := strings.ToLower(string(pat))
			if !strings.ContainsAny(lower, "[*?") {
				// A plain name is looked up, and answered as it was
				// spelt (CONFIG GET MAXMEMORY names MAXMEMORY), as
				// Redis does.
				for _, p := range params {
					if p[0] == lower && !seen[p[0]] {
						seen[p[0]] = true
						matched = append(matched, [2]string{string(pat), p[1]})
					}
				}
				continue
			}
			for _, p := range params {
				if !seen[p[0]] && store.GlobMatch([]byte(lower), []byte(p[0])) {
					seen[p[0]] = true
					matched = append(matched, p)
				}
			}
		}
		c.Out = resp.AppendArrayLen(c.Out, 2*len(matched))
		for _, p := range matched {
			c.Out = resp.AppendBulkString(c.Out, p[0])
			c.Out = resp.AppendBulkString(c.Out, p[1])
		}
	case "set":
		if len(argv) < 4 || len(argv)%2 != 0 {
			c.Out = resp.AppendWrongArity(c.Out, "config|set")
			return
		}
		// No parameter is settable at run time yet; say so in Redis's words.
		c.Out = resp.AppendErr(c.Out, "Unknown option or number of arguments for CONFIG SET - '", string(argv[2]), "'")
	case "resetstat":
		if len(argv) != 2 {
			c.Out = resp.AppendWrongArity(c.Out, "config|resetstat")
			return
		}
		s.stats = stats{}
		c.Out = append(c.Out, resp.OK...)
	default:
		c.Out = resp.AppendUnknownSubcommand(c.Out, "CONFIG", argv[1])
	}
}
