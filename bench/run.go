package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ringkv/ringkv/conn/resp"
)

// newHist is the one histogram shape: 1 ns to LatencyMaxNs, 3 significant
// digits, so that histograms merge and every report reads the same way.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, LatencyMaxNs, 3) }

// shard is the recording state of a group of connections. Connections take
// its mutex once per read, not once per request.
type shard struct {
	mu      sync.Mutex
	hist    []*hdrhistogram.Histogram // per op
	errors  []int64                   // per op
	clamped int64
	lastNs  int64 // clock time of the latest recorded reply
	// sendLag is, in open loop, how late each request left the client
	// after its intended time: the client's own contribution to the
	// latencies (Go's timers sleep at least 1 ms when the process is
	// otherwise idle).
	sendLag *hdrhistogram.Histogram
}

func (s *shard) record(op int, latencyNs, at int64, isErr bool) {
	if latencyNs > LatencyMaxNs {
		latencyNs = LatencyMaxNs
		s.clamped++
	}
	if latencyNs < 1 {
		latencyNs = 1
	}
	_ = s.hist[op].RecordValue(latencyNs) // in range by construction
	if isErr {
		s.errors[op]++
	}
	if at > s.lastNs {
		s.lastNs = at
	}
}

// run is the state shared by the connections of one Run.
type run struct {
	cfg          *Config
	cw           *compiled
	shards       []*shard
	base         time.Time // the clock's zero
	measureStart int64     // clock time when recording starts (after warm-up)
	stopAt       int64     // clock time when sending stops (duration mode), or max
	stop         atomic.Bool
	budget       atomic.Int64 // requests left to record (Requests mode)
	failOnce     sync.Once
	failErr      error
}

// now is the run's monotonic clock in nanoseconds.
func (r *run) now() int64 { return int64(time.Since(r.base)) }

func (r *run) fail(err error) {
	r.failOnce.Do(func() { r.failErr = err })
	r.stop.Store(true)
}

// claim takes up to n requests from the budget in Requests mode; it returns
// how many may be sent (0 means the run is over).
func (r *run) claim(n int) int {
	if r.cfg.Requests <= 0 {
		return n
	}
	left := r.budget.Add(int64(-n))
	if left >= 0 {
		return n
	}
	if left+int64(n) <= 0 {
		r.stop.Store(true)
		return 0
	}
	return n + int(left)
}

// dial opens a connection and authenticates and selects the database.
func dial(cfg *Config) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", cfg.Addr, cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	var req []byte
	n := 0
	if cfg.Password != "" {
		if cfg.User != "" {
			req = resp.AppendCommand(req, []byte("AUTH"), []byte(cfg.User), []byte(cfg.Password))
		} else {
			req = resp.AppendCommand(req, []byte("AUTH"), []byte(cfg.Password))
		}
		n++
	}
	if cfg.DB != 0 {
		req = resp.AppendCommand(req, []byte("SELECT"), []byte(strconv.Itoa(cfg.DB)))
		n++
	}
	if n > 0 {
		replies, err := roundTrip(c, req, n, cfg.DialTimeout)
		if err == nil {
			for _, rep := range replies {
				if rep[0] == '-' {
					err = fmt.Errorf("%s", errorText(rep))
				}
			}
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", cfg.Addr, err)
		}
	}
	return c, nil
}

// roundTrip writes req and reads n replies; for setup, not the hot path.
func roundTrip(c net.Conn, req []byte, n int, timeout time.Duration) ([][]byte, error) {
	if timeout > 0 {
		c.SetDeadline(time.Now().Add(timeout))
		defer c.SetDeadline(time.Time{})
	}
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 4096)
	var out [][]byte
	tmp := make([]byte, 64<<10)
	start := 0
	for len(out) < n {
		l, _, err := replyLen(buf[start:])
		if err != nil {
			return nil, err
		}
		if l > 0 {
			out = append(out, buf[start:start+l])
			start += l
			continue
		}
		m, err := c.Read(tmp)
		if err != nil {
			return nil, err
		}
		buf = append(buf, tmp[:m]...)
	}
	return out, nil
}

