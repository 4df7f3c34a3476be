package conn

import (
	"strconv"
	"strings"

	"github.com/ringkv/ringkv/conn/resp"
	"github.com/ringkv/ringkv/store"
)

// SLOWLOG and LATENCY: the slow command log (slowlog-log-slower-than,
// slowlog-max-len) and the latency monitor (latency-monitor-threshold), with
// Redis 7.0's replies and limits.

const (
	slowlogArgcMax   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogArgLenMax = 128 // SLOWLOG_ENTRY_MAX_STRING
	latencySamples   = 160 // LATENCY_TS_LEN
)

type slowlogEntry struct {
	id, timeSec, usec int64
	argv              []string
	addr, name        string
}

// slowlog keeps the newest entries first.
type slowlog struct {
	entries []slowlogEntry
	nextID  int64
}

func (l *slowlog) trim(n int) {
	if len(l.entries) > n {
		l.entries = l.entries[:n]
	}
}

func (s *Server) slowlogAdd(cl *client, argv [][]byte, us int64) {
	maxLen := int(s.params.slowlogMaxLen)
	if maxLen == 0 {
		return
	}
	e := slowlogEntry{id: s.adm.slowlog.nextID, timeSec: s.nowMs / 1000, usec: us, addr: cl.addr, name: string(cl.name)}
	s.adm.slowlog.nextID++
	n := min(len(argv), slowlogArgcMax)
	for i := range n {
		if i == slowlogArgcMax-1 && len(argv) > slowlogArgcMax {
			e.argv = append(e.argv, "... ("+strconv.Itoa(len(argv)-slowlogArgcMax+1)+" more arguments)")
			break
		}
		a := argv[i]
		if len(a) > slowlogArgLenMax {
			e.argv = append(e.argv, string(a[:slowlogArgLenMax])+"... ("+strconv.Itoa(len(a)-slowlogArgLenMax)+" more bytes)")
		} else {
			e.argv = append(e.argv, string(a))
		}
	}
	l := &s.adm.slowlog
	l.entries = append(l.entries, slowlogEntry{})
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	l.trim(maxLen)
}

var slowlogCommands = []*store.Command{
	{Name: "slowlog", Subcommands: []*store.Command{
		{Name: "slowlog|get", Handler: slowlogGetCmd},
		{Name: "slowlog|len", Handler: slowlogLenCmd},
		{Name: "slowlog|reset", Handler: slowlogResetCmd},
		{Name: "slowlog|help", Handler: slowlogHelpCmd},
	}},
	{Name: "latency", Subcommands: []*store.Command{
		{Name: "latency|latest", Handler: latencyLatestCmd},
		{Name: "latency|history", Handler: latencyHistoryCmd},
		{Name: "latency|reset", Handler: latencyResetCmd},
		{Name: "latency|graph", Handler: latencyGraphCmd},
		{Name: "latency|doctor", Handler: latencyDoctorCmd},
		{Name: "latency|histogram", Handler: latencyHistogramCmd},
		{Name: "latency|help", Handler: latencyHelpCmd},
	}},
}

func init() { store.Register(slowlogCommands...) }

func slowlogGetCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	count := int64(10)
	if len(argv) == 3 {
		n, ok := resp.ParseInt(argv[2])
		if !ok || n < -1 {
			c.Out = resp.AppendErr(c.Out, "count should be greater than or equal to -1")
			return
		}
		count = n
	}
	entries := s.adm.slowlog.entries
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	c.Out = resp.AppendArrayLen(c.Out, len(entries))
	for _, e := range entries {
		c.Out = resp.AppendArrayLen(c.Out, 6)
		c.Out = resp.AppendInt(c.Out, e.id)
		c.Out = resp.AppendInt(c.Out, e.timeSec)
		c.Out = resp.AppendInt(c.Out, e.usec)
		c.Out = resp.AppendArrayLen(c.Out, len(e.argv))
		for _, a := range e.argv {
			c.Out = resp.AppendBulkString(c.Out, a)
		}
		c.Out = resp.AppendBulkString(c.Out, e.addr)
		c.Out = resp.AppendBulkString(c.Out, e.name)
	}
}

func slowlogLenCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	c.Out = resp.AppendInt(c.Out, int64(len(s.adm.slowlog.entries)))
}

func slowlogResetCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	s.adm.slowlog.entries = nil
	c.Out = append(c.Out, resp.OK...)
}

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

func slowlogHelpCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = store.AppendHelp(c.Out, "SLOWLOG", slowlogHelp)
}

// ---- latency monitor

type latencySample struct{ timeSec, ms int64 }

type latencyEvent struct {
	name    string
	samples []latencySample // oldest first, at most latencySamples
	max     int64
}

type latencyMonitor struct{ events []*latencyEvent }

func (m *latencyMonitor) find(name string) *latencyEvent {
	for _, e := range m.events {
		if e.name == name {
			return e
		}
	}
	return nil
}

// add records a sample; samples within the same second keep the largest,
// as Redis's latencyAddSample.
func (m *latencyMonitor) add(name string, timeSec, ms int64) {
	e := m.find(name)
	if e == nil {
		e = &latencyEvent{name: name}
		m.events = append(m.events, e)
	}
	e.max = max(e.max, ms)
	if n := len(e.samples); n > 0 && e.samples[n-1].timeSec == timeSec {
		e.samples[n-1].ms = max(e.samples[n-1].ms, ms)
		return
	}
	if len(e.samples) == latencySamples {
		e.samples = append(e.samples[:0], e.samples[1:]...)
	}
	e.samples = append(e.samples, latencySample{timeSec, ms})
}

func latencyLatestCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	evs := s.adm.latency.events
	c.Out = resp.AppendArrayLen(c.Out, len(evs))
	for _, e := range evs {
		last := e.samples[len(e.samples)-1]
		c.Out = resp.AppendArrayLen(c.Out, 4)
		c.Out = resp.AppendBulkString(c.Out, e.name)
		c.Out = resp.AppendInt(c.Out, last.timeSec)
		c.Out = resp.AppendInt(c.Out, last.ms)
		c.Out = resp.AppendInt(c.Out, e.max)
	}
}

func latencyHistoryCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	e := s.adm.latency.find(string(argv[2]))
	if e == nil {
		c.Out = append(c.Out, resp.EmptyArray...)
		return
	}
	c.Out = resp.AppendArrayLen(c.Out, len(e.samples))
	for _, smp := range e.samples {
		c.Out = resp.AppendArrayLen(c.Out, 2)
		c.Out = resp.AppendInt(c.Out, smp.timeSec)
		c.Out = resp.AppendInt(c.Out, smp.ms)
	}
}

func latencyResetCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	m := &s.adm.latency
	n := 0
	if len(argv) == 2 {
		n = len(m.events)
		m.events = nil
	} else {
		for _, name := range argv[2:] {
			for i, e := range m.events {
				if e.name == string(name) {
					m.events = append(m.events[:i], m.events[i+1:]...)
					n++
					break
				}
			}
		}
	}
	c.Out = resp.AppendInt(c.Out, int64(n))
}

// latencyGraphCmd draws the event's samples as Redis's ASCII sparkline
// would; ringkv's drawing is a simpler column chart (README).
func latencyGraphCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	e := s.adm.latency.find(string(argv[2]))
	if e == nil {
		c.Out = resp.AppendErr(c.Out, "No samples available for event '", string(argv[2]), "'")
		return
	}
	var b strings.Builder
	b.WriteString(e.name + " - high " + strconv.FormatInt(e.max, 10) + " ms, low ")
	low := e.max
	for _, smp := range e.samples {
		low = min(low, smp.ms)
	}
	b.WriteString(strconv.FormatInt(low, 10) + " ms (all time high " + strconv.FormatInt(e.max, 10) + " ms)\n")
	b.WriteString(strings.Repeat("-", 80) + "\n")
	for _, smp := range e.samples {
		bar := 1
		if e.max > 0 {
			bar = int(smp.ms * 60 / e.max)
		}
		b.WriteString(strconv.FormatInt(smp.timeSec, 10) + " " + strings.Repeat("#", max(bar, 1)) + " " + strconv.FormatInt(smp.ms, 10) + "\n")
	}
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, b.String())
}

func latencyDoctorCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	s, _ := server(c)
	var txt string
	switch {
	case s.params.latencyThresholdMs == 0 && len(s.adm.latency.events) == 0:
		txt = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	case len(s.adm.latency.events) == 0:
		txt = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
	default:
		var b strings.Builder
		b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		for i, e := range s.adm.latency.events {
			var sum int64
			for _, smp := range e.samples {
				sum += smp.ms
			}
			b.WriteString(strconv.Itoa(i+1) + ". " + e.name + ": " + strconv.Itoa(len(e.samples)) + " latency spikes (average " +
				strconv.FormatInt(sum/int64(len(e.samples)), 10) + "ms, mean deviation 0ms, period 0 sec). Worst all time event " +
				strconv.FormatInt(e.max, 10) + "ms.\n")
		}
		b.WriteString("\nI have a few advices for you:\n\n- Check your slow commands with SLOWLOG GET: the events above are commands that took longer than latency-monitor-threshold.\n")
		txt = b.String()
	}
	c.Out = resp.AppendVerbatim(c.Out, c.Proto, txt)
}

// latencyHistogramCmd is LATENCY HISTOGRAM [command ...]: per command (or
// subcommand) with calls, the cumulative count of calls by power-of-two
// microsecond bucket.
func latencyHistogramCmd(_ *store.Store, c *store.Ctx, argv [][]byte) {
	s, _ := server(c)
	var cmds []*store.Command
	if len(argv) == 2 {
		for id := range store.NumIDs() {
			if s.adm.cmdStats[id].calls > 0 {
				cmds = append(cmds, store.ByID(id))
			}
		}
	} else {
		for _, name := range argv[2:] {
			for id := range store.NumIDs() {
				cmd := store.ByID(id)
				if strings.EqualFold(cmd.Name, string(name)) && s.adm.cmdStats[id].calls > 0 {
					cmds = append(cmds, cmd)
				}
			}
		}
	}
	c.Out = resp.AppendMapLen(c.Out, c.Proto, len(cmds))
	for _, cmd := range cmds {
		st := &s.adm.cmdStats[cmd.ID]
		c.Out = resp.AppendBulkString(c.Out, cmd.Name)
		c.Out = resp.AppendMapLen(c.Out, c.Proto, 2)
		c.Out = resp.AppendBulkString(c.Out, "calls")
		c.Out = resp.AppendInt(c.Out, st.calls)
		c.Out = resp.AppendBulkString(c.Out, "histogram_usec")
		n := 0
		for _, v := range st.hist {
			if v > 0 {
				n++
			}
		}
		c.Out = resp.AppendMapLen(c.Out, c.Proto, n)
		var cum int64
		for i, v := range st.hist {
			cum += v
			if v > 0 {
				c.Out = resp.AppendInt(c.Out, int64(1)<<i)
				c.Out = resp.AppendInt(c.Out, cum)
			}
		}
	}
}

var latencyHelp = []string{
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

func latencyHelpCmd(_ *store.Store, c *store.Ctx, _ [][]byte) {
	c.Out = store.AppendHelp(c.Out, "LATENCY", latencyHelp)
}
