package bench

import (
	"fmt"
	"io"
	"time"
)

// Named limits; a configuration beyond them is refused before anything is
// allocated or dialled.
const (
	ConnsMax     = 10000
	PipelineMax  = 10000
	ThreadsMax   = 1024
	maxOps       = 16        // command types per workload
	ValueSizeMax = 512 << 20 // Redis's proto-max-bulk-len
	// LatencyMaxNs is the largest latency the histograms track (100 s); a
	// larger one is recorded as this value and counted in Result.Clamped.
	LatencyMaxNs = int64(100 * time.Second)
	// replyBufMax bounds a connection's read buffer: one reply larger than
	// this ends the run.
	replyBufMax = 1 << 30
	// openLoopInFlightMax bounds the requests one open-loop connection has
	// sent and not yet had answered. At the bound the writer waits; the
	// requests it could not send still count from their intended send time,
	// so the wait shows in the latencies rather than hiding.
	openLoopInFlightMax = 1 << 14
	// openLoopBatchMax bounds the overdue requests written in one write.
	openLoopBatchMax = 256
	// drainGrace is how long the run waits for replies still in flight after
	// it stops sending before it closes the connections.
	drainGrace = 5 * time.Second
)

// Config is one run: a target, a workload, a load model and a stop rule.
type Config struct {
	Addr     string // host:port
	Password string // AUTH before anything else when not empty
	User     string // AUTH user password when not empty (ACL)
	DB       int    // SELECT when not 0

	Conns    int // connections
	Pipeline int // requests per batch, closed loop only
	Threads  int // histogram shards; the CLI also sets GOMAXPROCS to it

	// Stop rule: Requests > 0 stops after that many recorded requests,
	// otherwise Duration. Warmup runs first and is not recorded.
	Requests int64
	Duration time.Duration
	Warmup   time.Duration

	// Rate > 0 is an open-loop run at Rate requests/s across all
	// connections; 0 is a closed loop.
	Rate float64

	Workload  Workload
	KeySpace  uint64
	Dist      Distribution
	ZipfTheta float64
	ValueMin  int
	ValueMax  int
	Seed      uint64

	// Prefill SETs every key of the key space (key:__rand_int__ with a
	// value of ValueMax bytes) before the run, so GETs hit.
	Prefill bool

	Label string // names the run in reports; Addr when empty

	// Progress, when not nil, receives a progress line every
	// ProgressEvery ("\r"-rewritten, so give it a terminal).
	Progress      io.Writer
	ProgressEvery time.Duration

	DialTimeout time.Duration
}

// Defaults fills the zero fields with redis-benchmark's defaults where it has
// one (50 connections, pipeline 1, 3-byte values) and ringkv-bench's own
// otherwise.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:6379"
	}
	if c.Conns == 0 {
		c.Conns = 50
	}
	if c.Pipeline == 0 {
		c.Pipeline = 1
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.Requests == 0 && c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.KeySpace == 0 {
		c.KeySpace = 100000
	}
	if c.Dist == "" {
		c.Dist = Uniform
	}
	if c.ZipfTheta == 0 {
		c.ZipfTheta = 0.99
	}
	if c.ValueMin == 0 && c.ValueMax == 0 {
		c.ValueMin, c.ValueMax = 3, 3
	}
	if c.ValueMax < c.ValueMin {
		c.ValueMax = c.ValueMin
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.Label == "" {
		c.Label = c.Addr
	}
}

// Validate checks the limits.
func (c *Config) Validate() error {
	switch {
	case c.Conns < 1 || c.Conns > ConnsMax:
		return fmt.Errorf("connections must be in [1, %d], got %d", ConnsMax, c.Conns)
	case c.Pipeline < 1 || c.Pipeline > PipelineMax:
		return fmt.Errorf("pipeline must be in [1, %d], got %d", PipelineMax, c.Pipeline)
	case c.Threads < 1 || c.Threads > ThreadsMax:
		return fmt.Errorf("threads must be in [1, %d], got %d", ThreadsMax, c.Threads)
	case c.Requests < 0 || c.Duration < 0 || c.Warmup < 0:
		return fmt.Errorf("requests, duration and warm-up must not be negative")
	case c.Rate < 0:
		return fmt.Errorf("rate must not be negative")
	case c.ValueMin < 0 || c.ValueMax > ValueSizeMax:
		return fmt.Errorf("value size must be in [0, %d]", ValueSizeMax)
	case c.DB < 0:
		return fmt.Errorf("db must not be negative")
	}
	return nil
}

// Mode is "closed" or "open".
func (c *Config) Mode() string {
	if c.Rate > 0 {
		return "open"
	}
	return "closed"
}