// probe sends each template once and fails clearly when the server does not
// implement a command the workload needs.
func probe(c net.Conn, cfg *Config, cw *compiled, enc *encoder) error {
	var req []byte
	for _, t := range cw.templates {
		req = enc.appendRequest(req, t)
	}
	replies, err := roundTrip(c, req, len(cw.templates), cfg.DialTimeout)
	if err != nil {
		return fmt.Errorf("%s: probing the workload's commands: %w", cfg.Addr, err)
	}
	for i, rep := range replies {
		if isUnknownCommand(rep) {
			t := cw.templates[i]
			return fmt.Errorf("%s does not implement %s, which workload %q needs (%s): %s",
				cfg.Addr, t.Args[0], cw.w.Name, t.String(), errorText(rep))
		}
	}
	return nil
}

// prefill SETs every key of the key space, pipelined.
func prefill(c net.Conn, cfg *Config) error {
	const batch = 1000
	value := make([]byte, cfg.ValueMax)
	for i := range value {
		value[i] = 'x'
	}
	var req, key []byte
	for from := uint64(0); from < cfg.KeySpace; from += batch {
		req = req[:0]
		n := 0
		for k := from; k < min(from+batch, cfg.KeySpace); k++ {
			key = appendPadded(append(key[:0], "key:"...), k, keyDigits)
			req = resp.AppendCommand(req, []byte("SET"), key, value)
			n++
		}
		replies, err := roundTrip(c, req, n, 0)
		if err != nil {
			return fmt.Errorf("%s: prefill: %w", cfg.Addr, err)
		}
		for _, rep := range replies {
			if rep[0] == '-' {
				return fmt.Errorf("%s: prefill: %s", cfg.Addr, errorText(rep))
			}
		}
	}
	return nil
}

// Run runs one benchmark and returns its result. ctx cancels it; a cancelled
// run returns what it recorded so far along with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cw, err := compileWorkload(cfg.Workload)
	if err != nil {
		return nil, err
	}
	ks, err := newKeyShared(cfg.Dist, cfg.KeySpace, cfg.ZipfTheta)
	if err != nil {
		return nil, err
	}
	size := valueSize{cfg.ValueMin, cfg.ValueMax}

	ctl, err := dial(&cfg)
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	{
		rng := rand.New(rand.NewPCG(cfg.Seed, ^uint64(0)))
		if err := probe(ctl, &cfg, cw, newEncoder(rng, ks.newKeyGen(rng, 0, 1), size, cw.maxArgs)); err != nil {
			return nil, err
		}
	}
	if cfg.Prefill {
		if err := prefill(ctl, &cfg); err != nil {
			return nil, err
		}
	}

	conns := make([]net.Conn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		if conns[i], err = dial(&cfg); err != nil {
			return nil, err
		}
	}

	r := &run{cfg: &cfg, cw: cw}
	for range cfg.Threads {
		s := &shard{errors: make([]int64, len(cw.templates)), sendLag: newHist()}
		for range cw.templates {
			s.hist = append(s.hist, newHist())
		}
		r.shards = append(r.shards, s)
	}
	r.budget.Store(cfg.Requests)
	r.base = time.Now()
	r.measureStart = int64(cfg.Warmup)
	r.stopAt = int64(^uint64(0) >> 1)
	if cfg.Requests <= 0 {
		r.stopAt = int64(cfg.Warmup + cfg.Duration)
	}

	var wg sync.WaitGroup
	for i, c := range conns {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		enc := newEncoder(rng, ks.newKeyGen(rng, i, cfg.Conns), size, cw.maxArgs)
		cc := &client{r: r, c: c, enc: enc, rng: rng, sh: r.shards[i%len(r.shards)], index: i}
		if cfg.Rate > 0 {
			wg.Add(2)
			cc.initOpen()
			go func() { defer wg.Done(); cc.openWriter() }()
			go func() { defer wg.Done(); cc.openReader() }()
		} else {
			wg.Add(1)
			go func() { defer wg.Done(); cc.closedLoop() }()
		}
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var tick <-chan time.Time
	if cfg.Progress != nil {
		t := time.NewTicker(cfg.ProgressEvery)
		defer t.Stop()
		tick = t.C
	}
	var timer <-chan time.Time
	if cfg.Requests <= 0 {
		t := time.NewTimer(time.Duration(r.stopAt))
		defer t.Stop()
		timer = t.C
	}
	prog := progress{r: r}
	var ctxErr error
	var drain <-chan time.Time
wait:
	for {
		select {
		case <-done:
			break wait
		case <-timer:
			// Senders stop by themselves at stopAt: an open-loop writer
			// that is late still sends what was scheduled before it, so
			// lateness at the end is measured, not dropped.
			timer = nil
			drain = time.After(drainGrace)
		case <-ctx.Done():
			ctxErr = ctx.Err()
			r.stop.Store(true)
			for _, c := range conns {
				c.SetDeadline(time.Now())
			}
			<-done
			break wait
		case <-drain:
			// Replies that did not come within the grace are not
			// recorded; the connections are closed under them.
			r.stop.Store(true)
			for _, c := range conns {
				c.SetDeadline(time.Now())
			}
			<-done
			break wait
		case <-tick:
			prog.print(cfg.Progress)
			if r.stop.Load() && drain == nil {
				drain = time.After(drainGrace)
			}
		}
	}
	if cfg.Progress != nil {
		fmt.Fprint(cfg.Progress, "\r\033[K")
	}
	if r.failErr != nil {
		return nil, r.failErr
	}
	res := r.result()
	return res, ctxErr
}

