// Package bench is ringkv's load generator: it drives a Redis-compatible
// server over RESP as a black-box client and reports latency percentiles and
// throughput per command type. It owns the workloads, the key and value
// generators, the two load models, the histograms and every report format. It
// imports conn/resp (to encode requests) and nothing else of ringkv's, so it
// measures redis-server and ringkv the same way.
//
// Load models. Closed loop (the default): each connection sends a batch of
// Pipeline requests, waits for all their replies, and sends the next batch;
// a reply's latency runs from the write of its batch to the read that
// completed it. A closed loop slows down with the server, so a stall delays
// only the requests that were in flight: it shows in the maximum, not in the
// percentiles. That is coordinated omission, and the report says so when the
// maximum is far above p99 (and gives percentiles corrected the way
// HdrHistogram's copyCorrectedForCoordinatedOmission does, with the median as
// the expected interval). Open loop (Rate > 0): each connection has a writer
// that sends on a fixed schedule, request k of connection i at
// start + (i/conns + k) * conns/rate, whatever the replies do, and a reader
// that matches replies to requests in order (RESP replies are ordered) and
// measures each latency from the request's intended send time. A stall then
// counts against every request that should have been sent during it.
//
// Hot path. Encoding a request (resp.AppendCommand over reused argument
// buffers), parsing its reply (replyLen, a scanner that only finds the end of
// one RESP2/RESP3 reply) and recording its latency allocate nothing; a test
// pins that with testing.AllocsPerRun and a benchmark reports it. Each
// connection is one goroutine (two in open loop) on Go's netpoller;
// Threads is GOMAXPROCS and the number of histogram shards, each guarded by
// a mutex taken once per read, not once per request.
//
// Measurement window. Warm-up requests run like the others but are not
// recorded: a request is recorded when its send time (intended send time in
// open loop) falls after the warm-up. Latencies are recorded in nanoseconds in
// HdrHistogram (1 ns to LatencyMaxNs, 3 significant digits); a larger value
// is recorded as LatencyMaxNs and counted in Result.Clamped.
//
// Formats. The JSON report (SchemaVersion) is one object per run, or an
// array for a suite; its latencies are in microseconds and it carries a
// percentile curve so that the plot can be redrawn from JSON files. The .hgrm
// files are HdrHistogram's percentile distribution text (values in
// milliseconds), which its plotters read. The plot is a self-contained HTML
// page with an inline SVG of latency by percentile on HdrHistogram's usual
// log axis of 1/(1-percentile).
//
// Compare mode runs the same workload against two servers in alternation,
// A B A B ..., and reports, for each figure, the median of each side and the
// minimum, median and maximum of the per-round ratios A/B.
package bench