// client is one connection's load loop.
type client struct {
	r     *run
	c     net.Conn
	enc   *encoder
	rng   *rand.Rand
	sh    *shard
	index int

	// open loop
	intervalNs float64
	phaseNs    float64
	times      []int64 // intended send times, a ring of openLoopInFlightMax
	ops        []uint8
	pushed     atomic.Uint64
	popped     atomic.Uint64
	writerDone atomic.Bool
}

func (cl *client) pickOp() int {
	cw := cl.r.cw
	if len(cw.templates) == 1 {
		return 0
	}
	return cw.pick(cl.rng.IntN(cw.total))
}

// readBuf is a connection's reply buffer: unread replies are rbuf[start:end].
type readBuf struct {
	buf        []byte
	start, end int
}

// fill reads more bytes, making room first; it returns the read's time.
func (b *readBuf) fill(c net.Conn, now func() int64) (int64, error) {
	if b.start == b.end {
		b.start, b.end = 0, 0
	}
	if b.end == len(b.buf) {
		if b.start > 0 {
			b.end = copy(b.buf, b.buf[b.start:b.end])
			b.start = 0
		} else {
			if len(b.buf) >= replyBufMax {
				return 0, fmt.Errorf("a reply is larger than %d bytes", replyBufMax)
			}
			nb := make([]byte, 2*len(b.buf))
			copy(nb, b.buf[:b.end])
			b.buf = nb
		}
	}
	n, err := c.Read(b.buf[b.end:])
	t := now()
	b.end += n
	return t, err
}

// next returns the next complete reply, or nil.
func (b *readBuf) next() (reply []byte, isErr bool, err error) {
	l, isErr, err := replyLen(b.buf[b.start:b.end])
	if l == 0 || err != nil {
		return nil, false, err
	}
	reply = b.buf[b.start : b.start+l]
	b.start += l
	return reply, isErr, nil
}

func (cl *client) checkReply(reply []byte, op int) {
	if isUnknownCommand(reply) {
		t := cl.r.cw.templates[op]
		cl.r.fail(fmt.Errorf("%s does not implement %s, which workload %q needs: %s",
			cl.r.cfg.Addr, t.Args[0], cl.r.cw.w.Name, errorText(reply)))
	}
}

func (cl *client) ioError(err error) {
	if cl.r.stop.Load() {
		return // the run closed it
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("server closed the connection")
	}
	cl.r.fail(fmt.Errorf("%s: connection %d: %w", cl.r.cfg.Addr, cl.index, err))
}

// closedLoop sends Pipeline requests, waits for their replies, and repeats.
func (cl *client) closedLoop() {
	r := cl.r
	p := r.cfg.Pipeline
	ops := make([]int, p)
	wbuf := make([]byte, 0, 4096)
	rb := readBuf{buf: make([]byte, 64<<10)}
	for !r.stop.Load() {
		t0 := r.now()
		if t0 >= r.stopAt {
			return
		}
		recording := t0 >= r.measureStart
		n := p
		if recording {
			if n = r.claim(p); n == 0 {
				return
			}
		}
		wbuf = wbuf[:0]
		for i := range n {
			ops[i] = cl.pickOp()
			wbuf = cl.enc.appendRequest(wbuf, r.cw.templates[ops[i]])
		}
		t0 = r.now()
		if _, err := cl.c.Write(wbuf); err != nil {
			cl.ioError(err)
			return
		}
		got := 0
		for got < n {
			t1, err := rb.fill(cl.c, r.now)
			if err != nil && rb.start == rb.end {
				cl.ioError(err)
				return
			}
			cl.sh.mu.Lock()
			for got < n {
				reply, isErr, perr := rb.next()
				if perr != nil {
					cl.sh.mu.Unlock()
					r.fail(fmt.Errorf("%s: %w", r.cfg.Addr, perr))
					return
				}
				if reply == nil {
					break
				}
				if isErr {
					cl.checkReply(reply, ops[got])
				}
				if recording {
					cl.sh.record(ops[got], t1-t0, t1, isErr)
				}
				got++
			}
			cl.sh.mu.Unlock()
			if err != nil && got < n {
				cl.ioError(err)
				return
			}
		}
	}
}

func (cl *client) initOpen() {
	r := cl.r
	cl.intervalNs = float64(r.cfg.Conns) * 1e9 / r.cfg.Rate
	cl.phaseNs = float64(cl.index) * 1e9 / r.cfg.Rate
	cl.times = make([]int64, openLoopInFlightMax)
	cl.ops = make([]uint8, openLoopInFlightMax)
}

// intended is the send time of request k of this connection: the
// connections' schedules interleave, so together they send every 1/Rate s.
func (cl *client) intended(k uint64) int64 {
	return int64(cl.phaseNs + float64(k)*cl.intervalNs)
}

// openWriter sends each request at its intended time, or as soon as it can
// when it is late, whatever the replies do.
func (cl *client) openWriter() {
	r := cl.r
	defer func() {
		cl.writerDone.Store(true)
		if cl.popped.Load() == cl.pushed.Load() {
			cl.c.SetReadDeadline(time.Now()) // wake the reader: nothing is in flight
		}
	}()
	wbuf := make([]byte, 0, 4096)
	k := uint64(0)
	for !r.stop.Load() {
		now := r.now()
		next := cl.intended(k)
		if next >= r.stopAt {
			return
		}
		if next > now {
			sleepUntil(r, next)
			continue
		}
		wbuf = wbuf[:0]
		n := 0
		for n < openLoopBatchMax {
			t := cl.intended(k)
			if t > now || t >= r.stopAt {
				break
			}
			if cl.pushed.Load()-cl.popped.Load() >= openLoopInFlightMax {
				break
			}
			if t >= r.measureStart && r.claim(1) == 0 {
				break
			}
			op := cl.pickOp()
			wbuf = cl.enc.appendRequest(wbuf, r.cw.templates[op])
			slot := cl.pushed.Load() % openLoopInFlightMax
			cl.times[slot] = t
			cl.ops[slot] = uint8(op)
			cl.pushed.Add(1) // publishes the slot to the reader
			k++
			n++
		}
		if n == 0 {
			if r.stop.Load() {
				return
			}
			time.Sleep(50 * time.Microsecond) // in-flight bound reached
			continue
		}
		if _, err := cl.c.Write(wbuf); err != nil {
			cl.ioError(err)
			return
		}
		tw := r.now()
		cl.sh.mu.Lock()
		for j := k - uint64(n); j < k; j++ {
			if t := cl.intended(j); t >= r.measureStart {
				_ = cl.sh.sendLag.RecordValue(min(max(tw-t, 1), LatencyMaxNs))
			}
		}
		cl.sh.mu.Unlock()
	}
}

// sleepUntil waits for clock time t on a timer. It does not spin: with few
// threads a spinning writer would keep the scheduler from polling the
// network, and the readers would starve. Timer lateness is not hidden: it
// makes the request late, and latency counts from the intended time.
func sleepUntil(r *run, t int64) {
	if d := t - r.now(); d > 0 {
		time.Sleep(time.Duration(d))
	}
}

// openReader matches replies to requests in order and records each latency
// from the request's intended send time.
func (cl *client) openReader() {
	r := cl.r
	rb := readBuf{buf: make([]byte, 64<<10)}
	for {
		if cl.writerDone.Load() && cl.popped.Load() == cl.pushed.Load() {
			return
		}
		t1, err := rb.fill(cl.c, r.now)
		if err != nil && rb.start == rb.end {
			if cl.writerDone.Load() && cl.popped.Load() == cl.pushed.Load() {
				return
			}
			cl.ioError(err)
			return
		}
		cl.sh.mu.Lock()
		for {
			reply, isErr, perr := rb.next()
			if perr != nil {
				cl.sh.mu.Unlock()
				r.fail(fmt.Errorf("%s: %w", r.cfg.Addr, perr))
				return
			}
			if reply == nil {
				break
			}
			p := cl.popped.Load()
			if p == cl.pushed.Load() {
				cl.sh.mu.Unlock()
				r.fail(fmt.Errorf("%s: a reply to a request that was not sent", r.cfg.Addr))
				return
			}
			slot := p % openLoopInFlightMax
			t, op := cl.times[slot], int(cl.ops[slot])
			cl.popped.Add(1)
			if isErr {
				cl.checkReply(reply, op)
			}
			if t >= r.measureStart {
				cl.sh.record(op, t1-t, t1, isErr)
			}
		}
		cl.sh.mu.Unlock()
		if err != nil {
			if cl.writerDone.Load() && cl.popped.Load() == cl.pushed.Load() {
				return
			}
			cl.ioError(err)
			return
		}
	}
}

// progress prints a progress line: requests/s since the last line, p99 so
// far and time left.
type progress struct {
	r         *run
	lastCount int64
	lastNs    int64
	merged    *hdrhistogram.Histogram
}

func (p *progress) print(w io.Writer) {
	r := p.r
	if p.merged == nil {
		p.merged = newHist()
	}
	p.merged.Reset()
	for _, s := range r.shards {
		s.mu.Lock()
		for _, h := range s.hist {
			p.merged.Merge(h)
		}
		s.mu.Unlock()
	}
	now := r.now()
	count := p.merged.TotalCount()
	rate := 0.0
	if p.lastNs > 0 && now > p.lastNs {
		rate = float64(count-p.lastCount) / (float64(now-p.lastNs) / 1e9)
	}
	p.lastCount, p.lastNs = count, now
	phase := "warm-up"
	if now >= r.measureStart {
		phase = "run"
	}
	left := ""
	if r.cfg.Requests > 0 {
		left = fmt.Sprintf("%d requests left", max(r.budget.Load(), 0))
	} else {
		left = fmt.Sprintf("%.0fs left", max(float64(r.stopAt-now)/1e9, 0))
	}
	fmt.Fprintf(w, "\r\033[K%s %s: %.0f req/s, p99 %.3f ms so far, %s", r.cfg.Label, phase, rate,
		float64(p.merged.ValueAtPercentile(99))/1e6, left)
}

// IsTerminal reports whether f is a character device (a terminal, for the
// progress line).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
